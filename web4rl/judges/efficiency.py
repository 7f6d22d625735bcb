"""Efficiency checks on parsed actions: extra steps, restated defaults, off-policy deviation.

All functions are pure over normalized ``{"tool", "args"}`` actions; schemas come from the one
catalog (web4rl.sim.tools).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from web4rl.sim.tools import schema_for

# Expected-argument strings longer than this are file contents, not identifiers; two actions
# "match" on identifiers (paths, patterns, commands), not on the exact text written.
_MAX_IDENTIFYING_CHARS = 200


def extra_steps(n_actions: int, gold_steps: int | None) -> int:
    """Steps beyond the gold plan (0 when there is no gold plan)."""
    if gold_steps is None:
        return 0
    return max(0, n_actions - gold_steps)


def restated_defaults(actions: Sequence[Mapping[str, Any]]) -> list[str]:
    """``tool.arg`` for every argument whose value equals the schema default (pure noise)."""
    out: list[str] = []
    for act in actions:
        tool = act.get("tool")
        args = act.get("args")
        if not isinstance(args, Mapping) or not isinstance(tool, str):
            continue
        props = (schema_for(tool, args) or {}).get("properties", {})
        for name, value in args.items():
            prop = props.get(name)
            if prop is not None and "default" in prop and value == prop["default"]:
                # bool/int equality: True == 1 in Python; require the same JSON type too.
                if type(value) is type(prop["default"]):
                    out.append(f"{tool}.{name}")
    return out


def actions_match(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """Same tool, and every short (identifying) expected argument has the same value."""
    if actual.get("tool") != expected.get("tool"):
        return False
    a_args = actual.get("args") or {}
    for k, v in (expected.get("args") or {}).items():
        if isinstance(v, str) and len(v) > _MAX_IDENTIFYING_CHARS:
            continue
        if isinstance(v, str) and isinstance(a_args.get(k), str):
            # Paths may be written "./src/a.ts" or "src/a.ts".
            if a_args[k].removeprefix("./") != v.removeprefix("./"):
                return False
        elif a_args.get(k) != v:
            return False
    return True


def lcs_matches(actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> int:
    """Length of the longest common subsequence under :func:`actions_match`."""
    n, m = len(actual), len(expected)
    prev = [0] * (m + 1)
    for i in range(1, n + 1):
        cur = [0] * (m + 1)
        for j in range(1, m + 1):
            if actions_match(actual[i - 1], expected[j - 1]):
                cur[j] = prev[j - 1] + 1
            else:
                cur[j] = max(prev[j], cur[j - 1])
        prev = cur
    return prev[m]


def off_policy(
    actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]] | None
) -> float | None:
    """Deviation from the expected tool sequence in [0, 1]: 1 - LCS / len(expected).

    0 means every expected action appears, in order; extra actions are not counted here (they
    are verbosity). None when no expected sequence is given.
    """
    if not expected:
        return None
    return 1.0 - lcs_matches(actual, expected) / len(expected)


_STOP = frozenset(
    "the a an and or of to in on for with from into this that file files folder please me my "
    "our then also all any".split()
)
_WORD = re.compile(r"[a-z0-9]{3,}")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def unrelated_steps(prompt: str, actions: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices of actions sharing no word with the request while another action does.

    Without a gold plan this is how a preamble step (``ls -la``, reading package.json before
    the one thing that was asked) is recognised as an extra step. Words are 3+ characters
    of paths, patterns and commands, minus a few filler words.
    """
    if len(actions) < 2:
        return []
    want = _words(prompt)
    related = [bool(_words(json.dumps(a.get("args"), ensure_ascii=False)) & want) for a in actions]
    if not any(related):
        return []
    return [i for i, r in enumerate(related) if not r]


def prose_words(completion: str) -> int:
    """Words outside fenced code blocks (chatter around a code answer)."""
    outside = re.sub(r"```.*?(```|\Z)", " ", completion, flags=re.S)
    return len(re.findall(r"[A-Za-z']+", outside))
