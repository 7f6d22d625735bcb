"""Tool-call validators built on the simulator: JSON validity, schema compliance, mock execution.

Parsing and schema checks are the simulator's own (web4rl.sim.actions.parse_actions over the
catalog in web4rl.sim.tools), so the judge and the environment never disagree on what a valid
action is. Execution runs in the simulator's in-memory workspace (web4rl.sim.fs.Workspace)
seeded with the task's files; the simulator's guardrail is checked before each action, and a
blocked action is not executed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web4rl.sim.actions import parse_actions
from web4rl.sim.checks import HistoryItem, all_hold
from web4rl.sim.execute import TaskContext, ToolResult, execute_action, written_path
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.guardrails import check_guardrail
from web4rl.sim.tools import WRITE_ARGS, WRITE_TOOLS, ToolProfile

# Tools that create a file from nothing: their failure is verifiable without the user's project.
_CREATE_TOOLS = frozenset({"write", "create_new_file", "create_rule_block"})
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)
_DECODER = json.JSONDecoder()

# Text that is trying to be a tool call even when it fails to parse.
_ATTEMPT_RE = re.compile(r'"(tool|tool_calls|name|function|parameters|args|arguments)"\s*:')


def looks_like_tool_call(text: str) -> bool:
    """Whether the text attempts a JSON tool call (so JSON validity applies to it)."""
    return bool(_ATTEMPT_RE.search(text)) or text.lstrip().startswith(("{", "["))


@dataclass(frozen=True)
class ActionCheck:
    """JSON and schema verdict for one completion.

    Attributes:
        json_ok: the text decodes as JSON in an accepted action form.
        schema_ok: every action names a catalog tool with schema-valid arguments.
        error_kind: None, "invalid_json", "unknown_tool" or "schema_fail" (from the sim parser).
        error: the parser's one-line message.
        actions: normalized actions (empty unless schema_ok).
    """

    json_ok: bool
    schema_ok: bool
    error_kind: str | None
    error: str | None
    actions: list[dict[str, Any]] = field(default_factory=list)


def prose_outside_json(text: str) -> str:
    """The completion's text without its JSON tool call (code fence or first JSON value).

    The judge scans this prose for unsafe content; the actions themselves are judged by the
    simulator's guardrail (one rulebook, web4rl.safety), so a tool call is never judged twice
    by two different rules.
    """
    stripped = text.strip()
    try:
        json.loads(stripped)
        return ""
    except (ValueError, RecursionError):
        pass
    fence = _FENCE.search(text)
    if fence is not None:
        try:
            json.loads(fence.group(1))
            return text[: fence.start()] + text[fence.end() :]
        except (ValueError, RecursionError):
            pass
    for attempt, m in enumerate(re.finditer(r"[{\[]", text)):
        if attempt >= 32:
            break
        try:
            _, end = _DECODER.raw_decode(text, m.start())
        except (ValueError, RecursionError):
            continue
        return text[: m.start()] + text[end:]
    return text


def check_actions(completion: str, tools: str | ToolProfile | None = None) -> ActionCheck:
    """Parse a completion into actions and report JSON validity and schema compliance.

    JSON validity is strict: the text, or its one code fence, must be exactly one JSON value
    in an accepted action form (prose around it or a truncated list is not valid JSON).
    Schema compliance and the actions come from the simulator's lenient parse (what the
    environment would execute), so a correct call wrapped in chatter still gets schema
    credit. An unknown tool or a schema failure is still valid JSON.
    """
    strict = parse_actions(completion, strict=True, tools=tools)
    if strict.ok:
        return ActionCheck(True, True, None, None, list(strict.actions))
    json_ok = strict.error.kind != "invalid_json"
    res = strict if json_ok else parse_actions(completion, tools=tools)
    if res.ok:
        return ActionCheck(False, True, "invalid_json", strict.error.message, list(res.actions))
    return ActionCheck(json_ok, False, res.error.kind, res.error.message)


@dataclass(frozen=True)
class StepResult:
    """One executed (or blocked / skipped) action.

    Attributes:
        action: the normalized action.
        ok: executed successfully (False when blocked by a guardrail or failed).
        verifiable: False when there was no task workspace and the action needs a file that
            only the user's real project would have (then ``ok`` is meaningless and skipped).
        error: failure or guardrail reason.
        guardrail: the simulator guardrail's reason when the action was blocked.
        result: the simulator's ToolResult when the action ran (None if blocked / not run).
    """

    action: dict[str, Any]
    ok: bool
    verifiable: bool = True
    error: str | None = None
    guardrail: str | None = None
    result: ToolResult | None = None


@dataclass
class ExecutionCheck:
    """Mock execution of a completion's actions.

    Attributes:
        steps: one StepResult per action (execution stops at a guardrail block: the
            environment ends the episode there, so later actions are not run).
        workspace: the workspace after execution (written files can be linted from it).
    """

    steps: list[StepResult]
    workspace: Workspace

    @property
    def success(self) -> float | None:
        """Share of verifiable actions that succeeded (None when none is verifiable)."""
        ver = [s for s in self.steps if s.verifiable]
        return None if not ver else sum(s.ok for s in ver) / len(ver)

    @property
    def guardrail_reasons(self) -> tuple[str, ...]:
        return tuple(s.guardrail for s in self.steps if s.guardrail)


def run_actions(
    actions: Sequence[Mapping[str, Any]],
    files: Mapping[str, str] | None = None,
    ctx: TaskContext | None = None,
) -> ExecutionCheck:
    """Execute actions in a fresh in-memory workspace holding ``files``.

    ``ctx`` is the task context of the web4-only tools (open file, URL fixtures); by default
    the diff baseline is ``files``. Without task files (``files is None``) the workspace is
    empty, so a failure of anything but a file creation (reading, searching, listing,
    editing, running a command, fetching a URL on a project we do not have) is
    *unverifiable* and left out of the success rate rather than counted as failed;
    successes and failed creations still count.
    """
    ctx = ctx if ctx is not None else TaskContext(dict(files or {}))
    ws = Workspace(dict(files or {}))
    have_task = files is not None
    steps: list[StepResult] = []
    blocked = False
    for act in actions:
        act = dict(act)
        if blocked:
            steps.append(StepResult(act, False, True, "not run: episode ended by a guardrail"))
            continue
        reason = check_guardrail(act, ws.cwd)
        if reason is not None:
            steps.append(StepResult(act, False, True, reason, reason))
            blocked = True
            continue
        res = execute_action(ws, act, ctx)
        verifiable = res.ok or have_task or act["tool"] in _CREATE_TOOLS
        steps.append(StepResult(act, res.ok, verifiable, res.error, None, res))
    return ExecutionCheck(steps, ws)


def written_files(check: ExecutionCheck) -> dict[str, str]:
    """Final text of every file a successful write tool touched (workspace-relative path as
    the action wrote it -> text); a verifiable failed file creation keeps its argument."""
    out: dict[str, str] = {}
    for s in check.steps:
        tool, args = s.action["tool"], s.action["args"]
        if tool not in WRITE_TOOLS:
            continue
        path = written_path(s.action)
        if not isinstance(path, str):
            continue
        if s.ok:
            try:
                out[path] = check.workspace.read(path)
            except WorkspaceError:
                continue
        elif tool in ("write", "create_new_file") and s.guardrail is None:
            text = args.get(WRITE_ARGS[tool][1])
            if isinstance(text, str):
                out[path] = text
    return out


def task_succeeded(check: ExecutionCheck, success: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the task's declarative success checks hold after the actions
    (web4rl.sim.tasks.all_hold over the final workspace and the executed steps)."""
    history = [HistoryItem(s.action, s.result) for s in check.steps if s.result is not None]
    return all_hold([dict(c) for c in success], check.workspace, history)
