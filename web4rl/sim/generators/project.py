"""The shared project builder and data tables of the procedural task generators.

Workspaces are small React + TypeScript apps (package.json, tsconfig, types, an API client, a
data hook, components, utils) themed on one of several domains; difficulty grows the number of
files and the number of steps a task needs.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

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


def _lower_words(name: str, sep: str) -> str:
    """``name`` lower-cased with ``sep`` before each capital but the first letter."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append(sep)
        out.append(ch.lower())
    return "".join(out)


def kebab(name: str) -> str:
    """PascalCase/camelCase -> kebab-case (``TaskList`` -> ``task-list``): class names, slugs."""
    return _lower_words(name, "-")


def snake(name: str) -> str:
    """PascalCase/camelCase -> snake_case (``TaskList`` -> ``task_list``)."""
    return _lower_words(name, "_")


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
        f'    <section className="{kebab(name)}">\n'
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
                "name": kebab(d.app),
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
