"""The `web4` tool profile: the Continue-style tools of the Web4 team's real SFT data.

Names and argument names are exactly those of the sample files (tool_core.jsonl,
tool_neg.jsonl, eval.jsonl in the team's llm-training-sample): read_file {path},
create_new_file {path, content}, edit_existing_file {path, changes}, single_find_and_replace
{file_path, find, replace}, file_glob_search {pattern}, ls {path}, run_terminal_command
{command, working_directory}, read_currently_open_file {}, view_diff {}, fetch_url_content
{url}, create_rule_block {rule}, evaluate_model {metrics, threshold}. Every schema is closed,
so the tool_neg rows' wrong arguments ({} or a wrong key) are schema failures.

Optional arguments the data always spells out (working_directory ".") have no declared
default on purpose: the judge counts an argument restating a default as verbosity, and the
real rows are not verbose.
"""

from __future__ import annotations

from web4rl.sim.tools.schema import (
    MAX_COMMAND_CHARS,
    MAX_PATTERN_CHARS,
    MAX_URL_CHARS,
    obj,
    path_prop,
    text_prop,
)

#: Where create_rule_block writes rule files (Continue's project rules folder).
RULES_DIR = ".continue/rules"
#: edit_existing_file's find/replace form (SEARCH/REPLACE blocks, one or more).
SEARCH_MARK, DIVIDER_MARK, REPLACE_MARK = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"

WEB4_SCHEMAS: dict[str, dict] = {
    "read_file": obj(
        "Read a text file (output is line-numbered '  12|text').",
        {"path": path_prop("Path of the file, relative to the workspace root.")},
        ["path"],
    ),
    "create_new_file": obj(
        "Create a new file with the given content; fails if the file already exists "
        "(use edit_existing_file for existing files).",
        {
            "path": path_prop("Path of the new file."),
            "content": text_prop("The complete contents of the new file."),
        },
        ["path", "content"],
    ),
    "edit_existing_file": obj(
        "Edit an existing file. `changes` is either the complete new file content, or one or "
        f"more blocks '{SEARCH_MARK}\\n<exact old text>\\n{DIVIDER_MARK}\\n<new text>\\n"
        f"{REPLACE_MARK}'. A description of a change is recorded but not applied.",
        {
            "path": path_prop("Path of the file to edit."),
            "changes": text_prop("New full content, or SEARCH/REPLACE blocks.", min_length=1),
        },
        ["path", "changes"],
    ),
    "single_find_and_replace": obj(
        "Replace exactly one occurrence of `find` in a file; fails if it is absent or occurs "
        "more than once (add surrounding context to make it unique).",
        {
            "file_path": path_prop("Path of the file to edit."),
            "find": text_prop("Exact text to replace; must occur exactly once.", min_length=1),
            "replace": text_prop("Replacement text (must differ from find)."),
        },
        ["file_path", "find", "replace"],
    ),
    "file_glob_search": obj(
        "Find files by glob, relative to the workspace root ('src/**/*.ts'); a pattern "
        "without '/' matches file names anywhere ('*.tsx').",
        {"pattern": text_prop("Glob pattern.", MAX_PATTERN_CHARS, min_length=1)},
        ["pattern"],
    ),
    "ls": obj(
        "List the entries of a folder (folders end with '/', files show their size).",
        {"path": path_prop("Folder to list ('.' is the workspace root).")},
        ["path"],
    ),
    "run_terminal_command": obj(
        "Run a shell command. Only a safe read-only subset exists: ls, pwd, echo, cat, grep, "
        "find, wc, head, tail, sort, uniq, joined with '|'. Other programs (npm, git, ...) "
        "fail; destructive ones (rm, sudo, curl | sh, ...) end the episode.",
        {
            "command": text_prop(
                "The command line, e.g. 'grep -rn useState src | wc -l'.",
                MAX_COMMAND_CHARS,
                min_length=1,
            ),
            "working_directory": path_prop(
                "Folder to run in, inside the workspace (absent: the workspace root)."
            ),
        },
        ["command"],
    ),
    "read_currently_open_file": obj(
        "Read the file open in the user's editor (line-numbered).", {}, []
    ),
    "view_diff": obj(
        "Show the uncommitted changes: a unified diff of the workspace against its state at "
        "the start of the task.",
        {},
        [],
    ),
    "fetch_url_content": obj(
        "Fetch the text content of a URL (only pages the task provides are reachable).",
        {"url": text_prop("The URL, e.g. 'https://docs.example.com/api'.", MAX_URL_CHARS, 1)},
        ["url"],
    ),
    "create_rule_block": obj(
        f"Save a project coding rule as a Markdown file under {RULES_DIR}/.",
        {
            "rule": text_prop("The rule text, e.g. 'Use TypeScript for all new code'.", 20_000, 1),
            "name": text_prop("Short rule name (default: from the rule text).", 200, 1),
        },
        ["rule"],
    ),
    "evaluate_model": obj(
        "Evaluate the model on named metrics against a threshold (an evaluation-harness call; "
        "there is no model to evaluate inside the simulator, so it always fails there).",
        {
            "metrics": {
                "type": "array",
                "items": text_prop("Metric name.", 100, 1),
                "minItems": 1,
                "maxItems": 32,
                "description": "Metric names, e.g. ['accuracy', 'safety'].",
            },
            "threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Pass threshold in [0, 1].",
            },
        },
        ["metrics", "threshold"],
    ),
}

#: Tools only the web4 profile has (no Cursor-style counterpart); they are part of the
#: canonical task vocabulary under these names and arguments.
WEB4_ONLY: tuple[str, ...] = (
    "read_currently_open_file",
    "view_diff",
    "fetch_url_content",
    "create_rule_block",
    "evaluate_model",
)
