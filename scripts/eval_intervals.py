"""Counts, 95% intervals and paired differences for ``python -m web4rl evaluate`` results, so a
before/after table says which differences are larger than the noise of a few hundred samples.

    python scripts/eval_intervals.py runs/smol/eval_base runs/smol/eval_sft runs/smol/eval_dpo

Each argument is an ``evaluate -o`` directory (its ``eval.json`` and ``generations/``; an adapter
found in two directories has their prompts and tasks merged); the same prompts and tasks must
have been evaluated for each adapter (same ``--eval-file``, ``--tasks``), or pass ``--common``.
The first adapter found is the baseline of the paired columns.

- rates (JSON-valid, schema-valid, first action): ``k/n`` and a Wilson 95% interval;
- judge mean reward: mean and a bootstrap 95% interval (2,000 resamples of prompts, seed 0);
- paired vs the baseline, on the same prompts / tasks: the mean reward difference with a paired
  bootstrap interval, and for first-action accuracy the discordant counts (this one right,
  baseline wrong / the reverse) with an exact two-sided sign-test p-value.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

COMPONENTS = {"json_validity": "json", "schema_compliance": "schema"}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap(values: list[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial p-value of wins vs losses (ties dropped), p = 0.5."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(0, min(wins, losses) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def load(directory: Path) -> dict[str, dict]:
    """adapter name -> {"prompts": {id: generation row}, "tasks": {id: row}, "settings"}."""
    report = directory / "eval.json"
    if not report.is_file():  # an unfinished or mistyped run: say which, not a pathlib traceback
        print(f"eval_intervals: {report}: not found (is {directory} a finished "
              "`web4rl evaluate -o` directory?)", file=sys.stderr)
        raise SystemExit(2)
    result = json.loads(report.read_text(encoding="utf-8"))
    out = {}
    for name, entry in result["adapters"].items():
        gens = {}
        path = directory / "generations" / f"{name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            gens[row["prompt_id"]] = row
        out[name] = {"prompts": gens, "tasks": {t["task_id"]: t for t in entry["tasks"]},
                     "settings": result["settings"], "values": entry["values"]}
    return out


def rate(rows, key) -> tuple[int, int]:
    vals = [r["components"].get(key) for r in rows]
    vals = [v for v in vals if v is not None]
    return sum(v >= 0.5 for v in vals), len(vals)


def fmt_rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / n:.2f} [{lo:.2f}, {hi:.2f}]" if n else "n/a"


def table(adapters: dict[str, dict]) -> str:
    names = list(adapters)
    base = adapters[names[0]]
    ids = sorted(base["prompts"])
    task_ids = sorted(base["tasks"])
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]

    def row(label, cells):
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for metric, key in COMPONENTS.items():
        row(metric, [fmt_rate(*rate([a["prompts"][i] for i in ids], key))
                     for a in adapters.values()])
    cells = []
    for a in adapters.values():
        rewards = [a["prompts"][i]["reward"] for i in ids]
        lo, hi = bootstrap(rewards)
        cells.append(f"{sum(rewards) / len(rewards):.3f} [{lo:.3f}, {hi:.3f}]")
    row(f"reward_mean ({len(ids)} prompts)", cells)
    cells = []
    for name, a in adapters.items():
        if name == names[0]:
            cells.append("(baseline)")
            continue
        diffs = [a["prompts"][i]["reward"] - base["prompts"][i]["reward"] for i in ids]
        lo, hi = bootstrap(diffs)
        cells.append(f"{sum(diffs) / len(diffs):+.3f} [{lo:+.3f}, {hi:+.3f}]")
    row(f"reward vs {names[0]} (paired)", cells)
    if task_ids:
        row(f"first_action_accuracy ({len(task_ids)} tasks)",
            [fmt_rate(sum(a["tasks"][t]["first_action_correct"] for t in task_ids), len(task_ids))
             for a in adapters.values()])
        row("task_success (1 step)",
            [fmt_rate(sum(a["tasks"][t]["success"] for t in task_ids), len(task_ids))
             for a in adapters.values()])
        cells = []
        for name, a in adapters.items():
            if name == names[0]:
                cells.append("(baseline)")
                continue
            won = sum(a["tasks"][t]["first_action_correct"] and not base["tasks"][t]["first_action_correct"]
                      for t in task_ids)
            lost = sum(base["tasks"][t]["first_action_correct"] and not a["tasks"][t]["first_action_correct"]
                       for t in task_ids)
            cells.append(f"+{won} / -{lost}, p = {sign_test(won, lost):.3g}")
        row(f"first action vs {names[0]} (paired)", cells)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="evaluate -o directories")
    ap.add_argument("--common", action="store_true", help="compare only the prompts and tasks "
                    "every directory evaluated (e.g. one run used a smaller --limit / --tasks)")
    args = ap.parse_args()
    adapters: dict[str, dict] = {}
    for d in args.dirs:
        for name, entry in load(d).items():
            if name in adapters:  # e.g. its prompts and its tasks evaluated in two runs
                adapters[name]["prompts"].update(entry["prompts"])
                adapters[name]["tasks"].update(entry["tasks"])
                continue
            adapters[name] = entry
    first = next(iter(adapters.values()))
    if args.common:  # greedy decoding in fixed chunks: a shorter run's rows equal the longer's
        ids = set.intersection(*(set(a["prompts"]) for a in adapters.values()))
        tasks = set.intersection(*(set(a["tasks"]) for a in adapters.values()))
        for a in adapters.values():
            a["prompts"] = {i: r for i, r in a["prompts"].items() if i in ids}
            a["tasks"] = {t: r for t, r in a["tasks"].items() if t in tasks}
    for name, a in adapters.items():
        if set(a["prompts"]) != set(first["prompts"]) or set(a["tasks"]) != set(first["tasks"]):
            print(f"eval_intervals: {name}: other prompts or tasks than the baseline "
                  "(--common compares the shared ones)", file=sys.stderr)
            return 2
    print(table(adapters))
    return 0


if __name__ == "__main__":
    sys.exit(main())
