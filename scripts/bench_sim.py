"""Benchmark the Stage 3 simulator: env steps/s and episodes/s, single process.

    python scripts/bench_sim.py [--steps 20000] [--repeats 3] [--tools web4,cursor]

Measures, for each tool profile, on a 20-file procedural TypeScript/React workspace, through
the public gymnasium API (`ToolUseEnv.step`, observations with the tool catalog, info with
reward components); the same canonical actions are translated to each profile's tools, and
episodes continue after a failed call (`end_on_error=False`) so a step is a step:
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
from web4rl.sim.rewards import RewardConfig
from web4rl.sim.tasks import load_builtin_tasks, task_from_dict
from web4rl.sim.tools import get_profile
from web4rl.sim.tools.translate import translate_actions

KEEP_GOING = RewardConfig(end_on_error=False)
DOCS = "https://docs.example.com/api"


def bench_task() -> dict:
    """A 20-file workspace whose success check never holds, so episodes run long."""
    base = generate_task("tool_use", "expert", 0).to_dict()
    assert len(base["initial_files"]) == 20
    base.update(
        id="bench/20-files",
        success=[{"type": "file_exists", "path": "never/there.txt"}],
        max_steps=200,
        open_file=sorted(p for p in base["initial_files"] if p.endswith(".tsx"))[0],
        url_fixtures={DOCS: "# API\n\nBase URL: https://api.example.com/v2\n"},
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


def profile_actions(acts: dict[str, dict], files: dict[str, str], tools: str) -> dict[str, str]:
    """Each canonical action as JSON text in the profile's own tools and answer format."""
    profile = get_profile(tools)
    out = {}
    for name, a in acts.items():
        (b,) = translate_actions([a], profile, files)
        out[name] = profile.format_action(b["tool"], b["args"])
    if profile.name == "web4":
        for tool, args in (
            ("view_diff", {}),
            ("read_currently_open_file", {}),
            ("fetch_url_content", {"url": DOCS}),
            ("create_rule_block", {"rule": "Use named exports"}),
        ):
            out[tool] = profile.format_action(tool, args)
    return out


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


def run_episodes(tasks: list, rounds: int, tools: str) -> tuple[float, float, float]:
    """(episodes per wall s, steps per wall s, episodes per CPU s) replaying expected actions."""
    env = ToolUseEnv(tools=tools)
    profile = get_profile(tools)
    scripts = [
        (
            t,
            [
                profile.format_action(a["tool"], a["args"])
                for a in t.for_tools(tools).expected_actions
            ],
        )
        for t in tasks
        if t.supports(tools)
    ]
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


def run_batched(
    task: dict, group: int, n_steps: int, texts: list[str], tools: str
) -> tuple[float, float]:
    batch = BatchedToolUseEnv(KEEP_GOING, tools=tools)
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
    parser.add_argument("--tools", default="web4,cursor", help="comma-separated profiles")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    )
    for tools in args.tools.split(","):
        bench_profile(tools.strip(), args)


def bench_profile(tools: str, args: argparse.Namespace) -> None:
    task = bench_task()
    acts = ordinary_actions(task["initial_files"])
    texts = profile_actions(acts, task["initial_files"], tools)
    read_only = ["read_file", "grep", "glob_file_search", "list_dir", "run_terminal_cmd"]
    mixed = [texts[n] for n in read_only + ["search_replace"]]
    rows: list[tuple[str, tuple[float, float]]] = []

    def env(**kw) -> ToolUseEnv:
        return ToolUseEnv(rewards=KEEP_GOING, tools=tools, **kw)

    def median(fn) -> tuple[float, float]:
        runs = [fn() for _ in range(args.repeats)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    for name in texts:
        per = max(args.steps // 4, 1000)
        tool = (
            json.loads(texts[name]).get("tool") or json.loads(texts[name])["tool_calls"][0]["name"]
        )
        rows.append(
            (
                f"{name} only" + (f" (as {tool})" if tool != name else ""),
                median(lambda n=name, per=per: run_steps(env(), task, [texts[n]], per)),
            )
        )
    rows.append(
        (
            "mixed ordinary cycle (5 read-only tools + search_replace)",
            median(lambda: run_steps(env(), task, mixed, args.steps)),
        )
    )
    rows.append(
        (
            "mixed cycle, catalog left out of observations",
            median(lambda: run_steps(env(include_catalog=False), task, mixed, args.steps)),
        )
    )
    if tools == "web4":
        web4_mix = mixed + [texts["view_diff"], texts["read_currently_open_file"]]
        rows.append(
            (
                "mixed cycle + view_diff + read_currently_open_file",
                median(lambda: run_steps(env(), task, web4_mix, args.steps)),
            )
        )
    rows.append(
        (
            "invalid JSON actions",
            median(lambda: run_steps(env(), task, ["{not json"], args.steps // 2)),
        )
    )
    rows.append(
        (
            "BatchedToolUseEnv group of 4, mixed cycle",
            median(lambda: run_batched(task, 4, args.steps // 4, mixed, tools)),
        )
    )
    builtin = [t for t in load_builtin_tasks() if t.supports(tools)]
    eps = [run_episodes(builtin, 10, tools) for _ in range(args.repeats)]
    ep_rate = statistics.median(e[0] for e in eps)
    ep_steps = statistics.median(e[1] for e in eps)
    ep_cpu = statistics.median(e[2] for e in eps)

    print(f"\n### tools={tools}\n")
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
