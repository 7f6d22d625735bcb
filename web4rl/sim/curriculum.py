"""Task sampling by difficulty: the curriculum schedule and the task generator.

:class:`CurriculumScheduler` draws a difficulty with the DESIGN.md phase mix (by episodes
seen: <2k 70/25/5/0, <10k 30/50/15/5, then 20/40/30/10 for simple/medium/hard/expert) and,
when ``adaptive``, reweights it by recent per-difficulty success: a difficulty the policy
always or never solves teaches little, so weight moves toward success rates near 50%.
Its state (episode count, success statistics) is a plain dict for checkpoints.

:class:`TaskGenerator` turns a difficulty into a task: a handcrafted task from the shipped set
or, with probability ``procedural_fraction``, a fresh procedural one (seeded from the rng).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from web4rl.sim.generators import generate_task
from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES, Task, load_builtin_tasks
from web4rl.sim.tools import get_profile

DEFAULT_PHASES: tuple[tuple[float, tuple[float, float, float, float]], ...] = (
    (2_000, (0.70, 0.25, 0.05, 0.00)),
    (10_000, (0.30, 0.50, 0.15, 0.05)),
    (float("inf"), (0.20, 0.40, 0.30, 0.10)),
)


def _uniform(rng: Any) -> float:
    """A float in [0, 1) from a numpy Generator or a random.Random."""
    return float(rng.random())


def _index(rng: Any, n: int) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(n))
    return rng.randrange(n)


@dataclass
class CurriculumScheduler:
    """Difficulty schedule.

    phases: ((episodes_upper_bound, (p_simple, p_medium, p_hard, p_expert)), ...), bounds
        increasing; the first phase whose bound exceeds the episode count applies.
    adaptive: reweight by per-difficulty success (weights w * (0.5 + 2 s (1 - s)) / Z; a
        difficulty with probability 0 in the phase stays at 0).
    ema: smoothing of the per-difficulty success estimate (higher = slower).
    """

    phases: Sequence[tuple[float, Sequence[float]]] = DEFAULT_PHASES
    adaptive: bool = False
    ema: float = 0.95

    def __post_init__(self) -> None:
        bounds = [b for b, _ in self.phases]
        if not self.phases or bounds != sorted(bounds):
            raise ValueError("phases must be non-empty with increasing episode bounds")
        for bound, mix in self.phases:
            if len(mix) != len(DIFFICULTIES) or min(mix) < 0 or sum(mix) <= 0:
                raise ValueError(
                    f"phase ending at {bound}: needs {len(DIFFICULTIES)} non-negative weights"
                )
        self.episodes = 0
        self.success_rate = dict.fromkeys(DIFFICULTIES, 0.5)
        self.counts = dict.fromkeys(DIFFICULTIES, 0)

    def mix(self) -> dict[str, float]:
        """Current sampling probabilities per difficulty."""
        base = (
            next(m for b, m in self.phases if self.episodes < b)
            if self.episodes < self.phases[-1][0]
            else self.phases[-1][1]
        )
        weights = dict(zip(DIFFICULTIES, (float(w) for w in base), strict=True))
        if self.adaptive:
            for d in DIFFICULTIES:
                s = self.success_rate[d]
                weights[d] *= 0.5 + 2.0 * s * (1.0 - s)
        total = sum(weights.values())
        return {d: w / total for d, w in weights.items()}

    def sample_difficulty(self, rng: Any) -> str:
        u = _uniform(rng)
        acc = 0.0
        mix = self.mix()
        for d in DIFFICULTIES:
            acc += mix[d]
            if u < acc:
                return d
        return next(d for d in reversed(DIFFICULTIES) if mix[d] > 0)

    def update(self, difficulty: str, success: bool) -> None:
        """Record one finished episode."""
        if difficulty not in self.success_rate:
            raise ValueError(f"unknown difficulty {difficulty!r}")
        self.episodes += 1
        self.counts[difficulty] += 1
        self.success_rate[difficulty] = self.ema * self.success_rate[difficulty] + (
            1 - self.ema
        ) * float(success)

    def state_dict(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "success_rate": dict(self.success_rate),
            "counts": dict(self.counts),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.episodes = int(state["episodes"])
        self.success_rate = {d: float(state["success_rate"][d]) for d in DIFFICULTIES}
        self.counts = {d: int(state["counts"][d]) for d in DIFFICULTIES}


class TaskGenerator:
    """Picks tasks by difficulty (and optionally category).

    Args:
        tasks: handcrafted pool (default: the shipped task_data set).
        procedural_fraction: probability of generating a fresh procedural task instead.
        categories: categories to draw from.
        tools: tool profile the tasks must be playable in (tasks with no form in it, e.g.
            view_diff under cursor, are skipped).
    """

    def __init__(
        self,
        tasks: Sequence[Task] | None = None,
        procedural_fraction: float = 0.5,
        categories: Sequence[str] = CATEGORIES,
        tools: str | None = None,
    ) -> None:
        if not 0.0 <= procedural_fraction <= 1.0:
            raise ValueError("procedural_fraction must be in [0, 1]")
        unknown = set(categories) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {sorted(unknown)}")
        self.tools = get_profile(tools).name
        self.tasks = [
            t for t in (load_builtin_tasks() if tasks is None else tasks) if t.supports(self.tools)
        ]
        self.procedural_fraction = procedural_fraction
        self.categories = tuple(categories)
        self.generated = 0

    def sample(self, rng: Any, difficulty: str | None = None, category: str | None = None) -> Task:
        """One task; `rng` is a numpy Generator (env.np_random) or random.Random."""
        difficulty = difficulty or DIFFICULTIES[_index(rng, len(DIFFICULTIES))]
        pool = [
            t
            for t in self.tasks
            if t.difficulty == difficulty
            and (category is None or t.category == category)
            and t.category in self.categories
        ]
        if pool and _uniform(rng) >= self.procedural_fraction:
            return pool[_index(rng, len(pool))]
        category = category or self.categories[_index(rng, len(self.categories))]
        seed = _index(rng, 2**31 - 1)
        self.generated += 1
        # A generated variant without a form in this profile (view_diff under cursor) is
        # replaced by the next seed's task: deterministic, and rare (a few variants).
        for attempt in range(64):
            task = generate_task(category, difficulty, (seed + attempt) % (2**31 - 1))
            if task.supports(self.tools):
                return task
        raise RuntimeError(f"no {category}/{difficulty} task playable with tools={self.tools}")

    def state_dict(self) -> dict[str, Any]:
        return {"generated": self.generated}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generated = int(state["generated"])
