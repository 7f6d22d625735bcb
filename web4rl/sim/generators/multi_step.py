"""Procedural multi_step tasks.

The builder returns the task dict minus id/category/difficulty/max_steps.
"""

from __future__ import annotations

import random
import re

from web4rl.sim.generators.project import (
    Project,
    kebab,
)


def _multi_step(p: Project, rng: random.Random, difficulty: str) -> dict:
    e = p.domain.entity
    if difficulty in ("simple", "medium"):
        comp = rng.choice([c for c in p.components if c != f"{e}List"] or [f"{e}List"])
        path = f"src/components/{comp}.tsx"
        if comp == f"{e}List":
            old, new = "<ul>", f'<ul className="{kebab(e)}-list">'
        else:
            old, new = "<h3>{title}</h3>", "<h2>{title}</h2>"
        actions = [
            {"tool": "read_file", "args": {"target_file": path}},
            {
                "tool": "search_replace",
                "args": {"file_path": path, "old_string": old, "new_string": new},
            },
        ]
        if difficulty == "medium":
            actions.insert(0, {"tool": "glob_file_search", "args": {"glob_pattern": f"{comp}.tsx"}})
        return {
            "description": f"In the {comp} component, change `{old}` to `{new}`."
            + (" Locate the file first." if difficulty == "medium" else ""),
            "expected_actions": actions,
            "success": [
                {"type": "file_contains", "path": path, "text": new},
                {"type": "file_not_contains", "path": path, "text": old},
            ],
        }
    if difficulty == "hard":
        field, typ = rng.choice(
            [
                ("priority", "number"),
                ("tags", "string[]"),
                ("archived", "boolean"),
                ("notes", "string"),
            ]
        )
        last_field = p.domain.fields[-1]
        old = f"  {last_field[0]}: {last_field[1]};\n}}"
        new = f"  {last_field[0]}: {last_field[1]};\n  {field}?: {typ};\n}}"
        list_path = f"src/components/{e}List.tsx"
        first = p.domain.fields[0][0]
        li_old = f"<li key={{item.id}}>{{item.{first}}}</li>"
        li_new = f"<li key={{item.id}}>\n          {{item.{first}}} {{item.{field} !== undefined && <small>{{String(item.{field})}}</small>}}\n        </li>"
        return {
            "description": f"Add an optional `{field}: {typ}` field to the {e} interface in src/types.ts, "
            f"then show it next to each item in {e}List (only when it is defined).",
            "expected_actions": [
                {"tool": "read_file", "args": {"target_file": "src/types.ts"}},
                {
                    "tool": "search_replace",
                    "args": {"file_path": "src/types.ts", "old_string": old, "new_string": new},
                },
                {"tool": "read_file", "args": {"target_file": list_path}},
                {
                    "tool": "search_replace",
                    "args": {"file_path": list_path, "old_string": li_old, "new_string": li_new},
                },
            ],
            "success": [
                {
                    "type": "file_matches",
                    "path": "src/types.ts",
                    "pattern": r"\b" + field + r"\?\s*:\s*" + re.escape(typ) + ";",
                },
                {"type": "file_contains", "path": list_path, "text": f"item.{field}"},
            ],
        }
    # expert: new util + barrel export + use it in a component
    util_path = "src/utils/dates.ts"
    comp_path = f"src/components/{e}List.tsx"
    first = p.domain.fields[0][0]
    return {
        "description": f"Create src/utils/dates.ts exporting `isOverdue(iso: string, now: Date): boolean`, "
        f'export it from a new src/utils/index.ts, and import it in {e}List from "../utils" '
        "(no need to call it yet).",
        "expected_actions": [
            {"tool": "list_dir", "args": {"target_directory": "src"}},
            {
                "tool": "write",
                "args": {
                    "file_path": util_path,
                    "contents": "export function isOverdue(iso: string, now: Date): boolean {\n  return new Date(iso).getTime() < now.getTime();\n}\n",
                },
            },
            {
                "tool": "write",
                "args": {
                    "file_path": "src/utils/index.ts",
                    "contents": 'export { isOverdue } from "./dates";\n',
                },
            },
            {"tool": "read_file", "args": {"target_file": comp_path}},
            {
                "tool": "search_replace",
                "args": {
                    "file_path": comp_path,
                    "old_string": 'import React from "react";\n',
                    "new_string": 'import React from "react";\nimport { isOverdue } from "../utils";\n',
                },
            },
        ],
        "success": [
            {
                "type": "file_matches",
                "path": util_path,
                "pattern": r"export (function|const) isOverdue\b",
            },
            {
                "type": "file_matches",
                "path": "src/utils/index.ts",
                "pattern": r"isOverdue.*from\s+[\"']\./dates[\"']",
            },
            {
                "type": "file_matches",
                "path": comp_path,
                "pattern": r"import \{[^}]*\bisOverdue\b[^}]*\} from [\"']\.\./utils[\"']",
            },
            {"type": "file_contains", "path": comp_path, "text": f"item.{first}"},
        ],
    }
