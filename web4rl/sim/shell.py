"""An in-memory shell implementing the safe read-only subset of POSIX tools.

Supported: ls, pwd, echo, cat, grep, find, wc, head, tail, sort, uniq, joined by ``|``. Each
command reads from the :class:`~web4rl.sim.fs.Workspace` and from the previous stage's output;
nothing runs a real process. Unquoted globs are expanded against the workspace, as bash does
(a glob matching nothing stays literal). Output formats follow GNU coreutils closely enough that
`wc -l main.ts` prints ``42 main.ts``.

Regexes (grep) run on the `regex` module with a deadline, so a catastrophic pattern times out
instead of hanging the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import regex

from web4rl.safety.shell_lex import ShellSyntaxError, Token, split_pipeline, tokenize
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.globs import compile_glob

# A shell stage's output beyond this is cut (bounded memory even for `cat big | cat | ...`).
MAX_STREAM_CHARS = 2_000_000


class ShellError(Exception):
    """A command failed; the message is its stderr line (e.g. 'cat: x: No such file')."""


@dataclass(frozen=True)
class ShellResult:
    """Outcome of a command line.

    exit_code: status of the last stage (0 ok, 1 e.g. grep found nothing, 2 error).
    stdout: text the pipeline printed.
    stderr: error text (empty when no stage failed).
    """

    exit_code: int
    stdout: str
    stderr: str


@dataclass
class _Ctx:
    ws: Workspace
    deadline: float  # time.monotonic() after which regex work stops


# ---------------------------------------------------------------------------- option parsing
def _parse_opts(
    cmd: str, args: list[str], flags: str, valued: str = "", long: dict[str, str] | None = None
) -> tuple[set[str], dict[str, str], list[str]]:
    """getopt-style parsing: returns (flags set, {opt: value}, operands).

    `flags` are single-letter boolean options, `valued` take a value ('-n 5' or '-n5'),
    `long` maps long options to their short letter. '--' ends options.
    """
    on: set[str] = set()
    values: dict[str, str] = {}
    operands: list[str] = []
    long = long or {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands.extend(args[i + 1 :])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a.partition("=")
            short = long.get(name)
            if short is None:
                raise ShellError(f"{cmd}: unrecognized option '{name}'")
            if short in valued:
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise ShellError(f"{cmd}: option '{name}' requires an argument")
                    val = args[i]
                values[short] = val
            else:
                on.add(short)
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in valued:
                    val = a[j + 1 :]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise ShellError(f"{cmd}: option requires an argument -- '{c}'")
                        val = args[i]
                    values[c] = val
                    break
                if c not in flags:
                    raise ShellError(f"{cmd}: invalid option -- '{c}'")
                on.add(c)
                j += 1
        else:
            operands.append(a)
        i += 1
    return on, values, operands


def _int_arg(cmd: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ShellError(f"{cmd}: invalid number: '{text[:40]}'") from None


def _lines(text: str) -> list[str]:
    """Lines without their newline; a trailing newline does not make an extra empty line."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return parts


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _read_inputs(ctx: _Ctx, cmd: str, files: list[str], stdin: str) -> list[tuple[str | None, str]]:
    """(name, text) for each input: the files, or stdin (name None) when there are none."""
    if not files:
        return [(None, stdin)]
    out = []
    for f in files:
        try:
            out.append((f, ctx.ws.read(f)))
        except WorkspaceError as exc:
            reason = (
                "Is a directory" if "is a directory" in str(exc) else "No such file or directory"
            )
            if "outside the workspace" in str(exc):
                reason = "Permission denied (outside the workspace)"
            raise ShellError(f"{cmd}: {f}: {reason}") from None
    return out


