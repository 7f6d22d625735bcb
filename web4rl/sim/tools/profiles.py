"""Tool profiles: which tools a model sees and how their calls are written.

A :class:`ToolProfile` is a set of tool names with closed JSON Schemas, their defaults, the
catalog text prompts show, and the action format that text asks for. Two ship:

- ``web4`` (the default): the Continue-style tools of the Web4 team's real SFT data
  (:mod:`web4rl.sim.tools.web4`), written ``{"tool_calls": [{"name", "parameters"}]}``;
- ``cursor``: the eight Cursor-style tools of the seed's RL documents
  (:mod:`web4rl.sim.tools.cursor`), written ``{"tool": name, "args": {...}}``.

The parser accepts both JSON forms under either profile; the profile decides which tool
names and arguments are valid. The simulator executes the union of both catalogs (one
executor per tool name; ``read_file`` serves both argument spellings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web4rl.sim.tools.cursor import CURSOR_SCHEMAS
from web4rl.sim.tools.schema import check_args
from web4rl.sim.tools.web4 import WEB4_ONLY, WEB4_SCHEMAS


@dataclass(frozen=True)
class ToolProfile:
    """One tool vocabulary.

    name: "web4" or "cursor".
    schemas: tool name -> closed JSON Schema, in the order prompts list them.
    action_format: the JSON form the catalog text asks the model to answer in.
    """

    name: str
    schemas: Mapping[str, dict]
    action_format: str

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(self.schemas)

    def validate(self, tool: str, args: Any) -> str | None:
        """None when ``args`` is valid for ``tool`` in this profile, else a one-line reason."""
        schema = self.schemas.get(tool)
        if schema is None:
            return f"unknown tool {tool!r}; known tools: {', '.join(self.schemas)}"
        return check_args(tool, schema, args)

    def format_action(self, tool: str, args: Mapping[str, Any]) -> str:
        """An action as JSON text in this profile's answer format."""
        if self.action_format == "tool_calls":
            return json.dumps(
                {"tool_calls": [{"name": tool, "parameters": dict(args)}]}, ensure_ascii=False
            )
        return json.dumps({"tool": tool, "args": dict(args)}, ensure_ascii=False)

    def defaults(self, tool: str) -> dict[str, Any]:
        """``tool``'s arguments that have a default -> that default, in schema order.

        Empty for a tool without defaults or one this profile does not have; list defaults
        are copies, so callers may change them.
        """
        return schema_defaults(self.schemas.get(tool))

    def catalog_text(self) -> str:
        """A compact, model-readable listing of the tools for prompts and observations.

        One line per tool: ``name(arg: type = default, ...)  description``; required
        arguments have no default, ``arg?`` is optional without one. The first line gives the
        action format.
        """
        if self.action_format == "tool_calls":
            head = (
                'Tools (answer with JSON: {"tool_calls": [{"name": <tool>, "parameters": {...}}]}):'
            )
        else:
            head = 'Tools (answer with one JSON action: {"tool": <name>, "args": {...}}):'
        lines = [head]
        for name, schema in self.schemas.items():
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
                elif "default" not in prop:  # optional with no default: absent means "none"
                    params.append(f"{arg}?: {typ}")
                else:
                    params.append(f"{arg}: {typ} = {json.dumps(prop.get('default'))}")
            lines.append(f"- {name}({', '.join(params)})  {schema['description']}")
        return "\n".join(lines)


WEB4 = ToolProfile("web4", WEB4_SCHEMAS, "tool_calls")
CURSOR = ToolProfile("cursor", CURSOR_SCHEMAS, "tool_args")
PROFILES: dict[str, ToolProfile] = {"web4": WEB4, "cursor": CURSOR}
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)
DEFAULT_PROFILE = "web4"

#: The vocabulary tasks are written in: the cursor tools plus the web4-only tools
#: (web4rl.sim.tools.translate maps it onto each profile).
CANONICAL = ToolProfile(
    "canonical",
    {**CURSOR_SCHEMAS, **{t: WEB4_SCHEMAS[t] for t in WEB4_ONLY}},
    "tool_args",
)

#: Tools (of any profile) whose execution may change the workspace.
WRITE_TOOLS: frozenset[str] = frozenset(
    {
        "write",
        "search_replace",
        "create_new_file",
        "edit_existing_file",
        "single_find_and_replace",
        "create_rule_block",
    }
)
#: Write tool -> (path argument, new-text argument); create_rule_block derives its path.
WRITE_ARGS: dict[str, tuple[str | None, str]] = {
    "write": ("file_path", "contents"),
    "search_replace": ("file_path", "new_string"),
    "create_new_file": ("path", "content"),
    "edit_existing_file": ("path", "changes"),
    "single_find_and_replace": ("file_path", "replace"),
    "create_rule_block": (None, "rule"),
}
#: Tools that run a shell command line (argument "command").
COMMAND_TOOLS: frozenset[str] = frozenset({"run_terminal_cmd", "run_terminal_command"})
#: Tool -> argument naming a file or folder it reads (for the credential-file guardrail).
READ_PATH_ARGS: dict[str, str] = {
    "read_file": "path",
    "list_dir": "target_directory",
    "ls": "path",
    "grep": "path",
    "glob_file_search": "target_directory",
}


def get_profile(tools: str | ToolProfile | None = None) -> ToolProfile:
    """The profile named ``tools`` (None: the default, ``web4``); a ToolProfile passes through."""
    if isinstance(tools, ToolProfile):
        return tools
    name = DEFAULT_PROFILE if tools is None else tools
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown tool profile {name!r}; choose one of {', '.join(PROFILE_NAMES)}"
        ) from None


def validate_args(tool: str, args: Any, tools: str | ToolProfile | None = None) -> str | None:
    """Check ``args`` against ``tool``'s schema in profile ``tools`` (default web4).

    Returns None when valid, else a one-line message naming the tool and the offending field.
    """
    return get_profile(tools).validate(tool, args)


def schema_for(tool: str, args: Mapping[str, Any] | None = None) -> dict | None:
    """The schema a (valid) action of ``tool`` was checked against, whatever its profile.

    Tool names are unique across profiles except ``read_file``, whose Cursor form has
    ``target_file`` and whose web4 form has ``path``.
    """
    if tool == "read_file" and args is not None and "target_file" in args:
        return CURSOR_SCHEMAS["read_file"]
    return WEB4_SCHEMAS.get(tool) or CURSOR_SCHEMAS.get(tool)


def schema_defaults(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """A tool schema's arguments that have a default -> that default, in schema order (list
    defaults copied, so callers may change them); empty for None."""
    out: dict[str, Any] = {}
    for name, prop in (schema or {}).get("properties", {}).items():
        if "default" in prop:
            default = prop["default"]
            out[name] = list(default) if isinstance(default, list) else default
    return out


def with_defaults(tool: str, args: Mapping[str, Any]) -> dict:
    """Return a copy of ``args`` with every schema default filled in (args must be valid)."""
    out = dict(args)
    for name, default in schema_defaults(schema_for(tool, args)).items():
        out.setdefault(name, default)
    return out


def canonical_action(tool: str, args: Mapping[str, Any]) -> str:
    """A stable string for an action with defaults filled in (equal actions, equal strings)."""
    return tool + json.dumps(with_defaults(tool, args), sort_keys=True, ensure_ascii=False)


def tool_catalog_text(tools: str | ToolProfile | None = None) -> str:
    """The catalog text of profile ``tools`` (default web4) for prompts and observations."""
    return get_profile(tools).catalog_text()
