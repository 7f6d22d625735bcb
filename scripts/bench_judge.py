"""Benchmark the Stage 2 judge: samples scored per second with and without the Biome linter.

Samples: the package's preference pairs (chosen and rejected completions, a mix of tool
calls, code answers and refusals) plus the judge's labelled test set, repeated to --n.
Scoring goes through Judge.score_batch in batches of --batch-size, as `web4rl score` does.

    python scripts/bench_judge.py            # prints a markdown table for docs/benchmarks.md
    python scripts/bench_judge.py --n 4000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import time
from pathlib import Path

import web4rl
from web4rl.judges.judge import Judge, Sample
from web4rl.judges.lint import find_biome

ROOT = Path(__file__).resolve().parent.parent


def load_samples(n: int) -> list[Sample]:
    """Deterministic mix of real-shaped samples, cycled to exactly n."""
    base: list[Sample] = []
    prefs = Path(web4rl.__file__).parent / "sample_data" / "preferences.jsonl"
    if prefs.exists():
        for line in prefs.read_text().splitlines():
            r = json.loads(line)
            base.append(Sample(r["prompt"], r["chosen"], r.get("category")))
            base.append(Sample(r["prompt"], r["rejected"], r.get("category")))
    labelled = ROOT / "tests" / "judges" / "data" / "labelled.jsonl"
    if labelled.exists():
        for line in labelled.read_text().splitlines():
            r = json.loads(line)
            base.append(Sample.from_row(r, r["id"]))
    if not base:
        raise SystemExit("no benchmark samples found (sample_data/preferences.jsonl, labelled set)")
    return [base[i % len(base)] for i in range(n)]


def _cpu() -> float:
    """CPU seconds of this process plus finished children (the Biome processes)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_judge(judge: Judge, samples: list[Sample], batch: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to score all samples. CPU time is the figure to trust on
    a shared machine: wall time also counts waiting for other processes."""
    t0, c0 = time.perf_counter(), _cpu()
    for i in range(0, len(samples), batch):
        judge.score_batch(samples[i : i + batch])
    return time.perf_counter() - t0, _cpu() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="samples per timed run")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per setting (median kept)")
    args = ap.parse_args()

    samples = load_samples(args.n)
    biome = find_biome()
    settings = [("without linter", Judge(use_linter=False))]
    if biome:
        settings.append(("with Biome linter", Judge(use_linter=True)))
    # Warm-up: tree-sitter grammars, regex compilation, Biome's first start.
    for _, judge in settings:
        judge.score_batch(samples[: min(64, len(samples))])
    code_share = sum(
        bool(r.lint_status != "n/a") for r in settings[-1][1].score_batch(samples)
    ) / len(samples)

    rows = []
    for name, judge in settings:
        runs = [time_judge(judge, samples, args.batch_size) for _ in range(args.repeats)]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rows.append((name, len(samples) / wall, len(samples) / cpu, wall))
    version = "not installed"
    if biome:
        version = subprocess.run(
            [biome, "--version"], capture_output=True, text=True
        ).stdout.strip()

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, Biome: {version}"
    )
    print(
        f"Samples: {len(samples)} (preference pairs + labelled set, {code_share:.0%} with "
        f"JS/TS code to lint), batch size {args.batch_size}, median of {args.repeats} runs\n"
    )
    print(f"Load average at the end: {os.getloadavg()[0]:.1f} (wall figures include waiting)\n")
    print("| setting | samples / s (wall) | samples / CPU-second | wall seconds per run |")
    print("|---|---:|---:|---:|")
    for name, rate, cpu_rate, wall in rows:
        print(f"| {name} | {rate:,.0f} | {cpu_rate:,.0f} | {wall:.2f} |")
    if not biome:
        print("\n(Biome not installed: run `python -m web4rl.judges.lint --install` to time it)")


if __name__ == "__main__":
    main()
