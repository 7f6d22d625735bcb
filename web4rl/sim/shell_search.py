"""The shell's search commands, ``grep`` and ``find``, and the regex handling they share.

Regexes run on the `regex` module with a deadline (:func:`matching_lines`), so a catastrophic
pattern times out instead of hanging the step; the ``grep`` tool of the catalog
(:mod:`web4rl.sim.execute`) uses the same :func:`compile_pattern` and :func:`matching_lines`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import regex

from web4rl.sim.fs import WorkspaceError
from web4rl.sim.globs import compile_glob
from web4rl.sim.shell_base import (
    ShellContext,
    ShellError,
    int_arg,
    join_lines,
    parse_opts,
    read_inputs,
    split_lines,
)

_BRE_SWAP = set("|()+?{}")


def _bre_to_python(pattern: str) -> str:
    """GNU basic regex -> Python: '\\|' '\\(' etc. are operators, the bare chars are literal."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if in_class:
            out.append(c)
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "]":  # '[]...]' starts with a literal ']'
                out.append("]")
                i += 1
        elif c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in _BRE_SWAP else c + nxt)
            i += 1
        elif c in _BRE_SWAP:
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def compile_pattern(
    cmd: str,
    pattern: str,
    *,
    ignore_case: bool,
    fixed: bool = False,
    word: bool = False,
    basic: bool = False,
) -> regex.Pattern:
    """Compile a grep pattern with the `regex` module (raises ShellError when invalid)."""
    if fixed:
        body = regex.escape(pattern)
    else:
        body = _bre_to_python(pattern) if basic else pattern
    if word:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    flags = regex.MULTILINE | (regex.IGNORECASE if ignore_case else 0)
    try:
        return regex.compile(body, flags)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise ShellError(f"{cmd}: invalid regular expression: {str(exc)[:120]}") from None


