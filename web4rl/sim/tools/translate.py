"""Translate canonical task actions and success checks into a tool profile's form.

Tasks are written once, in the *canonical* vocabulary (the Cursor-style tools plus the
web4-only tools, see :data:`web4rl.sim.tools.profiles.CANONICAL`). For the ``web4`` profile:

==================================  ==============================================================
canonical                           web4
==================================  ==============================================================
read_file {target_file}             read_file {path}  (offset / limit dropped: whole file)
write {file_path, contents}         create_new_file {path, content} when the file does not exist
                                    yet, else edit_existing_file {path, changes: contents}
search_replace                      single_find_and_replace {file_path, find, replace}
grep {pattern, path, output_mode}   run_terminal_command "grep -rnE 'pattern' path"
                                    (-rlE for files_with_matches, -rcE for count, +i for -i)
glob_file_search                    file_glob_search {pattern: "<dir>/**/<glob>"}
codebase_search {query}             run_terminal_command "grep -rliE 'term|term' ."
list_dir {target_directory}         ls {path}
run_terminal_cmd {command}          run_terminal_command {command}
web4-only tools                     unchanged
==================================  ==============================================================

For ``cursor``: its own tools are unchanged; read_currently_open_file becomes read_file of the
task's open file and create_rule_block a write of the rule file; view_diff,
fetch_url_content and evaluate_model have no Cursor counterpart (:class:`TranslationError`:
such a task is only offered under web4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from web4rl.sim.fs import WorkspaceError, resolve_path
from web4rl.sim.tools.profiles import ToolProfile, get_profile
from web4rl.sim.tools.web4 import RULES_DIR

# Canonical tool -> the tool name that plays its role in the web4 profile (for checks).
WEB4_NAMES: dict[str, str] = {
    "read_file": "read_file",
    "write": "create_new_file",
    "search_replace": "single_find_and_replace",
    "grep": "run_terminal_command",
    "glob_file_search": "file_glob_search",
    "codebase_search": "run_terminal_command",
    "list_dir": "ls",
    "run_terminal_cmd": "run_terminal_command",
}
# Argument renames canonical -> web4, per canonical tool (for tool_called_with checks).
_WEB4_ARGS: dict[str, dict[str, str]] = {
    "read_file": {"target_file": "path"},
    "write": {"file_path": "path", "contents": "content"},
    "search_replace": {"file_path": "file_path", "old_string": "find", "new_string": "replace"},
    "list_dir": {"target_directory": "path"},
    "run_terminal_cmd": {"command": "command"},
}
_SAFE_WORD = re.compile(r"[A-Za-z0-9_./:@%+=,-]+")
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]+")


class TranslationError(ValueError):
    """A canonical action or check has no form in the requested profile."""


def shell_quote(word: str) -> str:
    """Quote one word for the simulator's shell (single quotes; ' as '\\'')."""
    if _SAFE_WORD.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def rule_path(rule: str, name: str | None = None) -> str:
    """Workspace path of the file create_rule_block writes: .continue/rules/<slug>.md."""
    words = re.findall(r"[a-z0-9]+", (name or rule).lower())
    words = [w for w in words if w != "rule"] or ["rule"]
    slug = "-".join(words[:6])[:60].strip("-") or "rule"
    return f"{RULES_DIR}/{slug}.md"


def rule_file_text(rule: str, name: str | None = None) -> str:
    """The Markdown create_rule_block writes (a title line, then the rule)."""
    title = name or rule.split("\n", 1)[0]
    return f"# {title.strip()[:200]}\n\n{rule.strip()}\n"


def _key(path: str) -> str | None:
    try:
        return resolve_path(path)
    except WorkspaceError:
        return None


def _grep_command(args: Mapping[str, Any]) -> str:
    mode = args.get("output_mode", "content")
    flags = "-r" + {"content": "n", "files_with_matches": "l", "count": "c"}[mode]
    flags += "i" if args.get("-i") else ""
    flags += "E"
    words = ["grep", flags, shell_quote(args["pattern"])]
    path = args.get("path", ".")
    if path not in (".", "./"):
        words.append(shell_quote(path))
    if args.get("type") is not None:
        raise TranslationError("grep's `type` filter has no web4 form")
    return " ".join(words)


def _glob_pattern(args: Mapping[str, Any]) -> str:
    pattern = args["glob_pattern"].lstrip("/")
    if not pattern.startswith("**/"):
        pattern = "**/" + pattern
    folder = args.get("target_directory", ".").strip("/")
    folder = folder.removeprefix("./")
    return pattern if folder in ("", ".") else f"{folder}/{pattern}"


