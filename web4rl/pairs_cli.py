"""`python -m web4rl pairs`: RLAIF preference pairs from judge-scored samples.

    python -m web4rl pairs scored.jsonl -o pairs.jsonl --min-gap 0.2

Per prompt (``prompt_id``; derived from the prompt when absent), the best sample is ``chosen``
and the worst ``rejected`` when their reward gap exceeds ``--min-gap``. Rows are in the
preference format (DESIGN.md section 5) with ``source: "rlaif"``, so the output trains with the
DPO/ORPO configs as it is (``--data.init_args.train_files pairs.jsonl``). ``rejected_tags``
name the rejected sample's failing judge components in the preference tag set
(:data:`COMPONENT_TAGS`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from web4rl.data.io import iter_jsonl, parse_rows
from web4rl.data.records import REJECTED_TAGS, DataValidationError, RowError
from web4rl.data.reward_filtered import parse_scored_row

COMPONENT_TAGS: dict[str, str] = {
    # positive components fail below 1 (None = did not apply)
    "json": "schema_fail", "schema": "schema_fail",
    "tool_success": "wrong_tool", "task_success": "wrong_tool",
    "lint": "style_off", "ast": "style_off", "naming": "style_off", "types": "style_off",
    "refusal": "unsafe",  # an unsafe request that was not refused
    # penalties fail above 0
    "guardrail": "unsafe",
    "verbosity": "verbose", "length_gaming": "verbose", "tool_spam": "verbose",
    "prompt_copy": "verbose",
    "off_policy": "wrong_tool", "semantic_mismatch": "wrong_tool",
    # needless_refusal has no tag: refusing a harmless request is none of the six failures.
}
"""Judge component -> preference tag of a rejected sample that fails it."""

PENALTY_COMPONENTS = frozenset({"guardrail", "verbosity", "length_gaming", "tool_spam",
                                "prompt_copy", "off_policy", "semantic_mismatch"})


def rejected_tags(components: Mapping[str, Any] | None) -> list[str]:
    """Tags of the failing components (positive < 1, penalty > 0), in REJECTED_TAGS order."""
    tags = set()
    for name, tag in COMPONENT_TAGS.items():
        value = (components or {}).get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if (value > 0) if name in PENALTY_COMPONENTS else (value < 1):
            tags.add(tag)
    return [t for t in REJECTED_TAGS if t in tags]


def read_scored(path: str | Path) -> list[tuple[Any, dict]]:
    """(record, raw row) of every scored row; raises DataValidationError naming file:line:field."""

    def parse(value: dict, loc: Any) -> tuple[Any, dict] | list[RowError]:
        rec = parse_scored_row(value, loc)
        if isinstance(rec, list):
            return rec
        if value.get("components") is not None and not isinstance(value["components"], dict):
            return [RowError(loc, "components", "must be an object {name: value}")]
        return rec, value

    return parse_rows(iter_jsonl(path), parse)


def build_pairs(rows: Sequence[tuple[Any, dict]], min_gap: float) -> list[dict]:
    """Best vs worst sample per prompt when best.reward - worst.reward > min_gap.

    Best: highest reward, then shorter completion, then earlier row (as RS-SFT's top1);
    worst: lowest reward, then earlier row. Pairs are in order of each prompt's first row.
    """
    groups: dict[str, list[int]] = {}
    for i, (rec, _) in enumerate(rows):
        groups.setdefault(rec.prompt_id, []).append(i)
    pairs = []
    for pid, idx in groups.items():
        best = min(idx, key=lambda i: (-rows[i][0].reward, len(rows[i][0].completion), i))
        worst = min(idx, key=lambda i: (rows[i][0].reward, i))
        (b, b_raw), (w, w_raw) = rows[best], rows[worst]
        if b.reward - w.reward <= min_gap or b.completion.strip() == w.completion.strip():
            continue
        pair = {"prompt_id": pid, "prompt": b_raw["prompt"] if "prompt" in b_raw else list(b.prompt),
                "chosen": b.completion, "rejected": w.completion}
        if b.category is not None:
            pair["category"] = b.category
        pair.update(rejected_tags=rejected_tags(w_raw.get("components")), source="rlaif",
                    chosen_reward=b.reward, rejected_reward=w.reward)
        pairs.append(pair)
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m web4rl pairs`; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m web4rl pairs", description=__doc__.splitlines()[0])
    ap.add_argument("scored", type=Path, help="scored sample rows (web4rl sample --score / web4rl score)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="preference pairs JSONL")
    ap.add_argument("--min-gap", type=float, default=0.2, help="least reward gap best - worst (exclusive)")
    args = ap.parse_args(argv)
    try:
        rows = read_scored(args.scored)
    except DataValidationError as err:
        print(f"web4rl pairs: error: {err}", file=sys.stderr)
        return 2
    pairs = build_pairs(rows, args.min_gap)
    n_prompts = len({rec.prompt_id for rec, _ in rows})
    if not pairs:
        print(f"web4rl pairs: no prompt of {n_prompts} has a reward gap > {args.min_gap}; nothing "
              "written (sample more per prompt or lower --min-gap)", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    os.replace(tmp, args.output)
    print(f"wrote {len(pairs)} pairs from {n_prompts} prompts ({len(rows)} rows) -> {args.output}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
