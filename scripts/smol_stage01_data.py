"""Data of the Stage 0-1 measurement on SmolLM2 (docs/benchmarks.md, "Stage 0-1 on SmolLM2"),
all in the web4 tool dialect, nothing drawn from the held-out sets.

    python scripts/smol_stage01_data.py --out runs/smol/data [--generated 2] [--shipped 400]

Writes into ``--out``:

- ``sim_sft.jsonl``: ``python -m web4rl sim export-sft`` (web4 profile): every reference
  solution step of the handcrafted tasks and of ``--generated`` procedural tasks per category x
  difficulty (seeds 0..N-1; the held-out tasks of ``evaluate --tasks`` use the reserved block
  from 1.9e9). Its prompts carry the full tool catalog (~600 SmolLM2 tokens).
- ``shipped_web4.jsonl``: the shipped ``web4rl/sample_data/sft.jsonl`` minus its held-out test
  split (the default evaluation prompts), with the Cursor-dialect tool calls of the tool_use
  and multi_step rows rewritten into web4 calls by the simulator's own translation table
  (``web4rl.sim.tools.translate``); style and guardrail rows (no tool call) are kept as they
  are. ``--shipped`` rows at most, drawn with a fixed seed.
- ``train.jsonl`` / ``val.jsonl``: both sources; val holds out whole simulator tasks and shipped
  prompts (a few % of each), for val/loss only.
- ``pairs_train.jsonl`` / ``pairs_val.jsonl``: the shipped ``preferences.jsonl`` (minus any
  held-out prompt) in the web4 dialect: a chosen or rejected tool call that is a valid Cursor
  call is translated like above; an invalid one (the schema_fail rejections) and prose / code
  answers stay as they are (a Cursor-form call is also wrong in web4). ``--pairs`` at most.
- ``stage1_prompts.jsonl``: training prompts (never held-out ones) with ``expected_actions``
  in web4 form, for ``python -m web4rl sample --score`` (the Stage 1 RLAIF pairs).
- ``heldout_prompts.jsonl``: the default evaluation prompts (the shipped test split) with the
  gold actions translated to web4 ``expected_actions``, so the judge scores the tool choice in
  the dialect the model was trained in (``python -m web4rl evaluate --eval-file``).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web4rl.evaluation.evalset import default_eval_prompts  # noqa: E402
from web4rl.sim.tools import get_profile  # noqa: E402
from web4rl.sim.tools.translate import TranslationError, translate_actions  # noqa: E402

WEB4 = get_profile("web4")
CURSOR = get_profile("cursor")


def web4_text(actions: list[dict]) -> str:
    """Actions as one web4 answer: ``{"tool_calls": [{"name", "parameters"}, ...]}``."""
    return json.dumps({"tool_calls": [{"name": a["tool"], "parameters": a["args"]}
                                      for a in actions]}, ensure_ascii=False)


def translated(completion: str) -> list[dict] | None:
    """The Cursor-dialect action(s) of a shipped completion in web4 form, None if not one."""
    try:
        obj = json.loads(completion)
    except json.JSONDecodeError:
        return None
    actions = obj if isinstance(obj, list) else [obj]
    if not all(isinstance(a, dict) and isinstance(a.get("tool"), str) for a in actions):
        return None
    actions = [{"tool": a["tool"], "args": a.get("args", {})} for a in actions]
    if any(CURSOR.validate(a["tool"], a["args"]) is not None for a in actions):
        return None  # not a valid Cursor call: nothing to translate
    try:
        return translate_actions(actions, "web4")
    except TranslationError:
        return None


def shipped_rows(limit: int, seed: int) -> tuple[list[dict], list[dict], Counter]:
    """(training rows, held-out eval rows, counts) from the shipped SFT sample data."""
    heldout = default_eval_prompts()
    held_text = {p.text for p in heldout}
    counts: Counter = Counter()
    train = []
    lines = (ROOT / "web4rl" / "sample_data" / "sft.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        row = json.loads(line)
        if row["prompt"] in held_text:
            counts["held_out_skipped"] += 1
            continue
        if row["category"] in ("tool_use", "multi_step"):
            actions = translated(row["completion"])
            if actions is None:
                counts["untranslatable"] += 1
                continue
            row = {**row, "completion": web4_text(actions), "expected_actions": actions}
        train.append(row)
    random.Random(seed).shuffle(train)
    train = train[:limit]
    counts.update(f"train_{r['category']}" for r in train)
    evals = []
    for p in heldout:
        row = {"id": p.id, "prompt": p.chat(), "category": p.category}
        actions = translated(p.reference or "") if p.category in ("tool_use", "multi_step") else None
        if actions is not None:
            row.update(completion=web4_text(actions), expected_actions=actions)
        elif p.reference is not None:
            row["completion"] = p.reference
        evals.append(row)
    counts["heldout_prompts"] = len(evals)
    counts["heldout_with_expected_actions"] = sum("expected_actions" in r for r in evals)
    return train, evals, counts


def preference_rows(limit: int, seed: int, counts: Counter) -> list[dict]:
    """The shipped preference pairs in the web4 dialect (see the module docstring)."""
    held = {p.text for p in default_eval_prompts()}
    lines = (ROOT / "web4rl" / "sample_data" / "preferences.jsonl").read_text(
        encoding="utf-8").splitlines()
    out = []
    for line in lines:
        row = json.loads(line)
        if row["prompt"] in held:
            counts["pairs_held_out_skipped"] += 1
            continue
        for side in ("chosen", "rejected"):
            actions = translated(row[side])
            if actions is not None:
                row[side] = web4_text(actions)
                counts[f"pairs_{side}_translated"] += 1
        if row["chosen"] == row["rejected"]:  # both became the same call
            counts["pairs_identical_skipped"] += 1
            continue
        out.append({k: row[k] for k in ("prompt", "chosen", "rejected", "category")})
    random.Random(seed).shuffle(out)
    out = out[:limit]
    counts.update(f"pairs_{r['category']}" for r in out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--generated", type=int, default=2, help="procedural tasks per category x "
                    "difficulty for export-sft")
    ap.add_argument("--shipped", type=int, default=400, help="most shipped rows in train")
    ap.add_argument("--pairs", type=int, default=256, help="most preference pairs (train+val)")
    ap.add_argument("--val-fraction", type=float, default=0.06)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sim_path = out / "sim_sft.jsonl"
    subprocess.run([sys.executable, "-m", "web4rl", "sim", "export-sft", "--out", str(sim_path),
                    "--generated", str(args.generated), "--tools", "web4", "--overwrite"],
                   check=True, cwd=ROOT)
    sim = [json.loads(line) for line in sim_path.read_text(encoding="utf-8").splitlines()]
    shipped, evals, counts = shipped_rows(args.shipped, args.seed)
    (out / "shipped_web4.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in shipped), encoding="utf-8")

    rng = random.Random(args.seed)
    task_ids = sorted({r["task_id"] for r in sim})
    val_tasks = set(rng.sample(task_ids, max(1, round(args.val_fraction * len(task_ids)))))
    n_val_shipped = max(1, round(args.val_fraction * len(shipped)))
    train = [r for r in sim if r["task_id"] not in val_tasks] + shipped[n_val_shipped:]
    val = [r for r in sim if r["task_id"] in val_tasks] + shipped[:n_val_shipped]
    rng.shuffle(train)

    def dump(name: str, rows: list[dict]) -> None:
        (out / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                encoding="utf-8")

    # The SFT rows without the fields the SFT reader does not know.
    keep = ("messages", "prompt", "completion", "category")
    dump("train.jsonl", [{k: r[k] for k in keep if k in r} for r in train])
    dump("val.jsonl", [{k: r[k] for k in keep if k in r} for r in val])
    # Stage 1 prompts: the first turn of each training simulator task (its reference first
    # action as expected_actions) and the training shipped prompts (theirs, when a tool call).
    stage1 = []
    for r in train:
        if "messages" in r:
            if len(r["messages"]) != 3:  # system, user, assistant: the task's first step
                continue
            first = json.loads(r["messages"][-1]["content"])["tool_calls"]
            stage1.append({"prompt": r["messages"][:-1], "category": r["category"], "tools": "web4",
                           "expected_actions": [{"tool": c["name"], "args": c["parameters"]}
                                                for c in first]})
        else:
            row = {"prompt": r["prompt"], "category": r["category"], "tools": "web4"}
            if "expected_actions" in r:
                row["expected_actions"] = r["expected_actions"]
            stage1.append(row)
    dump("stage1_prompts.jsonl", stage1)
    pairs = preference_rows(args.pairs, args.seed, counts)
    n_val_pairs = max(1, round(args.val_fraction * len(pairs)))
    dump("pairs_val.jsonl", pairs[:n_val_pairs])
    dump("pairs_train.jsonl", pairs[n_val_pairs:])
    dump("heldout_prompts.jsonl", evals)
    counts.update(sim_rows=len(sim), sim_tasks=len(task_ids), val_sim_tasks=len(val_tasks),
                  train_rows=len(train), val_rows=len(val), stage1_prompts=len(stage1))
    print(json.dumps(dict(sorted(counts.items())), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
