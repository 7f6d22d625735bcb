"""Procedural task generators: seeded, realistic TypeScript/React workspaces, every category.

:func:`generate_task` (category, difficulty, seed) -> :class:`~web4rl.sim.tasks.Task` is a pure
function of its arguments. Each task comes with a reference solution (expected_actions) and
declarative success checks; the test suite replays many seeds of every (category, difficulty)
to prove they are solvable and not solved by doing nothing.

Workspaces are small React + TypeScript apps (package.json, tsconfig, types, an API client, a
data hook, components, utils) themed on one of several domains; difficulty grows the number of
files and the number of steps a task needs.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES, Task, task_from_dict

# Files per workspace by difficulty (expert matches the 20-file benchmark workspace).
FILES_BY_DIFFICULTY = {"simple": 8, "medium": 12, "hard": 16, "expert": 20}
MAX_STEPS_BY_DIFFICULTY = {"simple": 8, "medium": 12, "hard": 16, "expert": 20}


@dataclass(frozen=True)
class Domain:
    """A themed app: its name, main entity and a few entity fields (name, TS type)."""

    app: str
    entity: str
    fields: tuple[tuple[str, str], ...]
    api_path: str


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "TaskBoard",
        "Task",
        (("title", "string"), ("done", "boolean"), ("dueDate", "string")),
        "/tasks",
    ),
    Domain(
        "ShopCart",
        "Product",
        (("name", "string"), ("price", "number"), ("inStock", "boolean")),
        "/products",
    ),
    Domain(
        "RecipeBox",
        "Recipe",
        (("title", "string"), ("minutes", "number"), ("vegan", "boolean")),
        "/recipes",
    ),
    Domain(
        "FitTrack",
        "Workout",
        (("kind", "string"), ("durationMin", "number"), ("date", "string")),
        "/workouts",
    ),
    Domain(
        "BookShelf",
        "Book",
        (("title", "string"), ("author", "string"), ("pages", "number")),
        "/books",
    ),
    Domain(
        "ChatRoom",
        "Message",
        (("author", "string"), ("text", "string"), ("sentAt", "string")),
        "/messages",
    ),
)

EXTRA_COMPONENTS = (
    "Footer",
    "Sidebar",
    "Modal",
    "Spinner",
    "Avatar",
    "Badge",
    "Tooltip",
    "Pagination",
    "Tabs",
    "Toast",
    "Dropdown",
    "Breadcrumbs",
    "ProgressBar",
    "Card",
)

# (name, file, TS source) of small utility functions; names are unique across the pool.
UTILS: tuple[tuple[str, str, str], ...] = (
    (
        "formatDate",
        "format",
        'export function formatDate(iso: string): string {\n  const d = new Date(iso);\n  return d.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });\n}\n',
    ),
    (
        "truncate",
        "format",
        "export function truncate(text: string, max: number): string {\n  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;\n}\n",
    ),
    (
        "formatPrice",
        "format",
        "export function formatPrice(cents: number): string {\n  return `$${(cents / 100).toFixed(2)}`;\n}\n",
    ),
    (
        "clamp",
        "math",
        "export function clamp(value: number, min: number, max: number): number {\n  return Math.min(Math.max(value, min), max);\n}\n",
    ),
    (
        "sumBy",
        "math",
        "export function sumBy<T>(items: T[], pick: (item: T) => number): number {\n  return items.reduce((total, item) => total + pick(item), 0);\n}\n",
    ),
    (
        "percent",
        "math",
        "export function percent(part: number, whole: number): number {\n  return whole === 0 ? 0 : Math.round((part / whole) * 100);\n}\n",
    ),
    (
        "slugify",
        "strings",
        'export function slugify(text: string): string {\n  return text\n    .toLowerCase()\n    .trim()\n    .replace(/[^a-z0-9]+/g, "-")\n    .replace(/^-|-$/g, "");\n}\n',
    ),
    (
        "capitalize",
        "strings",
        "export function capitalize(word: string): string {\n  return word.charAt(0).toUpperCase() + word.slice(1);\n}\n",
    ),
    (
        "pluralize",
        "strings",
        'export function pluralize(count: number, noun: string): string {\n  return `${count} ${noun}${count === 1 ? "" : "s"}`;\n}\n',
    ),
)


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


@dataclass
class Project:
    """A generated workspace and the facts tasks are built from."""

    files: dict[str, str]
    domain: Domain
    components: list[str]  # component names under src/components
    utils: list[tuple[str, str]]  # (function name, file path) present in the workspace
    base_url: str
    hook: str  # the data hook's name, e.g. useTasks


def _component(name: str, rng: random.Random) -> str:
    label = rng.choice(["Open", "Close", "Save", "Details", "More", "Dismiss", "Next"])
    return (
        'import React from "react";\n\n'
        f"export interface {name}Props {{\n  title: string;\n  onAction?: () => void;\n}}\n\n"
        f"export function {name}({{ title, onAction }}: {name}Props) {{\n"
        "  return (\n"
        f'    <section className="{_kebab(name)}">\n'
        "      <h3>{title}</h3>\n"
        f'      <button type="button" onClick={{onAction}}>\n        {label}\n      </button>\n'
        "    </section>\n  );\n}\n"
    )


def build_project(rng: random.Random, n_files: int) -> Project:
    """A React + TypeScript workspace with exactly `n_files` files (n_files >= 6)."""
    d = rng.choice(DOMAINS)
    e, plural = d.entity, d.entity + "s"
    hook = f"use{plural}"
    host = rng.choice(["api.example.com", "api.internal.dev", "backend.local:8080"])
    base_url = f"https://{host}/v{rng.randint(1, 3)}"
    fields = "".join(f"  {f}: {t};\n" for f, t in d.fields)
    first = d.fields[0][0]
    files: dict[str, str] = {
        "package.json": json.dumps(
            {
                "name": _kebab(d.app),
                "version": f"0.{rng.randint(1, 9)}.0",
                "private": True,
                "scripts": {"dev": "vite", "build": "tsc && vite build", "test": "vitest"},
                "dependencies": {"react": "^18.2.0", "react-dom": "^18.2.0"},
                "devDependencies": {"typescript": "^5.4.0", "vite": "^5.2.0", "vitest": "^1.5.0"},
            },
            indent=2,
        )
        + "\n",
        "src/types.ts": f'export interface {e} {{\n  id: string;\n{fields}}}\n\nexport type {e}Id = {e}["id"];\n',
        "src/api/client.ts": (
            f'export const API_BASE_URL = "{base_url}";\n\n'
            "export async function getJson<T>(path: string): Promise<T> {\n"
            "  const response = await fetch(`${API_BASE_URL}${path}`);\n"
            "  if (!response.ok) {\n    throw new Error(`GET ${path} failed: ${response.status}`);\n  }\n"
            "  return (await response.json()) as T;\n}\n"
        ),
        f"src/hooks/{hook}.ts": (
            'import { useEffect, useState } from "react";\n'
            'import { getJson } from "../api/client";\n'
            f'import type {{ {e} }} from "../types";\n\n'
            f"export function {hook}() {{\n"
            f"  const [items, setItems] = useState<{e}[]>([]);\n"
            "  const [error, setError] = useState<string | null>(null);\n\n"
            "  useEffect(() => {\n"
            f'    getJson<{e}[]>("{d.api_path}")\n'
            "      .then(setItems)\n"
            "      .catch((err: Error) => setError(err.message));\n"
            "  }, []);\n\n"
            "  return { items, error };\n}\n"
        ),
        f"src/components/{e}List.tsx": (
            'import React from "react";\n'
            f'import {{ {hook} }} from "../hooks/{hook}";\n\n'
            f"export function {e}List() {{\n"
            f"  const {{ items, error }} = {hook}();\n"
            '  if (error) {\n    return <p className="error">{error}</p>;\n  }\n'
            "  return (\n    <ul>\n"
            f"      {{items.map((item) => (\n        <li key={{item.id}}>{{item.{first}}}</li>\n      ))}}\n"
            "    </ul>\n  );\n}\n"
        ),
        "src/App.tsx": (
            'import React from "react";\n'
            f'import {{ {e}List }} from "./components/{e}List";\n\n'
            "export default function App() {\n"
            "  return (\n    <main>\n"
            f"      <h1>{d.app}</h1>\n      <{e}List />\n"
            "    </main>\n  );\n}\n"
        ),
    }
    optional: list[tuple[str, str]] = [
        (
            "tsconfig.json",
            json.dumps(
                {
                    "compilerOptions": {
                        "target": "ES2020",
                        "jsx": "react-jsx",
                        "strict": True,
                        "module": "ESNext",
                    },
                    "include": ["src"],
                },
                indent=2,
            )
            + "\n",
        ),
        (
            "README.md",
            f"# {d.app}\n\nA small React app for managing {plural.lower()}.\n\n## Scripts\n\n- `npm run dev` starts the dev server\n- `npm test` runs the tests\n",
        ),
        (
            "src/main.tsx",
            'import React from "react";\nimport { createRoot } from "react-dom/client";\nimport App from "./App";\n\ncreateRoot(document.getElementById("root")!).render(<App />);\n',
        ),
        (
            "src/styles.css",
            "main {\n  max-width: 48rem;\n  margin: 0 auto;\n}\n\n.error {\n  color: #b00020;\n}\n",
        ),
    ]
    utils_pool = list(UTILS)
    rng.shuffle(utils_pool)
    components: list[str] = [f"{e}List"]
    extra = list(EXTRA_COMPONENTS)
    rng.shuffle(extra)
    util_files: dict[str, list[tuple[str, str]]] = {}
    for name, fname, src in utils_pool[:3]:
        util_files.setdefault(fname, []).append((name, src))
    for fname, items in sorted(util_files.items()):
        optional.append((f"src/utils/{fname}.ts", "\n".join(src for _, src in items)))
    for comp in extra:
        optional.append((f"src/components/{comp}.tsx", _component(comp, rng)))
    rng.shuffle(optional)  # which extras a small workspace gets varies with the seed
    for path, text in optional:
        if len(files) >= n_files:
            break
        files[path] = text
    utils = []
    for path in files:
        if path.startswith("src/utils/"):
            fname = path[len("src/utils/") : -3]
            utils.extend((name, path) for name, _ in util_files[fname])
        elif path.startswith("src/components/") and path != f"src/components/{e}List.tsx":
            components.append(path[len("src/components/") : -4])
    return Project(files, d, components, utils, base_url, hook)


def _line_count(text: str) -> int:
    return text.count("\n")


# ---------------------------------------------------------------------------- task builders
# Each builder returns the task dict minus id/category/difficulty/max_steps.
def _tool_use(p: Project, rng: random.Random, difficulty: str) -> dict:
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


def _multi_step(p: Project, rng: random.Random, difficulty: str) -> dict:
    e = p.domain.entity
    if difficulty in ("simple", "medium"):
        comp = rng.choice([c for c in p.components if c != f"{e}List"] or [f"{e}List"])
        path = f"src/components/{comp}.tsx"
        if comp == f"{e}List":
            old, new = "<ul>", f'<ul className="{_kebab(e)}-list">'
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
            f'  return <span className="{_kebab(name)}">{{label}}</span>;\n}}\n'
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


def _search_and_edit(p: Project, rng: random.Random, difficulty: str) -> dict:
    new_url = p.base_url.replace("/v", "/v9") if "/v9" not in p.base_url else p.base_url + "1"
    comps = [c for c in p.components if c != f"{p.domain.entity}List"]
    if difficulty == "simple" and comps and rng.random() < 0.5:
        comp = rng.choice(comps)
        path = f"src/components/{comp}.tsx"
        return {
            "description": f'In {path}, rename the CSS class "{_kebab(comp)}" to "{_kebab(comp)}-root".',
            "expected_actions": [
                {
                    "tool": "search_replace",
                    "args": {
                        "file_path": path,
                        "old_string": f'className="{_kebab(comp)}"',
                        "new_string": f'className="{_kebab(comp)}-root"',
                    },
                }
            ],
            "success": [
                {"type": "file_contains", "path": path, "text": f'className="{_kebab(comp)}-root"'}
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


BUILDERS: dict[str, Callable[[Project, random.Random, str], dict]] = {
    "tool_use": _tool_use,
    "multi_step": _multi_step,
    "code_generation": _code_generation,
    "search_and_edit": _search_and_edit,
    "refactor": _refactor,
}


def generate_task(category: str, difficulty: str, seed: int) -> Task:
    """A procedural task, a pure function of (category, difficulty, seed)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; one of {CATEGORIES}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; one of {DIFFICULTIES}")
    rng = random.Random(f"{category}/{difficulty}/{seed}")
    project = build_project(rng, FILES_BY_DIFFICULTY[difficulty])
    body = BUILDERS[category](project, rng, difficulty)
    return task_from_dict(
        {
            "id": f"gen/{category}/{difficulty}/{seed}",
            "category": category,
            "difficulty": difficulty,
            "initial_files": project.files,
            "max_steps": max(
                MAX_STEPS_BY_DIFFICULTY[difficulty], len(body["expected_actions"]) + 4
            ),
            **body,
        },
        where=f"generator {category}/{difficulty} seed {seed}",
    )
