"""The gymnasium environment ``web4rl/ToolUse-v0`` and its batched form.

Observations and actions are text. ``reset(seed=..., options={"task": <task dict or Task>})``
runs the given task; without one, the :class:`~web4rl.sim.curriculum.TaskGenerator` picks a
task (drawing difficulty from the curriculum) with the env's seeded ``np_random``, so the same
seed gives the same task. ``step(action_text)`` returns the gymnasium 5-tuple; ``info`` holds
the reward components (see :mod:`web4rl.sim.rewards`).

:class:`BatchedToolUseEnv` runs many episodes side by side (a GRPO group is the same task
``group_size`` times); it is a plain list-of-episodes object, not a gymnasium VectorEnv,
because text observations do not stack into arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from web4rl.sim.actions import MAX_ACTION_CHARS
from web4rl.sim.curriculum import CurriculumScheduler, TaskGenerator
from web4rl.sim.episode import MAX_OBS_CHARS, Episode, StepOutcome
from web4rl.sim.logs import EpisodeLogger
from web4rl.sim.rewards import RewardConfig
from web4rl.sim.tasks import Task, as_task
from web4rl.sim.tools import DEFAULT_PROFILE, get_profile, tool_catalog_text

ENV_ID = "web4rl/ToolUse-v0"
_CHARSET = "".join(chr(i) for i in range(32, 127)) + "\n\t"


class AnyText(spaces.Text):
    """A Text space that contains any str up to max_length (file contents may be any Unicode).

    Sampling draws printable ASCII, which is enough for random-action smoke tests.
    """

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length


class ToolUseEnv(gym.Env):
    """Text tool-use environment over an in-memory workspace.

    Args:
        generator: picks tasks when reset() gets none (default: built-in tasks + procedural).
        curriculum: difficulty schedule used by the generator (default: DESIGN.md phases);
            updated with each finished episode's success.
        rewards: reward numbers.
        include_catalog: include the tool catalog in every observation.
        log_path: append each episode as JSONL (see web4rl.sim.logs) when set.
        render_mode: "ansi" (render() returns the last observation) or "human" (prints it).
        tools: tool profile, "web4" (default: the Web4 team's Continue-style tools) or
            "cursor" (the seed's eight tools); tasks are translated to it and generated
            tasks without a form in it are skipped.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        generator: TaskGenerator | None = None,
        curriculum: CurriculumScheduler | None = None,
        rewards: RewardConfig | None = None,
        include_catalog: bool = True,
        log_path: str | Path | None = None,
        render_mode: str | None = None,
        tools: str = DEFAULT_PROFILE,
    ) -> None:
        self.tools = get_profile(tools).name
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.generator = generator
        self.curriculum = curriculum
        self.rewards = rewards or RewardConfig()
        self.include_catalog = include_catalog
        self.render_mode = render_mode
        self.logger = EpisodeLogger(log_path) if log_path is not None else None
        self.observation_space = AnyText(max_length=MAX_OBS_CHARS, charset=_CHARSET)
        self.action_space = AnyText(max_length=MAX_ACTION_CHARS, min_length=0, charset=_CHARSET)
        self.episode: Episode | None = None
        self._last_obs = ""

    def _pick_task(self) -> Task:
        if self.generator is None:
            self.generator = TaskGenerator(tools=self.tools)
        if self.curriculum is None:
            self.curriculum = CurriculumScheduler()
        difficulty = self.curriculum.sample_difficulty(self.np_random)
        return self.generator.sample(self.np_random, difficulty=difficulty)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        task = as_task(options["task"]) if options.get("task") is not None else self._pick_task()
        self.episode = Episode(task, self.rewards, self.include_catalog, self.tools)
        self._last_obs = self.episode.observation()
        if self.logger is not None:
            # The task as given (canonical: reloadable by as_task) and the profile it was
            # played in; the translated form is task.for_tools(tools).
            self.logger.start(task, seed, self.rewards, self._last_obs, self.tools)
        return self._last_obs, {
            "task_id": task.id,
            "category": task.category,
            "difficulty": task.difficulty,
            "tools": self.tools,
        }

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.episode is None:
            raise RuntimeError("call reset() before step()")
        out: StepOutcome = self.episode.step(action)
        self._last_obs = out.observation
        if self.logger is not None:
            self.logger.step(action, out)
        if (out.terminated or out.truncated) and self.curriculum is not None and self.episode.steps:
            self.curriculum.update(self.episode.task.difficulty, self.episode.success)
        if self.render_mode == "human":
            print(out.observation)
        return out.observation, out.reward, out.terminated, out.truncated, out.info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_obs
        if self.render_mode == "human":
            print(self._last_obs)
        return None

    def catalog_text(self) -> str:
        """The tool catalog prompt text of this env's profile."""
        return tool_catalog_text(self.tools)

    def workspace_files(self) -> dict[str, str]:
        """The current workspace as {relative path: text} (for tests and logs)."""
        if self.episode is None:
            return {}
        return self.episode.ws.files()


class BatchedToolUseEnv:
    """Many independent episodes stepped together (e.g. a GRPO group of one task).

    ``reset(tasks)`` starts one episode per task (repeat a task for a group, or use
    ``reset_group``); ``step(actions)`` takes one action text per episode and returns lists.
    Finished episodes ignore further actions (reward 0, done flags stay True) until the next
    reset, so callers can keep stepping the whole batch until ``all(done)``.
    """

    def __init__(
        self,
        rewards: RewardConfig | None = None,
        include_catalog: bool = True,
        tools: str = DEFAULT_PROFILE,
    ) -> None:
        self.rewards = rewards or RewardConfig()
        self.include_catalog = include_catalog
        self.tools = get_profile(tools).name
        self.episodes: list[Episode] = []

    def catalog_text(self) -> str:
        """The tool catalog prompt text of this env's profile."""
        return tool_catalog_text(self.tools)

    def reset(self, tasks: Sequence[Task | dict[str, Any]]) -> list[str]:
        self.episodes = [
            Episode(as_task(t), self.rewards, self.include_catalog, self.tools) for t in tasks
        ]
        return [ep.observation() for ep in self.episodes]

    def reset_group(self, task: Task | dict[str, Any], group_size: int) -> list[str]:
        """`group_size` episodes of the same task (the task is validated once)."""
        t = as_task(task)
        return self.reset([t] * group_size)

    @property
    def done(self) -> list[bool]:
        return [ep.done for ep in self.episodes]

    def step(
        self, actions: Sequence[str]
    ) -> tuple[list[str], list[float], list[bool], list[bool], list[dict[str, Any]]]:
        if len(actions) != len(self.episodes):
            raise ValueError(f"got {len(actions)} actions for {len(self.episodes)} episodes")
        obs, rew, term, trunc, infos = [], [], [], [], []
        for ep, action in zip(self.episodes, actions, strict=True):
            if ep.done:
                obs.append(ep.observation())
                rew.append(0.0)
                term.append(ep.terminated)
                trunc.append(ep.truncated)
                infos.append({"finished": True, "success": ep.success, "task_id": ep.task.id})
                continue
            out = ep.step(action)
            obs.append(out.observation)
            rew.append(out.reward)
            term.append(out.terminated)
            trunc.append(out.truncated)
            infos.append(out.info)
        return obs, rew, term, trunc, infos

    def returns(self) -> list[float]:
        """Total reward of each episode so far (the GRPO sequence reward)."""
        return [ep.total_reward for ep in self.episodes]

    def rollout(self, policy: Callable[[list[str]], list[str]]) -> list[Trajectory]:
        """Step every episode to the end, asking `policy` for the active episodes' actions.

        `policy` maps the observations of the still-running episodes (in batch order) to one
        action text each; it is called once per step with a shrinking list. Call after reset.
        """
        trajectories = [
            Trajectory(ep.task.id, [ep.observation()], [], [], []) for ep in self.episodes
        ]
        while True:
            active = [i for i, ep in enumerate(self.episodes) if not ep.done]
            if not active:
                break
            texts = policy([trajectories[i].observations[-1] for i in active])
            if len(texts) != len(active):
                raise ValueError(
                    f"policy returned {len(texts)} actions for {len(active)} observations"
                )
            for i, text in zip(active, texts, strict=True):
                out = self.episodes[i].step(text)
                traj = trajectories[i]
                traj.actions.append(text)
                traj.rewards.append(out.reward)
                traj.components.append(out.info["reward_components"])
                traj.observations.append(out.observation)
        for traj, ep in zip(trajectories, self.episodes, strict=True):
            traj.success = ep.success
        return trajectories


@dataclass
class Trajectory:
    """One finished episode of a rollout.

    task_id: the task.
    observations: T + 1 texts (the reset observation, then one per step).
    actions: T action texts.
    rewards: T step rewards (sum = the episode return).
    components: T reward-component dicts.
    success: all success checks held at the end.
    """

    task_id: str
    observations: list[str]
    actions: list[str]
    rewards: list[float]
    components: list[dict[str, float]]
    success: bool = False

    @property
    def total_reward(self) -> float:
        return float(sum(self.rewards))


def register() -> None:
    """Register ``web4rl/ToolUse-v0`` with gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="web4rl.sim.env:ToolUseEnv")
