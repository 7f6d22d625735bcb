"""The row type the judge scores, and its validation (each error names the row and field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from web4rl.sim.tasks import load_builtin_tasks
from web4rl.sim.tools import PROFILE_NAMES


@dataclass(frozen=True)
class Sample:
    """What the judge scores.

    Attributes:
        prompt: the request.
        completion: the model's output.
        category: row category (tool_use, style, multi_step, guardrail, ...), optional.
        expected_actions: the gold plan (normalized actions), optional.
        files: the task's initial files; None means no task workspace is known.
        success: the task's declarative success checks (web4rl.sim.tasks), optional.
        tools: the tool profile the completion is judged in ("web4" / "cursor"); None: the
            judge's own. Gold actions and checks written in the canonical task form are
            translated to it.
        open_file, url_fixtures: the task's editor file and URL pages (web4-only tools).
    """

    prompt: str
    completion: str
    category: str | None = None
    expected_actions: tuple[dict[str, Any], ...] | None = None
    files: Mapping[str, str] | None = None
    success: tuple[dict[str, Any], ...] | None = None
    tools: str | None = None
    open_file: str | None = None
    url_fixtures: Mapping[str, str] | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], where: str = "row") -> Sample:
        """Build from a sample row; raises ValueError naming ``where`` and the field."""
        if not isinstance(row, Mapping):
            raise ValueError(f"{where}: a row must be a JSON object, got {type(row).__name__}")
        for key in ("prompt", "completion"):
            if not isinstance(row.get(key), str):
                got = "missing" if key not in row else type(row[key]).__name__
                raise ValueError(f"{where}: field {key!r} must be a string ({got})")
        cat = row.get("category")
        if cat is not None and not isinstance(cat, str):
            raise ValueError(f"{where}: field 'category' must be a string")
        tools = row.get("tools")
        if tools is not None and tools not in PROFILE_NAMES:
            raise ValueError(f"{where}: field 'tools' must be one of {', '.join(PROFILE_NAMES)}")
        task = row.get("task")
        if isinstance(task, str):
            task = _builtin_task(task, where)
        if task is not None and not isinstance(task, Mapping):
            raise ValueError(
                f"{where}: field 'task' must be a Stage 3 task object or a built-in task id"
            )
        expected = row.get("expected_actions")
        if expected is None and task is not None:
            expected = task.get("expected_actions")
        if expected is not None:
            ok = isinstance(expected, list) and all(
                isinstance(a, Mapping)
                and isinstance(a.get("tool"), str)
                and isinstance(a.get("args", {}), Mapping)
                for a in expected
            )
            if not ok:
                raise ValueError(
                    f"{where}: field 'expected_actions' must be a list of "
                    '{"tool": name, "args": {...}} objects'
                )
            expected = tuple({"tool": a["tool"], "args": dict(a.get("args", {}))} for a in expected)
        files = None
        if task is not None:
            files = task.get("initial_files", {})
            if not isinstance(files, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise ValueError(f"{where}: field 'task.initial_files' must map paths to text")
            cat = cat or task.get("category")
        success = task.get("success") if task is not None else None
        if success is not None:
            if not isinstance(success, list) or not all(
                isinstance(c, Mapping) and isinstance(c.get("type"), str) for c in success
            ):
                raise ValueError(f"{where}: field 'task.success' must be a list of checks")
            success = tuple(dict(c) for c in success)
        open_file = task.get("open_file") if task is not None else None
        fixtures = task.get("url_fixtures") if task is not None else None
        if open_file is not None and not isinstance(open_file, str):
            raise ValueError(f"{where}: field 'task.open_file' must be a path")
        if fixtures is not None and not (
            isinstance(fixtures, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in fixtures.items())
        ):
            raise ValueError(f"{where}: field 'task.url_fixtures' must map URLs to text")
        return cls(
            row["prompt"],
            row["completion"],
            cat,
            expected,
            files,
            success or None,
            tools,
            open_file,
            fixtures,
        )


@cache
def _builtin_tasks() -> dict[str, dict[str, Any]]:
    return {t.id: t.to_dict() for t in load_builtin_tasks()}


def _builtin_task(task_id: str, where: str) -> dict[str, Any]:
    """A built-in simulator task by id (rows may name a task instead of inlining it)."""
    tasks = _builtin_tasks()
    if task_id not in tasks:
        raise ValueError(f"{where}: field 'task': unknown built-in task id {task_id!r}")
    return tasks[task_id]
