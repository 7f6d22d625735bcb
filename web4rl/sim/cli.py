"""``python -m web4rl sim ...``: list and validate tasks, play an episode by hand, replay a log.

Subcommands (``--tools web4|cursor`` picks the tool profile; default web4):
    list      [--tasks FILE] [--category C] [--difficulty D]   tasks playable in the profile
    validate  [FILE ...] [--generated N]     replay every task's expected actions (exit 1 on problems)
    play      (--task ID [--tasks FILE] | --generate CATEGORY DIFFICULTY SEED) [--log PATH]
              reads one action per line from stdin (JSON), prints observations and rewards
    replay    LOG [--episode N] [--observations]
    export-sft --out FILE [--generated N]  reference solutions as multi-turn SFT rows
              (``python -m web4rl sim export-sft``: web4rl.cli dispatches it to
              web4rl.rollout.export, which renders like the rollouts; sim cannot import it)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from web4rl.sim.episode import verify_task
from web4rl.sim.generators import generate_task
from web4rl.sim.logs import read_log, render_episode
from web4rl.sim.tasks import (
    CATEGORIES,
    DIFFICULTIES,
    Task,
    TaskError,
    load_builtin_tasks,
    load_tasks,
)
from web4rl.sim.tools import DEFAULT_PROFILE, PROFILE_NAMES


def _tasks(files: Sequence[str] | None) -> list[Task]:
    if not files:
        return load_builtin_tasks()
    out: list[Task] = []
    for f in files:
        out.extend(load_tasks(f))
    return out


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    tasks = [
        t
        for t in _tasks(args.tasks)
        if (args.category is None or t.category == args.category)
        and (args.difficulty is None or t.difficulty == args.difficulty)
        and t.supports(args.tools)
    ]
    width = max((len(t.id) for t in tasks), default=2)
    print(
        f"{'id':<{width}}  {'category':<15} {'difficulty':<10} {'expected':>8} {'max':>4}", file=out
    )
    for t in tasks:
        print(
            f"{t.id:<{width}}  {t.category:<15} {t.difficulty:<10} {len(t.expected_actions):>8} {t.max_steps:>4}",
            file=out,
        )
    print(f"{len(tasks)} tasks", file=out)
    return 0


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    tasks = _tasks(args.files)
    for category in CATEGORIES:
        for difficulty in DIFFICULTIES:
            tasks.extend(
                generate_task(category, difficulty, seed) for seed in range(args.generated)
            )
    bad = skipped = 0
    for t in tasks:
        if not t.supports(args.tools):
            skipped += 1  # built on tools the profile lacks (view_diff under cursor)
            continue
        result = verify_task(t, tools=args.tools)
        if result.problems:
            bad += 1
            for problem in result.problems:
                print(f"FAIL {t.id}: {problem}", file=out)
    n = len(tasks) - skipped
    note = f" ({skipped} without a {args.tools} form skipped)" if skipped else ""
    print(f"{n - bad}/{n} tasks verified with tools={args.tools}{note}", file=out)
    return 1 if bad else 0


def _cmd_play(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from web4rl.sim.env import ToolUseEnv

    if args.generate:
        category, difficulty, seed = args.generate
        task = generate_task(category, difficulty, int(seed))
    else:
        matches = [t for t in _tasks(args.tasks) if t.id == args.task]
        if not matches:
            print(f"no task with id {args.task!r} (see `sim list`)", file=out)
            return 2
        task = matches[0]
    if not task.supports(args.tools):
        print(f"task {task.id!r} has no form in the {args.tools} tool profile", file=out)
        return 2
    env = ToolUseEnv(log_path=args.log, include_catalog=not args.no_catalog, tools=args.tools)
    obs, _ = env.reset(options={"task": task})
    print(obs, file=out)
    total = 0.0
    for line in stdin:
        if not line.strip():
            continue
        obs, reward, terminated, truncated, info = env.step(line.rstrip("\n"))
        total += reward
        nonzero = {k: v for k, v in info["reward_components"].items() if v}
        print(f"\n--- reward {reward:+.1f} (total {total:+.1f}) {nonzero}\n{obs}", file=out)
        if terminated or truncated:
            break
    if env.logger is not None:
        env.logger.close()
    ep = env.episode
    print(f"\n{'SUCCESS' if ep and ep.success else 'NOT SOLVED'}  return {total:+.1f}", file=out)
    return 0


def _cmd_replay(args: argparse.Namespace, out: TextIO) -> int:
    try:
        episodes = read_log(args.log)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.log}: {exc}", file=out)
        return 2
    chosen = episodes if args.episode is None else episodes[args.episode : args.episode + 1]
    if not chosen:
        print(f"{args.log}: no episode {args.episode} (log has {len(episodes)})", file=out)
        return 2
    for records in chosen:
        print(render_episode(records, show_observations=args.observations), file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="web4rl sim", description="Stage 3 tool-use simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list tasks")
    p.add_argument(
        "--tasks", action="append", help="task file (.json/.jsonl); default: built-in tasks"
    )
    p.add_argument("--category", choices=CATEGORIES)
    p.add_argument("--difficulty", choices=DIFFICULTIES)
    p = sub.add_parser("validate", help="validate tasks and replay their expected actions")
    p.add_argument("files", nargs="*", help="task files; default: built-in tasks")
    p.add_argument(
        "--generated",
        type=int,
        default=0,
        help="also verify N procedural seeds per category x difficulty",
    )
    p = sub.add_parser("play", help="play an episode by hand (one JSON action per stdin line)")
    p.add_argument("--task", help="task id")
    p.add_argument("--tasks", action="append", help="task file to find --task in")
    p.add_argument("--generate", nargs=3, metavar=("CATEGORY", "DIFFICULTY", "SEED"))
    p.add_argument("--log", help="append the episode to this JSONL log")
    p.add_argument(
        "--no-catalog", action="store_true", help="leave the tool catalog out of observations"
    )
    for name in ("list", "validate", "play"):
        sub.choices[name].add_argument(
            "--tools",
            choices=PROFILE_NAMES,
            default=DEFAULT_PROFILE,
            help="tool profile (default: %(default)s)",
        )
    p = sub.add_parser("replay", help="replay an episode log readably")
    p.add_argument("log")
    p.add_argument("--episode", type=int, help="only this episode (0-based)")
    p.add_argument("--observations", action="store_true", help="also print each observation")
    return parser


def main(
    argv: list[str] | None = None, *, stdout: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    """Entry point; returns the exit status (0 ok, 1 validation failures, 2 usage errors)."""
    out = stdout or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "play" and not args.task and not args.generate:
        print("play needs --task ID or --generate CATEGORY DIFFICULTY SEED", file=out)
        return 2
    if args.command == "play" and args.generate:
        category, difficulty, seed = args.generate
        if category not in CATEGORIES or difficulty not in DIFFICULTIES or not seed.isdigit():
            print(
                f"--generate needs a category in {CATEGORIES}, a difficulty in {DIFFICULTIES} and an integer seed",
                file=out,
            )
            return 2
    try:
        if args.command == "list":
            return _cmd_list(args, out)
        if args.command == "validate":
            return _cmd_validate(args, out)
        if args.command == "play":
            return _cmd_play(args, out, stdin or sys.stdin)
        return _cmd_replay(args, out)
    except TaskError as exc:
        print(f"error: {exc}", file=out)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
