"""``python -m web4rl sim export-sft``: reference solutions -> multi-turn SFT conversations.

Each task's reference solution (its expected actions in the chosen tool profile) is played in
the simulator, one action per assistant turn, and written as SFT rows in the exact layout the
rollout engine uses (same system prompt, task turn and tool turns, :mod:`web4rl.rollout.render`):
one row per assistant turn, ``{"messages": [system, user, assistant, tool, ..., assistant]}``
whose last message is the turn to learn. An SFT adapter trained on them can act in the
simulator before RL (the CPU warm start). Held-out tasks (:mod:`web4rl.rollout.tasksplit`)
are never exported.

    python -m web4rl sim export-sft --out runs/warm_sft.jsonl --generated 40 \\
        --difficulties simple medium [--tools web4] [--no-handcrafted]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from web4rl.rollout.render import opening_messages
from web4rl.rollout.tasksplit import split_tasks


def conversation_rows(task, tools: str = "web4", max_reply_chars: int = 4000) -> list[dict]:
    """SFT rows (one per assistant turn) of ``task``'s reference solution; [] if it fails."""
    from web4rl.rollout.envs import SimTurnEnv

    env = SimTurnEnv(task, tools=tools, max_reply_chars=max_reply_chars)
    messages = opening_messages(tools, env.first_message())
    rows = []
    profile = getattr(env.episode, "profile", None)
    for action in env.episode.task.expected_actions:  # translated to the profile
        # In the JSON form the profile's catalog asks for (web4: {"tool_calls": [...]}).
        text = (profile.format_action(action["tool"], action["args"]) if profile is not None
                else json.dumps(action, ensure_ascii=False))
        messages = messages + [{"role": "assistant", "content": text}]
        rows.append({"messages": messages, "category": task.category,
                     "task_id": task.id, "difficulty": task.difficulty})
        out = env.step(text)
        if out.done:
            break
        messages = messages + [{"role": "tool", "content": out.reply}]
    return rows if env.episode.success else []


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="web4rl sim export-sft", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="JSONL file to write")
    p.add_argument("--tools", default="web4", help="tool profile (web4 or cursor)")
    p.add_argument("--generated", type=int, default=20,
                   help="procedural tasks per category x difficulty (seeds 0..N-1)")
    p.add_argument("--categories", nargs="*", help="task categories (default: all)")
    p.add_argument("--difficulties", nargs="*", default=["simple", "medium"])
    p.add_argument("--no-handcrafted", action="store_true", help="only procedural tasks")
    p.add_argument("--max-reply-chars", type=int, default=4000)
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    return p


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None) -> int:
    from web4rl.sim.generators import generate_task
    from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES

    out = stdout or sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    cats = args.categories or list(CATEGORIES)
    bad = [c for c in cats if c not in CATEGORIES] + [d for d in args.difficulties
                                                      if d not in DIFFICULTIES]
    if bad:
        print(f"export-sft: unknown category/difficulty {bad}; categories {CATEGORIES}, "
              f"difficulties {DIFFICULTIES}", file=out)
        return 2
    target = Path(args.out)
    if target.exists() and not args.overwrite:
        print(f"export-sft: {target} exists; pass --overwrite to replace it", file=out)
        return 2
    try:
        from web4rl.sim.tools import get_profile

        get_profile(args.tools)
    except (ImportError, ValueError, KeyError) as exc:
        print(f"export-sft: --tools {args.tools}: {exc}", file=out)
        return 2
    train, held = split_tasks(cats)
    held_ids = {t.id for t in held}
    tasks = [] if args.no_handcrafted else [t for t in train if t.difficulty in args.difficulties]
    tasks += [generate_task(c, d, s) for c in cats for d in args.difficulties
              for s in range(args.generated)]
    rows, failed = [], 0
    for task in tasks:
        if task.id in held_ids:
            continue
        got = conversation_rows(task, args.tools, args.max_reply_chars)
        failed += not got
        rows.extend(got)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(target)
    print(f"export-sft: {len(rows)} rows from {len(tasks) - failed} tasks ({failed} reference "
          f"solutions did not solve their task, skipped), profile {args.tools} -> {target}",
          file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
