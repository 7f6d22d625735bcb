"""Execute one validated action against an in-memory :class:`~web4rl.sim.fs.Workspace`.

:func:`execute_action` is deterministic (same workspace + same action = same result) except
that a regex which exceeds its time budget fails with a timeout message. It never touches the
real disk, the network, or starts a process. Guardrails are the caller's job (the env checks
them first); this module only refuses what it cannot do.

Every tool of every profile has one executor here (names are unique across profiles;
``read_file`` accepts both its ``target_file`` and ``path`` spellings). The web4-only tools
read the task's context (:class:`TaskContext`): view_diff diffs the workspace against the
task's initial files, read_currently_open_file reads the task's ``open_file``,
fetch_url_content answers from the task's ``url_fixtures`` (any other URL is a clear
"network not available" error), and create_rule_block writes under ``.continue/rules/``.
"""

from __future__ import annotations

import difflib
import math
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from web4rl.sim.fs import ROOT, Workspace, WorkspaceError
from web4rl.sim.shell import run_command
from web4rl.sim.shell_base import ShellError
from web4rl.sim.shell_search import compile_pattern, matching_lines
from web4rl.sim.tools import GREP_TYPES, WRITE_ARGS, with_defaults
from web4rl.sim.tools.translate import rule_file_text, rule_path
from web4rl.sim.tools.web4 import DIVIDER_MARK, REPLACE_MARK, SEARCH_MARK

# Observations are cut beyond this many characters (the model only needs a window).
MAX_OUTPUT_CHARS = 20_000
# grep stops listing after this many matching lines (ripgrep's default output is unbounded,
# ours is a prompt).
MAX_GREP_LINES = 200
MAX_GLOB_RESULTS = 500
CODEBASE_SEARCH_RESULTS = 5
CHUNK_LINES = 20
# codebase_search indexes at most this much of each file and of the whole workspace, so a
# workspace stuffed with megabyte files cannot make one search take seconds.
MAX_INDEX_CHARS_PER_FILE = 100_000
MAX_INDEX_CHARS_TOTAL = 1_000_000
# Total time a regex may take within one step (seconds).
REGEX_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class TaskContext:
    """What the web4-only tools know about the task beyond the workspace.

    initial_files: the task's starting files (view_diff's baseline).
    open_file: the file open in the user's editor (read_currently_open_file), or None.
    url_fixtures: {url: text} pages fetch_url_content can reach.
    """

    initial_files: Mapping[str, str] = field(default_factory=dict)
    open_file: str | None = None
    url_fixtures: Mapping[str, str] = field(default_factory=dict)


_NO_CONTEXT = TaskContext()


@dataclass(frozen=True)
class ToolResult:
    """What a tool returned.

    ok: the tool did what was asked (a grep with no match is still ok).
    output: text shown to the model (possibly truncated to MAX_OUTPUT_CHARS).
    error: a one-line reason when ok is False, else None.
    """

    ok: bool
    output: str
    error: str | None = None


