"""RolloutDataModule: every time the trainer asks, play the next batch of episodes with the
LightningModule's current policy.

Tasks come from the simulator's curriculum (handcrafted + procedural, difficulty mix by episode
count). A held-out task set is fixed up front and never trained on: a share of the handcrafted
tasks (chosen by a hash of the id) plus procedural tasks whose generator seeds lie at or above
2**31, a range the training generator (seeds below 2**31 - 1) cannot draw.

Exact resume: the tasks of update k are drawn with an RNG seeded by (seed, rank, k) and the
curriculum is updated with every rank's episode results, so the whole data state is
(k, curriculum state), identical on all ranks, saved in checkpoints by ``state_dict``. Each
DDP rank plays different episodes (rank in the seed) and samples with its own seed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from web4rl.rollout.batch import RolloutBatch
from web4rl.rollout.engine import RolloutEngine
from web4rl.rollout.tasksplit import split_tasks


@dataclass
class Phase:
    """One curriculum phase: applies while fewer than ``until`` episodes were played.

    Args:
        until: episode-count bound of the phase.
        mix: probabilities of simple, medium, hard, expert.
    """

    until: float
    mix: tuple[float, float, float, float]


class _Stream(IterableDataset):
    def __init__(self, next_batch, length: int | None) -> None:
        self.next_batch, self.length = next_batch, length

    def __iter__(self) -> Iterator[RolloutBatch]:
        i = 0
        while self.length is None or i < self.length:
            batch = self.next_batch(i)
            if batch is None:
                return
            yield batch
            i += 1


class RolloutDataModule(L.LightningDataModule):
    """Online episodes for PPO / GRPO.

    Args:
        engine: the rollout engine (tool profile, turn cap, sampling settings, reward source).
        episodes_per_update: episodes played per training step (per rank), DESIGN.md: 16.
        group_size: episodes per task (GRPO: 4; PPO: 1); must divide episodes_per_update.
        num_updates: training steps per epoch (the stream's length; set trainer.max_epochs 1).
        phases: curriculum phases (None: DESIGN.md 70/25/5/0 < 2k, 30/50/15/5 < 10k,
            20/40/30/10).
        adaptive_curriculum: reweight difficulties by recent success (see the simulator).
        procedural_fraction: share of training tasks generated procedurally.
        categories: task categories to use (None: all).
        heldout_fraction: share of handcrafted tasks held out.
        heldout_generated: procedural held-out tasks per category and held-out difficulty.
        heldout_difficulties: difficulties of the held-out set.
        eval_batch_size: held-out episodes per validation batch.
        eval_temperature: sampling temperature on held-out tasks (0 = greedy).
        eval_limit: play at most this many held-out tasks (None: all).
        seed: task-sampling and sampling seed (the rank is mixed in).
        log_dir: write episode logs (simulator JSONL) here; None disables.
        log_every_n_updates: log the episodes of every n-th update (and every validation).
    """

    def __init__(
        self,
        engine: RolloutEngine | None = None,
        episodes_per_update: int = 16,
        group_size: int = 1,
        num_updates: int = 100,
        phases: list[Phase] | None = None,
        adaptive_curriculum: bool = False,
        procedural_fraction: float = 0.5,
        categories: list[str] | None = None,
        heldout_fraction: float = 0.2,
        heldout_generated: int = 2,
        heldout_difficulties: tuple[str, ...] = ("simple", "medium"),
        eval_batch_size: int = 16,
        eval_temperature: float = 0.0,
        eval_limit: int | None = None,
        seed: int = 0,
        log_dir: str | None = None,
        log_every_n_updates: int = 10,
    ) -> None:
        super().__init__()
        if group_size < 1 or episodes_per_update % group_size:
            raise ValueError(f"data.group_size {group_size} must divide "
                             f"data.episodes_per_update {episodes_per_update}")
        from web4rl.sim.curriculum import DEFAULT_PHASES, CurriculumScheduler, TaskGenerator
        from web4rl.sim.tasks import CATEGORIES

        self.engine = engine or RolloutEngine()
        self.episodes_per_update = episodes_per_update
        self.group_size = group_size
        self.num_updates = num_updates
        self.eval_batch_size = eval_batch_size
        self.eval_temperature = eval_temperature
        self.seed = seed
        self.log_dir = Path(log_dir) if log_dir else None
        self.log_every_n_updates = log_every_n_updates
        cats = tuple(categories or CATEGORIES)
        phase_table = (tuple((p.until, tuple(p.mix)) for p in phases) if phases else DEFAULT_PHASES)
        self.curriculum = CurriculumScheduler(phases=phase_table, adaptive=adaptive_curriculum)
        train, held = split_tasks(cats, heldout_fraction, heldout_generated, heldout_difficulties)
        self.heldout = held[:eval_limit] if eval_limit is not None else held
        self.heldout_ids = {t.id for t in held}
        self.generator = TaskGenerator(tasks=train, procedural_fraction=procedural_fraction,
                                       categories=cats)
        self.update = 0  # training batches played so far (the next one is number `update`)
        self._heldout_played_after: int | None = None  # `update` at the last held-out play in fit

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {"update": self.update, "curriculum": self.curriculum.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.update = int(state["update"])
        self.curriculum.load_state_dict(state["curriculum"])

    # ------------------------------------------------------------------ sampling
    @property
    def _rank(self) -> int:
        return self.trainer.global_rank if self.trainer is not None else 0

    def sample_tasks(self, update: int, rank: int = 0) -> list[Any]:
        """The tasks of training update ``update`` on ``rank`` (never a held-out task)."""
        rng = np.random.default_rng([self.seed, rank, update])
        tasks = []
        while len(tasks) < self.episodes_per_update // self.group_size:
            task = self.generator.sample(rng, difficulty=self.curriculum.sample_difficulty(rng))
            if task.id not in self.heldout_ids:
                tasks.append(task)
        return tasks

    def _policy(self):
        module = self.trainer.lightning_module
        return module.policy

    def _log_episodes(self, envs: Sequence[Any], name: str, seed: int) -> None:
        from web4rl.sim.logs import EpisodeLogger

        logger = EpisodeLogger(self.log_dir / f"{name}-rank{self._rank}.jsonl")
        for env in envs:
            env.log_to(logger, seed)
        logger.close()

    def play_update(self) -> RolloutBatch:
        """Play the next training batch with the current policy and advance the curriculum."""
        rank, update = self._rank, self.update
        policy = self._policy()
        seed = int(np.random.default_rng([self.seed, rank, update, 1]).integers(2**62))
        batch, envs = self.engine.play_tasks(policy.model, policy.tokenizer,
                                             self.sample_tasks(update, rank), seed, self.group_size)
        results = [(d, bool(s)) for d, s in zip(batch.difficulties, batch.success.tolist(),
                                                 strict=True)]
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            gathered: list[Any] = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(gathered, results)
            results = [r for part in gathered for r in part]
        for difficulty, success in results:
            self.curriculum.update(difficulty, success)
        if self.log_dir is not None and update % self.log_every_n_updates == 0:
            self._log_episodes(envs, f"update{update:06d}", seed)
        self.update += 1
        return batch

    def play_heldout(self, index: int) -> RolloutBatch | None:
        """This rank's held-out batch ``index`` (None past the end), played with the current
        policy; under DDP the ranks take the chunks round-robin."""
        if index == 0 and self._heldout_already_played():
            return None
        world = self.trainer.world_size if self.trainer is not None else 1
        start = (index * world + self._rank) * self.eval_batch_size
        chunk = self.heldout[start:start + self.eval_batch_size]
        if not chunk:
            return None
        policy = self._policy()
        engine = copy.copy(self.engine)
        engine.temperature = self.eval_temperature
        batch, envs = engine.play_tasks(policy.model, policy.tokenizer, chunk,
                                        seed=self.seed + index)
        if self.log_dir is not None:
            self._log_episodes(envs, f"heldout-update{self.update:06d}", self.seed + index)
        return batch

    def _heldout_already_played(self) -> bool:
        """True when, inside ``fit``, the held-out set was already played after this many
        updates: Lightning validates after the last update and again at the end of the unsized
        epoch, with the same weights (on a CPU that replay cost minutes). Outside ``fit`` (a
        standalone ``validate``) every call plays."""
        fitting = self.trainer is not None and self.trainer.state.fn == "fit"
        if fitting and self._heldout_played_after == self.update:
            return True
        self._heldout_played_after = self.update if fitting else None
        return False

    # ------------------------------------------------------------------ loaders
    def train_dataloader(self) -> DataLoader:
        stream = _Stream(lambda i: self.play_update(), self.num_updates)
        # A private generator: creating the iterator must not draw from the global RNG,
        # or a resumed run's restored RNG stream would shift (exact resume).
        return DataLoader(stream, batch_size=None, num_workers=0, collate_fn=lambda b: b,
                          generator=torch.Generator())

    def val_dataloader(self) -> DataLoader:
        stream = _Stream(self.play_heldout, None)
        # A private generator: creating the iterator must not draw from the global RNG,
        # or a resumed run's restored RNG stream would shift (exact resume).
        return DataLoader(stream, batch_size=None, num_workers=0, collate_fn=lambda b: b,
                          generator=torch.Generator())
