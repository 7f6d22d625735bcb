"""Glob patterns over workspace paths: ``*``, ``**``, ``?``, ``[...]`` and ``{a,b}``.

Split from :mod:`web4rl.sim.fs` (which re-exports :func:`compile_glob`): the matcher is the
part of the file system a hostile pattern could make slow, so it has its own module and tests
of its worst cases. Matching is polynomial in the pattern and path lengths, never exponential.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_BRACE_ALTERNATIVES = 64


def _expand_braces(pattern: str) -> list[str]:
    """Expand ``{a,b}`` alternatives (nested allowed), capped at MAX_BRACE_ALTERNATIVES."""
    depth, start = 0, -1
    for i, c in enumerate(pattern):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                body, parts, level, last = pattern[start + 1 : i], [], 0, 0
                for j, ch in enumerate(body):
                    if ch == "{":
                        level += 1
                    elif ch == "}":
                        level -= 1
                    elif ch == "," and level == 0:
                        parts.append(body[last:j])
                        last = j + 1
                parts.append(body[last:])
                if len(parts) == 1:  # '{x}' is literal in bash; keep it as written
                    continue
                out: list[str] = []
                for part in parts:
                    for rest in _expand_braces(pattern[:start] + part + pattern[i + 1 :]):
                        out.append(rest)
                        if len(out) >= MAX_BRACE_ALTERNATIVES:
                            return out
                return out
    return [pattern]


def _segment_tokens(segment: str) -> tuple:
    """Tokens of one path segment's glob: '*', '?', ('lit', c) or ('cls', negate, body)."""
    tokens: list = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            if not tokens or tokens[-1] != "*":  # '**' inside a segment is just '*'
                tokens.append("*")
        elif c == "?":
            tokens.append("?")
        elif c == "[" and segment.find("]", i + 2) != -1:
            j = (
                segment.find("]", i + 2)
                if segment[i + 1 : i + 2] == "]"
                else segment.find("]", i + 1)
            )
            body = segment[i + 1 : j]
            negate = body[:1] in ("!", "^")
            tokens.append(("cls", negate, body[1:] if negate else body))
            i = j
        else:
            tokens.append(("lit", c))
        i += 1
    return tuple(tokens)


def _char_ok(token, ch: str) -> bool:
    if token == "?":
        return True
    if token[0] == "lit":
        return token[1] == ch
    _, negate, body = token
    hit, k = False, 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            hit = hit or body[k] <= ch <= body[k + 2]
            k += 3
        else:
            hit = hit or body[k] == ch
            k += 1
    return hit != negate


def _match_segment(tokens: tuple, name: str) -> bool:
    """Wildcard match of one segment: greedy with single star backtrack, O(len(tokens)*len(name))."""
    ti = ni = 0
    star, mark = -1, 0
    while ni < len(name):
        if ti < len(tokens) and tokens[ti] != "*" and _char_ok(tokens[ti], name[ni]):
            ti += 1
            ni += 1
        elif ti < len(tokens) and tokens[ti] == "*":
            star, mark = ti, ni
            ti += 1
        elif star != -1:
            ti = star + 1
            mark += 1
            ni = mark
        else:
            return False
    while ti < len(tokens) and tokens[ti] == "*":
        ti += 1
    return ti == len(tokens)


def _segment_regex(segment: str) -> re.Pattern[str] | None:
    """A regex for a segment with at most one '*' (cannot backtrack badly), else None."""
    if segment.count("*") > 1 or "[" in segment:
        return None
    body = re.escape(segment).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return re.compile(body + r"\Z", re.DOTALL)


class GlobMatcher:
    """A compiled glob over '/'-separated relative paths; matching is polynomial, never exponential.

    Supports ``*`` (within a folder name), ``**`` as a whole segment (any number of folders),
    ``?``, ``[...]``/``[!...]`` and ``{a,b}`` alternatives. Unlike a regex translation of the
    whole pattern, a hostile pattern such as ``*a*a*a*a*b`` cannot backtrack catastrophically:
    segments with several stars use a greedy wildcard matcher (O(len(pattern) * len(name))),
    simple segments a one-star regex. Results are memoized per path (workspaces repeat paths).
    """

    _CACHE_LIMIT = 4096

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._alternatives = [
            tuple(
                "**" if seg == "**" else (_segment_regex(seg) or _segment_tokens(seg))
                for seg in alt.split("/")
            )
            for alt in _expand_braces(pattern)
        ]
        self._cache: dict[str, bool] = {}

    def match(self, path: str) -> bool:
        hit = self._cache.get(path)
        if hit is None:
            parts = path.split("/")
            hit = any(self._match_parts(alt, parts) for alt in self._alternatives)
            if len(self._cache) >= self._CACHE_LIMIT:
                self._cache.clear()
            self._cache[path] = hit
        return hit

    @staticmethod
    def _match_parts(segs: tuple, parts: list[str]) -> bool:
        # reach[j]: pattern prefix matched exactly the first j path parts (DP over segments).
        reach = [True] + [False] * len(parts)
        for seg in segs:
            nxt = [False] * (len(parts) + 1)
            if seg == "**":
                seen = False
                for j in range(len(parts) + 1):
                    seen = seen or reach[j]
                    nxt[j] = seen
            elif isinstance(seg, re.Pattern):
                for j in range(len(parts)):
                    if reach[j] and seg.match(parts[j]):
                        nxt[j + 1] = True
            else:
                for j in range(len(parts)):
                    if reach[j] and _match_segment(seg, parts[j]):
                        nxt[j + 1] = True
            reach = nxt
            if not any(reach):
                return False
        return reach[len(parts)]


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> GlobMatcher:
    """Cached :class:`GlobMatcher` for `pattern`."""
    return GlobMatcher(pattern)
