"""Turn-level environments the rollout engine plays, and pluggable reward sources.

:class:`TurnEnv` is what the engine needs from an environment: the task text for the user
turn, and ``step(action_text)`` giving the tool-result text and the simulator outcome.
:class:`SimTurnEnv` adapts the simulator's :class:`~web4rl.sim.episode.Episode` without
changing it. Reward sources turn an outcome into the reward the learner sees: the
simulator's own reward (default), the Stage 2 judge's, or a weighted sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from web4rl.rollout.render import profile_kwargs


@dataclass
class TurnOutcome:
    """What one assistant turn produced.

    reply: the tool-result text for the next (tool) turn.
    reward: the environment's reward for the turn. components: its parts by name.
    done: the episode is over. success: the task is solved.
    raw: the environment's own step record (the simulator's StepOutcome, for logs).
    """

    reply: str
    reward: float
    components: dict[str, float]
    done: bool
    success: bool
    raw: Any = None


class TaskLike(Protocol):
    id: str
    category: str
    difficulty: str


class TurnEnv(Protocol):
    """An episode the engine can play turn by turn."""

    task: TaskLike

    def first_message(self) -> str: ...

    def step(self, action_text: str) -> TurnOutcome: ...


class SimTurnEnv:
    """The simulator as a turn environment (web4 tool profile by default).

    The user turn is the simulator's first observation without the catalog (the catalog is
    in the system prompt); each tool turn is the results text of the step (what the
    simulator appends to its observation), capped at ``max_reply_chars``.

    Args:
        task: a :class:`~web4rl.sim.tasks.Task`.
        tools: tool profile.
        rewards: simulator reward numbers (:class:`~web4rl.sim.rewards.RewardConfig`).
        max_turns: cap on the task's step budget (the simulator then applies its own
            ``failed`` reward when it runs out).
        max_reply_chars: longest tool-turn text; longer results are cut with a marker.
    """

    def __init__(self, task: Any, tools: str = "web4", rewards: Any = None,
                 max_turns: int | None = None, max_reply_chars: int = 4000) -> None:
        from web4rl.sim.episode import Episode

        if max_turns is not None and task.max_steps > max_turns:
            task = replace(task, max_steps=max_turns)
        self.task = task
        self.tools = tools
        self.max_reply_chars = max_reply_chars
        self._results_text: str | None = None
        env = self

        class _Recording(Episode):
            # Episode.step renders its results through observation(results_text); keep them.
            def observation(self, results_text: str | None = None) -> str:
                env._results_text = results_text
                return super().observation(results_text)

        self.episode = _Recording(task, rewards, include_catalog=False,
                                  **profile_kwargs(Episode.__init__, tools))
        self.history: list[tuple[str, Any]] = []  # (action text, StepOutcome) for logs

    def first_message(self) -> str:
        return self.episode.observation()

    def step(self, action_text: str) -> TurnOutcome:
        out = self.episode.step(action_text)
        self.history.append((action_text, out))
        reply = self._results_text or ""
        if len(reply) > self.max_reply_chars:
            reply = reply[: self.max_reply_chars] + "\n... [result truncated]"
        return TurnOutcome(reply, float(out.reward), dict(out.info["reward_components"]),
                           bool(out.terminated or out.truncated), bool(self.episode.success), out)

    def log_to(self, logger: Any, seed: int | None) -> None:
        """Write the episode to a simulator :class:`~web4rl.sim.logs.EpisodeLogger`."""
        from web4rl.sim.episode import Episode

        fresh = Episode(self.task, self.episode.rewards, include_catalog=False,
                        **profile_kwargs(Episode.__init__, self.tools))
        logger.start(self.task, seed, self.episode.rewards, fresh.observation(),
                     **profile_kwargs(logger.start, self.tools))
        for text, out in self.history:
            logger.step(text, out)


# ---------------------------------------------------------------------------- reward sources
@dataclass
class TurnContext:
    """Everything a reward source may look at for one turn."""

    task: Any
    action_text: str
    outcome: TurnOutcome
    turn: int


class RewardSource:
    """Maps a turn to (reward, components). Subclass and implement ``__call__``."""

    def __call__(self, ctx: TurnContext) -> tuple[float, dict[str, float]]:
        raise NotImplementedError


class SimulatorReward(RewardSource):
    """The environment's own reward and components (the default)."""

    def __call__(self, ctx: TurnContext) -> tuple[float, dict[str, float]]:
        return ctx.outcome.reward, dict(ctx.outcome.components)


class JudgeReward(RewardSource):
    """The Stage 2 judge's normalised reward in [0, 1] of the turn's action, times ``scale``,
    scored against the task (its files, expected actions and success checks).

    Args:
        scale: multiplier of the judge reward.
        use_linter: lint code with Biome when present (slow; off by default for rollouts).
    """

    def __init__(self, scale: float = 1.0, use_linter: bool = False) -> None:
        from web4rl.judges.judge import Judge

        self.scale = scale
        self.judge = Judge(use_linter=use_linter)

    def __call__(self, ctx: TurnContext) -> tuple[float, dict[str, float]]:
        from web4rl.judges.judge import Sample

        task = ctx.task
        sample = Sample(prompt=getattr(task, "description", ""), completion=ctx.action_text,
                        expected_actions=tuple(getattr(task, "expected_actions", ()) or ()) or None,
                        files=getattr(task, "initial_files", None),
                        success=tuple(getattr(task, "success", ()) or ()) or None)
        result = self.judge.score(sample)
        comps = {f"judge/{k}": float(v) for k, v in result.components.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)}
        return self.scale * result.reward, comps


@dataclass
class WeightedReward(RewardSource):
    """sum_i w_i * r_i over several sources; components keep each source's names.

    Args:
        sources: reward sources.
        weights: one weight per source.
    """

    sources: Sequence[RewardSource] = field(default_factory=lambda: [SimulatorReward()])
    weights: Sequence[float] = (1.0,)

    def __post_init__(self) -> None:
        if len(self.sources) != len(self.weights):
            raise ValueError(f"reward: {len(self.sources)} sources but {len(self.weights)} weights")

    def __call__(self, ctx: TurnContext) -> tuple[float, dict[str, float]]:
        total, comps = 0.0, {}
        for source, weight in zip(self.sources, self.weights, strict=True):
            reward, parts = source(ctx)
            total += weight * reward
            comps.update(parts)
        return total, comps
