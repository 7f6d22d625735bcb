"""Task format, the handcrafted set, procedural generators, curriculum, CLI."""

import io
import json
import random
import re
from collections import Counter

import numpy as np
import pytest

from web4rl.sim.cli import main
from web4rl.sim.curriculum import CurriculumScheduler, TaskGenerator
from web4rl.sim.episode import Episode, verify_task
from web4rl.sim.generators import generate_task
from web4rl.sim.tasks import (
    CATEGORIES,
    DIFFICULTIES,
    TaskError,
    load_builtin_tasks,
    load_tasks,
    parse_tasks,
    task_from_dict,
)
from web4rl.sim.tools import PROFILE_NAMES

BUILTIN = load_builtin_tasks()


def test_at_least_50_tasks_cover_every_category_and_difficulty():
    assert len(BUILTIN) >= 50
    assert len({t.id for t in BUILTIN}) == len(BUILTIN)
    cells = Counter((t.category, t.difficulty) for t in BUILTIN)
    assert set(cells) == {(c, d) for c in CATEGORIES for d in DIFFICULTIES}


IDLE = {
    "cursor": '{"tool": "list_dir", "args": {"target_directory": "."}}',
    "web4": '{"tool_calls": [{"name": "ls", "parameters": {"path": "."}}]}',
}


@pytest.mark.parametrize("tools", PROFILE_NAMES)
@pytest.mark.parametrize("task", BUILTIN, ids=lambda t: t.id)
def test_handcrafted_task_is_solved_by_expected_actions_only(task, tools):
    if not task.supports(tools):
        # Only tasks built on web4-only tools (view_diff, fetch_url_content) lack a cursor form.
        assert tools == "cursor"
        assert {a["tool"] for a in task.expected_actions} & {"view_diff", "fetch_url_content"}
        return
    result = verify_task(task, tools=tools)  # also checks "not solved by doing nothing"
    assert result.problems == []
    assert result.steps == len(task.expected_actions)
    idle = Episode(task, include_catalog=False, tools=tools)
    for _ in range(task.max_steps):
        out = idle.step(IDLE[tools])
    assert out.truncated and not idle.success


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_generated_tasks_are_solvable_and_deterministic(category, difficulty):
    for seed in range(6):
        task = generate_task(category, difficulty, seed)
        for tools in PROFILE_NAMES:
            if task.supports(tools):
                assert verify_task(task, tools=tools).problems == [], (tools, task.id, seed)
            else:
                assert tools == "cursor", task.id
        assert generate_task(category, difficulty, seed) == task
    files = generate_task(category, difficulty, 0).initial_files
    assert "package.json" in files and any(p.endswith(".tsx") for p in files)
    assert any("useState" in text for text in files.values())


def test_generated_workspace_sizes_grow_with_difficulty():
    sizes = [len(generate_task("tool_use", d, 3).initial_files) for d in DIFFICULTIES]
    assert sizes == sorted(sizes) and sizes[-1] == 20


