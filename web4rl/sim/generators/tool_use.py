"""Procedural tool_use tasks (plus the web4-only tool variants).

The builder returns the task dict minus id/category/difficulty/max_steps.
"""

from __future__ import annotations

import random

from web4rl.sim.generators.project import (
    Project,
    _line_count,
    kebab,
)


# Each builder returns the task dict minus id/category/difficulty/max_steps.
def _web4_variant(p: Project, rng: random.Random, difficulty: str) -> dict:
    """Tasks built on the web4-only tools (open editor file, rule files, URL pages, diff)."""
    e = p.domain.entity
    if difficulty == "simple":
        if rng.random() < 0.5:
            path = rng.choice(sorted(f for f in p.files if f.startswith("src/")))
            n = _line_count(p.files[path])
            return {
                "description": "Read the file open in my editor, then count its lines with a "
                "terminal command.",
                "open_file": path,
                "expected_actions": [
                    {"tool": "read_currently_open_file", "args": {}},
                    {"tool": "run_terminal_cmd", "args": {"command": f"wc -l {path}"}},
                ],
                "success": [
                    {"type": "tool_called", "tool": "read_currently_open_file"},
                    {"type": "output_contains", "tool": "run_terminal_cmd", "text": f"{n} {path}"},
                ],
            }
        rule = f"Load {e} data through the {p.hook} hook, never with fetch in components"
        return {
            "description": f"Save this as a project coding rule: {rule}.",
            "expected_actions": [{"tool": "create_rule_block", "args": {"rule": rule}}],
            "success": [
                {
                    "type": "file_contains",
                    "path": f".continue/rules/load-{e.lower()}-data-through-the-{p.hook.lower()}.md",
                    "text": rule,
                }
            ],
        }
    old_url = p.base_url
    version = int(old_url[-1])
    new_url = old_url[:-1] + str(version + 1)
    if rng.random() < 0.5:
        docs = f"https://docs.{kebab(p.domain.app)}.dev/api"
        page = (
            f"# {p.domain.app} API\n\nBase URL: {new_url}\n\n"
            f"{old_url} is deprecated.\n\n- GET {p.domain.api_path} lists {e.lower()}s\n"
        )
        return {
            "description": f"Our API moved. Read the docs at {docs} and point API_BASE_URL in "
            "src/api/client.ts at the base URL they give.",
            "url_fixtures": {docs: page},
            "expected_actions": [
                {"tool": "fetch_url_content", "args": {"url": docs}},
                {
                    "tool": "search_replace",
                    "args": {
                        "file_path": "src/api/client.ts",
                        "old_string": f'export const API_BASE_URL = "{old_url}";',
                        "new_string": f'export const API_BASE_URL = "{new_url}";',
                    },
                },
            ],
            "success": [
                {"type": "tool_called", "tool": "fetch_url_content"},
                {"type": "file_contains", "path": "src/api/client.ts", "text": f'"{new_url}"'},
            ],
        }
    return {
        "description": f"Switch API_BASE_URL in src/api/client.ts to {new_url}, then show me "
        "the diff of your change.",
        "expected_actions": [
            {
                "tool": "search_replace",
                "args": {
                    "file_path": "src/api/client.ts",
                    "old_string": f'"{old_url}"',
                    "new_string": f'"{new_url}"',
                },
            },
            {"tool": "view_diff", "args": {}},
        ],
        "success": [
            {"type": "file_contains", "path": "src/api/client.ts", "text": f'"{new_url}"'},
            {
                "type": "output_contains",
                "tool": "view_diff",
                "text": f'+export const API_BASE_URL = "{new_url}";',
            },
        ],
    }


# Share of simple / medium tool_use tasks built on the web4-only tools. Under the cursor
# profile the ones without a Cursor form (URL pages, diff) are redrawn by the TaskGenerator.
WEB4_VARIANT_SHARE = 0.25