def matching_lines(rx: regex.Pattern, text: str, deadline: float, cmd: str = "grep") -> list[int]:
    """0-based indices of the lines of `text` that contain a match (ripgrep/grep semantics).

    The whole text is searched at once (far faster than line by line) and match starts are
    mapped back to lines by counting newlines incrementally. Raises ShellError if the
    deadline passes mid-search.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ShellError(
            f"{cmd}: regular expression search ran past its time budget (catastrophic backtracking or too much text)"
        )
    hits: list[int] = []
    line, pos, end = 0, 0, len(text)
    try:
        for m in rx.finditer(text, timeout=remaining):
            start = m.start()
            if start == end and text.endswith("\n"):
                break  # the empty 'line' after a final newline is not a line
            line += text.count("\n", pos, start)
            pos = start
            if not hits or hits[-1] != line:
                hits.append(line)
    except TimeoutError:
        raise ShellError(
            f"{cmd}: regular expression search ran past its time budget (catastrophic backtracking or too much text)"
        ) from None
    return hits


def grep_command(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, values, operands = parse_opts(
        "grep",
        args,
        "inclvrRHhEFwsqoL",
        "em",
        {
            "--ignore-case": "i",
            "--line-number": "n",
            "--count": "c",
            "--files-with-matches": "l",
            "--invert-match": "v",
            "--recursive": "r",
            "--extended-regexp": "E",
            "--fixed-strings": "F",
            "--word-regexp": "w",
            "--regexp": "e",
            "--max-count": "m",
        },
    )
    if "e" in values:
        pattern = values["e"]
    elif operands:
        pattern, operands = operands[0], operands[1:]
    else:
        raise ShellError("grep: no pattern given (usage: grep [OPTION]... PATTERN [FILE]...)")
    rx = compile_pattern(
        "grep",
        pattern,
        ignore_case="i" in on,
        fixed="F" in on,
        word="w" in on,
        basic="E" not in on and "F" not in on,
    )
    recursive = "r" in on or "R" in on
    inputs: list[tuple[str | None, str]] = []
    if recursive:
        # As GNU grep: with no operand, -r searches "." and prints names without "./".
        for target in operands or [""]:
            try:
                found = list(ctx.ws.walk_files(target or "."))
            except WorkspaceError:
                raise ShellError(f"grep: {target}: No such file or directory") from None
            if target and ctx.ws.is_file(target):
                inputs.append((target, ctx.ws.read(target)))
                continue
            prefix = target.rstrip("/")
            base = ctx.ws.resolve(target or ".")
            for full in found:
                rel = full[len(base) + 1 :]
                inputs.append((f"{prefix}/{rel}" if target else rel, ctx.ws._files[full]))
    else:
        inputs = read_inputs(ctx, "grep", operands, stdin)
    show_names = ("H" in on or len(inputs) > 1 or recursive) and "h" not in on
    max_count = int_arg("grep", values["m"]) if "m" in values else None
    out: list[str] = []
    any_match = False
    for name, text in inputs:
        lines = split_lines(text)
        hits = matching_lines(rx, text, ctx.deadline)
        if "v" in on:
            hit_set = set(hits)
            hits = [i for i in range(len(lines)) if i not in hit_set]
        if max_count is not None:
            hits = hits[:max_count]
        any_match = any_match or bool(hits)
        if "l" in on:
            if hits:
                out.append(name or "(standard input)")
        elif "L" in on:
            if not hits:
                out.append(name or "(standard input)")
        elif "c" in on:
            out.append(f"{name}:{len(hits)}" if show_names else str(len(hits)))
        elif "q" not in on:
            for i in hits:
                prefix = (f"{name}:" if show_names else "") + (f"{i + 1}:" if "n" in on else "")
                out.append(prefix + lines[i])
    return (0 if any_match else 1), join_lines(out)


def find_command(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    roots: list[str] = []
    i = 0
    while i < len(args) and not args[i].startswith("-"):
        roots.append(args[i])
        i += 1
    roots = roots or ["."]
    tests: list[Callable[[str, bool, int], bool]] = []
    maxdepth, mindepth = None, 0
    while i < len(args):
        opt = args[i]
        if opt in ("-name", "-iname", "-path", "-type", "-maxdepth", "-mindepth"):
            if i + 1 >= len(args):
                raise ShellError(f"find: missing argument to `{opt}'")
            val = args[i + 1]
            i += 2
            if opt in ("-name", "-iname"):
                low = opt == "-iname"
                matcher = compile_glob(val.lower() if low else val)
                tests.append(
                    lambda p, d, depth, m=matcher, low=low: m.match(
                        p.rsplit("/", 1)[-1].lower() if low else p.rsplit("/", 1)[-1]
                    )
                )
            elif opt == "-path":
                # find's -path '*' crosses '/', so match the whole path as one segment.
                matcher = compile_glob(val.replace("/", "\x00"))
                tests.append(lambda p, d, depth, m=matcher: m.match(p.replace("/", "\x00")))
            elif opt == "-type":
                if val not in ("f", "d"):
                    raise ShellError(f"find: unknown argument to -type: {val}")
                want_dir = val == "d"
                tests.append(lambda p, d, depth, want_dir=want_dir: d == want_dir)
            elif opt == "-maxdepth":
                maxdepth = int_arg("find", val)
            else:
                mindepth = int_arg("find", val)
        else:
            raise ShellError(f"find: unknown predicate `{opt[:40]}'")
    ws = ctx.ws
    out: list[str] = []
    for root in roots:
        if not ws.exists(root):
            raise ShellError(f"find: '{root}': No such file or directory")
        base = ws.resolve(root)
        entries: list[tuple[str, bool]] = [(root, ws.is_dir(root))]
        if ws.is_dir(root):
            prefix = base + "/"
            subs = [(d, True) for d in ws._dirs if d.startswith(prefix)]
            subs += [(f, False) for f in ws._files if f.startswith(prefix)]
            for full, is_dir in sorted(subs):
                entries.append((f"{root.rstrip('/')}/{full[len(prefix) :]}", is_dir))
        for shown, is_dir in entries:
            depth = 0 if shown == root else shown[len(root.rstrip("/")) + 1 :].count("/") + 1
            if (maxdepth is not None and depth > maxdepth) or depth < mindepth:
                continue
            if all(t(shown, is_dir, depth) for t in tests):
                out.append(shown)
    return 0, join_lines(out)
