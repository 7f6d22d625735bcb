"""`python -m web4rl score`: judge a JSONL file of samples and summarize the rewards.

Input rows: ``{"prompt", "completion"}`` plus optional ``"category"``, ``"task"`` (a Stage 3
task object: its initial_files seed the mock workspace, its expected_actions are the gold
plan), ``"expected_actions"`` or ``"tools"`` (web4 / cursor). Alpaca rows (instruction /
input / output, task_type) are accepted too, so the team's SFT files can be scored as they
are. ``--tools`` picks the tool profile (default web4, the team's own tools); every scored
row records the profile it was judged in.

Outputs (defaults next to the input):
  <input>.scored.jsonl   each input row + "reward" + "components" (+ "judge_notes" with --explain)
  score_summary.json     reward mean / std / share > 0.8 / share < 0.3, overall, per
                         component and per category; lint availability
  reward_traces.csv      one line per row: line, prompt_id, category, reward, components
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from web4rl.data.records import ALPACA_CATEGORIES
from web4rl.jsonl import RowError as DataRowError
from web4rl.jsonl import iter_jsonl
from web4rl.judges.judge import PENALTIES, POSITIVE, Judge, Sample, weights_from_dict
from web4rl.sim.tools import DEFAULT_PROFILE, PROFILE_NAMES

TRACE_COMPONENTS = (*POSITIVE, *PENALTIES, "steps", "gold_steps", "prompt_bleu")


class RowError(ValueError):
    """A malformed input row; the message starts with ``file:line`` (the data layer's format,
    web4rl.data.records.RowError)."""


def normalize_row(row: Any, where: str) -> dict[str, Any]:
    """Accept sample rows and Alpaca rows; returns a row with prompt / completion keys."""
    if isinstance(row, dict) and "prompt" not in row and "instruction" in row and "output" in row:
        prompt = str(row["instruction"])
        if row.get("input"):
            prompt += "\n\n" + str(row["input"])
        out = dict(row)
        out.update(prompt=prompt, completion=row["output"])
        if "category" not in row and row.get("task_type") in ALPACA_CATEGORIES:
            out["category"] = ALPACA_CATEGORIES[row["task_type"]]
        return out
    return row


def read_rows(
    path: Path, skip_invalid: bool, errors: list[str]
) -> Iterator[tuple[int, dict[str, Any], Sample]]:
    """Yield (line number, raw row, Sample); malformed rows raise RowError or are recorded.

    Lines are read by the one JSONL reader (web4rl.jsonl.iter_jsonl), so a bad line is
    reported as ``file:line: message`` exactly as the training commands report it.
    """
    for loc, raw in iter_jsonl(path):
        where = str(loc)
        try:
            if isinstance(raw, DataRowError):
                raise RowError(str(raw))
            row = normalize_row(raw, where)
            try:
                sample = Sample.from_row(row, where)
            except ValueError as e:
                raise RowError(str(e)) from None
        except RowError as e:
            if not skip_invalid or loc.line == 0:
                raise
            errors.append(str(e))
            continue
        yield loc.line, raw, sample


def _stats(values: Sequence[float]) -> dict[str, float | int | None]:
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "share_gt_0.8": None, "share_lt_0.3": None}
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return {
        "n": n,
        "mean": round(mean, 6),
        "std": round(std, 6),
        "share_gt_0.8": round(sum(v > 0.8 for v in values) / n, 6),
        "share_lt_0.3": round(sum(v < 0.3 for v in values) / n, 6),
    }


def summarize(
    rewards: Sequence[float],
    components: Sequence[dict[str, float | None]],
    categories: Sequence[str | None],
    lint_status: Sequence[str],
    skipped: int = 0,
) -> dict[str, Any]:
    """The reward distribution summary (overall, per component, per category)."""
    per_cat: dict[str, list[float]] = defaultdict(list)
    for r, cat in zip(rewards, categories, strict=True):
        per_cat[cat or "uncategorized"].append(r)
    per_comp = {
        name: _stats([c[name] for c in components if c.get(name) is not None])
        for name in (*POSITIVE, *PENALTIES)
    }
    lint_counts: dict[str, int] = defaultdict(int)
    for s in lint_status:
        lint_counts[s] += 1
    return {
        "reward": _stats(list(rewards)),
        "components": per_comp,
        "categories": {k: _stats(v) for k, v in sorted(per_cat.items())},
        "lint_status": dict(sorted(lint_counts.items())),
        "skipped_rows": skipped,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A fixed-width text table of the summary for the terminal."""

    def fmt(v: Any) -> str:
        return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    head = f"{'':24}{'n':>7}{'mean':>8}{'std':>8}{'>0.8':>8}{'<0.3':>8}"
    lines = [head]

    def row(name: str, st: dict[str, Any]) -> None:
        lines.append(
            f"{name:24}{st['n']:>7}{fmt(st['mean']):>8}{fmt(st['std']):>8}"
            f"{fmt(st['share_gt_0.8']):>8}{fmt(st['share_lt_0.3']):>8}"
        )

    row("reward", summary["reward"])
    lines.append("per category:")
    for k, st in summary["categories"].items():
        row(f"  {k}", st)
    lines.append("per component (n = rows where it applies):")
    for k, st in summary["components"].items():
        row(f"  {k}", st)
    lint = ", ".join(f"{k}={v}" for k, v in summary["lint_status"].items())
    lines.append(f"lint: {lint or 'no code'}; skipped rows: {summary['skipped_rows']}")
    return "\n".join(lines)


