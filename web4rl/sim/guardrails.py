"""Guardrails: decide, before execution, whether an action is destructive or unsafe.

:func:`check_guardrail` is usable standalone (the judge calls it on model output): it takes a
normalized action ``{"tool", "args"}`` of either tool profile and returns a human-readable
reason, or None when the action is allowed. In the environment a reason ends the episode with
the guardrail penalty.

The rules themselves live in the one safety rulebook, :mod:`web4rl.safety` (shared with the
judge); this module applies them to actions and the workspace:

- shell commands (run_terminal_command / run_terminal_cmd): ``command_violation``; a
  program merely outside the safe subset (npm test) is *not* blocked, it fails when run;
- writes (create_new_file, edit_existing_file, single_find_and_replace, create_rule_block,
  write, search_replace) that land outside /workspace, into .git or a credential file, or
  whose new text holds a secret or other unsafe content;
- reads of credential files (read_file, ls, grep, ... on ~/.ssh/id_rsa, *.pem).
Reading an ordinary file outside the workspace is not a guardrail: the tool simply fails.
"""

from __future__ import annotations

from typing import Any

from web4rl.safety import command_violation, is_credential_path, write_violation
from web4rl.safety.rules import SAFE_COMMANDS
from web4rl.sim.execute import edit_replacements, written_path
from web4rl.sim.fs import ROOT, WorkspaceError, resolve_path
from web4rl.sim.tools import COMMAND_TOOLS, READ_PATH_ARGS, WRITE_ARGS

__all__ = ["SAFE_COMMANDS", "check_command", "check_guardrail", "check_write"]


def check_command(command: str) -> str | None:
    """Reason a shell command is unsafe (web4rl.safety.command_violation), or None."""
    return command_violation(command)


def check_write(path: str, text: str, cwd: str = ROOT) -> str | None:
    """Reason writing `text` to `path` is not allowed, or None."""
    try:
        resolved = resolve_path(path, cwd)
    except WorkspaceError:
        return f"writes outside the workspace: {path[:200]}"
    return write_violation(resolved[len(ROOT) + 1 :], text)


def check_guardrail(action: dict[str, Any], cwd: str = ROOT) -> str | None:
    """Reason the normalized action ``{"tool", "args"}`` is unsafe, or None if allowed.

    Never raises: a malformed action (missing keys, wrong types) is not a guardrail matter and
    yields None; schema validation reports it instead.
    """
    if not isinstance(action, dict) or not isinstance(action.get("args"), dict):
        return None
    tool, args = action.get("tool"), action["args"]
    if tool in COMMAND_TOOLS:
        command = args.get("command")
        return command_violation(command) if isinstance(command, str) else None
    if tool in WRITE_ARGS:
        path = written_path(action)
        text = args.get(WRITE_ARGS[tool][1])
        if not isinstance(path, str) or not isinstance(text, str):
            return None
        if tool == "edit_existing_file":
            # SEARCH/REPLACE blocks: only the new text is written (removing a secret is fine).
            text = "\n".join(edit_replacements(text))
        return check_write(path, text, cwd)
    for name in (READ_PATH_ARGS.get(tool), "target_file" if tool == "read_file" else None):
        value = args.get(name) if name else None
        if isinstance(value, str) and is_credential_path(value):
            return f"reads a credential file: {value[:200]}"
    return None