def minimal(**overrides):
    task = {
        "id": "t/1",
        "description": "Do it.",
        "category": "tool_use",
        "difficulty": "simple",
        "initial_files": {"a.ts": "x\n"},
        "expected_actions": [{"tool": "read_file", "args": {"target_file": "a.ts"}}],
        "success": [{"type": "tool_called", "tool": "read_file"}],
        "max_steps": 3,
    }
    task.update(overrides)
    return task


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"category": "cooking"}, "category"),
        ({"difficulty": "nightmare"}, "difficulty"),
        ({"expected_actions": [{"tool": "read_file", "args": {}}]}, "expected_actions[0].args"),
        ({"expected_actions": [{"tool": "rm", "args": {}}]}, "expected_actions[0].tool"),
        ({"success": [{"type": "vibes"}]}, "success[0].type"),
        ({"success": [{"type": "file_contains", "path": "a.ts"}]}, "success[0].text"),
        (
            {"success": [{"type": "file_matches", "path": "a.ts", "pattern": "("}]},
            "success[0].pattern",
        ),
        ({"max_steps": 0}, "max_steps"),
        ({"initial_files": {"../x": "y"}}, "initial_files"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_tasks_name_the_field(overrides, field):
    with pytest.raises(TaskError, match="field '" + re.escape(field)):
        task_from_dict(minimal(**overrides), "f.json")


def test_file_errors_name_file_and_line(tmp_path):
    good = minimal()
    bad = minimal(id="t/2", difficulty="nightmare")
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"tasks": [good, bad]}, indent=2))
    with pytest.raises(TaskError) as err:
        load_tasks(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"t/2"' in text)
    assert (
        f"{path}:{line}" in str(err.value)
        and "'t/2'" in str(err.value)
        and "'difficulty'" in str(err.value)
    )
    jsonl = tmp_path / "tasks.jsonl"
    jsonl.write_text(json.dumps(good) + "\n\n" + "{oops\n")
    with pytest.raises(TaskError, match=r"tasks.jsonl:3: malformed JSON"):
        load_tasks(jsonl)
    jsonl.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(TaskError, match="duplicate id"):
        load_tasks(jsonl)
    with pytest.raises(TaskError, match="cannot read"):
        load_tasks(tmp_path / "missing.json")
    assert [t.id for t in parse_tasks(json.dumps([good]), "x.json")] == ["t/1"]


def test_task_dict_roundtrip():
    task = BUILTIN[0]
    assert task_from_dict(json.loads(json.dumps(task.to_dict()))) == task


def test_curriculum_phase_mix_and_sampling():
    cur = CurriculumScheduler()
    assert cur.mix() == pytest.approx({"simple": 0.7, "medium": 0.25, "hard": 0.05, "expert": 0.0})
    rng = np.random.default_rng(0)
    draws = Counter(cur.sample_difficulty(rng) for _ in range(4000))
    assert draws["expert"] == 0 and 0.66 < draws["simple"] / 4000 < 0.74
    for _ in range(2000):
        cur.update("simple", True)
    assert cur.mix() == pytest.approx({"simple": 0.3, "medium": 0.5, "hard": 0.15, "expert": 0.05})
    cur.load_state_dict({**cur.state_dict(), "episodes": 10_000})
    assert cur.mix() == pytest.approx({"simple": 0.2, "medium": 0.4, "hard": 0.3, "expert": 0.1})


def test_adaptive_curriculum_moves_weight_and_state_roundtrips():
    cur = CurriculumScheduler(adaptive=True, ema=0.5)
    for _ in range(20):
        cur.update("simple", True)
        cur.update("medium", False)
        cur.update("hard", False)
        cur.update("hard", True)
    mix = cur.mix()
    assert mix["expert"] == 0.0  # a phase weight of 0 stays 0
    assert mix["simple"] < 0.7 and mix["hard"] > 0.05
    restored = CurriculumScheduler(adaptive=True, ema=0.5)
    restored.load_state_dict(json.loads(json.dumps(cur.state_dict())))
    assert restored.mix() == cur.mix() and restored.episodes == 80
    with pytest.raises(ValueError):
        CurriculumScheduler(phases=[(10, (1, 0, 0))])


def test_task_generator_draws_by_difficulty_and_is_seeded():
    gen = TaskGenerator(procedural_fraction=0.5)
    a = [gen.sample(random.Random(s), difficulty="hard").id for s in range(30)]
    b = [TaskGenerator().sample(random.Random(s), difficulty="hard").id for s in range(30)]
    assert a == b
    assert any(i.startswith("gen/") for i in a) and any(not i.startswith("gen/") for i in a)
    only = TaskGenerator(procedural_fraction=1.0, categories=["refactor"])
    task = only.sample(np.random.default_rng(1), difficulty="expert")
    assert (
        task.category == "refactor" and task.difficulty == "expert" and task.id.startswith("gen/")
    )


def run_cli(*argv, stdin=""):
    out = io.StringIO()
    code = main(list(argv), stdout=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def test_cli_list_and_validate(tmp_path):
    code, text = run_cli("list", "--category", "refactor")
    assert code == 0 and "refactor/" in text and "tool_use/" not in text
    code, text = run_cli("validate", "--generated", "1")
    assert code == 0 and f"{len(BUILTIN) + 20}/{len(BUILTIN) + 20} tasks verified" in text
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(minimal(success=[{"type": "file_exists", "path": "a.ts"}])) + "\n")
    code, text = run_cli("validate", str(broken))
    assert code == 1 and "solved by doing nothing" in text
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    code, text = run_cli("list", "--tasks", str(bad))
    assert code == 2 and "bad.jsonl:1: malformed JSON" in text


def test_cli_play_and_replay(tmp_path):
    log = tmp_path / "play.jsonl"
    actions = "\n".join(
        [
            '{"tool": "read_file", "args": {"target_file": "main.ts"}}',
            "",
            '{"tool": "run_terminal_cmd", "args": {"command": "wc -l main.ts"}}',
        ]
    )
    code, text = run_cli(
        "play",
        "--task",
        "tool_use/count-lines-main",
        "--log",
        str(log),
        "--no-catalog",
        "--tools",
        "cursor",
        stdin=actions,
    )
    assert code == 0 and "SUCCESS  return +23.0" in text
    web4 = "\n".join(
        [
            '{"tool_calls": [{"name": "read_file", "parameters": {"path": "main.ts"}}]}',
            '{"tool_calls": [{"name": "run_terminal_command", "parameters": '
            '{"command": "wc -l main.ts", "working_directory": "."}}]}',
        ]
    )
    code, text = run_cli("play", "--task", "tool_use/count-lines-main", "--no-catalog", stdin=web4)
    assert code == 0 and "SUCCESS  return +23.0" in text, text
    code, text = run_cli("replay", str(log))
    assert code == 0 and "wc -l main.ts" in text and "=== SUCCESS  return +23.0  steps 2" in text
    code, text = run_cli("play", "--generate", "refactor", "hard", "5", stdin="")
    assert code == 0 and "NOT SOLVED" in text
    assert run_cli("play", "--task", "nope")[0] == 2
    assert run_cli("play")[0] == 2
    assert run_cli("replay", str(tmp_path / "missing.jsonl"))[0] == 2
    assert run_cli("bogus")[0] == 2