def _parse_weights(items: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise SystemExit(f"--weight expects NAME=NUMBER, got {item!r}") from None
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m web4rl score",
        description="Score sample rows with the Stage 2 judge.",
    )
    ap.add_argument("input", type=Path, help="JSONL of sample rows (or Alpaca rows)")
    ap.add_argument("-o", "--output", type=Path, help="scored JSONL (default <input>.scored.jsonl)")
    ap.add_argument("--summary", type=Path, help="summary JSON (default: next to the output)")
    ap.add_argument("--traces", type=Path, help="reward_traces.csv (default: next to the output)")
    ap.add_argument("--skip-invalid", action="store_true", help="skip and count malformed rows")
    ap.add_argument("--no-lint", action="store_true", help="do not run Biome (lint unavailable)")
    ap.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a judge weight, e.g. --weight guardrail=-3 (repeatable)",
    )
    ap.add_argument(
        "--tools",
        choices=PROFILE_NAMES,
        default=DEFAULT_PROFILE,
        help="tool profile completions are judged in (default: %(default)s; a row's own "
        '"tools" field wins)',
    )
    ap.add_argument("--batch-size", type=int, default=256, help="rows per lint batch")
    ap.add_argument("--explain", action="store_true", help="add judge_notes to scored rows")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m web4rl score`; returns the exit status."""
    args = build_parser().parse_args(argv)
    if not args.input.is_file():
        print(f"error: {args.input}: no such file", file=sys.stderr)
        return 2
    try:
        weights = weights_from_dict(_parse_weights(args.weight))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        # Check every row before any output file is opened: a bad row must not truncate the
        # previous run's results or leave half-written files behind.
        for _ in read_rows(args.input, args.skip_invalid, []):
            pass
    except RowError as e:
        print(f"error: {e}\n(use --skip-invalid to skip malformed rows)", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:
        print(f"error: {args.input}: not UTF-8 text ({e.reason} at byte {e.start})", file=sys.stderr)
        return 2
    out_path = args.output or args.input.with_name(args.input.stem + ".scored.jsonl")
    summary_path = args.summary or out_path.with_name("score_summary.json")
    traces_path = args.traces or out_path.with_name("reward_traces.csv")
    judge = Judge(weights, use_linter=not args.no_lint, tools=args.tools)

    from tqdm import tqdm

    errors: list[str] = []
    rewards: list[float] = []
    comps: list[dict[str, float | None]] = []
    cats: list[str | None] = []
    lint_status: list[str] = []
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            out_path.open("w", encoding="utf-8") as out,
            traces_path.open("w", newline="", encoding="utf-8") as tf,
            tqdm(desc="scoring", unit="row", disable=args.no_progress) as bar,
        ):
            traces = csv.writer(tf)
            traces.writerow(["line", "prompt_id", "category", "reward", *TRACE_COMPONENTS])
            batch: list[tuple[int, dict[str, Any], Sample]] = []

            def flush() -> None:
                results = judge.score_batch([s for _, _, s in batch])
                for (lineno, raw, sample), res in zip(batch, results, strict=True):
                    row = dict(raw)
                    row["tools"] = judge.profile_of(sample).name
                    row["reward"] = round(res.reward, 6)
                    row["components"] = res.components
                    if args.explain:
                        row["judge_notes"] = res.notes
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    traces.writerow(
                        [
                            lineno,
                            raw.get("prompt_id", ""),
                            sample.category or "",
                            row["reward"],
                            *(
                                "" if res.components.get(k) is None else res.components[k]
                                for k in TRACE_COMPONENTS
                            ),
                        ]
                    )
                    rewards.append(res.reward)
                    comps.append(res.components)
                    cats.append(sample.category)
                    lint_status.append(res.lint_status)
                bar.update(len(batch))
                batch.clear()

            for item in read_rows(args.input, args.skip_invalid, errors):
                batch.append(item)
                if len(batch) >= args.batch_size:
                    flush()
            if batch:
                flush()
    except RowError as e:
        print(f"error: {e}\n(use --skip-invalid to skip malformed rows)", file=sys.stderr)
        return 2
    summary = summarize(rewards, comps, cats, lint_status, skipped=len(errors))
    summary["tools"] = args.tools
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for e in errors[:20]:
        print(f"skipped {e}", file=sys.stderr)
    if len(errors) > 20:
        print(f"... and {len(errors) - 20} more skipped rows", file=sys.stderr)
    print(format_summary(summary))
    print(f"wrote {out_path}, {summary_path}, {traces_path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
