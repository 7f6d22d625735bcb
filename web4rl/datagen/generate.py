"""Generate the sample data shipped in ``web4rl/sample_data/`` (deterministic, seeded).

:func:`generate` builds the rows (the category mix, unique prompts, seeded shuffles);
:func:`main` is the command line (``python scripts/generate_sample_data.py`` or
``python -m web4rl.datagen``). See :mod:`web4rl.datagen` for the row formats.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from web4rl.datagen.common import Example
from web4rl.datagen.guardrail import make_guardrail
from web4rl.datagen.multi_step import make_multi_step
from web4rl.datagen.style import make_style
from web4rl.datagen.tool_use import make_tool_use

SEED = 20240611
N_SFT = 1000
N_PREF = 1000
# The seed mix: tool_use 40%, style 30%, multi_step 20%, guardrail 10%.
CATEGORY_MIX: dict[str, float] = {"tool_use": 0.4, "style": 0.3, "multi_step": 0.2, "guardrail": 0.1}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "sample_data"

BUILDERS: dict[str, Callable[[random.Random], Example]] = {
    "tool_use": make_tool_use,
    "style": make_style,
    "multi_step": make_multi_step,
    "guardrail": make_guardrail,
}


def category_counts(total: int) -> dict[str, int]:
    """Exact per-category counts for ``total`` rows in the seed mix (remainder to tool_use)."""
    counts = {c: int(total * f) for c, f in CATEGORY_MIX.items()}
    counts["tool_use"] += total - sum(counts.values())
    return counts


def generate(seed: int = SEED, n_sft: int = N_SFT, n_pref: int = N_PREF) -> tuple[list[dict], list[dict]]:
    """Build (sft_rows, preference_rows); deterministic for a seed; prompts unique across both."""
    rng = random.Random(seed)
    seen: set[str] = set()
    sft: list[dict] = []
    pref: list[dict] = []
    for kind, total in (("sft", n_sft), ("pref", n_pref)):
        for category, n in category_counts(total).items():
            made, attempts = 0, 0
            while made < n:
                attempts += 1
                if attempts > 200 * n:
                    raise RuntimeError(f"could not find {n} unique {category} prompts (got {made})")
                ex = BUILDERS[category](rng)
                if ex.prompt in seen or ex.rejected == ex.chosen:
                    continue
                seen.add(ex.prompt)
                made += 1
                if kind == "sft":
                    sft.append({"prompt": ex.prompt, "completion": ex.chosen, "category": category})
                else:
                    pref.append({"prompt": ex.prompt, "chosen": ex.chosen, "rejected": ex.rejected,
                                 "category": category, "rejected_tags": list(ex.tags),
                                 "source": "synthetic"})
    rng.shuffle(sft)
    rng.shuffle(pref)
    return sft, pref


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """UTF-8 JSONL with '\\n' line endings, so output is byte-identical on every OS."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _count(text: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """CLI entry: write sft.jsonl and preferences.jsonl into --out.

    Bad options (a negative count, an ``--out`` that is a file) exit with code 2 and one
    ``error:`` line, before anything is written.
    """
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--n-sft", type=_count, default=N_SFT, help="SFT rows (default %(default)s)")
    ap.add_argument("--n-pref", type=_count, default=N_PREF,
                    help="preference pairs (default %(default)s)")
    args = ap.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        ap.error(f"--out: {args.out} exists and is not a directory")
    sft, pref = generate(args.seed, args.n_sft, args.n_pref)
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / "sft.jsonl", sft)
    write_jsonl(args.out / "preferences.jsonl", pref)
    print(f"wrote {len(sft)} SFT rows and {len(pref)} preference pairs to {args.out}")
    return 0

