"""Parse model output text into normalized actions, never raising.

Accepted forms (after stripping a surrounding ``` / ```json code fence, if any):

- ``{"tool": "read_file", "args": {...}}`` (the native form; ``args`` may be omitted for tools
  with no required arguments);
- OpenAI-style ``{"tool_calls": [{"name": ..., "parameters": {...}}]}``; each call may also use
  ``"arguments"`` (an object or a JSON string) or the nested
  ``{"function": {"name": ..., "arguments": ...}}`` shape;
- a JSON list of any of the above (executed in order).

Unless ``strict=True``, prose around the JSON is tolerated: the first JSON object or list that
decodes is used. Every action is checked against one tool profile of the catalog
(:mod:`web4rl.sim.tools`; ``tools="web4"`` by default, or ``"cursor"``). Both JSON forms are
accepted under either profile: the profile decides which names and arguments are valid.

The result is a :class:`ParseResult`: ``actions`` (normalized ``{"tool", "args"}`` dicts) or an
``error`` whose ``kind`` is one of ``invalid_json``, ``unknown_tool``, ``schema_fail``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from web4rl.sim.tools import ToolProfile, get_profile

PARSE_ERROR_KINDS: tuple[str, ...] = ("invalid_json", "unknown_tool", "schema_fail")
# Action texts longer than this are rejected before decoding (bounded work per step).
MAX_ACTION_CHARS = 2_000_000
# More actions than this in one text is almost surely a degenerate generation.
MAX_ACTIONS_PER_TEXT = 16

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)(?:```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()
_MAX_DECODE_ATTEMPTS = 32


@dataclass(frozen=True)
class ParseError:
    """Why a text is not a valid action.

    kind: "invalid_json" | "unknown_tool" | "schema_fail".
    message: a one-line explanation fit to show the model in the next observation.
    index: position of the offending action in a list (None for the whole text).
    tool: the tool name involved, when one was read (lets rewards credit the right tool).
    """

    kind: str
    message: str
    index: int | None = None
    tool: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """Outcome of :func:`parse_actions`.

    actions: normalized ``{"tool": str, "args": dict}`` actions (empty when error is set).
    error: None on success.
    """

    actions: list[dict[str, Any]] = field(default_factory=list)
    error: ParseError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _fail(kind: str, message: str, index: int | None = None, tool: str | None = None):
    return ParseResult(actions=[], error=ParseError(kind, message, index, tool))


def _decode(text: str, strict: bool) -> tuple[Any, str | None]:
    """Decode the JSON value in `text`; returns (value, error message)."""
    stripped = text.strip()
    candidates = [stripped]
    fence = _FENCE.search(stripped)
    if fence is not None:
        candidates.insert(0, fence.group(2).strip())
    first_error = None
    for candidate in candidates:
        try:
            return json.loads(candidate), None
        except (json.JSONDecodeError, RecursionError) as exc:
            first_error = first_error or exc
    if not strict:
        # Tolerate prose around the JSON: decode from the first '{' or '[' that works.
        # Bounded: a hostile text with a million braces must not cost a million decodes.
        for attempt, match in enumerate(re.finditer(r"[{\[]", stripped)):
            if attempt >= _MAX_DECODE_ATTEMPTS:
                break
            try:
                value, _ = _DECODER.raw_decode(stripped, match.start())
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(value, (dict, list)):
                return value, None
    if isinstance(first_error, json.JSONDecodeError):
        return (
            None,
            f"invalid JSON: {first_error.msg} at line {first_error.lineno} column {first_error.colno}",
        )
    return None, "invalid JSON: nesting too deep"


def _one_call(obj: Any, index: int | None) -> tuple[list[tuple[Any, Any]], ParseError | None]:
    """Turn one decoded object into (name, args) pairs, or a schema_fail error."""
    if not isinstance(obj, dict):
        return [], ParseError(
            "schema_fail", f"an action must be a JSON object, got {type(obj).__name__}", index
        )
    if "tool_calls" in obj:
        calls = obj["tool_calls"]
        if not isinstance(calls, list) or not calls:
            return [], ParseError("schema_fail", "'tool_calls' must be a non-empty list", index)
        pairs: list[tuple[Any, Any]] = []
        for call in calls:
            if not isinstance(call, dict):
                return [], ParseError("schema_fail", "each tool call must be an object", index)
            inner = call.get("function") if isinstance(call.get("function"), dict) else call
            name = inner.get("name")
            args = inner.get("parameters", inner.get("arguments", {}))
            pairs.append((name, args))
        return pairs, None
    if "tool" in obj:
        extra = set(obj) - {"tool", "args"}
        if extra:
            return [], ParseError(
                "schema_fail",
                f'unexpected keys {sorted(extra)} (an action is {{"tool", "args"}})',
                index,
                obj.get("tool") if isinstance(obj.get("tool"), str) else None,
            )
        return [(obj["tool"], obj.get("args", {}))], None
    if "name" in obj and ("parameters" in obj or "arguments" in obj):
        return [(obj["name"], obj.get("parameters", obj.get("arguments")))], None
    return [], ParseError(
        "schema_fail",
        "no 'tool' or 'tool_calls' key: an action is {\"tool\": name, \"args\": {...}}",
        index,
    )


def parse_actions(
    text: Any, *, strict: bool = False, tools: str | ToolProfile | None = None
) -> ParseResult:
    """Parse model output into normalized actions; never raises.

    Args:
        text: the model's output (anything not a str is an invalid_json error).
        strict: if True, the text (or its code fence) must be exactly one JSON value.
        tools: the tool profile the actions are checked against (default web4).
    """
    profile = get_profile(tools)
    if not isinstance(text, str):
        return _fail("invalid_json", f"action must be text, got {type(text).__name__}")
    if len(text) > MAX_ACTION_CHARS:
        return _fail(
            "schema_fail", f"action text is {len(text)} characters; the limit is {MAX_ACTION_CHARS}"
        )
    value, error = _decode(text, strict)
    if error is not None:
        return _fail("invalid_json", error)
    items = value if isinstance(value, list) else [value]
    if not items:
        return _fail("schema_fail", "empty action list")
    pairs: list[tuple[Any, Any]] = []
    for i, item in enumerate(items):
        found, perr = _one_call(item, i if isinstance(value, list) else None)
        if perr is not None:
            return ParseResult(actions=[], error=perr)
        pairs.extend(found)
    if len(pairs) > MAX_ACTIONS_PER_TEXT:
        return _fail(
            "schema_fail", f"{len(pairs)} actions in one step; at most {MAX_ACTIONS_PER_TEXT}"
        )
    actions: list[dict[str, Any]] = []
    for i, (name, args) in enumerate(pairs):
        index = i if len(pairs) > 1 else None
        if not isinstance(name, str):
            return _fail("schema_fail", "tool name must be a string", index)
        if name not in profile.schemas:
            return _fail(
                "unknown_tool",
                f"unknown tool {name[:80]!r}; known tools: {', '.join(profile.schemas)}",
                index,
                None,
            )
        if isinstance(args, str):  # OpenAI sends arguments as a JSON string
            try:
                args = json.loads(args) if args.strip() else {}
            except (json.JSONDecodeError, RecursionError):
                return _fail(
                    "schema_fail", f"{name}: arguments string is not valid JSON", index, name
                )
        if args is None:
            args = {}
        problem = profile.validate(name, args)
        if problem is not None:
            return _fail("schema_fail", problem, index, name)
        actions.append({"tool": name, "args": args})
    return ParseResult(actions=actions)
