"""Execute one validated action against an in-memory :class:`~web4rl.sim.fs.Workspace`.

:func:`execute_action` is deterministic (same workspace + same action = same result) except
that a regex which exceeds its time budget fails with a timeout message. It never touches the
real disk, the network, or starts a process. Guardrails are the caller's job (the env checks
them first); this module only refuses what it cannot do.

Every tool of every profile has one executor (names are unique across profiles;
``read_file`` accepts both its ``target_file`` and ``path`` spellings). The web4-only tools
read the task's context (:class:`TaskContext`): view_diff diffs the workspace against the
task's initial files, read_currently_open_file reads the task's ``open_file``,
fetch_url_content answers from the task's ``url_fixtures`` (any other URL is a clear
"network not available" error), and create_rule_block writes under ``.continue/rules/``.

Layout: this module dispatches a tool name to its executor; the executors of the canonical
tools (and :class:`ToolResult`, :class:`TaskContext`) are :mod:`web4rl.sim.executors`, those
of the web4-only tools :mod:`web4rl.sim.executors_web4`. Their public names are importable
from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web4rl.sim.executors import (  # noqa: F401 - TaskContext, ToolResult, MAX_*: re-exported
    MAX_GLOB_RESULTS,
    MAX_GREP_LINES,
    MAX_OUTPUT_CHARS,
    NO_CONTEXT,
    REGEX_TIMEOUT_S,
    TaskContext,
    ToolResult,
    codebase_search,
    glob_file_search,
    grep,
    list_dir,
    read_file,
    run_terminal_cmd,
    search_replace,
    truncate_output,
    write_file,
)
from web4rl.sim.executors_web4 import (  # noqa: F401 - edit_replacements: re-exported
    create_new_file,
    create_rule_block,
    edit_existing_file,
    edit_replacements,
    evaluate_model,
    fetch_url_content,
    file_glob_search,
    ls,
    read_currently_open_file,
    run_terminal_command,
    single_find_and_replace,
    view_diff,
)
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.shell_base import ShellError
from web4rl.sim.tools import WRITE_ARGS, with_defaults
from web4rl.sim.tools.translate import rule_path

_DISPATCH = {
    "read_file": read_file,
    "write": write_file,
    "search_replace": search_replace,
    "grep": grep,
    "glob_file_search": glob_file_search,
    "codebase_search": codebase_search,
    "list_dir": list_dir,
    "run_terminal_cmd": run_terminal_cmd,
    "create_new_file": create_new_file,
    "edit_existing_file": edit_existing_file,
    "single_find_and_replace": single_find_and_replace,
    "file_glob_search": file_glob_search,
    "ls": ls,
    "run_terminal_command": run_terminal_command,
    "create_rule_block": create_rule_block,
    "evaluate_model": evaluate_model,
}
# Tools that read the task context (called with it as their second argument).
_CONTEXT_DISPATCH = {
    "read_currently_open_file": read_currently_open_file,
    "view_diff": view_diff,
    "fetch_url_content": fetch_url_content,
}


def written_path(action: Mapping[str, Any]) -> str | None:
    """The file a write tool's action writes (None for other tools or malformed args)."""
    tool, args = action.get("tool"), action.get("args")
    if tool not in WRITE_ARGS or not isinstance(args, Mapping):
        return None
    if tool == "create_rule_block":
        rule, name = args.get("rule"), args.get("name")
        if not isinstance(rule, str) or not (name is None or isinstance(name, str)):
            return None
        return rule_path(rule, name)
    path = args.get(WRITE_ARGS[tool][0])
    return path if isinstance(path, str) else None


def execute_action(
    ws: Workspace, action: dict[str, Any], ctx: TaskContext | None = None
) -> ToolResult:
    """Run a schema-valid normalized action ``{"tool", "args"}`` against `ws`.

    `ctx` is the task context the web4-only tools read (None: no open file, no URL
    fixtures, an empty diff baseline). File-system and shell failures become
    ``ToolResult(ok=False, error=...)``; the workspace is only changed by the write tools,
    and only when they succeed.
    """
    tool = action["tool"]
    args = with_defaults(tool, action["args"])
    try:
        fn = _DISPATCH.get(tool)
        if fn is not None:
            # grep's "-i" is not an identifier; it reaches grep through **flags.
            result = fn(ws, **args)
        elif tool in _CONTEXT_DISPATCH:
            result = _CONTEXT_DISPATCH[tool](ws, ctx or NO_CONTEXT, **args)
        else:
            return ToolResult(False, "", f"unknown tool {tool!r}")
    except (WorkspaceError, ShellError) as exc:
        return ToolResult(False, "", str(exc))
    if len(result.output) > MAX_OUTPUT_CHARS:
        result = ToolResult(result.ok, truncate_output(result.output), result.error)
    return result
