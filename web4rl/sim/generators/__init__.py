"""Procedural task generators: seeded, realistic TypeScript/React workspaces, every category.

:func:`generate_task` (category, difficulty, seed) -> :class:`~web4rl.sim.tasks.Task` is a pure
function of its arguments. Each task comes with a reference solution (expected_actions) and
declarative success checks; the test suite replays many seeds of every (category, difficulty)
to prove they are solvable and not solved by doing nothing.

Layout: :mod:`~web4rl.sim.generators.project` builds the workspace (data tables, the project
builder); one module per task category builds the task on it (tool_use, multi_step,
code_generation, search_and_edit, refactor).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from web4rl.sim.generators.code_generation import _code_generation
from web4rl.sim.generators.multi_step import _multi_step
from web4rl.sim.generators.project import (
    DOMAINS,
    FILES_BY_DIFFICULTY,
    MAX_STEPS_BY_DIFFICULTY,
    Domain,
    Project,
    build_project,
)
from web4rl.sim.generators.refactor import _refactor
from web4rl.sim.generators.search_and_edit import _search_and_edit
from web4rl.sim.generators.tool_use import WEB4_VARIANT_SHARE, _tool_use
from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES, Task, task_from_dict

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


__all__ = [
    "BUILDERS",
    "DOMAINS",
    "FILES_BY_DIFFICULTY",
    "MAX_STEPS_BY_DIFFICULTY",
    "WEB4_VARIANT_SHARE",
    "Domain",
    "Project",
    "build_project",
    "generate_task",
]
