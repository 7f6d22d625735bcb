"""The JSON-Schema subset the tool catalog uses, and its fast hand-written checker.

Shared by every tool profile (web4rl.sim.tools.profiles): schema builders (closed objects,
bounded strings) and :func:`check_args`, which returns the first violation as one line.
"""

from __future__ import annotations

import json
from typing import Any

# Upper bounds on argument sizes. They are part of the schema, so an enormous argument is a
# schema failure (cheap to detect) instead of a slow step.
MAX_PATH_CHARS = 1_024
MAX_PATTERN_CHARS = 1_000
MAX_CONTENTS_CHARS = 1_000_000
MAX_COMMAND_CHARS = 4_000
MAX_QUERY_CHARS = 2_000
MAX_READ_LINES = 2_000
MAX_URL_CHARS = 2_048


def obj(description: str, properties: dict[str, dict], required: list[str]) -> dict:
    """A tool schema: a closed JSON object (unknown arguments are a schema failure)."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def path_prop(description: str, default: str | None = None) -> dict:
    """A non-empty, bounded path string."""
    prop: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_PATH_CHARS,
        "description": description,
    }
    if default is not None:
        prop["default"] = default
    return prop


def text_prop(description: str, max_length: int = MAX_CONTENTS_CHARS, min_length: int = 0) -> dict:
    """A bounded string (file contents, patterns, commands)."""
    prop: dict[str, Any] = {"type": "string", "maxLength": max_length, "description": description}
    if min_length:
        prop["minLength"] = min_length
    return prop


_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def type_name(value: Any) -> str:
    """The JSON type name of a Python value (for messages)."""
    return {
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def check_value(prop: dict, value: Any, where: str) -> str | None:
    """First violation of one property schema (the subset of JSON Schema the catalog uses)."""
    typ = prop["type"]
    # bool is an int subclass in Python but not a JSON integer/number; 2.0 is rejected as an
    # integer on purpose (stricter than JSON Schema) so executors always get real ints.
    if not isinstance(value, _JSON_TYPES[typ]) or (
        typ in ("integer", "number") and isinstance(value, bool)
    ):
        return (
            f"{where}: must be {'an' if typ[0] in 'aeiou' else 'a'} {typ}, got {type_name(value)}"
        )
    if "enum" in prop and value not in prop["enum"]:
        return f"{where}: {json.dumps(value)[:80]} is not one of {prop['enum']}"
    if typ in ("integer", "number"):
        if typ == "number" and value != value:  # NaN
            return f"{where}: must be a finite number"
        if "minimum" in prop and value < prop["minimum"]:
            return f"{where}: {value} is less than the minimum of {prop['minimum']}"
        if "maximum" in prop and value > prop["maximum"]:
            return f"{where}: {value} is greater than the maximum of {prop['maximum']}"
    elif typ == "string":
        if len(value) < prop.get("minLength", 0):
            return (
                f"{where}: must not be empty" if prop["minLength"] == 1 else f"{where}: too short"
            )
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            return f"{where}: too long ({len(value)} characters; at most {prop['maxLength']})"
    elif typ == "array":
        if len(value) < prop.get("minItems", 0):
            return f"{where}: needs at least {prop['minItems']} item(s)"
        if "maxItems" in prop and len(value) > prop["maxItems"]:
            return f"{where}: too many items ({len(value)}; at most {prop['maxItems']})"
        for i, item in enumerate(value):
            problem = check_value(prop["items"], item, f"{where}.{i}")
            if problem is not None:
                return problem
    return None


def check_args(tool: str, schema: dict, args: Any) -> str | None:
    """First violation of ``args`` against a closed tool ``schema``, or None when valid.

    A hand-written checker of the subset the catalog uses (type, enum, minimum, maximum,
    minLength, maxLength, items, minItems, maxItems, required, additionalProperties: false):
    the generic jsonschema validator cost ~100 us per step, this one a few. The test suite
    checks that both agree.
    """
    if not isinstance(args, dict):
        return f"{tool}: args must be a JSON object, got {type_name(args)}"
    props = schema["properties"]
    for key in args:
        if key not in props:
            allowed = ", ".join(props) if props else "none: this tool takes no arguments"
            return f"{tool}: args: unexpected argument {str(key)[:60]!r} (allowed: {allowed})"
    for key in schema["required"]:
        if key not in args:
            return f"{tool}: args: {key!r} is a required property"
    for key, value in args.items():
        problem = check_value(props[key], value, f"{tool}: {key}")
        if problem is not None:
            return problem
    return None
