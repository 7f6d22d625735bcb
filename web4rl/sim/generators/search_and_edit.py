"""Procedural search_and_edit tasks.

The builder returns the task dict minus id/category/difficulty/max_steps.
"""

from __future__ import annotations

import random

from web4rl.sim.generators.project import (
    Project,
    kebab,
)


def _search_and_edit(p: Project, rng: random.Random, difficulty: str) -> dict:
    new_url = p.base_url.replace("/v", "/v9") if "/v9" not in p.base_url else p.base_url + "1"
    comps = [c for c in p.components if c != f"{p.domain.entity}List"]
    if difficulty == "simple" and comps and rng.random() < 0.5:
        comp = rng.choice(comps)
        path = f"src/components/{comp}.tsx"
        return {
            "description": f'In {path}, rename the CSS class "{kebab(comp)}" to "{kebab(comp)}-root".',
            "expected_actions": [
                {
                    "tool": "search_replace",
                    "args": {
                        "file_path": path,
                        "old_string": f'className="{kebab(comp)}"',
                        "new_string": f'className="{kebab(comp)}-root"',
                    },
                }
            ],
            "success": [
                {"type": "file_contains", "path": path, "text": f'className="{kebab(comp)}-root"'}
            ],
        }
    if difficulty == "simple":
        return {
            "description": f'The API moved: change API_BASE_URL in src/api/client.ts from "{p.base_url}" to "{new_url}".',
            "expected_actions": [
                {
                    "tool": "search_replace",
                    "args": {
                        "file_path": "src/api/client.ts",
                        "old_string": f'"{p.base_url}"',
                        "new_string": f'"{new_url}"',
                    },
                },
            ],
            "success": [
                {
                    "type": "file_contains",
                    "path": "src/api/client.ts",
                    "text": f'API_BASE_URL = "{new_url}"',
                }
            ],
        }
    if difficulty == "medium" or len(comps) < 2:  # too few components for a multi-file edit
        return {
            "description": f'Find where the API base URL "{p.base_url}" is defined and change it to "{new_url}".',
            "expected_actions": [
                {"tool": "grep", "args": {"pattern": "API_BASE_URL =", "output_mode": "content"}},
                {
                    "tool": "search_replace",
                    "args": {
                        "file_path": "src/api/client.ts",
                        "old_string": f'"{p.base_url}"',
                        "new_string": f'"{new_url}"',
                    },
                },
            ],
            "success": [
                {"type": "file_contains", "path": "src/api/client.ts", "text": f'"{new_url}"'},
                {
                    "type": "file_not_contains",
                    "path": "src/api/client.ts",
                    "text": f'"{p.base_url}"',
                },
            ],
        }
    # hard / expert: button classes in several components change
    k = 2 if difficulty == "hard" else min(4, len(comps))
    chosen = sorted(rng.sample(comps, k))
    actions: list[dict] = [
        {
            "tool": "grep",
            "args": {
                "pattern": 'type="button"',
                "path": "src/components",
                "output_mode": "files_with_matches",
            },
        }
    ]
    success: list[dict] = []
    for comp in chosen:
        path = f"src/components/{comp}.tsx"
        actions.append(
            {
                "tool": "search_replace",
                "args": {
                    "file_path": path,
                    "old_string": 'type="button" onClick',
                    "new_string": 'type="button" className="btn" onClick',
                },
            }
        )
        success.append({"type": "file_contains", "path": path, "text": 'className="btn"'})
    names = ", ".join(chosen)
    return {
        "description": f'Give the buttons in these components the CSS class "btn" (className="btn"): {names}.',
        "expected_actions": actions,
        "success": success,
    }