# ---------------------------------------------------------------------------- commands
def _pwd(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    return 0, ctx.ws.cwd + "\n"


def _echo(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    newline = True
    while args and args[0] in ("-n", "-e", "-E"):
        newline = newline and args[0] != "-n"
        args = args[1:]
    return 0, " ".join(args) + ("\n" if newline else "")


def _cat(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = _parse_opts("cat", args, "n")
    text = "".join(t for _, t in _read_inputs(ctx, "cat", files, stdin))
    if "n" in on:
        text = _join([f"{i:>6}\t{line}" for i, line in enumerate(_lines(text), 1)])
    return 0, text


def _ls(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, paths = _parse_opts("ls", args, "laA1RFh")
    paths = paths or ["."]
    show_hidden = "a" in on or "A" in on
    ws = ctx.ws
    blocks: list[str] = []
    files_out: list[str] = []
    errors: list[str] = []

    def entry(name: str, full: str, is_dir: bool) -> str:
        if "l" in on:
            size = 4096 if is_dir else ws.size(full)
            mode = "drwxr-xr-x" if is_dir else "-rw-r--r--"
            return f"{mode} 1 user user {size:>6} {name}"
        return name + ("/" if is_dir and "F" in on else "")

    def listing(path: str) -> list[str]:
        rows = []
        for name, is_dir in ws.list(path):
            if name.startswith(".") and not show_hidden:
                continue
            rows.append(entry(name, f"{path.rstrip('/')}/{name}", is_dir))
        return rows

    dirs: list[str] = []
    for p in paths:
        if ws.is_file(p):
            files_out.append(entry(p, p, False))
        elif ws.is_dir(p):
            dirs.append(p)
        else:
            errors.append(f"ls: cannot access '{p}': No such file or directory")
    if "R" in on:
        expanded = []
        for d in dirs:
            base = ws.resolve(d)
            expanded.append(d)
            for sub in ws.dirs():
                full = ws.resolve(sub) if sub != "." else ws.root
                if full.startswith(base + "/"):
                    rel = full[len(base) + 1 :]
                    if show_hidden or not any(part.startswith(".") for part in rel.split("/")):
                        expanded.append(f"{d.rstrip('/')}/{rel}")
        dirs = expanded
    if files_out:
        blocks.append(_join(files_out))
    with_headers = len(dirs) + bool(files_out) > 1 or "R" in on
    for d in dirs:
        body = _join(listing(d))
        blocks.append(f"{d}:\n{body}" if with_headers else body)
    if errors:
        raise ShellError("\n".join(errors))
    return 0, "\n".join(blocks)


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


def _grep(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, values, operands = _parse_opts(
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
        inputs = _read_inputs(ctx, "grep", operands, stdin)
    show_names = ("H" in on or len(inputs) > 1 or recursive) and "h" not in on
    max_count = _int_arg("grep", values["m"]) if "m" in values else None
    out: list[str] = []
    any_match = False
    for name, text in inputs:
        lines = _lines(text)
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
    return (0 if any_match else 1), _join(out)


def _find(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
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
                maxdepth = _int_arg("find", val)
            else:
                mindepth = _int_arg("find", val)
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
    return 0, _join(out)


def _wc(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = _parse_opts(
        "wc", args, "lwcm", long={"--lines": "l", "--words": "w", "--bytes": "c", "--chars": "m"}
    )
    chosen = [c for c in "lwmc" if c in on] or ["l", "w", "c"]
    rows: list[tuple[list[int], str | None]] = []
    for name, text in _read_inputs(ctx, "wc", files, stdin):
        counts = {
            "l": text.count("\n"),
            "w": len(text.split()),
            "m": len(text),
            "c": len(text.encode("utf-8", "surrogatepass")),
        }
        rows.append(([counts[c] for c in chosen], name))
    if len(rows) > 1:
        rows.append(([sum(r[0][k] for r in rows) for k in range(len(chosen))], "total"))
    single = len(rows) == 1 and len(chosen) == 1
    width = 1 if single else max(len(str(v)) for r in rows for v in r[0])
    if not single and files:  # GNU pads file counts to at least the largest size's width
        width = max(width, 1)
    out = []
    for values, name in rows:
        cols = " ".join(f"{v:>{width}}" for v in values)
        out.append(cols + (f" {name}" if name is not None else ""))
    return 0, _join(out)


def _head_tail(cmd: str) -> Callable[[_Ctx, list[str], str], tuple[int, str]]:
    def run(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
        # '-5' is shorthand for '-n 5'.
        args = [f"-n{a[1:]}" if len(a) > 1 and a[0] == "-" and a[1:].isdigit() else a for a in args]
        on, values, files = _parse_opts(cmd, args, "qv", "nc", {"--lines": "n", "--bytes": "c"})
        inputs = _read_inputs(ctx, cmd, files, stdin)
        blocks = []
        for k, (name, text) in enumerate(inputs):
            if "c" in values:
                n = _int_arg(cmd, values["c"])
                body = text[:n] if cmd == "head" else (text[-n:] if n else "")
            else:
                spec = values.get("n", "10")
                from_start = cmd == "tail" and spec.startswith("+")
                n = _int_arg(cmd, spec.lstrip("+"))
                lines = _lines(text)
                if cmd == "head":
                    chosen = lines[:n] if n >= 0 else lines[: len(lines) + n]
                elif from_start:
                    chosen = lines[max(n - 1, 0) :]
                else:
                    chosen = lines[-n:] if n > 0 else []
                body = _join(chosen)
            if len(inputs) > 1 and "q" not in on:
                body = ("\n" if k else "") + f"==> {name} <==\n" + body
            blocks.append(body)
        return 0, "".join(blocks)

    return run


def _sort(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = _parse_opts("sort", args, "rnuf")
    lines = [line for _, t in _read_inputs(ctx, "sort", files, stdin) for line in _lines(t)]

    def numeric(line: str) -> tuple[float, str]:
        m = regex.match(r"\s*(-?\d+(?:\.\d+)?)", line)
        return (float(m.group(1)) if m else 0.0, line)

    if "n" in on:
        key: Callable[[str], object] = numeric
    elif "f" in on:
        key = str.lower
    else:
        key = str
    lines.sort(key=key, reverse="r" in on)
    if "u" in on:
        seen: set[object] = set()
        uniq = []
        for line in lines:
            k = key(line) if "n" not in on else numeric(line)[0]
            if k not in seen:
                seen.add(k)
                uniq.append(line)
        lines = uniq
    return 0, _join(lines)


def _uniq(ctx: _Ctx, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = _parse_opts("uniq", args, "cdui")
    if len(files) > 1:
        raise ShellError("uniq: writing an output file is not supported")
    lines = _lines(_read_inputs(ctx, "uniq", files, stdin)[0][1])
    groups: list[list] = []
    for line in lines:
        k = line.lower() if "i" in on else line
        if groups and groups[-1][0] == k:
            groups[-1][2] += 1
        else:
            groups.append([k, line, 1])
    out = []
    for _, line, count in groups:
        if ("d" in on and count < 2) or ("u" in on and count > 1):
            continue
        out.append(f"{count:>7} {line}" if "c" in on else line)
    return 0, _join(out)


COMMANDS: dict[str, Callable[[_Ctx, list[str], str], tuple[int, str]]] = {
    "ls": _ls,
    "pwd": _pwd,
    "echo": _echo,
    "cat": _cat,
    "grep": _grep,
    "find": _find,
    "wc": _wc,
    "head": _head_tail("head"),
    "tail": _head_tail("tail"),
    "sort": _sort,
    "uniq": _uniq,
}


def _expand(ws: Workspace, tok: Token) -> list[str]:
    """Bash-style pathname expansion of one word (no match: the word stays as written)."""
    if not tok.glob:
        return [tok.text]
    pattern = tok.text
    absolute = pattern.startswith("/")
    try:
        matches = ws.glob(
            pattern.lstrip("/") if not absolute else pattern[len(ws.root) + 1 :],
            "." if not absolute else ws.root,
        )
    except WorkspaceError:
        return [tok.text]
    if not matches:
        return [tok.text]
    return [m if absolute else ws.relpath(m) for m in matches]


def run_command(ws: Workspace, command: str, timeout_s: float = 0.1) -> ShellResult:
    """Run a command line of the safe subset against `ws`; never raises for bad commands.

    Guardrails are not applied here (the caller does that first); a command outside the
    subset simply fails with 'command not found' and an operator other than '|' is an error.
    """
    try:
        tokens = tokenize(command)
    except ShellSyntaxError as exc:
        return ShellResult(2, "", f"syntax error: {exc}")
    for tok in tokens:
        if tok.is_op and tok.text != "|":
            return ShellResult(2, "", f"unsupported shell operator {tok.text!r} (only '|' pipes)")
    ctx = _Ctx(ws, time.monotonic() + timeout_s)
    stdout, code = "", 0
    stages = split_pipeline(tokens)
    if not tokens:
        return ShellResult(0, "", "")
    for stage in stages:
        if not stage:
            return ShellResult(2, "", "syntax error near unexpected token '|'")
        name = stage[0].text
        fn = COMMANDS.get(name)
        if fn is None:
            return ShellResult(
                127, "", f"{name[:60]}: command not found (safe subset: {', '.join(COMMANDS)})"
            )
        args = [word for tok in stage[1:] for word in _expand(ws, tok)]
        try:
            code, stdout = fn(ctx, args, stdout)
        except ShellError as exc:
            return ShellResult(2, "", str(exc))
        if len(stdout) > MAX_STREAM_CHARS:
            stdout = stdout[:MAX_STREAM_CHARS]
    return ShellResult(code, stdout, "")
