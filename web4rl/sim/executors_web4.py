"""The executors of the web4-only tools (and the web4 spellings of the canonical ones).

create_new_file, edit_existing_file (full content or SEARCH/REPLACE blocks),
single_find_and_replace, file_glob_search, ls, run_terminal_command, and the tools that read
the task's context (:class:`~web4rl.sim.executors.TaskContext`): read_currently_open_file,
view_diff, fetch_url_content; plus create_rule_block and evaluate_model.
"""

from __future__ import annotations

import difflib
import re

from web4rl.sim.executors import (
    TaskContext,
    ToolResult,
    glob_listing,
    list_dir,
    read_file,
    run_terminal_cmd,
    search_replace,
    split_lines,
    write_file,
)
from web4rl.sim.fs import ROOT, Workspace, WorkspaceError
from web4rl.sim.tools.translate import rule_file_text, rule_path
from web4rl.sim.tools.web4 import DIVIDER_MARK, REPLACE_MARK, SEARCH_MARK

_LAZY = re.compile(r"\.\.\.\s*(rest of|existing) (the )?(code|file)", re.I)
_BLOCK = re.compile(
    re.escape(SEARCH_MARK)
    + r"\n(.*?)\n"
    + re.escape(DIVIDER_MARK)
    + r"\n(.*?)"
    + re.escape(REPLACE_MARK),
    re.S,
)


def create_new_file(ws: Workspace, path: str, content: str) -> ToolResult:
    if ws.is_file(path):
        return ToolResult(
            False, "", f"{path} already exists; use edit_existing_file to change an existing file"
        )
    return write_file(ws, path, content)


def edit_replacements(changes: str) -> list[str]:
    """The text edit_existing_file would write: the REPLACE parts of SEARCH/REPLACE blocks,
    else the whole ``changes`` (full-content form)."""
    if SEARCH_MARK not in changes:
        return [changes]
    return [repl for _, repl in _BLOCK.findall(changes)]


def _apply_blocks(ws: Workspace, path: str, text: str, changes: str) -> ToolResult:
    blocks = _BLOCK.findall(changes)
    if not blocks:
        return ToolResult(
            False,
            "",
            f"malformed SEARCH/REPLACE block: expected '{SEARCH_MARK}\\n<old>\\n{DIVIDER_MARK}"
            f"\\n<new>\\n{REPLACE_MARK}'",
        )
    new = text
    for i, (old, repl) in enumerate(blocks, 1):
        repl = repl[:-1] if repl.endswith("\n") else repl
        count = new.count(old)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times (must be unique)"
            return ToolResult(False, "", f"SEARCH block {i} {where} in {path}; nothing changed")
        new = new.replace(old, repl, 1)
    if new == text:
        return ToolResult(False, "", "the SEARCH/REPLACE blocks change nothing")
    ws.write(path, new)
    return ToolResult(True, f"Applied {len(blocks)} edit(s) to {ws.relpath(ws.resolve(path))}")


def edit_existing_file(ws: Workspace, path: str, changes: str) -> ToolResult:
    text = ws.read(path)  # the file must exist (WorkspaceError otherwise)
    rel = ws.relpath(ws.resolve(path))
    if SEARCH_MARK in changes:
        return _apply_blocks(ws, path, text, changes)
    if _LAZY.search(changes) or "\n" not in changes:
        # A description ("Update imports to use TypeScript") or a lazy sketch with
        # "... existing code ..." placeholders needs a model to merge: recorded, not applied.
        return ToolResult(
            True,
            f"Recorded the requested change to {rel} but did not apply it: `changes` is a "
            "description or a partial sketch, not an edit. Send the complete new file content "
            f"or {SEARCH_MARK} / {DIVIDER_MARK} / {REPLACE_MARK} blocks. {rel} is unchanged.",
        )
    if changes == text:
        return ToolResult(True, f"{rel} already has this content; nothing changed")
    ws.write(path, changes)
    return ToolResult(True, f"Replaced the content of {rel} ({len(split_lines(changes))} lines)")


def single_find_and_replace(ws: Workspace, file_path: str, find: str, replace: str) -> ToolResult:
    result = search_replace(ws, file_path, find, replace)
    if result.ok or result.error is None:
        return result
    error = result.error.replace("old_string and new_string", "find and replace").replace(
        "old_string", "find"
    )
    return ToolResult(False, result.output, error)


def file_glob_search(ws: Workspace, pattern: str) -> ToolResult:
    # Relative to the workspace root; a bare file-name pattern matches anywhere (as ripgrep).
    glob = pattern.lstrip("/")
    if glob.startswith("./"):
        glob = glob[2:]
    if "/" not in glob:
        glob = "**/" + glob
    return glob_listing([ws.relpath(p) for p in ws.glob(glob, ROOT)])


def ls(ws: Workspace, path: str) -> ToolResult:
    return list_dir(ws, path)


def run_terminal_command(
    ws: Workspace, command: str, working_directory: str | None = None
) -> ToolResult:
    return run_terminal_cmd(ws, command, False, working_directory)


def read_currently_open_file(ws: Workspace, ctx: TaskContext) -> ToolResult:
    if ctx.open_file is None:
        return ToolResult(False, "", "no file is open in the editor")
    result = read_file(ws, path=ctx.open_file)
    if not result.ok:
        return result
    return ToolResult(True, f"(open file: {ctx.open_file})\n{result.output}")


def view_diff(ws: Workspace, ctx: TaskContext) -> ToolResult:
    before = {}
    for path, text in ctx.initial_files.items():
        try:
            before[ws.relpath(ws.resolve(path))] = text
        except WorkspaceError:
            continue
    after = ws.files()
    chunks = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        diff = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            "/dev/null" if old is None else f"a/{path}",
            "/dev/null" if new is None else f"b/{path}",
        )
        chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in diff))
    if not chunks:
        return ToolResult(True, "No changes.")
    return ToolResult(True, "".join(chunks).rstrip("\n"))


def fetch_url_content(ws: Workspace, ctx: TaskContext, url: str) -> ToolResult:
    fixtures = ctx.url_fixtures
    for key in (url, url.rstrip("/"), url.rstrip("/") + "/"):
        if key in fixtures:
            return ToolResult(True, fixtures[key])
    return ToolResult(
        False,
        "",
        f"network not available in the simulator: {url[:200]} is not one of this task's pages"
        + (f" ({', '.join(sorted(fixtures))})" if fixtures else ""),
    )


def create_rule_block(ws: Workspace, rule: str, name: str | None = None) -> ToolResult:
    path = rule_path(rule, name)
    existed = ws.is_file(path)
    ws.write(path, rule_file_text(rule, name))
    return ToolResult(True, f"{'Updated' if existed else 'Created'} rule {path}")


def evaluate_model(ws: Workspace, metrics: list[str], threshold: float) -> ToolResult:
    return ToolResult(
        False, "", "evaluate_model: there is no model evaluation harness inside the simulator"
    )
