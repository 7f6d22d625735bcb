"""Held-out simulator task success for the evaluation report.

The seam: a task runner maps (policy, tasks, sampling settings) to :class:`TaskResult` rows.
The built-in ``first_action`` runner is single-turn: the model sees the task's first
observation (exactly what :class:`~web4rl.sim.episode.Episode` shows, tool catalog included),
its completion is applied as the first step, and we record whether it called the reference
plan's first tool, the step reward and whether that one step already solved the task. A
multi-turn runner (the Stage 3 rollout engine) can register under another name in
:data:`TASK_RUNNERS` and report full-episode success through the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from web4rl.evaluation.evalset import EvalPrompt


@dataclass(frozen=True)
class TaskResult:
    """One held-out task.

    Attributes:
        task_id: the task id.
        category: task category.
        first_action_correct: the first action used the reference plan's first tool.
        success: the task's success checks held at the end of the (possibly 1-step) episode.
        reward: simulator reward of the evaluated steps.
        steps: steps taken.
        completion: the model's (first) output.
    """

    task_id: str
    category: str
    first_action_correct: bool
    success: bool
    reward: float
    steps: int
    completion: str


def first_action(policy, tasks: Sequence, generate: Callable) -> list[TaskResult]:
    """Single-turn: one completion per task, applied as the episode's first step."""
    from web4rl.sim.episode import Episode

    episodes = [Episode(t) for t in tasks]
    prompts = [EvalPrompt(t.id, ep.observation(), t.category) for t, ep in zip(tasks, episodes,
                                                                                strict=True)]
    completions = generate(policy, prompts)
    out = []
    for task, ep, comp in zip(tasks, episodes, completions, strict=True):
        outcome = ep.step(comp.text)
        comps = outcome.info.get("reward_components", {})
        out.append(TaskResult(task.id, task.category, comps.get("correct_tool", 0.0) > 0,
                              bool(outcome.info.get("success", False)), float(outcome.reward),
                              ep.steps, comp.text))
    return out


#: name -> runner(policy, tasks, generate) -> list[TaskResult]
TASK_RUNNERS: dict[str, Callable] = {"first_action": first_action}


def summarize(results: Sequence[TaskResult]) -> dict[str, float]:
    n = len(results)
    if not n:
        return {}
    return {
        "tasks": float(n),
        "first_action_accuracy": sum(r.first_action_correct for r in results) / n,
        "task_success": sum(r.success for r in results) / n,
        "task_reward_mean": sum(r.reward for r in results) / n,
    }
