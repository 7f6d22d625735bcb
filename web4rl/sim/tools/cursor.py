"""The `cursor` tool profile: the eight Cursor-style tools the seed's RL documents use.

Also the *canonical* vocabulary tasks are written in (web4rl.sim.tools.translate turns a
canonical action into any profile's form), so these schemas are unchanged from the seed.
"""

from __future__ import annotations

from web4rl.filetypes import grep_types
from web4rl.sim.tools.schema import (
    MAX_COMMAND_CHARS,
    MAX_CONTENTS_CHARS,
    MAX_PATTERN_CHARS,
    MAX_QUERY_CHARS,
    MAX_READ_LINES,
    obj,
    path_prop,
)

# File types accepted by grep's `type` argument, ripgrep-style (a type covers several suffixes).
GREP_TYPES: dict[str, tuple[str, ...]] = grep_types()  # from the one extension table


CURSOR_SCHEMAS: dict[str, dict] = {
    "read_file": obj(
        "Read a text file; output is line-numbered ('  12|text'). Use offset/limit for long files.",
        {
            "target_file": path_prop(
                "Path of the file, relative to the workspace root or absolute."
            ),
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
    "write": obj(
        "Create or overwrite a file with the given contents (parent folders are created).",
        {
            "file_path": path_prop("Path of the file to write."),
            "contents": {
                "type": "string",
                "maxLength": MAX_CONTENTS_CHARS,
                "description": "The complete new contents of the file.",
            },
        },
        ["file_path", "contents"],
    ),
    "search_replace": obj(
        "Replace exactly one occurrence of old_string in a file; fails if it is absent or "
        "occurs more than once (add surrounding context to make it unique).",
        {
            "file_path": path_prop("Path of the file to edit."),
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
    "grep": obj(
        "Search file contents with a regular expression (ripgrep-like).",
        {
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_CHARS,
                "description": "Regular expression to search for.",
            },
            "path": path_prop("File or folder to search in.", default="."),
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
    "glob_file_search": obj(
        "Find files by name with a glob pattern; patterns not starting with '**/' are searched "
        "recursively ('*.tsx' means '**/*.tsx').",
        {
            "glob_pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_CHARS,
                "description": "Glob such as '*.tsx' or 'src/**/use*.ts'.",
            },
            "target_directory": path_prop("Folder to search in.", default="."),
        },
        ["glob_pattern"],
    ),
    "codebase_search": obj(
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
                "items": path_prop("Folder to restrict the search to."),
                "maxItems": 16,
                "default": [],
                "description": "Folders to search (empty: the whole workspace).",
            },
        },
        ["query"],
    ),
    "list_dir": obj(
        "List the entries of a folder (folders end with '/', files show their size).",
        {"target_directory": path_prop("Folder to list.")},
        ["target_directory"],
    ),
    "run_terminal_cmd": obj(
        "Run a shell command. Only a safe read-only subset exists: ls, pwd, echo, cat, grep, "
        "find, wc, head, tail, sort, uniq, joined with '|'. Other programs fail; destructive ones "
        "(rm, sudo, curl | sh, ...) end the episode.",
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
