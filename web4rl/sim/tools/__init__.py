"""The tool catalog: THE one home for tool names, JSON Schemas, defaults and profiles.

The judge (web4rl/judges), the annotation app, the rollout engine and every prompt read the
catalog from here, so a tool's argument names, types and defaults are defined exactly once.

Two profiles (:mod:`web4rl.sim.tools.profiles`): ``web4`` (default; the Continue-style tools
of the Web4 team's real SFT data, :mod:`~web4rl.sim.tools.web4`) and ``cursor`` (the eight
Cursor-style tools of the seed, :mod:`~web4rl.sim.tools.cursor`). Tasks are written in one
canonical vocabulary and translated per profile (:mod:`~web4rl.sim.tools.translate`).

Usage::

    from web4rl.sim.tools import get_profile, tool_catalog_text, validate_args
    prompt = tool_catalog_text("web4")
    validate_args("read_file", {"path": "src/a.ts"}, "web4")   # None: valid

Execution of a validated action against an in-memory workspace lives in
:mod:`web4rl.sim.execute`; parsing model text into actions lives in :mod:`web4rl.sim.actions`.
"""

from web4rl.sim.tools.cursor import CURSOR_SCHEMAS, GREP_TYPES
from web4rl.sim.tools.profiles import (
    CANONICAL,
    COMMAND_TOOLS,
    CURSOR,
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    PROFILES,
    READ_PATH_ARGS,
    WEB4,
    WRITE_ARGS,
    WRITE_TOOLS,
    ToolProfile,
    canonical_action,
    get_profile,
    schema_for,
    tool_catalog_text,
    validate_args,
    with_defaults,
)
from web4rl.sim.tools.schema import (
    MAX_COMMAND_CHARS,
    MAX_CONTENTS_CHARS,
    MAX_PATH_CHARS,
    MAX_PATTERN_CHARS,
    MAX_QUERY_CHARS,
    MAX_READ_LINES,
    MAX_URL_CHARS,
)
from web4rl.sim.tools.web4 import RULES_DIR, WEB4_ONLY, WEB4_SCHEMAS

#: Tool names and schemas of the default profile (web4), in prompt order.
TOOL_NAMES: tuple[str, ...] = WEB4.tool_names
TOOL_SCHEMAS: dict[str, dict] = dict(WEB4_SCHEMAS)
#: The cursor profile's names (the seed's eight tools).
CURSOR_TOOL_NAMES: tuple[str, ...] = CURSOR.tool_names

__all__ = [
    "CANONICAL",
    "COMMAND_TOOLS",
    "CURSOR",
    "CURSOR_SCHEMAS",
    "CURSOR_TOOL_NAMES",
    "DEFAULT_PROFILE",
    "GREP_TYPES",
    "MAX_COMMAND_CHARS",
    "MAX_CONTENTS_CHARS",
    "MAX_PATH_CHARS",
    "MAX_PATTERN_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_READ_LINES",
    "MAX_URL_CHARS",
    "PROFILES",
    "PROFILE_NAMES",
    "READ_PATH_ARGS",
    "RULES_DIR",
    "TOOL_NAMES",
    "TOOL_SCHEMAS",
    "WEB4",
    "WEB4_ONLY",
    "WEB4_SCHEMAS",
    "WRITE_ARGS",
    "WRITE_TOOLS",
    "ToolProfile",
    "canonical_action",
    "get_profile",
    "schema_for",
    "tool_catalog_text",
    "validate_args",
    "with_defaults",
]
