"""A tiny POSIX-ish shell lexer shared by the guardrails and the in-memory shell.

Only what the safe subset needs: words with single/double quotes and backslash escapes, and
operator tokens (``|`` ``||`` ``&`` ``&&`` ``;`` ``<`` ``>`` ``>>`` ``(`` ``)``). Writing our
own (instead of shlex) lets us tell a quoted ``"|"`` from a pipe and a quoted ``'*.ts'`` from a
glob to expand.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("&&", "||", ">>", "|", "&", ";", "<", ">", "(", ")")


class ShellSyntaxError(ValueError):
    """Unbalanced quotes or a dangling escape."""


@dataclass(frozen=True)
class Token:
    """One lexed token.

    text: the word with quotes removed, or the operator itself.
    is_op: True for an operator token (never true for quoted text).
    glob: True when the word has an unquoted glob character (*, ?, [) to expand.
    """

    text: str
    is_op: bool = False
    glob: bool = False


def tokenize(command: str) -> list[Token]:
    """Split a command line into tokens; raises ShellSyntaxError on unbalanced quotes."""
    tokens: list[Token] = []
    buf: list[str] = []
    in_word = False
    glob = False
    i, n = 0, len(command)

    def flush() -> None:
        nonlocal in_word, glob
        if in_word:
            tokens.append(Token("".join(buf), False, glob))
        buf.clear()
        in_word = False
        glob = False

    while i < n:
        c = command[i]
        if c in " \t\n\r":
            flush()
            i += 1
        elif c == "'":
            j = command.find("'", i + 1)
            if j == -1:
                raise ShellSyntaxError("unterminated single quote")
            buf.append(command[i + 1 : j])
            in_word = True
            i = j + 1
        elif c == '"':
            i += 1
            while i < n and command[i] != '"':
                if command[i] == "\\" and i + 1 < n and command[i + 1] in '"\\$`':
                    i += 1
                buf.append(command[i])
                i += 1
            if i >= n:
                raise ShellSyntaxError("unterminated double quote")
            in_word = True
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise ShellSyntaxError("dangling backslash")
            buf.append(command[i + 1])
            in_word = True
            i += 2
        elif c in "|&;<>()":
            flush()
            op = next(o for o in OPERATORS if command.startswith(o, i))
            tokens.append(Token(op, True))
            i += len(op)
        else:
            if c in "*?[":
                glob = True
            buf.append(c)
            in_word = True
            i += 1
    flush()
    return tokens


def split_pipeline(tokens: list[Token]) -> list[list[Token]]:
    """Split tokens on '|' into pipeline stages (other operators are left in place)."""
    stages: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.is_op and tok.text == "|":
            stages.append([])
        else:
            stages[-1].append(tok)
    return stages
