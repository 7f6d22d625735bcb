"""The tool catalog: THE one home for tool names, JSON Schemas and defaults.

The judge (web4rl/judges), the annotation app and every prompt read the catalog from here, so a
tool's argument names, types and defaults are defined exactly once. The eight tools mirror the
agent tools of the editor the SFT data was collected in (Cursor-style names and arguments).

Execution of a validated action against an in-memory workspace lives in
:mod:`web4rl.sim.execute`; parsing model text into actions lives in :mod:`web4rl.sim.actions`.
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

# The eight tools, in the order the issue lists them (prompts show them in this order).
TOOL_NAMES: tuple[str, ...] = (
    "read_file",
    "write",
    "search_replace",
    "grep",
    "glob_file_search",
    "codebase_search",
    "list_dir",
    "run_terminal_cmd",
)

# Tools whose execution changes the workspace (used for redundancy and style rewards).
WRITE_TOOLS: frozenset[str] = frozenset({"write", "search_replace"})

# File types accepted by grep's `type` argument, ripgrep-style (a type covers several suffixes).
GREP_TYPES: dict[str, tuple[str, ...]] = {
    "ts": (".ts", ".tsx", ".mts", ".cts"),
    "tsx": (".tsx",),
    "js": (".js", ".jsx", ".mjs", ".cjs"),
    "jsx": (".jsx",),
    "json": (".json",),
    "md": (".md", ".markdown"),
    "css": (".css", ".scss", ".sass", ".less"),
    "html": (".html", ".htm"),
    "py": (".py",),
    "yaml": (".yaml", ".yml"),
}


def _obj(description: str, properties: dict[str, dict], required: list[str]) -> dict:
    """A tool schema: a closed JSON object (unknown arguments are a schema failure)."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _path(description: str, default: str | None = None) -> dict:
    prop: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_PATH_CHARS,
        "description": description,
    }
    if default is not None:
        prop["default"] = default
    return prop


TOOL_SCHEMAS: dict[str, dict] = {
    "read_file": _obj(
        "Read a text file; output is line-numbered ('  12|text'). Use offset/limit for long files.",
        {
            "target_file": _path("Path of the file, relative to the workspace root or absolute."),
            "offset": {
                "type": "integer",
                "minimum": 1,
                "default": 1,
                "description": "1-based line number to start reading from.",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_READ_LINES,
                "default": MAX_READ_LINES,
                "description": "Maximum number of lines to return.",
            },
        },
        ["target_file"],
    ),
    "write": _obj(
        "Create or overwrite a file with the given contents (parent folders are created).",
        {
            "file_path": _path("Path of the file to write."),
            "contents": {
                "type": "string",
                "maxLength": MAX_CONTENTS_CHARS,
                "description": "The complete new contents of the file.",
            },
        },
        ["file_path", "contents"],
    ),
    "search_replace": _obj(
        "Replace exactly one occurrence of old_string in a file; fails if it is absent or "
        "occurs more than once (add surrounding context to make it unique).",
        {
            "file_path": _path("Path of the file to edit."),
            "old_string": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_CONTENTS_CHARS,
                "description": "Exact text to replace; must occur exactly once.",
            },
            "new_string": {
                "type": "string",
                "maxLength": MAX_CONTENTS_CHARS,
                "description": "Replacement text (must differ from old_string).",
            },
        },
        ["file_path", "old_string", "new_string"],
    ),
    "grep": _obj(
        "Search file contents with a regular expression (ripgrep-like).",
        {
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_CHARS,
                "description": "Regular expression to search for.",
            },
            "path": _path("File or folder to search in.", default="."),
            "type": {
                "type": "string",
                "enum": sorted(GREP_TYPES),
                "description": "Only search files of this type (e.g. 'ts' covers .ts and .tsx).",
            },
            "output_mode": {
                "type": "string",
                "enum": ["content", "files_with_matches", "count"],
                "default": "content",
                "description": "content: 'path:line:text' lines; files_with_matches: paths; "
                "count: 'path:n' per file.",
            },
            "-i": {
                "type": "boolean",
                "default": False,
                "description": "Case-insensitive search.",
            },
        },
        ["pattern"],
    ),
    "glob_file_search": _obj(
        "Find files by name with a glob pattern; patterns not starting with '**/' are searched "
        "recursively ('*.tsx' means '**/*.tsx').",
        {
            "glob_pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_CHARS,
                "description": "Glob such as '*.tsx' or 'src/**/use*.ts'.",
            },
            "target_directory": _path("Folder to search in.", default="."),
        },
        ["glob_pattern"],
    ),
    "codebase_search": _obj(
        "Semantic search over the code: returns the snippets most relevant to a natural-"
        "language query.",
        {
            "query": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_QUERY_CHARS,
                "description": "What you are looking for, in words.",
            },
            "target_directories": {
                "type": "array",
                "items": _path("Folder to restrict the search to."),
                "maxItems": 16,
                "default": [],
                "description": "Folders to search (empty: the whole workspace).",
            },
        },
        ["query"],
    ),
    "list_dir": _obj(
        "List the entries of a folder (folders end with '/', files show their size).",
        {"target_directory": _path("Folder to list.")},
        ["target_directory"],
    ),
    "run_terminal_cmd": _obj(
        "Run a shell command. Only a safe read-only subset exists: ls, pwd, echo, cat, grep, "
        "find, wc, head, tail, sort, uniq, joined with '|'. Anything else ends the episode.",
        {
            "command": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_COMMAND_CHARS,
                "description": "The command line, e.g. 'grep -rn useState src | wc -l'.",
            },
            "is_background": {
                "type": "boolean",
                "default": False,
                "description": "Run in the background (output is still captured).",
            },
        },
        ["command"],
    ),
}

