"""Procedural code_generation tasks.

The builder returns the task dict minus id/category/difficulty/max_steps.
"""

from __future__ import annotations

import random

from web4rl.sim.generators.project import (
    Project,
    kebab,
)


def _code_generation(p: Project, rng: random.Random, difficulty: str) -> dict:
    if difficulty == "simple":
        name, body = rng.choice(
            [
                (
                    "isBlank",
                    "export function isBlank(text: string): boolean {\n  return text.trim().length === 0;\n}\n",
                ),
                (
                    "range",
                    "export function range(start: number, end: number): number[] {\n  return Array.from({ length: Math.max(end - start, 0) }, (_, i) => start + i);\n}\n",
                ),
                (
                    "unique",
                    "export function unique<T>(items: T[]): T[] {\n  return Array.from(new Set(items));\n}\n",
                ),
                (
                    "chunk",
                    "export function chunk<T>(items: T[], size: number): T[][] {\n  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += size) {\n    out.push(items.slice(i, i + size));\n  }\n  return out;\n}\n",
                ),
            ]
        )
        path = f"src/utils/{name}.ts"
        return {
            "description": f"Create {path} exporting a typed function `{name}` ({body.splitlines()[0][len('export function ') : -2].strip()}).",
            "expected_actions": [{"tool": "write", "args": {"file_path": path, "contents": body}}],
            "success": [
                {
                    "type": "file_matches",
                    "path": path,
                    "pattern": rf"export (function|const) {name}\b",
                }
            ],
        }
    if difficulty == "medium":
        name = rng.choice(["StatusPill", "CountBadge", "SectionTitle", "IconButton"])
        path = f"src/components/{name}.tsx"
        body = (
            'import React from "react";\n\n'
            f"export interface {name}Props {{\n  label: string;\n}}\n\n"
            f"export function {name}({{ label }}: {name}Props) {{\n"
            f'  return <span className="{kebab(name)}">{{label}}</span>;\n}}\n'
        )
        return {
            "description": f"Create a React component {name} in {path} with a `{name}Props` interface "
            "(a `label: string` prop) that renders the label. Look at an existing component first for the style.",
            "expected_actions": [
                {
                    "tool": "glob_file_search",
                    "args": {"glob_pattern": "*.tsx", "target_directory": "src/components"},
                },
                {"tool": "write", "args": {"file_path": path, "contents": body}},
            ],
            "success": [
                {
                    "type": "file_matches",
                    "path": path,
                    "pattern": rf"export (function|const) {name}\b",
                },
                {
                    "type": "file_matches",
                    "path": path,
                    "pattern": rf"(interface|type) {name}Props\b",
                },
                {"type": "file_contains", "path": path, "text": "label"},
            ],
        }
    hook = rng.choice(["useToggle", "useCounter"])
    if hook == "useToggle":
        hook_src = 'import { useCallback, useState } from "react";\n\nexport function useToggle(initial = false) {\n  const [on, setOn] = useState(initial);\n  const toggle = useCallback(() => setOn((value) => !value), []);\n  return [on, toggle] as const;\n}\n'
    else:
        hook_src = 'import { useCallback, useState } from "react";\n\nexport function useCounter(initial = 0) {\n  const [count, setCount] = useState(initial);\n  const increment = useCallback(() => setCount((value) => value + 1), []);\n  return { count, increment };\n}\n'
    hook_path = f"src/hooks/{hook}.ts"
    actions = [
        {"tool": "list_dir", "args": {"target_directory": "src/hooks"}},
        {"tool": "read_file", "args": {"target_file": f"src/hooks/{p.hook}.ts"}},
        {"tool": "write", "args": {"file_path": hook_path, "contents": hook_src}},
    ]
    success = [
        {"type": "file_matches", "path": hook_path, "pattern": rf"export (function|const) {hook}\b"}
    ]
    if difficulty == "expert":
        test_src = (
            'import { describe, expect, it } from "vitest";\n'
            f'import {{ {hook} }} from "./{hook}";\n\n'
            f'describe("{hook}", () => {{\n  it("is a function", () => {{\n    expect(typeof {hook}).toBe("function");\n  }});\n}});\n'
        )
        actions.append(
            {
                "tool": "write",
                "args": {"file_path": f"src/hooks/{hook}.test.ts", "contents": test_src},
            }
        )
        success.append(
            {
                "type": "file_matches",
                "path": f"src/hooks/{hook}.test.ts",
                "pattern": rf"import \{{ ?{hook} ?\}} from [\"']\./{hook}[\"']",
            }
        )
        success.append(
            {"type": "file_contains", "path": f"src/hooks/{hook}.test.ts", "text": "describe("}
        )
    return {
        "description": f"Write a custom React hook `{hook}` in {hook_path}, following the style of the existing hooks"
        + (
            f", and a vitest test file src/hooks/{hook}.test.ts that imports it and has a describe block."
            if difficulty == "expert"
            else "."
        ),
        "expected_actions": actions,
        "success": success,
    }