def _truncate(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n... [truncated {len(text) - MAX_OUTPUT_CHARS} characters]"


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------- the tools
def _read_file(
    ws: Workspace,
    target_file: str | None = None,
    offset: int = 1,
    limit: int = 2_000,
    path: str | None = None,
) -> ToolResult:
    # Cursor spells the argument target_file, web4 path (schemas allow exactly one of them).
    target_file = target_file if target_file is not None else path
    lines = _split_lines(ws.read(target_file))
    if not lines:
        return ToolResult(True, "(empty file)")
    if offset > len(lines):
        return ToolResult(
            False, "", f"offset {offset} is past the end of {target_file} ({len(lines)} lines)"
        )
    chosen = lines[offset - 1 : offset - 1 + limit]
    body = "\n".join(f"{offset + i:>6}|{line}" for i, line in enumerate(chosen))
    end = offset - 1 + len(chosen)
    if end < len(lines) or offset > 1:
        body += f"\n(lines {offset}-{end} of {len(lines)})"
    return ToolResult(True, body)


def _write(ws: Workspace, file_path: str, contents: str) -> ToolResult:
    existed = ws.is_file(file_path)
    path = ws.write(file_path, contents)
    verb = "Updated" if existed else "Created"
    n = len(_split_lines(contents))
    return ToolResult(True, f"{verb} {ws.relpath(path)} ({n} lines)")


def _search_replace(ws: Workspace, file_path: str, old_string: str, new_string: str) -> ToolResult:
    text = ws.read(file_path)
    if old_string == new_string:
        return ToolResult(False, "", "old_string and new_string are identical; nothing to change")
    count = text.count(old_string)
    if count == 0:
        hint = ""
        if " ".join(old_string.split()) and " ".join(old_string.split()) in " ".join(text.split()):
            hint = " (it matches if whitespace is ignored: copy the exact indentation)"
        return ToolResult(False, "", f"old_string not found in {file_path}{hint}")
    if count > 1:
        return ToolResult(
            False,
            "",
            f"old_string occurs {count} times in {file_path}; include more surrounding context to make it unique",
        )
    start = text.index(old_string)
    line = text.count("\n", 0, start) + 1
    ws.write(file_path, text.replace(old_string, new_string, 1))
    return ToolResult(
        True, f"Replaced 1 occurrence in {ws.relpath(ws.resolve(file_path))} at line {line}"
    )


def _grep(
    ws: Workspace, pattern: str, path: str, output_mode: str, type: str | None = None, **flags: Any
) -> ToolResult:
    rx = compile_pattern("grep", pattern, ignore_case=bool(flags.get("-i")))
    files = list(ws.walk_files(path))
    if type is not None:
        suffixes = GREP_TYPES[type]
        files = [f for f in files if f.endswith(suffixes)]
    deadline = time.monotonic() + REGEX_TIMEOUT_S
    out: list[str] = []
    shown = 0
    for full in files:
        text = ws._files[full]
        hits = matching_lines(rx, text, deadline)
        if not hits:
            continue
        rel = ws.relpath(full)
        if output_mode == "files_with_matches":
            out.append(rel)
        elif output_mode == "count":
            out.append(f"{rel}:{len(hits)}")
        else:
            lines = _split_lines(text)
            for i in hits:
                if shown < MAX_GREP_LINES:
                    out.append(f"{rel}:{i + 1}:{lines[i] if i < len(lines) else ''}")
                shown += 1
    if not out:
        return ToolResult(True, "No matches found.")
    if output_mode == "content" and shown > MAX_GREP_LINES:
        out.append(
            f"... [{shown - MAX_GREP_LINES} more matching lines; narrow the pattern or path]"
        )
    return ToolResult(True, "\n".join(out))


def _glob_file_search(ws: Workspace, glob_pattern: str, target_directory: str) -> ToolResult:
    pattern = glob_pattern.lstrip("/")
    if not pattern.startswith("**/"):
        pattern = "**/" + pattern
    if not ws.is_dir(target_directory):
        return ToolResult(False, "", f"{target_directory}: no such directory")
    return _glob_listing([ws.relpath(p) for p in ws.glob(pattern, target_directory)])


def _glob_listing(matches: list[str]) -> ToolResult:
    """Matched paths one per line, cut at MAX_GLOB_RESULTS (both glob tools answer so)."""
    if not matches:
        return ToolResult(True, "No files found.")
    extra = len(matches) - MAX_GLOB_RESULTS
    body = "\n".join(matches[:MAX_GLOB_RESULTS])
    return ToolResult(True, body + (f"\n... [{extra} more files]" if extra > 0 else ""))


_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")
_STOP = frozenset(
    "a an and are as at be by can do does file files for from function how i in is it its "
    "me my of on or the this to what where which with code find show".split()
)


def _terms(text: str) -> list[str]:
    """Lowercase search terms: identifiers split on camelCase/snake_case, crude plural strip."""
    out = []
    for w in _WORD.findall(text):
        w = w.lower()
        if len(w) < 2 or w in _STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


@lru_cache(maxsize=1024)
def _chunk_terms(path: str, text: str) -> tuple[tuple[int, int, Counter], ...]:
    """(first line, last line, term counts) per CHUNK_LINES window; the path's terms count too."""
    lines = _split_lines(text) or [""]
    path_terms = Counter(_terms(path))
    chunks = []
    for start in range(0, len(lines), CHUNK_LINES):
        window = lines[start : start + CHUNK_LINES]
        counts = Counter(_terms("\n".join(window)))
        counts.update(path_terms)
        chunks.append((start + 1, start + len(window), counts))
    return tuple(chunks)


def _codebase_search(ws: Workspace, query: str, target_directories: list[str]) -> ToolResult:
    q = list(dict.fromkeys(_terms(query)))
    if not q:
        return ToolResult(False, "", "query has no searchable words")
    files: list[str] = []
    for d in target_directories or ["."]:
        files.extend(ws.walk_files(d))
    files = sorted(set(files))
    chunks = []
    budget = MAX_INDEX_CHARS_TOTAL
    partial = False
    for f in files:
        text = ws._files[f]
        if len(text) > MAX_INDEX_CHARS_PER_FILE or len(text) > budget:
            partial = True
            text = text[: min(MAX_INDEX_CHARS_PER_FILE, budget)]
        if not text and budget <= 0:
            break
        budget -= len(text)
        # Memoize ordinary source files only; a cache of 100 kB strings would pin memory.
        index = (
            _chunk_terms(ws.relpath(f), text)
            if len(text) <= 20_000
            else _chunk_terms.__wrapped__(ws.relpath(f), text)
        )
        chunks.extend((f, a, b, c) for a, b, c in index)
    if not chunks:
        return ToolResult(True, "No results.")
    n = len(chunks)
    df = {t: sum(1 for *_, c in chunks if t in c) for t in q}
    idf = {t: math.log(1 + n / (1 + df[t])) for t in q}
    scored = []
    for f, a, b, counts in chunks:
        score = sum(idf[t] * (1 + math.log(counts[t])) for t in q if counts[t])
        if score > 0:
            scored.append((-score, f, a, b))
    if not scored:
        return ToolResult(True, "No results.")
    scored.sort()
    blocks = []
    for neg, f, a, b in scored[:CODEBASE_SEARCH_RESULTS]:
        lines = _split_lines(ws._files[f])[a - 1 : b]
        body = "\n".join(f"{a + i:>6}|{line}" for i, line in enumerate(lines))
        blocks.append(f"{ws.relpath(f)}:{a}-{b} (score {-neg:.2f})\n{body}")
    if partial:
        blocks.append(
            f"(very large files: only the first {MAX_INDEX_CHARS_PER_FILE} characters of a file and "
            f"{MAX_INDEX_CHARS_TOTAL} overall were searched; use grep for the rest)"
        )
    return ToolResult(True, "\n\n".join(blocks))


def _list_dir(ws: Workspace, target_directory: str) -> ToolResult:
    entries = ws.list(target_directory)
    if not entries:
        return ToolResult(True, "(empty directory)")
    base = ws.resolve(target_directory)
    rows = []
    for name, is_dir in entries:
        if is_dir:
            rows.append(f"{name}/")
        else:
            rows.append(
                f"{name}  ({len(ws._files[f'{base}/{name}'].encode('utf-8', 'surrogatepass'))} B)"
            )
    return ToolResult(True, "\n".join(rows))


def _run_terminal_cmd(
    ws: Workspace, command: str, is_background: bool = False, working_directory: str | None = None
) -> ToolResult:
    if working_directory is not None:
        if not ws.is_dir(working_directory):
            return ToolResult(
                False,
                "",
                f"working_directory {working_directory!r}: no such folder in the workspace",
            )
        saved = ws.cwd
        ws.cwd = ws.resolve(working_directory)
        try:
            result = run_command(ws, command, timeout_s=REGEX_TIMEOUT_S)
        finally:
            ws.cwd = saved
    else:
        result = run_command(ws, command, timeout_s=REGEX_TIMEOUT_S)
    out = result.stdout if result.stdout else "(no output)"
    if is_background:
        out = "[background job finished]\n" + out
    if result.stderr:
        return ToolResult(False, result.stdout, f"exit code {result.exit_code}: {result.stderr}")
    return ToolResult(
        True, out + ("" if out.endswith("\n") else "\n") + f"(exit code {result.exit_code})"
    )


# ---------------------------------------------------------------------------- web4 tools
_LAZY = re.compile(r"\.\.\.\s*(rest of|existing) (the )?(code|file)", re.I)
_BLOCK = re.compile(
    re.escape(SEARCH_MARK)
    + r"\n(.*?)\n"
    + re.escape(DIVIDER_MARK)
    + r"\n(.*?)"
    + re.escape(REPLACE_MARK),
    re.S,
)


def _create_new_file(ws: Workspace, path: str, content: str) -> ToolResult:
    if ws.is_file(path):
        return ToolResult(
            False, "", f"{path} already exists; use edit_existing_file to change an existing file"
        )
    return _write(ws, path, content)


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


def _edit_existing_file(ws: Workspace, path: str, changes: str) -> ToolResult:
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
    return ToolResult(True, f"Replaced the content of {rel} ({len(_split_lines(changes))} lines)")


def _single_find_and_replace(ws: Workspace, file_path: str, find: str, replace: str) -> ToolResult:
    result = _search_replace(ws, file_path, find, replace)
    if result.ok or result.error is None:
        return result
    error = result.error.replace("old_string and new_string", "find and replace").replace(
        "old_string", "find"
    )
    return ToolResult(False, result.output, error)


def _file_glob_search(ws: Workspace, pattern: str) -> ToolResult:
    # Relative to the workspace root; a bare file-name pattern matches anywhere (as ripgrep).
    glob = pattern.lstrip("/")
    if glob.startswith("./"):
        glob = glob[2:]
    if "/" not in glob:
        glob = "**/" + glob
    return _glob_listing([ws.relpath(p) for p in ws.glob(glob, ROOT)])


def _ls(ws: Workspace, path: str) -> ToolResult:
    return _list_dir(ws, path)


def _run_terminal_command(
    ws: Workspace, command: str, working_directory: str | None = None
) -> ToolResult:
    return _run_terminal_cmd(ws, command, False, working_directory)


def _read_currently_open_file(ws: Workspace, ctx: TaskContext) -> ToolResult:
    if ctx.open_file is None:
        return ToolResult(False, "", "no file is open in the editor")
    result = _read_file(ws, path=ctx.open_file)
    if not result.ok:
        return result
    return ToolResult(True, f"(open file: {ctx.open_file})\n{result.output}")


def _view_diff(ws: Workspace, ctx: TaskContext) -> ToolResult:
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


def _fetch_url_content(ws: Workspace, ctx: TaskContext, url: str) -> ToolResult:
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


def _create_rule_block(ws: Workspace, rule: str, name: str | None = None) -> ToolResult:
    path = rule_path(rule, name)
    existed = ws.is_file(path)
    ws.write(path, rule_file_text(rule, name))
    return ToolResult(True, f"{'Updated' if existed else 'Created'} rule {path}")


def _evaluate_model(ws: Workspace, metrics: list[str], threshold: float) -> ToolResult:
    return ToolResult(
        False, "", "evaluate_model: there is no model evaluation harness inside the simulator"
    )


_DISPATCH = {
    "read_file": _read_file,
    "write": _write,
    "search_replace": _search_replace,
    "grep": _grep,
    "glob_file_search": _glob_file_search,
    "codebase_search": _codebase_search,
    "list_dir": _list_dir,
    "run_terminal_cmd": _run_terminal_cmd,
    "create_new_file": _create_new_file,
    "edit_existing_file": _edit_existing_file,
    "single_find_and_replace": _single_find_and_replace,
    "file_glob_search": _file_glob_search,
    "ls": _ls,
    "run_terminal_command": _run_terminal_command,
    "create_rule_block": _create_rule_block,
    "evaluate_model": _evaluate_model,
}
# Tools that read the task context (called with it as their second argument).
_CONTEXT_DISPATCH = {
    "read_currently_open_file": _read_currently_open_file,
    "view_diff": _view_diff,
    "fetch_url_content": _fetch_url_content,
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
            # grep's "-i" is not an identifier; it reaches _grep through **flags.
            result = fn(ws, **args)
        elif tool in _CONTEXT_DISPATCH:
            result = _CONTEXT_DISPATCH[tool](ws, ctx or _NO_CONTEXT, **args)
        else:
            return ToolResult(False, "", f"unknown tool {tool!r}")
    except (WorkspaceError, ShellError) as exc:
        return ToolResult(False, "", str(exc))
    if len(result.output) > MAX_OUTPUT_CHARS:
        result = ToolResult(result.ok, _truncate(result.output), result.error)
    return result
