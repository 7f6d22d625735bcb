"""Declarative success checks of simulator tasks: their fields and when each holds.

Success checks (all must hold; each is a dict with a "type"):

==================  ===========================  ==============================================
type                fields                       holds when
==================  ===========================  ==============================================
file_equals         path, text                   the file exists with exactly `text`
file_contains       path, text                   the file exists and contains `text`
file_not_contains   path, text                   the file exists and does not contain `text`
file_matches        path, pattern                the file exists and `pattern` (Python re) matches
file_exists         path                         the file exists
file_absent         path                         no file at `path`
tool_called         tool                         some successful action used `tool`
tool_called_with    tool, args                   some successful action of `tool` had these args
                                                 (a subset; defaults filled in)
output_contains     text, [tool]                 some successful action's output contains `text`
output_matches      pattern, [tool]              `pattern` (Python re, multiline) matches some
                                                 successful action's output
==================  ===========================  ==============================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from web4rl.sim.executors import ToolResult
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.tools import with_defaults

# check type -> (required fields, optional fields)
CHECK_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "file_equals": (("path", "text"), ()),
    "file_contains": (("path", "text"), ()),
    "file_not_contains": (("path", "text"), ()),
    "file_matches": (("path", "pattern"), ()),
    "file_exists": (("path",), ()),
    "file_absent": (("path",), ()),
    "tool_called": (("tool",), ()),
    "tool_called_with": (("tool", "args"), ()),
    "output_contains": (("text",), ("tool",)),
    "output_matches": (("pattern",), ("tool",)),
}


class TaskError(ValueError):
    """A task file or task dict is malformed; the message names file, line, task and field."""


@dataclass(frozen=True)
class HistoryItem:
    """One executed action and its result (what output/tool checks look at)."""

    action: dict[str, Any]
    result: ToolResult


def _file(ws: Workspace, path: str) -> str | None:
    try:
        return ws.read(path)
    except WorkspaceError:
        return None


def _subset(want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and _subset(v, have[k]) for k, v in want.items()
        )
    return want == have


def check_holds(check: dict[str, Any], ws: Workspace, history: Sequence[HistoryItem]) -> bool:
    """Whether one declarative success check holds for this workspace and action history."""
    kind = check["type"]
    if kind in ("file_equals", "file_contains", "file_not_contains", "file_matches", "file_exists"):
        text = _file(ws, check["path"])
        if text is None:
            return False
        if kind == "file_equals":
            return text == check["text"]
        if kind == "file_contains":
            return check["text"] in text
        if kind == "file_not_contains":
            return check["text"] not in text
        if kind == "file_matches":
            return re.search(check["pattern"], text, re.MULTILINE) is not None
        return True
    if kind == "file_absent":
        return not ws.exists(check["path"])
    if kind == "tool_called":
        return any(h.result.ok and h.action["tool"] == check["tool"] for h in history)
    if kind == "tool_called_with":
        tool = check["tool"]
        return any(
            h.result.ok
            and h.action["tool"] == tool
            and _subset(check["args"], with_defaults(tool, h.action["args"]))
            for h in history
        )
    if kind == "output_contains":
        tool = check.get("tool")
        return any(
            h.result.ok
            and check["text"] in h.result.output
            and (tool is None or h.action["tool"] == tool)
            for h in history
        )
    if kind == "output_matches":
        tool = check.get("tool")
        rx = re.compile(check["pattern"], re.MULTILINE)
        return any(
            h.result.ok
            and (tool is None or h.action["tool"] == tool)
            and rx.search(h.result.output)
            for h in history
        )
    raise TaskError(f"unknown success check type {kind!r}")


def all_hold(
    checks: Iterable[dict[str, Any]], ws: Workspace, history: Sequence[HistoryItem]
) -> bool:
    return all(check_holds(c, ws, history) for c in checks)
