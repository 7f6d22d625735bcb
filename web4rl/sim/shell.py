"""An in-memory shell implementing the safe read-only subset of POSIX tools.

Supported: ls, pwd, echo, cat, grep, find, wc, head, tail, sort, uniq, joined by ``|``. Each
command reads from the :class:`~web4rl.sim.fs.Workspace` and from the previous stage's output;
nothing runs a real process. Unquoted globs are expanded against the workspace, as bash does
(a glob matching nothing stays literal). Output formats follow GNU coreutils closely enough that
`wc -l main.ts` prints ``42 main.ts``.

Regexes (grep) run on the `regex` module with a deadline, so a catastrophic pattern times out
instead of hanging the step.

Layout: this module runs a command line (:func:`run_command`: expansion, pipes, the command
table) and holds the listing and text commands; ``grep`` / ``find`` and their regex handling
are :mod:`web4rl.sim.shell_search`, what every command shares (errors, options, inputs)
:mod:`web4rl.sim.shell_base`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import regex

from web4rl.safety.shell_lex import ShellSyntaxError, Token, split_pipeline, tokenize
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.shell_base import (  # ShellError: re-exported, callers import it from here
    ShellContext,
    ShellError,
    int_arg,
    join_lines,
    parse_opts,
    read_inputs,
    split_lines,
)
from web4rl.sim.shell_search import (  # noqa: F401 - compile_pattern, matching_lines re-exported
    compile_pattern,
    find_command,
    grep_command,
    matching_lines,
)

# A shell stage's output beyond this is cut (bounded memory even for `cat big | cat | ...`).
MAX_STREAM_CHARS = 2_000_000


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



# ---------------------------------------------------------------------------- commands
def _pwd(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    return 0, ctx.ws.cwd + "\n"


def _echo(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    newline = True
    while args and args[0] in ("-n", "-e", "-E"):
        newline = newline and args[0] != "-n"
        args = args[1:]
    return 0, " ".join(args) + ("\n" if newline else "")


def _cat(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = parse_opts("cat", args, "n")
    text = "".join(t for _, t in read_inputs(ctx, "cat", files, stdin))
    if "n" in on:
        text = join_lines([f"{i:>6}\t{line}" for i, line in enumerate(split_lines(text), 1)])
    return 0, text


def _ls(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, paths = parse_opts("ls", args, "laA1RFh")
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
        blocks.append(join_lines(files_out))
    with_headers = len(dirs) + bool(files_out) > 1 or "R" in on
    for d in dirs:
        body = join_lines(listing(d))
        blocks.append(f"{d}:\n{body}" if with_headers else body)
    if errors:
        raise ShellError("\n".join(errors))
    return 0, "\n".join(blocks)


def _wc(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = parse_opts(
        "wc", args, "lwcm", long={"--lines": "l", "--words": "w", "--bytes": "c", "--chars": "m"}
    )
    chosen = [c for c in "lwmc" if c in on] or ["l", "w", "c"]
    rows: list[tuple[list[int], str | None]] = []
    for name, text in read_inputs(ctx, "wc", files, stdin):
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
    return 0, join_lines(out)


def _head_tail(cmd: str) -> Callable[[ShellContext, list[str], str], tuple[int, str]]:
    def run(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
        # '-5' is shorthand for '-n 5'.
        args = [f"-n{a[1:]}" if len(a) > 1 and a[0] == "-" and a[1:].isdigit() else a for a in args]
        on, values, files = parse_opts(cmd, args, "qv", "nc", {"--lines": "n", "--bytes": "c"})
        inputs = read_inputs(ctx, cmd, files, stdin)
        blocks = []
        for k, (name, text) in enumerate(inputs):
            if "c" in values:
                n = int_arg(cmd, values["c"])
                body = text[:n] if cmd == "head" else (text[-n:] if n else "")
            else:
                spec = values.get("n", "10")
                from_start = cmd == "tail" and spec.startswith("+")
                n = int_arg(cmd, spec.lstrip("+"))
                lines = split_lines(text)
                if cmd == "head":
                    chosen = lines[:n] if n >= 0 else lines[: len(lines) + n]
                elif from_start:
                    chosen = lines[max(n - 1, 0) :]
                else:
                    chosen = lines[-n:] if n > 0 else []
                body = join_lines(chosen)
            if len(inputs) > 1 and "q" not in on:
                body = ("\n" if k else "") + f"==> {name} <==\n" + body
            blocks.append(body)
        return 0, "".join(blocks)

    return run


def _sort(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = parse_opts("sort", args, "rnuf")
    lines = [line for _, t in read_inputs(ctx, "sort", files, stdin) for line in split_lines(t)]

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
    return 0, join_lines(lines)


def _uniq(ctx: ShellContext, args: list[str], stdin: str) -> tuple[int, str]:
    on, _, files = parse_opts("uniq", args, "cdui")
    if len(files) > 1:
        raise ShellError("uniq: writing an output file is not supported")
    lines = split_lines(read_inputs(ctx, "uniq", files, stdin)[0][1])
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
    return 0, join_lines(out)


COMMANDS: dict[str, Callable[[ShellContext, list[str], str], tuple[int, str]]] = {
    "ls": _ls,
    "pwd": _pwd,
    "echo": _echo,
    "cat": _cat,
    "grep": grep_command,
    "find": find_command,
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
    ctx = ShellContext(ws, time.monotonic() + timeout_s)
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
