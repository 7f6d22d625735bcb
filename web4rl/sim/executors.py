"""The executors of the canonical (Cursor-style) tools, and what every executor shares.

:class:`ToolResult` (what a tool returned), :class:`TaskContext` (what the web4-only tools know
of the task), the output bounds, and one function per canonical tool: read_file, write,
search_replace, grep, glob_file_search, codebase_search, list_dir, run_terminal_cmd. The
web4-only tools are :mod:`web4rl.sim.executors_web4`; :mod:`web4rl.sim.execute` dispatches.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from web4rl.sim.fs import Workspace
from web4rl.sim.shell import run_command
from web4rl.sim.shell_search import compile_pattern, matching_lines
from web4rl.sim.tools import GREP_TYPES

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


NO_CONTEXT = TaskContext()


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


def truncate_output(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n... [truncated {len(text) - MAX_OUTPUT_CHARS} characters]"


def split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------- the tools
def read_file(
    ws: Workspace,
    target_file: str | None = None,
    offset: int = 1,
    limit: int = 2_000,
    path: str | None = None,
) -> ToolResult:
    # Cursor spells the argument target_file, web4 path (schemas allow exactly one of them).
    target_file = target_file if target_file is not None else path
    lines = split_lines(ws.read(target_file))
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


def write_file(ws: Workspace, file_path: str, contents: str) -> ToolResult:
    existed = ws.is_file(file_path)
    path = ws.write(file_path, contents)
    verb = "Updated" if existed else "Created"
    n = len(split_lines(contents))
    return ToolResult(True, f"{verb} {ws.relpath(path)} ({n} lines)")


def search_replace(ws: Workspace, file_path: str, old_string: str, new_string: str) -> ToolResult:
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


def grep(
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
            lines = split_lines(text)
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


def glob_file_search(ws: Workspace, glob_pattern: str, target_directory: str) -> ToolResult:
    pattern = glob_pattern.lstrip("/")
    if not pattern.startswith("**/"):
        pattern = "**/" + pattern
    if not ws.is_dir(target_directory):
        return ToolResult(False, "", f"{target_directory}: no such directory")
    return glob_listing([ws.relpath(p) for p in ws.glob(pattern, target_directory)])


def glob_listing(matches: list[str]) -> ToolResult:
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
    lines = split_lines(text) or [""]
    path_terms = Counter(_terms(path))
    chunks = []
    for start in range(0, len(lines), CHUNK_LINES):
        window = lines[start : start + CHUNK_LINES]
        counts = Counter(_terms("\n".join(window)))
        counts.update(path_terms)
        chunks.append((start + 1, start + len(window), counts))
    return tuple(chunks)


def codebase_search(ws: Workspace, query: str, target_directories: list[str]) -> ToolResult:
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
        lines = split_lines(ws._files[f])[a - 1 : b]
        body = "\n".join(f"{a + i:>6}|{line}" for i, line in enumerate(lines))
        blocks.append(f"{ws.relpath(f)}:{a}-{b} (score {-neg:.2f})\n{body}")
    if partial:
        blocks.append(
            f"(very large files: only the first {MAX_INDEX_CHARS_PER_FILE} characters of a file and "
            f"{MAX_INDEX_CHARS_TOTAL} overall were searched; use grep for the rest)"
        )
    return ToolResult(True, "\n\n".join(blocks))


def list_dir(ws: Workspace, target_directory: str) -> ToolResult:
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


def run_terminal_cmd(
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