assert tuple(TOOL_SCHEMAS) == TOOL_NAMES  # one order everywhere

_JSON_TYPES = {"string": (str,), "integer": (int,), "boolean": (bool,), "array": (list,)}


def _type_name(value: Any) -> str:
    return {
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _check_value(prop: dict, value: Any, where: str) -> str | None:
    """First violation of one property schema (the subset of JSON Schema the catalog uses)."""
    typ = prop["type"]
    # bool is an int subclass in Python but not a JSON integer; 2.0 is rejected on purpose
    # (stricter than JSON Schema) so executors always get real ints.
    if not isinstance(value, _JSON_TYPES[typ]) or (typ == "integer" and isinstance(value, bool)):
        return (
            f"{where}: must be {'an' if typ[0] in 'aeiou' else 'a'} {typ}, got {_type_name(value)}"
        )
    if "enum" in prop and value not in prop["enum"]:
        return f"{where}: {json.dumps(value)[:80]} is not one of {prop['enum']}"
    if typ == "integer":
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
        if "maxItems" in prop and len(value) > prop["maxItems"]:
            return f"{where}: too many items ({len(value)}; at most {prop['maxItems']})"
        for i, item in enumerate(value):
            problem = _check_value(prop["items"], item, f"{where}.{i}")
            if problem is not None:
                return problem
    return None


def validate_args(tool: str, args: Any) -> str | None:
    """Check `args` against the tool's JSON Schema.

    Returns None when valid, else a one-line message naming the tool and the offending field.
    A hand-written checker of the schema subset the catalog uses (type, enum, minimum,
    maximum, minLength, maxLength, items, maxItems, required, additionalProperties: false):
    the generic jsonschema validator cost ~100 us per step, this one a few. The test suite
    checks that both agree.
    """
    schema = TOOL_SCHEMAS.get(tool)
    if schema is None:
        return f"unknown tool {tool!r}; known tools: {', '.join(TOOL_NAMES)}"
    if not isinstance(args, dict):
        return f"{tool}: args must be a JSON object, got {_type_name(args)}"
    props = schema["properties"]
    for key in args:
        if key not in props:
            return (
                f"{tool}: args: unexpected argument {str(key)[:60]!r} (allowed: {', '.join(props)})"
            )
    for key in schema["required"]:
        if key not in args:
            return f"{tool}: args: {key!r} is a required property"
    for key, value in args.items():
        problem = _check_value(props[key], value, f"{tool}: {key}")
        if problem is not None:
            return problem
    return None


def with_defaults(tool: str, args: dict) -> dict:
    """Return a copy of `args` with every schema default filled in (args must be valid)."""
    out = dict(args)
    for name, prop in TOOL_SCHEMAS[tool]["properties"].items():
        if name not in out and "default" in prop:
            default = prop["default"]
            out[name] = list(default) if isinstance(default, list) else default
    return out


def canonical_action(tool: str, args: dict) -> str:
    """A stable string for an action with defaults filled in (equal actions, equal strings)."""
    return tool + json.dumps(with_defaults(tool, args), sort_keys=True, ensure_ascii=False)


def tool_catalog_text() -> str:
    """A compact, model-readable listing of the tools for prompts and observations.

    One line per tool: ``name(arg: type = default, ...)  description``; required arguments
    have no default. Ends with the action format the parser accepts.
    """
    lines = ['Tools (answer with one JSON action: {"tool": <name>, "args": {...}}):']
    for name in TOOL_NAMES:
        schema = TOOL_SCHEMAS[name]
        required = set(schema["required"])
        params = []
        for arg, prop in schema["properties"].items():
            typ = prop["type"]
            if "enum" in prop:
                typ = "|".join(prop["enum"])
            elif typ == "array":
                typ = f"list[{prop['items']['type']}]"
            if arg in required:
                params.append(f"{arg}: {typ}")
            elif "default" not in prop:  # optional with no default: absent means "no filter"
                params.append(f"{arg}?: {typ}")
            else:
                params.append(f"{arg}: {typ} = {json.dumps(prop.get('default'))}")
        lines.append(f"- {name}({', '.join(params)})  {schema['description']}")
    return "\n".join(lines)
