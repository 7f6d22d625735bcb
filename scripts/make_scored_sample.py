"""Write web4rl/sample_data/scored.jsonl: the cpu configs' Stage 2 data, made by the package.

    python scripts/make_scored_sample.py            # rewrite the file
    python scripts/make_scored_sample.py --check    # exit 1 if the file differs

The tiny model's own samples are noise (its base is random), so the shipped file stands in for
policy samples with two candidates per prompt taken from the shipped preference pairs (the
chosen and the rejected response of the first ``--prompts`` pairs), each scored by the judge
(``web4rl.judges.Judge``, Biome off so the file does not depend on an installed linter; in the
``cursor`` tool profile, the tools the shipped pairs speak, recorded in each row's ``tools``). The
rows have the sample-row shape (prompt_id derived like ``web4rl sample``), so top1 keeps the
better candidate when it clears the threshold and AWR weights both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "web4rl" / "sample_data" / "preferences.jsonl"
TARGET = ROOT / "web4rl" / "sample_data" / "scored.jsonl"
sys.path.insert(0, str(ROOT))  # this checkout's web4rl, not another installed copy


def build(prompts: int) -> str:
    from web4rl.data.reward_filtered import derive_prompt_id
    from web4rl.judges import Judge, Sample

    pairs = [json.loads(line) for line in SOURCE.read_text(encoding="utf-8").splitlines()[:prompts]]
    rows = []
    for line, pair in enumerate(pairs, 1):
        for index, side in enumerate(("chosen", "rejected")):
            rows.append({
                "prompt_id": derive_prompt_id(pair["prompt"]), "prompt": pair["prompt"],
                "completion": pair[side], "temperature": None, "sample_index": index,
                "category": pair.get("category"), "tools": "cursor",
                "origin": f"preferences.jsonl:{line}:{side}",
            })
    judge = Judge(use_linter=False)
    results = judge.score_batch([Sample.from_row(r) for r in rows])
    for row, res in zip(rows, results, strict=True):
        row["reward"] = round(res.reward, 6)
        row["components"] = res.components
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=200, help="preference pairs used (2 rows each)")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    text = build(args.prompts)
    if args.check:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is out of date (run scripts/make_scored_sample.py)")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10))} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
