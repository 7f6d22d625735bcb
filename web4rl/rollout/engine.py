"""The rollout engine: the policy plays a batch of multi-turn episodes.

Each step, every still-active episode's conversation (token ids) goes into ONE batched
:func:`web4rl.generation.sample_ids` call (the one generation path), the sampled turns are
sent to their environments, and the tool results are appended as environment tokens. The
result is a :class:`~web4rl.rollout.batch.RolloutBatch`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from web4rl.generation import sample_ids, stop_token_ids
from web4rl.rollout.batch import RolloutBatch
from web4rl.rollout.envs import RewardSource, SimTurnEnv, SimulatorReward, TurnContext, TurnEnv
from web4rl.rollout.render import TurnRenderer, opening_messages
from web4rl.sim.rewards import RewardConfig


@dataclass
class _Track:
    """One episode in progress."""

    env: TurnEnv
    ids: list[int]
    policy: list[bool]
    logps: list[float]
    turn_end: list[int]
    rewards: list[float]
    components: list[dict[str, float]]
    actions: list[str]
    done: bool = False
    success: bool = False
    truncated: bool = False


class RolloutEngine:
    """Plays episodes with a causal LM.

    Args:
        tools: tool profile of the system prompt's catalog and the simulator ("web4", "cursor").
        max_turns: most assistant turns per episode (DESIGN.md: 20); caps the task's budget.
        max_new_tokens: most tokens per assistant turn.
        temperature: sampling temperature (the behaviour log-probs are under it).
        top_p: nucleus mass.
        batch_size: rows per forward batch inside the one sample_ids call per step.
        max_length: most tokens of a whole conversation; an episode whose next turn would not
            fit ends (truncated) instead.
        max_reply_chars: longest tool-result text in a tool turn.
        tool_role: chat role of tool turns.
        reward: reward source (default: the simulator's reward).
        system: system prompt text (None: the agent instructions + the profile's catalog).
        sim_rewards: the simulator's reward numbers and episode rules (None: its defaults).
    """

    def __init__(
        self,
        tools: str = "web4",
        max_turns: int = 20,
        max_new_tokens: int = 256,
        temperature: float = 1.0,
        top_p: float = 1.0,
        batch_size: int = 64,
        max_length: int = 4096,
        max_reply_chars: int = 4000,
        tool_role: str = "tool",
        reward: RewardSource | None = None,
        system: str | None = None,
        sim_rewards: RewardConfig | None = None,
    ) -> None:
        if max_turns < 1 or max_new_tokens < 1 or temperature < 0:
            raise ValueError("rollout: need max_turns >= 1, max_new_tokens >= 1, temperature >= 0")
        self.tools = tools
        self.max_turns = max_turns
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.batch_size = batch_size
        self.max_length = max_length
        self.max_reply_chars = max_reply_chars
        self.tool_role = tool_role
        self.reward = reward or SimulatorReward()
        self.system = system
        self.sim_rewards = sim_rewards

    def sim_envs(self, tasks: Sequence[Any]) -> list[SimTurnEnv]:
        return [SimTurnEnv(t, tools=self.tools, rewards=self.sim_rewards, max_turns=self.max_turns,
                           max_reply_chars=self.max_reply_chars) for t in tasks]

    def play_tasks(self, model: torch.nn.Module, tokenizer: Any, tasks: Sequence[Any], seed: int,
                   group_size: int = 1) -> tuple[RolloutBatch, list[SimTurnEnv]]:
        """Each task ``group_size`` times in a row in the simulator; returns the batch and
        the environments (for episode logs)."""
        envs = self.sim_envs([t for t in tasks for _ in range(group_size)])
        return self.play(model, tokenizer, envs, seed, group_size=group_size), envs

    @torch.no_grad()
    def play(self, model: torch.nn.Module, tokenizer: Any, envs: Sequence[TurnEnv], seed: int,
             group_size: int = 1, progress: Callable[[int], None] | None = None) -> RolloutBatch:
        """Play every env to the end; the same seed and policy give the same batch."""
        renderer = TurnRenderer(tokenizer, self.tool_role)
        stops = stop_token_ids(tokenizer, model)
        tracks = []
        for env in envs:
            ids = renderer.opening_ids(opening_messages(self.tools, env.first_message(), self.system))
            tracks.append(_Track(env, ids, [False] * len(ids), [0.0] * len(ids), [], [], [], []))
        for turn in range(self.max_turns):
            active = [t for t in tracks if not t.done]
            for t in active:  # the next turn must fit in the context
                if len(t.ids) + self.max_new_tokens > self.max_length:
                    t.done = t.truncated = True
            active = [t for t in active if not t.done]
            if not active:
                break
            completions = sample_ids(
                model, tokenizer, [t.ids for t in active], n=1, temperatures=(self.temperature,),
                max_new_tokens=self.max_new_tokens, top_p=self.top_p, batch_size=self.batch_size,
                seed=(seed * 1_000_003 + turn) % 2**62, stop_ids=stops,
            )
            for t, c in zip(active, completions, strict=True):
                t.ids += c.completion_ids.tolist()
                t.policy += [True] * c.num_tokens
                t.logps += c.logprobs.tolist()
                t.turn_end.append(len(t.ids) - 1)
                out = t.env.step(c.text)
                reward, comps = self.reward(TurnContext(t.env.task, c.text, out, turn))
                t.rewards.append(reward)
                t.components.append(comps)
                t.actions.append(c.text)
                t.success = out.success
                if out.done:
                    t.done = True
                    continue
                stop_text = (tokenizer.decode([int(c.completion_ids[-1])])
                             if c.finish_reason == "stop" else None)
                reply = renderer.tool_turn_ids(out.reply, stop_text)
                t.ids += reply
                t.policy += [False] * len(reply)
                t.logps += [0.0] * len(reply)
            if progress is not None:
                progress(len(active))
        for t in tracks:
            if not t.done:  # the turn cap ran out before the environment's own budget
                t.done = t.truncated = True
        return _collate(tracks, tokenizer, group_size, self.temperature)


def _collate(tracks: list[_Track], tokenizer: Any, group_size: int, temperature: float) -> RolloutBatch:
    n = len(tracks)
    length = max(len(t.ids) for t in tracks)
    turns = max(1, max(len(t.turn_end) for t in tracks))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((n, length), pad, dtype=torch.long)
    attention = torch.zeros((n, length), dtype=torch.long)
    policy = torch.zeros((n, length), dtype=torch.bool)
    logps = torch.zeros((n, length), dtype=torch.float32)
    turn_end = torch.full((n, turns), -1, dtype=torch.long)
    rewards = torch.zeros((n, turns), dtype=torch.float32)
    names = sorted({k for t in tracks for c in t.components for k in c})
    comps = {k: torch.zeros((n, turns), dtype=torch.float32) for k in names}
    for i, t in enumerate(tracks):
        k = len(t.ids)
        input_ids[i, :k] = torch.tensor(t.ids, dtype=torch.long)
        attention[i, :k] = 1
        policy[i, :k] = torch.tensor(t.policy, dtype=torch.bool)
        logps[i, :k] = torch.tensor(t.logps, dtype=torch.float32)
        s = len(t.turn_end)
        if s:
            turn_end[i, :s] = torch.tensor(t.turn_end, dtype=torch.long)
            rewards[i, :s] = torch.tensor(t.rewards, dtype=torch.float32)
        for j, c in enumerate(t.components):
            for name, value in c.items():
                comps[name][i, j] = float(value)
    return RolloutBatch(
        input_ids=input_ids, attention_mask=attention, policy_mask=policy, behaviour_logps=logps,
        turn_end=turn_end, turn_rewards=rewards, turn_components=comps,
        returns=rewards.sum(-1), success=torch.tensor([t.success for t in tracks]),
        num_turns=torch.tensor([len(t.turn_end) for t in tracks], dtype=torch.long),
        truncated=torch.tensor([t.truncated for t in tracks]),
        group_index=torch.arange(n, dtype=torch.long) // max(1, group_size),
        group_size=group_size, temperature=temperature,
        task_ids=[t.env.task.id for t in tracks],
        categories=[t.env.task.category for t in tracks],
        difficulties=[t.env.task.difficulty for t in tracks],
        actions=[list(t.actions) for t in tracks],
    )