def _to_web4(action: Mapping[str, Any], existing: set[str]) -> dict[str, Any]:
    tool, args = action["tool"], action["args"]
    if tool == "read_file":
        return {"tool": "read_file", "args": {"path": args["target_file"]}}
    if tool == "write":
        key = _key(args["file_path"])
        if key is not None and key in existing:
            if not args["contents"]:
                raise TranslationError("an empty write over an existing file has no web4 form")
            return {
                "tool": "edit_existing_file",
                "args": {"path": args["file_path"], "changes": args["contents"]},
            }
        if key is not None:
            existing.add(key)
        return {
            "tool": "create_new_file",
            "args": {"path": args["file_path"], "content": args["contents"]},
        }
    if tool == "search_replace":
        return {
            "tool": "single_find_and_replace",
            "args": {
                "file_path": args["file_path"],
                "find": args["old_string"],
                "replace": args["new_string"],
            },
        }
    if tool == "grep":
        return {"tool": "run_terminal_command", "args": {"command": _grep_command(args)}}
    if tool == "glob_file_search":
        return {"tool": "file_glob_search", "args": {"pattern": _glob_pattern(args)}}
    if tool == "codebase_search":
        terms = list(dict.fromkeys(t.lower() for t in _TERM.findall(args["query"])))
        if not terms:
            raise TranslationError("codebase_search query has no words to grep for")
        dirs = [shell_quote(d) for d in args.get("target_directories") or []]
        command = " ".join(["grep", "-rliE", shell_quote("|".join(terms)), *dirs])
        return {"tool": "run_terminal_command", "args": {"command": command}}
    if tool == "list_dir":
        return {"tool": "ls", "args": {"path": args["target_directory"]}}
    if tool == "run_terminal_cmd":
        return {"tool": "run_terminal_command", "args": {"command": args["command"]}}
    if tool == "create_rule_block":
        key = _key(rule_path(args["rule"], args.get("name")))
        if key is not None:
            existing.add(key)
    return {"tool": tool, "args": dict(args)}


def _to_cursor(action: Mapping[str, Any], open_file: str | None) -> dict[str, Any]:
    tool, args = action["tool"], action["args"]
    if tool == "read_currently_open_file":
        if open_file is None:
            raise TranslationError("read_currently_open_file needs the task's open_file")
        return {"tool": "read_file", "args": {"target_file": open_file}}
    if tool == "create_rule_block":
        name = args.get("name")
        return {
            "tool": "write",
            "args": {
                "file_path": rule_path(args["rule"], name),
                "contents": rule_file_text(args["rule"], name),
            },
        }
    if tool in ("view_diff", "fetch_url_content", "evaluate_model"):
        raise TranslationError(f"{tool} has no counterpart in the cursor profile")
    return {"tool": tool, "args": dict(args)}


def translate_actions(
    actions: Iterable[Mapping[str, Any]],
    tools: str | ToolProfile | None,
    initial_files: Iterable[str] = (),
    open_file: str | None = None,
) -> list[dict[str, Any]]:
    """Canonical actions -> the profile's actions (in order: a write's form depends on
    whether earlier actions created the file). Raises TranslationError."""
    profile = get_profile(tools)
    out: list[dict[str, Any]] = []
    if profile.name == "web4":
        existing = {k for k in (_key(p) for p in initial_files) if k is not None}
        for a in actions:
            out.append(_to_web4(a, existing))
    else:
        out = [_to_cursor(a, open_file) for a in actions]
    for a in out:
        problem = profile.validate(a["tool"], a["args"])
        if problem is not None:
            raise TranslationError(f"translated action is invalid in {profile.name}: {problem}")
    return out


def translate_check(check: Mapping[str, Any], tools: str | ToolProfile | None) -> dict[str, Any]:
    """A success check with its ``tool`` (and ``tool_called_with`` args) in the profile's names."""
    profile = get_profile(tools)
    out = dict(check)
    tool = check.get("tool")
    if tool is None:
        return out
    if profile.name == "web4":
        out["tool"] = WEB4_NAMES.get(tool, tool)
        if check["type"] == "tool_called_with" and tool in WEB4_NAMES:
            renames = _WEB4_ARGS.get(tool)
            if renames is None or not set(check["args"]) <= set(renames):
                raise TranslationError(f"tool_called_with {tool} args have no web4 form")
            out["args"] = {renames[k]: v for k, v in check["args"].items()}
    else:
        if tool == "read_currently_open_file":
            out["tool"] = "read_file"
            if check["type"] == "tool_called_with":
                raise TranslationError("tool_called_with read_currently_open_file: no cursor form")
        elif tool == "create_rule_block":
            out["tool"] = "write"
            if check["type"] == "tool_called_with":
                raise TranslationError("tool_called_with create_rule_block: no cursor form")
        elif tool in ("view_diff", "fetch_url_content", "evaluate_model"):
            raise TranslationError(f"{tool} has no counterpart in the cursor profile")
    return out
