"""Task format, declarative success checks, loading and validation.

A task is data (DESIGN.md section 5)::

    {"id": "tool_use/count-lines-main", "description": "...", "category": "tool_use",
     "difficulty": "simple", "initial_files": {"main.ts": "..."},
     "expected_actions": [{"tool": "read_file", "args": {...}}, ...],
     "success": [{"type": "output_contains", "text": "3 main.ts"}], "max_steps": 8}

Optional fields: ``open_file`` (the path open in the user's editor, for
read_currently_open_file) and ``url_fixtures`` ({url: text}, the only pages fetch_url_content
can reach).

Tools: expected actions and the ``tool`` of checks are written in the *canonical* vocabulary
(the Cursor-style tools plus the web4-only tools; web4rl.sim.tools.CANONICAL) and translated
per tool profile by :meth:`Task.for_tools` (web4rl.sim.tools.translate). A task whose
actions have no form in a profile (view_diff under cursor) is only offered under the others.

Success checks: see :mod:`web4rl.sim.checks` (types, fields, when each holds).

Task files are JSON (a list, or {"tasks": [...]}) or JSONL (one task per line). Errors name the
file, the line, the task id and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from web4rl.jsonl import RowError, iter_jsonl_text
from web4rl.sim.checks import (  # noqa: F401 - re-exported: callers import them from here
    CHECK_FIELDS,
    HistoryItem,
    TaskError,
    all_hold,
    check_holds,
)
from web4rl.sim.execute import TaskContext
from web4rl.sim.fs import Workspace, WorkspaceError
from web4rl.sim.tools import CANONICAL, ToolProfile, get_profile
from web4rl.sim.tools.translate import TranslationError, translate_actions, translate_check

CATEGORIES: tuple[str, ...] = (
    "tool_use",
    "multi_step",
    "code_generation",
    "search_and_edit",
    "refactor",
)
DIFFICULTIES: tuple[str, ...] = ("simple", "medium", "hard", "expert")
DEFAULT_MAX_STEPS = 20





@dataclass(frozen=True)
class Task:
    """One simulator task (see the module docstring for the JSON form).

    id: unique, stable name ("<category>/<slug>").
    description: the instruction shown to the model.
    category: one of CATEGORIES.
    difficulty: one of DIFFICULTIES.
    initial_files: {path relative to /workspace: text}.
    expected_actions: a reference solution, normalized {"tool", "args"} actions; also the
        sequence the correct-tool reward compares against.
    success: declarative checks, all of which must hold.
    max_steps: step budget (>= len(expected_actions)).
    open_file: path open in the editor (read_currently_open_file), or None.
    url_fixtures: {url: text} pages fetch_url_content can reach.
    tools: the profile expected_actions and checks are written in ("canonical" for a task
        as loaded; a profile name after :meth:`for_tools`).
    """

    id: str
    description: str
    category: str
    difficulty: str
    initial_files: dict[str, str]
    expected_actions: list[dict[str, Any]]
    success: list[dict[str, Any]]
    max_steps: int = DEFAULT_MAX_STEPS
    source: str = field(default="", compare=False)
    open_file: str | None = None
    url_fixtures: dict[str, str] = field(default_factory=dict)
    tools: str = "canonical"

    def context(self) -> TaskContext:
        """What the web4-only tools read (initial files, open file, URL fixtures)."""
        return TaskContext(self.initial_files, self.open_file, self.url_fixtures)

    def for_tools(self, tools: str | ToolProfile | None = None) -> Task:
        """This task with expected actions and checks in profile ``tools`` (default web4).

        Raises TranslationError when an action has no form in that profile.
        """
        profile = get_profile(tools)
        if self.tools == profile.name:
            return self
        if self.tools != "canonical":
            raise TranslationError(f"task {self.id!r} is already in the {self.tools} profile")
        key = (self, profile.name)
        cached = _TRANSLATED.get(key)
        if cached is None:
            cached = _translate(self, profile)
            if len(_TRANSLATED) > 4096:
                _TRANSLATED.clear()
            _TRANSLATED[key] = cached
        if isinstance(cached, TranslationError):
            raise cached
        return cached

    def supports(self, tools: str | ToolProfile | None = None) -> bool:
        """Whether the task can be played under profile ``tools``."""
        try:
            self.for_tools(tools)
        except TranslationError:
            return False
        return True

    def __hash__(self) -> int:  # frozen with dict fields: hash the identity-defining parts
        return hash((self.id, self.description, self.tools, len(self.expected_actions)))

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.open_file is not None:
            extra["open_file"] = self.open_file
        if self.url_fixtures:
            extra["url_fixtures"] = dict(self.url_fixtures)
        return {
            "id": self.id,
            "description": self.description,
            "category": self.category,
            "difficulty": self.difficulty,
            "initial_files": dict(self.initial_files),
            "expected_actions": [dict(a) for a in self.expected_actions],
            "success": [dict(c) for c in self.success],
            "max_steps": self.max_steps,
            **extra,
        }


_TRANSLATED: dict[tuple[Task, str], Task | TranslationError] = {}


def _translate(task: Task, profile: ToolProfile) -> Task | TranslationError:
    try:
        actions = translate_actions(
            task.expected_actions, profile, task.initial_files, task.open_file
        )
        checks = [translate_check(c, profile) for c in task.success]
    except TranslationError as exc:
        return TranslationError(f"task {task.id!r} has no {profile.name} form: {exc}")
    return replace(task, expected_actions=actions, success=checks, tools=profile.name)


# ---------------------------------------------------------------------------- validation
def _need(cond: bool, where: str, fieldname: str, message: str) -> None:
    if not cond:
        raise TaskError(f"{where}, field {fieldname!r}: {message}")


def task_from_dict(obj: Any, where: str = "<task>") -> Task:
    """Validate a task dict and build a Task; raises TaskError naming `where` and the field."""
    if not isinstance(obj, dict):
        raise TaskError(f"{where}: a task must be a JSON object, got {type(obj).__name__}")
    tid = obj.get("id")
    _need(isinstance(tid, str) and tid.strip() != "", where, "id", "must be a non-empty string")
    where = f"{where}, task {tid!r}"
    known = {
        "id",
        "description",
        "category",
        "difficulty",
        "initial_files",
        "expected_actions",
        "success",
        "max_steps",
        "open_file",
        "url_fixtures",
    }
    extra = sorted(set(obj) - known)
    _need(
        not extra,
        where,
        extra[0] if extra else "",
        f"unknown field (known: {', '.join(sorted(known))})",
    )
    desc = obj.get("description")
    _need(
        isinstance(desc, str) and desc.strip() != "",
        where,
        "description",
        "must be a non-empty string",
    )
    _need(
        obj.get("category") in CATEGORIES,
        where,
        "category",
        f"must be one of {', '.join(CATEGORIES)}",
    )
    _need(
        obj.get("difficulty") in DIFFICULTIES,
        where,
        "difficulty",
        f"must be one of {', '.join(DIFFICULTIES)}",
    )
    files = obj.get("initial_files", {})
    _need(isinstance(files, dict), where, "initial_files", "must be an object {path: text}")
    for path, text in files.items():
        _need(isinstance(text, str), where, f"initial_files.{path}", "must be text")
    try:
        Workspace(files)
    except WorkspaceError as exc:
        raise TaskError(f"{where}, field 'initial_files': {exc}") from None
    actions = obj.get("expected_actions")
    _need(
        isinstance(actions, list) and actions, where, "expected_actions", "must be a non-empty list"
    )
    for i, action in enumerate(actions):
        fname = f"expected_actions[{i}]"
        _need(
            isinstance(action, dict) and set(action) == {"tool", "args"},
            where,
            fname,
            'must be {"tool", "args"}',
        )
        _need(
            action["tool"] in CANONICAL.schemas,
            where,
            f"{fname}.tool",
            f"unknown tool {action['tool']!r} (tasks use the canonical tools: "
            f"{', '.join(CANONICAL.schemas)})",
        )
        problem = CANONICAL.validate(action["tool"], action["args"])
        _need(problem is None, where, f"{fname}.args", str(problem))
    checks = obj.get("success")
    _need(
        isinstance(checks, list) and checks, where, "success", "must be a non-empty list of checks"
    )
    for i, check in enumerate(checks):
        fname = f"success[{i}]"
        _need(isinstance(check, dict), where, fname, "must be an object with a 'type'")
        kind = check.get("type")
        _need(
            kind in CHECK_FIELDS,
            where,
            f"{fname}.type",
            f"must be one of {', '.join(CHECK_FIELDS)}",
        )
        required, optional = CHECK_FIELDS[kind]
        for name in required:
            _need(name in check, where, f"{fname}.{name}", f"required by {kind}")
        extra = sorted(set(check) - {"type", *required, *optional})
        _need(not extra, where, f"{fname}.{extra[0] if extra else ''}", f"not a field of {kind}")
        for name in ("path", "text", "pattern", "tool"):
            if name in check:
                _need(isinstance(check[name], str), where, f"{fname}.{name}", "must be a string")
        if "tool" in check:
            _need(
                check["tool"] in CANONICAL.schemas,
                where,
                f"{fname}.tool",
                f"unknown tool {check['tool']!r}",
            )
        if "pattern" in check:
            try:
                re.compile(check["pattern"])
            except re.error as exc:
                raise TaskError(f"{where}, field '{fname}.pattern': invalid regex: {exc}") from None
        if kind == "tool_called_with":
            _need(isinstance(check["args"], dict), where, f"{fname}.args", "must be an object")
    max_steps = obj.get("max_steps", DEFAULT_MAX_STEPS)
    _need(
        isinstance(max_steps, int)
        and not isinstance(max_steps, bool)
        and len(actions) <= max_steps <= 200,
        where,
        "max_steps",
        f"must be an integer between len(expected_actions)={len(actions)} and 200",
    )
    open_file = obj.get("open_file")
    _need(
        open_file is None or (isinstance(open_file, str) and open_file in files),
        where,
        "open_file",
        "must be the path of one of the initial_files",
    )
    fixtures = obj.get("url_fixtures", {})
    _need(
        isinstance(fixtures, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in fixtures.items()),
        where,
        "url_fixtures",
        "must be an object {url: text}",
    )
    return Task(
        id=tid,
        description=desc,
        category=obj["category"],
        difficulty=obj["difficulty"],
        initial_files=dict(files),
        expected_actions=[{"tool": a["tool"], "args": dict(a["args"])} for a in actions],
        success=[dict(c) for c in checks],
        max_steps=max_steps,
        source=where,
        open_file=open_file,
        url_fixtures=dict(fixtures),
    )


def as_task(task: Task | dict[str, Any]) -> Task:
    """Accept a Task or a task dict (validated)."""
    return task if isinstance(task, Task) else task_from_dict(task)


# ---------------------------------------------------------------------------- loading
def _line_of(text: str, tid: Any) -> int | None:
    """Line where the task with this id starts in a pretty-printed JSON file (best effort)."""
    if not isinstance(tid, str):
        return None
    m = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(tid)), text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def parse_tasks(text: str, name: str) -> list[Task]:
    """Parse task file text (JSON list / {"tasks": [...]} / JSONL by `name`'s suffix).

    Errors start with ``file:line`` (the project's one format, web4rl.jsonl); JSONL lines are
    read by the one JSONL reader.
    """
    tasks: list[Task] = []
    if name.endswith(".jsonl"):
        for loc, obj in iter_jsonl_text(text, name):
            if isinstance(obj, RowError):
                if loc.line == 0:
                    continue  # an empty task file holds no tasks
                raise TaskError(str(obj))
            tasks.append(task_from_dict(obj, str(loc)))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaskError(
                f"{name}:{exc.lineno}: malformed JSON: {exc.msg} at column {exc.colno}"
            ) from None
        items = data.get("tasks") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise TaskError(f'{name}:1: expected a list of tasks or {{"tasks": [...]}}')
        for i, obj in enumerate(items):
            line = _line_of(text, obj.get("id") if isinstance(obj, dict) else None)
            tasks.append(task_from_dict(obj, f"{name}:{line if line else '?'} (task #{i})"))
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise TaskError(f"{task.source}, field 'id': duplicate id {task.id!r}")
        seen.add(task.id)
    return tasks


def load_tasks(path: str | Path) -> list[Task]:
    """Load and validate tasks from a .json or .jsonl file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_tasks(text, str(p))


def load_builtin_tasks() -> list[Task]:
    """All handcrafted tasks shipped in web4rl/sim/task_data (sorted by file, then order)."""
    tasks: list[Task] = []
    root = resources.files("web4rl.sim") / "task_data"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".json", ".jsonl")):
            tasks.extend(parse_tasks(entry.read_text(encoding="utf-8"), f"task_data/{entry.name}"))
    ids = [t.id for t in tasks]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TaskError(f"task_data: duplicate task ids across files: {dupes}")
    return tasks
