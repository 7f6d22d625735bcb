"""A one-turn bandit through the real rollout engine, for fast PPO/GRPO learning tests.

The random-init tiny model is nearly uniform over its vocabulary, so the bandit samples at
temperature 0.1, where its initial favourite first token has about half the mass. The reward
is 1 when the answer does NOT start with that token's text, else 0: a single direction to
learn (push one logit down), so learning shows within a few dozen updates.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader

from web4rl.rollout import RolloutEngine, TurnOutcome
from web4rl.rollout.datamodule import _Stream


@dataclass(frozen=True)
class BanditTask:
    id: str = "bandit/space"
    category: str = "tool_use"
    difficulty: str = "simple"


TEMPERATURE = 0.1
SYSTEM, USER = "Answer.", "Pick."


def favourite_text(policy) -> str:
    """Text of the policy's most likely first answer token."""
    from web4rl.rollout.render import TurnRenderer

    ids = TurnRenderer(policy.tokenizer).opening_ids(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}])
    with torch.no_grad():
        logits = policy.model(input_ids=torch.tensor([ids])).logits[0, -1]
    return policy.tokenizer.decode([int(logits.argmax())])


class BanditEnv:
    def __init__(self, avoid: str) -> None:
        self.task = BanditTask()
        self.avoid = avoid

    def first_message(self) -> str:
        return USER

    def step(self, action_text: str) -> TurnOutcome:
        reward = 0.0 if action_text.startswith(self.avoid) else 1.0
        return TurnOutcome("", reward, {"bandit": reward}, True, reward > 0)


def bandit_engine() -> RolloutEngine:
    return RolloutEngine(max_turns=1, max_new_tokens=2, system=SYSTEM, batch_size=64,
                         temperature=TEMPERATURE)


class BanditDataModule(L.LightningDataModule):
    """Plays ``episodes_per_update`` bandit episodes per step with the module's policy."""

    def __init__(self, avoid: str, episodes_per_update: int = 16, group_size: int = 4,
                 num_updates: int = 20, seed: int = 0) -> None:
        super().__init__()
        self.avoid = avoid
        self.engine = bandit_engine()
        self.episodes_per_update, self.group_size = episodes_per_update, group_size
        self.num_updates, self.seed, self.update = num_updates, seed, 0
        self.rewards: list[float] = []

    def state_dict(self):
        return {"update": self.update}

    def load_state_dict(self, state):
        self.update = state["update"]

    def play_update(self):
        policy = self.trainer.lightning_module.policy
        rank = self.trainer.global_rank
        batch = self.engine.play(policy.model, policy.tokenizer,
                                 [BanditEnv(self.avoid) for _ in range(self.episodes_per_update)],
                                 seed=self.seed + 1000 * rank + self.update,
                                 group_size=self.group_size)
        self.update += 1
        self.rewards.append(float(batch.returns.mean()))
        return batch

    def train_dataloader(self):
        stream = _Stream(lambda i: self.play_update() if self.update < self.num_updates else None,
                         None)
        # A private generator: creating the iterator must not draw from the global RNG,
        # or a resumed run's restored RNG stream would shift (exact resume).
        return DataLoader(stream, batch_size=None, num_workers=0, collate_fn=lambda b: b,
                          generator=torch.Generator())


def bandit_success(policy, avoid: str, n: int = 128, seed: int = 12345) -> float:
    """Share of n fresh samples that earn the reward (fixed seed: comparable before/after)."""
    batch = bandit_engine().play(policy.model, policy.tokenizer, [BanditEnv(avoid) for _ in range(n)],
                                 seed=seed)
    return float(batch.returns.mean())
