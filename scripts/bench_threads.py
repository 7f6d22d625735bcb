"""Torch CPU threads: 1 vs 2 side by side, alone or next to a competing CPU-bound process.

    python scripts/bench_threads.py                      # ORPO step time, 1 vs 2 threads, 3 rounds
    python scripts/bench_threads.py --compete            # ... with one busy-loop process beside it
    python scripts/bench_threads.py --main-job auto      # wall time of the whole cpu main job
    python scripts/bench_threads.py --main-job 1 --compete

Step runs go through scripts/bench_train.py (one subprocess per run, interleaved 1, 2, 1, 2, ...
so a machine whose load changes affects both settings alike); medians and the 2-thread/1-thread
ratio are printed. ``--main-job N|auto`` times ``python -m web4rl fit --config orpo_cpu.yaml``
in a temporary directory, with OMP_NUM_THREADS=N or, for ``auto``, unset (the CLI then picks the
count from the cores other processes leave free). The machine's load average is printed with
every figure: on a shared machine read ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _busy_loop() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def step_times(rounds: int, steps: int) -> dict[int, list[float]]:
    times: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for threads in (1, 2):
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            env.pop("OMP_NUM_THREADS", None)
            out = subprocess.run(
                [sys.executable, str(ROOT / "scripts/bench_train.py"), "--algorithm", "orpo",
                 "--steps", str(steps), "--warmup", "2", "--threads", str(threads)],
                capture_output=True, text=True, check=True, env=env).stdout
            result = json.loads(out.strip().splitlines()[-1])
            times[threads].append(result["sec_per_step"])
            print(f"round {r + 1} threads {threads}: {result['sec_per_step']:.3f} s/step "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    return times


def main_job(threads: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WANDB_MODE": "offline"}
    env.pop("OMP_NUM_THREADS", None)
    if threads != "auto":
        env["OMP_NUM_THREADS"] = threads
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "web4rl", "fit", "--config", "orpo_cpu.yaml"],
                              cwd=tmp, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    picked = [ln for ln in proc.stderr.splitlines() if "torch CPU thread" in ln]
    print(proc.stdout[-1500:])
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        raise SystemExit(proc.returncode)
    print(f"main job, threads {threads}: {elapsed:.0f} s wall (load {os.getloadavg()[0]:.1f}) "
          f"{picked[0] if picked else ''}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compete", action="store_true", help="run a busy loop beside it")
    parser.add_argument("--main-job", metavar="N|auto", help="time the whole cpu main job")
    args = parser.parse_args()
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()}", flush=True)
    competitor = _busy_loop() if args.compete else None
    try:
        if args.main_job:
            main_job(args.main_job)
            return 0
        times = step_times(args.rounds, args.steps)
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"median s/step: 1 thread {one:.3f}, 2 threads {two:.3f}; 2 threads / 1 thread = "
          f"{two / one:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
