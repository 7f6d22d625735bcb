"""Export labels as preference pairs for ORPO / DPO (``annotate export``).

Each exported row is a preference row (DESIGN.md section 5) that
:class:`web4rl.data.PreferenceDataModule` reads, plus fields the trainers ignore::

    {"prompt", "chosen", "rejected", "category", "rejected_tags", "source": "human",
     "prompt_id", "comparison_id", "split", "annotators", "agreement", "confidence", "tags"}

Which labels make a pair:

* certification (gold) comparisons are never exported;
* a tie has no chosen side: ties never make a pair (``ties_out`` writes them to a side file);
* labels below ``min_confidence`` are dropped (default ``medium``: low-confidence labels out);
* a comparison whose remaining labels disagree (one says A, another B) is dropped as a
  conflict; otherwise its labels are unanimous and make one pair. ``annotators`` counts every
  label of the comparison and ``agreement`` is the share of them that picked the exported side.

``rejected_tags`` keeps the tags of the preference taxonomy (web4rl.data.records.REJECTED_TAGS);
all tags, including ``correct_tool`` and ``ambiguous_prompt``, are in ``tags``.

Split: 80/10/10 by prompt (pairs of one prompt never straddle splits), stratified by category
(each category is split on its own with :func:`web4rl.data.splits.split_indices`, so val and test
hold every category in its share); categories with too few prompts to split are pooled and split
together. Besides the combined file, ``<stem>.train.jsonl``, ``<stem>.val.jsonl`` and
``<stem>.test.jsonl`` are written, ready for ``--data.init_args.train_files`` etc.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web4rl.data.records import REJECTED_TAGS
from web4rl.data.splits import split_indices

_CONF_RANK = {"low": 0, "medium": 1, "high": 2}
SPLITS = ("train", "val", "test")


@dataclass
class ExportReport:
    pairs: int = 0
    per_split: dict[str, int] = field(default_factory=dict)
    per_category: dict[str, dict[str, int]] = field(default_factory=dict)
    ties: int = 0
    low_confidence: int = 0
    conflicts: int = 0
    files: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        cats = "; ".join(
            f"{c}: " + "/".join(str(v.get(s, 0)) for s in SPLITS) for c, v in self.per_category.items()
        )
        return (
            f"{self.pairs} pairs (train/val/test {'/'.join(str(self.per_split.get(s, 0)) for s in SPLITS)});"
            f" per category train/val/test: {cats or '-'}\n"
            f"left out: {self.ties} tie labels, {self.low_confidence} low-confidence labels,"
            f" {self.conflicts} conflicting comparisons\nwrote: {', '.join(self.files)}"
        )


def stratified_split(
    keys: Sequence[str], categories: Sequence[str], fractions: Sequence[float], seed: int
) -> list[str]:
    """Split name per row: grouped by key (prompt), each category split on its own.

    Categories whose prompts are too few for every split are pooled and split together; if even
    the pool is too small, its rows go to train.
    """
    out = ["train"] * len(keys)
    by_cat: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        by_cat.setdefault(c, []).append(i)

    def assign(rows: list[int]) -> bool:
        try:
            idx = split_indices([keys[i] for i in rows], fractions, seed)
        except ValueError:
            return False
        for name, part in zip(SPLITS, (idx.train, idx.val, idx.test), strict=True):
            for j in part:
                out[rows[j]] = name
        return True

    pool: list[int] = []
    for cat in sorted(by_cat):
        if not assign(by_cat[cat]):
            pool.extend(by_cat[cat])
    if pool:
        assign(sorted(pool))
    return out


def collect_pairs(con: sqlite3.Connection, min_confidence: str = "medium") -> tuple[list[dict[str, Any]], ExportReport]:
    """Pairs (without split) and the counts of what was left out."""
    if min_confidence not in _CONF_RANK:
        raise ValueError(f"min_confidence must be one of low, medium, high, got {min_confidence!r}")
    rows = con.execute(
        "SELECT l.comparison_id, l.choice, l.tags, l.confidence, c.prompt_id, c.cand_a, c.cand_b,"
        " p.prompt, p.category, ca.completion AS text_a, cb.completion AS text_b"
        " FROM labels l JOIN comparisons c ON c.id = l.comparison_id"
        " JOIN prompts p ON p.prompt_id = c.prompt_id"
        " JOIN candidates ca ON ca.id = c.cand_a JOIN candidates cb ON cb.id = c.cand_b"
        " WHERE c.gold IS NULL ORDER BY c.position, l.id"
    ).fetchall()
    rep = ExportReport()
    by_comp: dict[int, list[sqlite3.Row]] = {}
    for r in rows:
        by_comp.setdefault(r["comparison_id"], []).append(r)
    pairs: list[dict[str, Any]] = []
    for cid, labels in by_comp.items():
        kept = []
        for r in labels:
            if r["choice"] == "Tie":
                rep.ties += 1
            elif _CONF_RANK[r["confidence"]] < _CONF_RANK[min_confidence]:
                rep.low_confidence += 1
            else:
                kept.append(r)
        if not kept:
            continue
        choices = {r["choice"] for r in kept}
        if len(choices) > 1:
            rep.conflicts += 1
            continue
        choice = choices.pop()
        first = kept[0]
        chosen, rejected = (
            (first["text_a"], first["text_b"]) if choice == "A" else (first["text_b"], first["text_a"])
        )
        tags = list(dict.fromkeys(t for r in kept for t in json.loads(r["tags"])))
        pairs.append({
            "prompt": json.loads(first["prompt"]),
            "chosen": chosen,
            "rejected": rejected,
            "category": first["category"],
            "rejected_tags": [t for t in tags if t in REJECTED_TAGS],
            "source": "human",
            "prompt_id": first["prompt_id"],
            "comparison_id": cid,
            "annotators": len(labels),
            "agreement": sum(r["choice"] == choice for r in labels) / len(labels),
            "confidence": min((r["confidence"] for r in kept), key=_CONF_RANK.__getitem__),
            "tags": tags,
        })
    return pairs, rep


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write atomically (temp file + rename): an interrupted export leaves the old file intact."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def split_path(out: Path, split: str) -> Path:
    """``pairs.jsonl`` -> ``pairs.train.jsonl`` (same folder)."""
    return out.with_name(f"{out.stem}.{split}{out.suffix or '.jsonl'}")


def export_pairs(
    con: sqlite3.Connection,
    out: str | Path,
    *,
    min_confidence: str = "medium",
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    ties_out: str | Path | None = None,
) -> ExportReport:
    """Write the pairs (all rows with their ``split``) and one file per split; see module doc."""
    out = Path(out)
    pairs, rep = collect_pairs(con, min_confidence)
    names = stratified_split(
        [p["prompt_id"] for p in pairs], [p["category"] for p in pairs], fractions, seed
    )
    for p, name in zip(pairs, names, strict=True):
        p["split"] = name
    rep.pairs = len(pairs)
    rep.per_split = dict(Counter(names))
    cats: dict[str, Counter[str]] = {}
    for p in pairs:
        cats.setdefault(p["category"], Counter())[p["split"]] += 1
    rep.per_category = {c: dict(v) for c, v in sorted(cats.items())}
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out, pairs)
    rep.files.append(str(out))
    for name in SPLITS:
        path = split_path(out, name)
        _write_jsonl(path, [p for p in pairs if p["split"] == name])
        rep.files.append(str(path))
    if ties_out is not None:
        ties = con.execute(
            "SELECT l.comparison_id, p.prompt, p.category, ca.completion AS a, cb.completion AS b,"
            " an.name FROM labels l JOIN comparisons c ON c.id = l.comparison_id"
            " JOIN prompts p ON p.prompt_id = c.prompt_id JOIN annotators an ON an.id = l.annotator_id"
            " JOIN candidates ca ON ca.id = c.cand_a JOIN candidates cb ON cb.id = c.cand_b"
            " WHERE c.gold IS NULL AND l.choice = 'Tie' ORDER BY l.id"
        ).fetchall()
        _write_jsonl(Path(ties_out), [
            {"prompt": json.loads(t["prompt"]), "completion_a": t["a"], "completion_b": t["b"],
             "category": t["category"], "comparison_id": t["comparison_id"], "annotator": t["name"]}
            for t in ties
        ])
        rep.files.append(str(ties_out))
    return rep