def _tool_use(p: Project, rng: random.Random, difficulty: str) -> dict:
    if difficulty in ("simple", "medium") and rng.random() < WEB4_VARIANT_SHARE:
        return _web4_variant(p, rng, difficulty)
    if difficulty == "simple":
        variant = rng.randrange(3)
        if variant == 1:
            folder = rng.choice(["src", "src/components"])
            names = sorted(
                {f[len(folder) + 1 :].split("/")[0] for f in p.files if f.startswith(folder + "/")}
            )
            return {
                "description": f"List what is in the {folder} folder.",
                "expected_actions": [{"tool": "list_dir", "args": {"target_directory": folder}}],
                "success": [
                    {"type": "output_contains", "tool": "list_dir", "text": name}
                    for name in names[:3]
                ],
            }
        if variant == 2:
            return {
                "description": "Show the scripts defined in package.json.",
                "expected_actions": [
                    {"tool": "read_file", "args": {"target_file": "package.json"}}
                ],
                "success": [
                    {"type": "output_contains", "tool": "read_file", "text": '"scripts": {'}
                ],
            }
        path = rng.choice(sorted(p.files))
        n = _line_count(p.files[path])
        return {
            "description": f"Read {path} and count its lines with a terminal command.",
            "expected_actions": [
                {"tool": "read_file", "args": {"target_file": path}},
                {"tool": "run_terminal_cmd", "args": {"command": f"wc -l {path}"}},
            ],
            "success": [
                {"type": "tool_called_with", "tool": "read_file", "args": {"target_file": path}},
                {"type": "output_contains", "tool": "run_terminal_cmd", "text": f"{n} {path}"},
            ],
        }
    if difficulty == "medium" and p.utils and rng.random() < 0.5:
        name, path = rng.choice(p.utils)
        return {
            "description": f"Where is the function `{name}` defined? Find its file, then read it.",
            "expected_actions": [
                {
                    "tool": "grep",
                    "args": {
                        "pattern": f"export function {name}\\b",
                        "output_mode": "files_with_matches",
                    },
                },
                {"tool": "read_file", "args": {"target_file": path}},
            ],
            "success": [
                {"type": "output_contains", "tool": "grep", "text": path},
                {"type": "tool_called_with", "tool": "read_file", "args": {"target_file": path}},
            ],
        }
    if difficulty == "medium":
        e = p.domain.entity
        return {
            "description": f"Find the file that defines the {e} interface and read it.",
            "expected_actions": [
                {
                    "tool": "grep",
                    "args": {
                        "pattern": f"export interface {e} ",
                        "output_mode": "files_with_matches",
                    },
                },
                {"tool": "read_file", "args": {"target_file": "src/types.ts"}},
            ],
            "success": [
                {
                    "type": "tool_called_with",
                    "tool": "read_file",
                    "args": {"target_file": "src/types.ts"},
                }
            ],
        }
    if difficulty == "hard":
        n = sum(1 for f in p.files if f.startswith("src/components/") and f.endswith(".tsx"))
        return {
            "description": "How many .tsx files are in src/components? Find them, then count them with "
            "a terminal command so the number is printed.",
            "expected_actions": [
                {
                    "tool": "glob_file_search",
                    "args": {"glob_pattern": "*.tsx", "target_directory": "src/components"},
                },
                {
                    "tool": "run_terminal_cmd",
                    "args": {"command": "find src/components -name '*.tsx' | wc -l"},
                },
            ],
            "success": [
                {"type": "tool_called", "tool": "glob_file_search"},
                {"type": "output_matches", "tool": "run_terminal_cmd", "pattern": rf"\A{n}\n"},
            ],
        }
    # expert: locate via semantic search, read, then count the fetch calls across src
    hook_path = f"src/hooks/{p.hook}.ts"
    return {
        "description": f"Find where the {p.domain.entity} data is fetched from the API, read that hook, "
        "then list every file under src that mentions getJson, with a count per file.",
        "expected_actions": [
            {
                "tool": "codebase_search",
                "args": {"query": f"fetch {p.domain.entity.lower()}s from the API"},
            },
            {"tool": "read_file", "args": {"target_file": hook_path}},
            {"tool": "grep", "args": {"pattern": "getJson", "path": "src", "output_mode": "count"}},
        ],
        "success": [
            {"type": "tool_called_with", "tool": "read_file", "args": {"target_file": hook_path}},
            {"type": "output_contains", "tool": "grep", "text": f"{hook_path}:2"},
            {"type": "output_contains", "tool": "grep", "text": "src/api/client.ts:1"},
        ],
    }
