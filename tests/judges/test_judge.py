"""Judge normalization, weights, row validation and the shipped preference pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import web4rl
from web4rl.judges.judge import (
    PENALTIES,
    POSITIVE,
    Judge,
    JudgeWeights,
    Sample,
    normalize,
    weights_from_dict,
)
from web4rl.judges.lint import find_biome
from web4rl.sim.tools import PROFILE_NAMES, get_profile


def test_design_weights_are_the_defaults():
    w = JudgeWeights()
    assert (w.json, w.schema, w.tool_success, w.lint, w.ast) == (1.0, 1.0, 1.0, 1.0, 0.5)
    assert (w.guardrail, w.verbosity, w.off_policy) == (-2.0, -0.1, -0.5)


def test_normalize_hand_computed():
    """json 1, schema 1, tool 0.5, ast 0 (w 0.5): positive = (1 + 1 + 0.5 + 0) / 3.5.

    Penalties: verbosity 3 units * 0.1 + off_policy 0.5 * 0.5 = 0.55.
    """
    comps = dict.fromkeys(POSITIVE + PENALTIES)
    comps.update(json=1.0, schema=1.0, tool_success=0.5, ast=0.0, verbosity=3.0, off_policy=0.5)
    reward, pos, pen = normalize(comps, JudgeWeights())
    assert pos == pytest.approx(2.5 / 3.5)
    assert pen == pytest.approx(0.55)
    assert reward == pytest.approx(2.5 / 3.5 - 0.55)
    comps["guardrail"] = 1.0
    assert normalize(comps, JudgeWeights())[0] == 0.0  # clipped at 0
    empty = dict.fromkeys(POSITIVE + PENALTIES)
    assert normalize(empty, JudgeWeights(), nonempty=True)[0] == 1.0
    assert normalize(empty, JudgeWeights(), nonempty=False)[0] == 0.0
    many = {**empty, "verbosity": 50.0}
    assert normalize(many, JudgeWeights())[2] == pytest.approx(1.0)  # capped at 10 units


def test_weights_validation_and_overrides():
    with pytest.raises(ValueError, match="guardrail must be <= 0"):
        JudgeWeights(guardrail=1.0)
    with pytest.raises(ValueError, match="lint must be >= 0"):
        JudgeWeights(lint=-1.0)
    with pytest.raises(ValueError, match="unknown judge weight"):
        weights_from_dict({"nope": 1.0})
    w = weights_from_dict({"ast": 0.0})
    j = Judge(w, use_linter=False)
    bad = "```ts\nconst = 1;\n```"
    assert j.score(Sample("write a constant", bad)).reward == 1.0  # AST weighted out
    # Default weights: ast 0 (w 0.5), naming 1 (0.5), types 1 (0.5) -> 1.0 / 1.5.
    default = Judge(use_linter=False).score(Sample("write a constant", bad)).reward
    assert default == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("row", "msg"),
    [
        ({"completion": "x"}, "'prompt' must be a string (missing)"),
        ({"prompt": "p", "completion": 3}, "'completion' must be a string (int)"),
        ({"prompt": "p", "completion": "c", "category": 1}, "'category'"),
        ({"prompt": "p", "completion": "c", "task": "t"}, "unknown built-in task id 't'"),
        ({"prompt": "p", "completion": "c", "task": 5}, "'task' must be a Stage 3 task"),
        ({"prompt": "p", "completion": "c", "task": {"success": [1]}}, "'task.success'"),
        (
            {"prompt": "p", "completion": "c", "expected_actions": [{"args": {}}]},
            "expected_actions",
        ),
        ({"prompt": "p", "completion": "c", "task": {"initial_files": {"a": 1}}}, "initial_files"),
        ([1], "must be a JSON object"),
    ],
)
def test_sample_from_row_errors_name_the_field(row, msg):
    with pytest.raises(ValueError, match="f.jsonl:3") as e:
        Sample.from_row(row, "f.jsonl:3")
    assert msg in str(e.value)


def test_task_supplies_files_gold_and_category():
    task = {
        "category": "tool_use",
        "initial_files": {"a.ts": "x\n"},
        "expected_actions": [{"tool": "read_file", "args": {"target_file": "a.ts"}}],
    }
    s = Sample.from_row({"prompt": "Read a.ts", "completion": "", "task": task})
    assert s.files == {"a.ts": "x\n"} and s.category == "tool_use" and len(s.expected_actions) == 1
    res = Judge(use_linter=False).score(s)  # empty completion for a tool task: nothing earned
    assert res.reward == 0.0 and res.components["json"] == 0.0


LIST_ROOT = {
    "cursor": ("list_dir", {"target_directory": "."}),
    "web4": ("ls", {"path": "."}),
}


def test_every_component_key_is_always_present():
    res = Judge(use_linter=False).score(Sample("hi", "hello"))
    assert set(POSITIVE + PENALTIES) <= set(res.components)
    assert {"steps", "gold_steps", "prompt_bleu", "positive", "penalty"} <= set(res.components)


def test_shipped_preference_pairs_chosen_never_below_rejected():
    """The package's sample preference pairs: the judge should agree with the human label.

    Asserted loosely (the file is sample data others maintain): chosen >= rejected on 97% of
    pairs and strictly above on 70%. At the time of writing: 0 losses, 92% wins.
    """
    path = Path(web4rl.__file__).parent / "sample_data" / "preferences.jsonl"
    if not path.exists():
        pytest.skip("no shipped preference sample")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    judge = Judge(use_linter=False, tools="cursor")  # the sample data speaks the cursor tools
    ch = judge.score_batch([Sample(r["prompt"], r["chosen"], r.get("category")) for r in rows])
    rj = judge.score_batch([Sample(r["prompt"], r["rejected"], r.get("category")) for r in rows])
    wins = sum(c.reward > r.reward for c, r in zip(ch, rj, strict=True))
    losses = sum(c.reward < r.reward for c, r in zip(ch, rj, strict=True))
    assert losses <= 0.03 * len(rows), losses
    assert wins >= 0.70 * len(rows), wins


def test_shipped_sft_gold_rows_score_high():
    """Gold SFT completions (package sample data) are what the judge should reward: at the
    time of writing the mean is 0.996 with no guardrail finding; asserted loosely."""
    path = Path(web4rl.__file__).parent / "sample_data" / "sft.jsonl"
    if not path.exists():
        pytest.skip("no shipped SFT sample")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [
        r for r in rows if isinstance(r.get("prompt"), str) and isinstance(r.get("completion"), str)
    ]
    judge = Judge(use_linter=False, tools="cursor")  # the sample data speaks the cursor tools
    res = judge.score_batch([Sample.from_row(r) for r in rows])
    assert sum(r.reward >= 0.9 for r in res) >= 0.95 * len(rows)
    assert sum(r.components["guardrail"] for r in res) <= 0.01 * len(rows)


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_builtin_task_by_id_and_task_success(tools):
    """A row may name a built-in simulator task; its success checks feed task_success. The
    task's canonical gold plan and checks are translated to the judge's profile."""
    from web4rl.sim.tasks import load_builtin_tasks

    task = next(t for t in load_builtin_tasks() if t.success and len(t.expected_actions) <= 3)
    gold = json.dumps(task.for_tools(tools).expected_actions)
    judge = Judge(use_linter=False, tools=tools)
    good = judge.score(
        Sample.from_row({"prompt": task.description, "completion": gold, "task": task.id})
    )
    assert good.components["task_success"] == 1.0 and good.components["off_policy"] == 0.0
    assert good.reward >= 0.9
    noop = get_profile(tools).format_action(*LIST_ROOT[tools])
    bad = judge.score(
        Sample.from_row({"prompt": task.description, "completion": noop, "task": task.id})
    )
    assert bad.components["task_success"] == 0.0 and bad.reward < good.reward


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_builtin_task_gold_solutions_score_high(tools):
    """Judge and simulator agree: every built-in task's own solution scores >= 0.85, in
    either profile (the gold plan in the profile's own answer format).

    (At the time of writing: mean 0.985; the only deductions are gold plans that restate
    grep's default output_mode.)
    """
    from web4rl.sim.tasks import load_builtin_tasks

    profile = get_profile(tools)
    tasks = [t for t in load_builtin_tasks() if t.supports(tools)]
    rows = [
        {
            "prompt": t.description,
            "completion": json.dumps(
                {
                    "tool_calls": [
                        {"name": a["tool"], "parameters": a["args"]}
                        for a in t.for_tools(profile).expected_actions
                    ]
                }
            ),
            "task": t.id,
        }
        for t in tasks
    ]
    res = Judge(tools=tools).score_batch([Sample.from_row(r) for r in rows])
    low = [
        (t.id, round(r.reward, 3), r.notes[:2])
        for t, r in zip(tasks, res, strict=True)
        if r.reward < 0.85
    ]
    assert not low
    assert all(r.components["task_success"] in (1.0, None) for r in res)


@pytest.mark.skipif(find_biome() is None, reason="Biome not installed")
def test_edits_are_judged_on_what_they_introduce():
    """A pre-existing lint error / naming slip in the task file is not the edit's fault."""
    original = "export const eq = (a: number) => a == 1;\nexport const my_value = 1;\n"
    task = {"initial_files": {"src/a.ts": original}}

    def edit(new_string):
        call = {
            "tool": "search_replace",
            "args": {
                "file_path": "src/a.ts",
                "old_string": "my_value = 1",
                "new_string": new_string,
            },
        }
        return Sample.from_row(
            {
                "prompt": "Set my_value to 2 in src/a.ts",
                "completion": json.dumps(call),
                "task": task,
                "tools": "cursor",
            }
        )

    judge = Judge()
    clean = judge.score(edit("my_value = 2"))
    assert clean.components["lint"] == 1.0 and clean.components["naming"] == 1.0
    dirty = judge.score(edit("my_value = 2;\nexport const b = (x: number) => x == 2"))
    assert dirty.components["lint"] == 0.0


def test_code_request_answered_without_code_is_not_a_free_pass():
    """A style (code) prompt answered with text that holds no code used to score 1.0: no
    positive component applied and normalization treats "nothing to check" as perfect. The
    missing code is now an AST failure; real code still scores high."""
    prompt = "Write a controlled ReviewForm with useState and a typed onSubmit."
    judge = Judge(use_linter=False)
    gibberish = judge.score(Sample(prompt=prompt, completion="lorem ipsum qzx form form ok",
                                   category="style"))
    assert gibberish.components["ast"] == 0.0 and gibberish.reward < 0.5
    assert any("asks for code" in note for note in gibberish.notes)
    code = ("```tsx\nimport { useState } from 'react';\n\n"
            "export function ReviewForm({ onSubmit }: { onSubmit: (text: string) => void }) {\n"
            "  const [text, setText] = useState('');\n"
            "  return <form onSubmit={() => onSubmit(text)}>"
            "<input value={text} onChange={(e) => setText(e.target.value)} /></form>;\n}\n```")
    assert judge.score(Sample(prompt=prompt, completion=code, category="style")).reward > 0.8
