"""What every command of the in-memory shell (:mod:`web4rl.sim.shell`) shares.

The error a command raises (its stderr line), the context it runs in, getopt-style option
parsing, numeric arguments, line splitting and reading the input files or stdin.
"""

from __future__ import annotations

from dataclasses import dataclass

from web4rl.sim.fs import Workspace, WorkspaceError


class ShellError(Exception):
    """A command failed; the message is its stderr line (e.g. 'cat: x: No such file')."""


@dataclass
class ShellContext:
    """The workspace a command line runs in and its regex deadline."""

    ws: Workspace
    deadline: float  # time.monotonic() after which regex work stops


# ---------------------------------------------------------------------------- option parsing
def parse_opts(
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


def int_arg(cmd: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ShellError(f"{cmd}: invalid number: '{text[:40]}'") from None


def split_lines(text: str) -> list[str]:
    """Lines without their newline; a trailing newline does not make an extra empty line."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return parts


def join_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def read_inputs(ctx: ShellContext, cmd: str, files: list[str], stdin: str) -> list[tuple[str | None, str]]:
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
