"""Benchmark the Stage 3 simulator: env steps/s and episodes/s, single process.

    python scripts/bench_sim.py [--steps 20000] [--repeats 3]

Measures, on a 20-file procedural TypeScript/React workspace, through the public
gymnasium API (`ToolUseEnv.step`, observations with the tool catalog, info with reward
components):
  * steps/s for each ordinary tool and for a mixed cycle of them;
  * episodes/s replaying all handcrafted tasks' expected actions (reset + steps);
  * steps/s of a BatchedToolUseEnv GRPO group (4 episodes of one task).
Reports the median of --repeats runs. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

from web4rl.sim.env import BatchedToolUseEnv, ToolUseEnv
from web4rl.sim.generators import generate_task
from web4rl.sim.tasks import load_builtin_tasks, task_from_dict


def bench_task() -> dict:
    """A 20-file workspace whose success check never holds, so episodes run long."""
    base = generate_task("tool_use", "expert", 0).to_dict()
    assert len(base["initial_files"]) == 20
    base.update(
        id="bench/20-files",
        success=[{"type": "file_exists", "path": "never/there.txt"}],
        max_steps=200,
    )
    return task_from_dict(base).to_dict()


def ordinary_actions(files: dict[str, str]) -> dict[str, str]:
    """One representative action text per tool (name -> JSON text)."""
    tsx = sorted(p for p in files if p.endswith(".tsx"))[0]
    return {
        "read_file": {"tool": "read_file", "args": {"target_file": tsx}},
        "grep": {"tool": "grep", "args": {"pattern": "useState|useEffect", "path": "src"}},
        "glob_file_search": {"tool": "glob_file_search", "args": {"glob_pattern": "*.tsx"}},
        "list_dir": {"tool": "list_dir", "args": {"target_directory": "src/components"}},
        "run_terminal_cmd": {
            "tool": "run_terminal_cmd",
            "args": {"command": f"grep -n return {tsx} | wc -l"},
        },
        "codebase_search": {
            "tool": "codebase_search",
            "args": {"query": "fetch items from the api"},
        },
        "search_replace": {
            "tool": "search_replace",
            "args": {"file_path": tsx, "old_string": "<h3>", "new_string": "<h4>"},
        },
        "write": {
            "tool": "write",
            "args": {"file_path": "src/utils/new.ts", "contents": "export const x = 1;\n"},
        },
    }


def run_steps(env: ToolUseEnv, task: dict, texts: list[str], n: int) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) for n steps cycling through texts."""
    env.reset(seed=0, options={"task": task})
    start, cpu = time.perf_counter(), time.process_time()
    k = len(texts)
    for i in range(n):
        _, _, terminated, truncated, _ = env.step(texts[i % k])
        if terminated or truncated:
            env.reset(options={"task": task})
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu, 1e-9)


def run_episodes(tasks: list, rounds: int) -> tuple[float, float, float]:
    """(episodes per wall s, steps per wall s, episodes per CPU s) replaying expected actions."""
    env = ToolUseEnv()
    scripts = [(t, [json.dumps(a) for a in t.expected_actions]) for t in tasks]
    episodes = steps = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for task, texts in scripts:
            env.reset(options={"task": task})
            for text in texts:
                env.step(text)
                steps += 1
            episodes += 1
    elapsed = time.perf_counter() - start
    return episodes / elapsed, steps / elapsed, episodes / max(time.process_time() - cpu, 1e-9)


def run_batched(task: dict, group: int, n_steps: int, texts: list[str]) -> tuple[float, float]:
    batch = BatchedToolUseEnv()
    batch.reset_group(task, group)
    start, cpu = time.perf_counter(), time.process_time()
    done_steps = 0
    for i in range(n_steps):
        batch.step([texts[(i + j) % len(texts)] for j in range(group)])
        done_steps += group
        if all(batch.done):
            batch.reset_group(task, group)
    return done_steps / (time.perf_counter() - start), done_steps / max(
        time.process_time() - cpu, 1e-9
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    task = bench_task()
    acts = ordinary_actions(task["initial_files"])
    texts = {name: json.dumps(a) for name, a in acts.items()}
    read_only = ["read_file", "grep", "glob_file_search", "list_dir", "run_terminal_cmd"]
    mixed = [texts[n] for n in read_only + ["search_replace"]]
    rows: list[tuple[str, tuple[float, float]]] = []

    def median(fn) -> tuple[float, float]:
        runs = [fn() for _ in range(args.repeats)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    for name in acts:
        per = max(args.steps // 4, 1000)
        rows.append(
            (
                f"{name} only",
                median(lambda n=name, per=per: run_steps(ToolUseEnv(), task, [texts[n]], per)),
            )
        )
    rows.append(
        (
            "mixed ordinary cycle (5 read-only tools + search_replace)",
            median(lambda: run_steps(ToolUseEnv(), task, mixed, args.steps)),
        )
    )
    rows.append(
        (
            "mixed cycle, catalog left out of observations",
            median(lambda: run_steps(ToolUseEnv(include_catalog=False), task, mixed, args.steps)),
        )
    )
    rows.append(
        (
            "invalid JSON actions",
            median(lambda: run_steps(ToolUseEnv(), task, ["{not json"], args.steps // 2)),
        )
    )
    rows.append(
        (
            "BatchedToolUseEnv group of 4, mixed cycle",
            median(lambda: run_batched(task, 4, args.steps // 4, mixed)),
        )
    )
    builtin = load_builtin_tasks()
    eps = [run_episodes(builtin, 10) for _ in range(args.repeats)]
    ep_rate = statistics.median(e[0] for e in eps)
    ep_steps = statistics.median(e[1] for e in eps)
    ep_cpu = statistics.median(e[2] for e in eps)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    )
    print(
        f"workspace: {len(task['initial_files'])} files, {sum(len(t) for t in task['initial_files'].values())} characters"
    )
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print("| workload | env steps / s (wall) | env steps / CPU-second |")
    print("|---|---:|---:|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")
    print(
        f"| replay of the {len(builtin)} handcrafted tasks (reset + expected actions) | {ep_steps:,.0f} | |"
    )
    mean_len = sum(len(t.expected_actions) for t in builtin) / len(builtin)
    print(
        f"\nepisodes / s (handcrafted replays, {mean_len:.1f} steps each on average): "
        f"{ep_rate:,.0f} wall, {ep_cpu:,.0f} per CPU-second"
    )


if __name__ == "__main__":
    main()
