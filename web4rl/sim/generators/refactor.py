"""Procedural refactor tasks.

The builder returns the task dict minus id/category/difficulty/max_steps.
"""

from __future__ import annotations

import random

from web4rl.sim.generators.project import (
    Project,
)


def _refactor(p: Project, rng: random.Random, difficulty: str) -> dict:
    e = p.domain.entity
    hook_path = f"src/hooks/{p.hook}.ts"
    list_path = f"src/components/{e}List.tsx"
    if difficulty == "simple":
        new_src = p.files[hook_path].replace("items", "records").replace("setItems", "setRecords")
        return {
            "description": f"In {hook_path}, rename the local state `items` to `records` (and its setter to "
            "`setRecords`), keeping the returned object's key `items` pointing at it: return { items: records, error }.",
            "expected_actions": [
                {"tool": "read_file", "args": {"target_file": hook_path}},
                {
                    "tool": "write",
                    "args": {
                        "file_path": hook_path,
                        "contents": new_src.replace(
                            "return { records, error };", "return { items: records, error };"
                        ),
                    },
                },
            ],
            "success": [
                {"type": "file_matches", "path": hook_path, "pattern": r"\[records, setRecords\]"},
                {"type": "file_contains", "path": hook_path, "text": "items: records"},
            ],
        }
    new_hook = f"use{e}Collection"
    actions: list[dict] = [
        {"tool": "grep", "args": {"pattern": p.hook, "output_mode": "files_with_matches"}},
        {
            "tool": "search_replace",
            "args": {
                "file_path": hook_path,
                "old_string": f"export function {p.hook}()",
                "new_string": f"export function {new_hook}()",
            },
        },
        {
            "tool": "search_replace",
            "args": {
                "file_path": list_path,
                "old_string": f'import {{ {p.hook} }} from "../hooks/{p.hook}";',
                "new_string": f'import {{ {new_hook} }} from "../hooks/{p.hook}";',
            },
        },
        {
            "tool": "search_replace",
            "args": {
                "file_path": list_path,
                "old_string": f"= {p.hook}();",
                "new_string": f"= {new_hook}();",
            },
        },
    ]
    success: list[dict] = [
        {"type": "file_contains", "path": hook_path, "text": f"function {new_hook}("},
        {"type": "file_matches", "path": list_path, "pattern": rf"\b{new_hook}\(\)"},
        {"type": "file_not_contains", "path": list_path, "text": f"{p.hook}()"},
    ]
    desc = f"Rename the hook {p.hook} to {new_hook} everywhere it is defined or called (keep the file name)."
    if difficulty in ("hard", "expert"):
        # Also move the API path into a named constant in the hook.
        const = f"{e.upper()}S_PATH"
        actions.append({"tool": "read_file", "args": {"target_file": hook_path}})
        actions.append(
            {
                "tool": "search_replace",
                "args": {
                    "file_path": hook_path,
                    "old_string": f'getJson<{e}[]>("{p.domain.api_path}")',
                    "new_string": f"getJson<{e}[]>({const})",
                },
            }
        )
        actions.append(
            {
                "tool": "search_replace",
                "args": {
                    "file_path": hook_path,
                    "old_string": f'import type {{ {e} }} from "../types";\n',
                    "new_string": f'import type {{ {e} }} from "../types";\n\nexport const {const} = "{p.domain.api_path}";\n',
                },
            }
        )
        success.append(
            {
                "type": "file_matches",
                "path": hook_path,
                "pattern": rf"const {const} = [\"']{p.domain.api_path}[\"']",
            }
        )
        success.append(
            {"type": "file_contains", "path": hook_path, "text": f"getJson<{e}[]>({const})"}
        )
        desc += f' Also replace the "{p.domain.api_path}" literal in the hook with an exported constant {const}.'
    if difficulty == "expert":
        actions.append({"tool": "run_terminal_cmd", "args": {"command": f"grep -rn {p.hook} src"}})
        # The renamed import line only shows up in a grep run after the rename (a check on
        # the tool alone would also hold for the opening search under the web4 profile,
        # where grep is a terminal command too).
        success.append({"type": "output_contains", "tool": "run_terminal_cmd", "text": new_hook})
        desc += " Finally confirm from the terminal (grep) which lines still mention the old name."
    return {"description": desc, "expected_actions": actions, "success": success}
