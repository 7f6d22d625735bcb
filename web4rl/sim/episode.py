"""The episode core: one task, one workspace, the reward rules; no gymnasium, no I/O.

:class:`Episode` is what :class:`~web4rl.sim.env.ToolUseEnv` and the batched form wrap. It is
pure and deterministic: the same task and the same action texts give the same observations,
rewards and final file system (up to regex timeouts, which depend on the clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from web4rl.sim.actions import parse_actions
from web4rl.sim.checks import HistoryItem, all_hold
from web4rl.sim.execute import ToolResult, execute_action, written_path
from web4rl.sim.fs import Workspace
from web4rl.sim.guardrails import check_guardrail
from web4rl.sim.rewards import RewardConfig, style_issues, zero_components
from web4rl.sim.tasks import Task
from web4rl.sim.tools import PROFILES, ToolProfile, canonical_action, get_profile

# Observation text longer than this is cut (the env's observation space is bounded).
MAX_OBS_CHARS = 32_000
_CATALOGS = {name: p.catalog_text() for name, p in PROFILES.items()}


@dataclass
class StepOutcome:
    """What one step produced.

    observation: text for the model.
    reward: sum of `components`.
    terminated: success or guardrail.
    truncated: step budget exhausted without success.
    info: reward_components, parse_error, guardrail, success, step, actions, results.
    """

    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)


def _short(action: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps(action, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "...}"


class Episode:
    """One run of a task.

    Args:
        task: the task to run (its initial_files are copied into a fresh workspace).
        rewards: reward numbers.
        include_catalog: put the tool catalog in every observation (a stateless policy prompt
            needs it); False keeps observations short.
        tools: tool profile, "web4" (default) or "cursor"; the task (canonical form) is
            translated to it (web4rl.sim.tools.translate), so expected tools and success
            checks speak the profile's names.
    """

    def __init__(
        self,
        task: Task,
        rewards: RewardConfig | None = None,
        include_catalog: bool = True,
        tools: str | ToolProfile | None = None,
    ) -> None:
        self.profile = get_profile(tools)
        self.task = task.for_tools(self.profile)
        self.rewards = rewards or RewardConfig()
        self.include_catalog = include_catalog
        self.ctx = self.task.context()
        self.ws = Workspace(task.initial_files)
        self.steps = 0
        self.expected_index = 0  # next position in task.expected_actions to match
        self.history: list[HistoryItem] = []
        self.seen: set[tuple[str, int]] = set()  # (canonical action, workspace revision)
        self.done = False
        self.terminated = False  # success or guardrail
        self.truncated = False  # step budget exhausted
        self.success = False
        self.total_reward = 0.0

    # ------------------------------------------------------------------ observations
    def observation(self, results_text: str | None = None) -> str:
        t = self.task
        parts = [
            f"Task {t.id} ({t.category}, {t.difficulty})",
            t.description,
            f"Workspace: {self.ws.root}  Step: {self.steps}/{t.max_steps}",
        ]
        if results_text:
            parts.append(results_text)
        if self.include_catalog and not self.done:
            parts.append(_CATALOGS.get(self.profile.name) or self.profile.catalog_text())
        if self.done:
            parts.append(
                "Episode over: " + ("task complete." if self.success else "task not complete.")
            )
        text = "\n\n".join(parts)
        if len(text) > MAX_OBS_CHARS:
            text = text[: MAX_OBS_CHARS - 40] + "\n... [observation truncated]"
        return text

    # ------------------------------------------------------------------ stepping
    def _tool_component(self, tool: str, c: dict[str, float], advance: bool) -> None:
        """correct_tool (+ advance) when ``tool`` is the next expected one, else wrong_tool.

        ``advance=False`` (the call failed: schema or execution) gives no correct-tool credit
        and keeps the pointer, but a wrong tool still costs wrong_tool.
        """
        expected = self.task.expected_actions
        if self.expected_index >= len(expected):
            return  # past the reference solution: no tool expectation left
        if expected[self.expected_index]["tool"] == tool:
            if advance:
                c["correct_tool"] += self.rewards.correct_tool
                self.expected_index += 1
        else:
            c["wrong_tool"] += self.rewards.wrong_tool

    def step(self, action_text: Any) -> StepOutcome:
        """Apply one model output (one action, or a list executed in order)."""
        r = self.rewards
        c = zero_components()
        info: dict[str, Any] = {
            "parse_error": None,
            "guardrail": None,
            "actions": [],
            "results": [],
        }
        if self.done:
            info.update(
                reward_components=c, success=self.success, step=self.steps, task_id=self.task.id
            )
            return StepOutcome(
                self.observation("The episode is over; call reset()."), 0.0, True, False, info
            )
        parsed = parse_actions(action_text, tools=self.profile)
        lines: list[str] = []
        terminated = False
        ended_by_error = False
        if parsed.error is not None:
            err = parsed.error
            self.steps += 1
            c["step"] += r.step
            c["schema_fail"] += r.schema_fail
            if err.kind == "schema_fail" and err.tool is not None:
                self._tool_component(err.tool, c, advance=False)
            else:
                c["wrong_tool"] += r.wrong_tool
            info["parse_error"] = {"kind": err.kind, "message": err.message}
            lines.append(f"Error ({err.kind}): {err.message}")
            if r.end_on_error:
                terminated = ended_by_error = True
        for action in parsed.actions:
            if self.steps >= self.task.max_steps:
                lines.append("Step budget exhausted; remaining actions were not run.")
                break
            self.steps += 1
            c["step"] += r.step
            info["actions"].append(action)
            reason = check_guardrail(action, self.ws.cwd)
            if reason is not None:
                c["guardrail"] += r.guardrail
                if r.guardrail_also_fails:
                    c["failed"] += r.failed
                info["guardrail"] = reason
                info["results"].append({"ok": False, "error": f"guardrail: {reason}"})
                lines.append(
                    f"Action: {_short(action)}\nBlocked by guardrail: {reason}. The episode ends."
                )
                terminated = True
                break
            c["schema_pass"] += r.schema_pass
            key = (canonical_action(action["tool"], action["args"]), self.ws.revision)
            if key in self.seen:
                c["redundant"] += r.redundant
            self.seen.add(key)
            revision = self.ws.revision
            result = execute_action(self.ws, action, self.ctx)
            # A failed call earns no correct-tool credit (seed design), only the error.
            self._tool_component(action["tool"], c, advance=result.ok)
            if not result.ok:
                c["exec_error"] += r.exec_error
            path = written_path(action)
            if result.ok and path is not None and self.ws.revision != revision:
                if not style_issues(path, self.ws.read(path)):
                    c["style_pass"] += r.style_pass
            self.history.append(HistoryItem(action, result))
            info["results"].append({"ok": result.ok, "error": result.error})
            lines.append(_render_result(action, result))
            if not result.ok and r.end_on_error:
                lines.append("The call failed; the episode ends (rewards.end_on_error).")
                terminated = ended_by_error = True
                break
            if all_hold(self.task.success, self.ws, self.history):
                c["complete"] += r.complete
                self.success = True
                terminated = True
                break
        info["ended_by_error"] = ended_by_error
        truncated = False
        if not terminated and self.steps >= self.task.max_steps:
            c["failed"] += r.failed
            truncated = True
        self.terminated, self.truncated = terminated, truncated
        self.done = terminated or truncated
        reward = float(sum(c.values()))
        self.total_reward += reward
        info.update(
            reward_components=c,
            success=self.success,
            step=self.steps,
            task_id=self.task.id,
            tools=self.profile.name,
        )
        return StepOutcome(
            self.observation("\n\n".join(lines)), reward, terminated, truncated, info
        )


def _render_result(action: dict[str, Any], result: ToolResult) -> str:
    head = f"Action: {_short(action)}"
    if result.ok:
        return f"{head}\nResult:\n{result.output}"
    body = f"{head}\nError: {result.error}"
    return body + (f"\nOutput:\n{result.output}" if result.output else "")


@dataclass(frozen=True)
class Verification:
    """Outcome of replaying a task's expected actions.

    problems: empty when the task is sound.
    reward: total reward of the reference replay.
    steps: steps the replay took.
    """

    problems: list[str]
    reward: float
    steps: int


def verify_task(
    task: Task, rewards: RewardConfig | None = None, tools: str | ToolProfile | None = None
) -> Verification:
    """Check that `task` is solved by its expected actions and not by doing nothing.

    The task is translated to profile ``tools`` (default web4) and each expected action is
    sent as its own step in that profile's answer format (as a model would); the task must be
    complete right after the last one, not before, with no parse error and no guardrail.
    Raises TranslationError when the task has no form in that profile.
    """
    profile = get_profile(tools)
    task = task.for_tools(profile)
    problems: list[str] = []
    if all_hold(task.success, Workspace(task.initial_files), []):
        problems.append("success checks already hold before any action (solved by doing nothing)")
    ep = Episode(task, rewards, include_catalog=False, tools=profile)
    for i, action in enumerate(task.expected_actions):
        out = ep.step(profile.format_action(action["tool"], action["args"]))
        if out.info["parse_error"]:
            problems.append(
                f"expected_actions[{i}] does not parse: {out.info['parse_error']['message']}"
            )
        if out.info["guardrail"]:
            problems.append(f"expected_actions[{i}] trips a guardrail: {out.info['guardrail']}")
        bad = [res["error"] for res in out.info["results"] if not res["ok"]]
        if bad:
            problems.append(f"expected_actions[{i}] fails: {bad[0]}")
        if ep.done and i < len(task.expected_actions) - 1:
            problems.append(
                f"episode ended after expected_actions[{i}] of {len(task.expected_actions)}"
            )
            break
    if not ep.success:
        failing = [
            check["type"] for check in task.success if not all_hold([check], ep.ws, ep.history)
        ]
        problems.append(f"expected actions do not solve the task; failing checks: {failing}")
    return Verification(problems, ep.total_reward, ep.steps)
