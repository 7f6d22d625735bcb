"""Export: which labels become pairs, the stratified 80/10/10 split, and DPO training on them."""

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.annotate.helpers import round_robin
from web4rl.annotate import db, store
from web4rl.annotate.export import collect_pairs, export_pairs, split_path, stratified_split
from web4rl.data import PreferenceDataModule

ROOT = Path(__file__).resolve().parents[2]


def label_everything(con, overlap_conflicts: int = 1):
    """Label every work comparison. Rule by comparison id: id % 10 == 0 -> Tie, id % 10 == 1 ->
    low confidence, else A (even ids) / B (odd ids) with high confidence. On the first
    ``overlap_conflicts`` overlap comparisons the second annotator disagrees."""
    conflicts = set(r[0] for r in con.execute(
        "SELECT id FROM comparisons WHERE overlap = 1 AND id % 10 > 1 ORDER BY id LIMIT ?",
        (overlap_conflicts,)))
    seen: Counter[int] = Counter()
    for aid, cid in round_robin(con):
        choice = "Tie" if cid % 10 == 0 else ("A" if cid % 2 == 0 else "B")
        if cid in conflicts and seen[cid] == 1:
            choice = "B" if choice == "A" else "A"
        conf = "low" if cid % 10 == 1 else "high"
        tags = ("verbose", "correct_tool") if choice != "Tie" else ()
        store.submit_label(con, cid, aid, store.LabelInput(choice, tags, conf, "why", None))
        seen[cid] += 1
    return conflicts


def test_ties_low_confidence_and_conflicts_are_left_out(annot_db):
    con = db.connect(annot_db[0])
    conflicts = label_everything(con)
    pairs, rep = collect_pairs(con)
    labels = {r["id"]: r for r in con.execute(
        "SELECT c.id, c.overlap, c.cand_a, c.cand_b FROM comparisons c WHERE gold IS NULL")}
    expected = {c for c in labels if c % 10 > 1 and c not in conflicts}
    assert {p["comparison_id"] for p in pairs} == expected
    assert rep.conflicts == len(conflicts) == 1
    assert rep.ties == sum(1 + labels[c]["overlap"] for c in labels if c % 10 == 0)
    texts = {r["id"]: r["completion"] for r in con.execute("SELECT id, completion FROM candidates")}
    for p in pairs:
        c = labels[p["comparison_id"]]
        a, b = texts[c["cand_a"]], texts[c["cand_b"]]
        assert (p["chosen"], p["rejected"]) == ((a, b) if p["comparison_id"] % 2 == 0 else (b, a))
        assert p["rejected_tags"] == ["verbose"] and p["tags"] == ["verbose", "correct_tool"]
        assert p["annotators"] == 1 + c["overlap"] and p["agreement"] == 1.0
        assert p["source"] == "human"
    # Configurable: low-confidence labels in.
    with_low, _ = collect_pairs(con, min_confidence="low")
    assert {p["comparison_id"] for p in with_low} == expected | {c for c in labels if c % 10 == 1}


def test_stratified_split_by_prompt_with_every_category_in_every_split():
    keys, cats = [], []
    for cat, n_prompts in (("tool_use", 40), ("style", 20), ("guardrail", 10), ("rare", 2)):
        for p in range(n_prompts):
            for _ in range(3):  # 3 pairs per prompt
                keys.append(f"{cat}-{p}")
                cats.append(cat)
    names = stratified_split(keys, cats, (0.8, 0.1, 0.1), seed=0)
    by_key: dict[str, set[str]] = {}
    for k, s in zip(keys, names, strict=True):
        by_key.setdefault(k, set()).add(s)
    assert all(len(s) == 1 for s in by_key.values())  # no prompt straddles splits
    for cat, n_prompts in (("tool_use", 40), ("style", 20), ("guardrail", 10)):
        counts = Counter(s for s, c in zip(names, cats, strict=True) if c == cat)
        n = 3 * n_prompts
        assert counts["val"] >= 1 and counts["test"] >= 1
        assert abs(counts["train"] / n - 0.8) <= 0.1  # within one prompt group of 80/10/10
        assert abs(counts["val"] - 0.1 * n) <= 3 and abs(counts["test"] - 0.1 * n) <= 3
    # A category with too few prompts to split on its own goes to the pool (here: train).
    assert stratified_split(["a", "a"], ["x", "x"], (0.8, 0.1, 0.1), 0) == ["train", "train"]
    assert names == stratified_split(keys, cats, (0.8, 0.1, 0.1), seed=0)  # seeded


def test_export_files_load_in_the_preference_data_module(annot_db, tmp_path):
    con = db.connect(annot_db[0])
    label_everything(con)
    out = tmp_path / "pairs.jsonl"
    rep = export_pairs(con, out, ties_out=tmp_path / "ties.jsonl")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == rep.pairs > 0
    for name in ("train", "val", "test"):
        part = [json.loads(line) for line in split_path(out, name).read_text().splitlines()]
        assert part == [r for r in rows if r["split"] == name]
        assert part, f"{name} split is empty"
    assert {r["category"] for r in rows if r["split"] == "val"} == {r["category"] for r in rows}
    assert (tmp_path / "ties.jsonl").read_text().count("\n") == rep.ties
    dm = PreferenceDataModule(train_files=str(split_path(out, "train")),
                              val_files=str(split_path(out, "val")),
                              test_files=str(split_path(out, "test")))
    counts = dm.validate()
    assert counts == {s: rep.per_split[s] for s in ("train", "val", "test")}


@pytest.mark.slow
def test_exported_pairs_train_with_dpo_cpu(annot_db, tmp_path, monkeypatch):
    """The exported files are what configs/dpo_cpu.yaml trains on (one epoch cut to two steps + validation)."""
    from web4rl.cli import main

    con = db.connect(annot_db[0])
    label_everything(con)
    out = tmp_path / "pairs.jsonl"
    export_pairs(con, out)
    monkeypatch.chdir(tmp_path)
    code = main([
        "fit", "--config", str(ROOT / "configs/dpo_cpu.yaml"),
        "--data.init_args.train_files", str(split_path(out, "train")),
        "--data.init_args.val_files", str(split_path(out, "val")),
        "--data.init_args.test_files", str(split_path(out, "test")),
        "--data.init_args.batch_size", "2", "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2",
        "--trainer.limit_val_batches", "1",
    ])
    assert code == 0
    assert (tmp_path / "runs/dpo_cpu/adapter/adapter_model.safetensors").is_file()
    import csv
    import math

    rows = [r for p in (tmp_path / "runs/dpo_cpu").rglob("metrics.csv")
            for r in csv.DictReader(p.open()) if r.get("val/loss")]
    assert rows and all(math.isfinite(float(r["val/loss"])) for r in rows)


def test_annotation_tags_extend_the_rejection_taxonomy():
    """db.TAGS repeats web4rl.data's REJECTED_TAGS as a literal (the app loads without the
    training stack, and importing web4rl.data pulls torch): this keeps the two in step."""
    from web4rl.data.records import REJECTED_TAGS

    assert db.TAGS[: len(REJECTED_TAGS)] == REJECTED_TAGS
    assert set(db.TAGS[len(REJECTED_TAGS):]) == {"correct_tool", "ambiguous_prompt"}
