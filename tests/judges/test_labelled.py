"""The judge on its labelled set (tests/judges/data/labelled.jsonl, built by build_labelled.py).

Labels and expected verdicts were set when the rows were constructed, not by running the
judge. Asserted here: per-row reward bounds and exact component values, good above bad within
every group, the seed's ordering of failure kinds within every tool task, and determinism.
Rows whose verdict depends on the Biome linter are checked only when Biome is installed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from web4rl.judges.judge import Judge, Sample
from web4rl.judges.lint import find_biome

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "labelled.jsonl").read_text().splitlines()
    if line.strip()
]
HAVE_BIOME = find_biome() is not None


@pytest.fixture(scope="module")
def scored():
    judge = Judge(use_linter=HAVE_BIOME)
    results = judge.score_batch([Sample.from_row(r, r["id"]) for r in ROWS])
    return {r["id"]: res for r, res in zip(ROWS, results, strict=True)}


def test_set_is_large_and_balanced_enough():
    labels = [r["label"] for r in ROWS]
    assert len(ROWS) >= 100
    assert labels.count("good") >= 40 and labels.count("bad") >= 40
    kinds = {r["kind"] for r in ROWS}
    # The seed's own examples are all present.
    assert {"wrong_tool", "missing_arg", "unsafe_rm", "verbose_defaults", "minimal"} <= kinds
    assert {"style_component", "style_var", "style_file"} <= kinds


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_row_verdict(row, scored):
    if row.get("needs_lint") and not HAVE_BIOME:
        pytest.skip("verdict depends on Biome (python -m web4rl.judges.lint --install)")
    res = scored[row["id"]]
    exp = row["expect"]
    ctx = f"{row['id']}: reward {res.reward:.3f} components {res.components} notes {res.notes}"
    assert 0.0 <= res.reward <= 1.0
    if "reward_min" in exp:
        assert res.reward >= exp["reward_min"] - 1e-9, ctx
    if "reward_max" in exp:
        assert res.reward <= exp["reward_max"] + 1e-9, ctx
    for name, value in exp.get("components", {}).items():
        assert res.components[name] == pytest.approx(value), f"{name}: {ctx}"
    for name, value in exp.get("components_min", {}).items():
        assert res.components[name] is not None and res.components[name] >= value, f"{name}: {ctx}"
    if row["label"] == "good":
        assert res.reward >= 0.9, ctx


def test_good_outranks_bad_in_every_group(scored):
    groups = defaultdict(lambda: {"good": [], "bad": []})
    for r in ROWS:
        if r.get("needs_lint") and not HAVE_BIOME:
            continue
        groups[r["group"]][r["label"]].append((scored[r["id"]].reward, r["id"]))
    checked = 0
    for name, g in groups.items():
        if g["good"] and g["bad"]:
            worst_good, best_bad = min(g["good"]), max(g["bad"])
            assert worst_good[0] > best_bad[0], (name, worst_good, best_bad)
            checked += 1
    assert checked >= 30


# Within a tool task: minimal > verbose > wrong tool / missing arg > invalid JSON = unsafe = 0.
ORDER = [
    ("minimal", "verbose_defaults"),
    ("minimal", "extra_step"),
    ("minimal", "off_policy"),
    ("verbose_defaults", "wrong_tool"),
    ("extra_step", "wrong_tool"),
    ("off_policy", "wrong_tool"),
    ("verbose_defaults", "missing_arg"),
    ("wrong_tool", "invalid_json"),
    ("missing_arg", "invalid_json"),
    ("wrong_type", "unsafe_rm"),
    ("unknown_arg", "prose"),
]


def test_failure_kinds_are_ordered_within_each_tool_task(scored):
    by_group = defaultdict(dict)
    for r in ROWS:
        by_group[r["group"]][r["kind"]] = scored[r["id"]].reward
    tool_groups = [g for g, k in by_group.items() if "minimal" in k]
    assert len(tool_groups) >= 10
    for g in tool_groups:
        kinds = by_group[g]
        for better, worse in ORDER:
            if better in kinds and worse in kinds:
                assert kinds[better] > kinds[worse], (g, better, kinds[better], worse, kinds[worse])
        assert kinds["minimal"] == kinds["openai_form"] == kinds["fenced"] == 1.0
        assert kinds["invalid_json"] == kinds["unsafe_rm"] == 0.0


def test_deterministic_and_batch_equals_single(scored):
    judge = Judge(use_linter=HAVE_BIOME)
    picked = ROWS[::17]
    again = judge.score_batch([Sample.from_row(r) for r in picked])
    for r, res in zip(picked, again, strict=True):
        assert res.reward == scored[r["id"]].reward
        assert res.components == scored[r["id"]].components
    one = judge.score(Sample.from_row(picked[0]))
    assert one.reward == scored[picked[0]["id"]].reward
