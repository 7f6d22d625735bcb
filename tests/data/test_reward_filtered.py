"""RewardFilteredDataModule: top1 / weighted selection on hand-made scored rows."""

import json

import pytest
import torch

from web4rl.data import DataValidationError, RewardFilteredDataModule
from web4rl.data.reward_filtered import derive_prompt_id
from web4rl.sequence import IGNORE_INDEX


def row(pid, completion, reward, prompt=None):
    return {"prompt_id": pid, "prompt": prompt or f"prompt {pid}", "completion": completion,
            "reward": reward, "temperature": 0.8}


def write(tmp_path, rows, name="scored.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def module(tmp_path, rows, **kwargs):
    kwargs.setdefault("split_fractions", (1.0, 0.0, 0.0))
    return RewardFilteredDataModule(train_files=write(tmp_path, rows), tokenizer="web4rl/tiny",
                                    batch_size=8, max_length=128, max_prompt_length=64, **kwargs)


def selected(dm, split="train"):
    dm.validate()
    return [(r.prompt_id, r.completion, r.weight) for r in dm.records[split]]


def test_top1_threshold_ties_and_single_samples(tmp_path):
    rows = [
        row("a", "a low", 0.2), row("a", "a best long", 0.9), row("a", "a best", 0.9),  # tie
        row("b", "b only", 0.7),  # single sample above threshold: kept
        row("c", "c one", 0.5), row("c", "c two", 0.59),  # best below 0.6: dropped
        row("d", "d first", 0.8), row("d", "d again", 0.8),  # same length tie: earlier row
    ]
    assert selected(module(tmp_path, rows)) == [
        ("a", "a best", 1.0), ("b", "b only", 1.0), ("d", "d first", 1.0)]
    # the threshold is inclusive
    assert [p for p, _, _ in selected(module(tmp_path, rows, threshold=0.59))] == ["a", "b", "c", "d"]


def test_top1_cap_keeps_the_highest_rewards_in_file_order(tmp_path):
    rows = [row("a", "x", 0.7), row("b", "x", 0.95), row("c", "x", 0.8), row("d", "x", 0.95)]
    assert [p for p, _, _ in selected(module(tmp_path, rows, max_rows=3))] == ["b", "c", "d"]


def test_all_below_threshold_is_a_clear_error(tmp_path):
    dm = module(tmp_path, [row("a", "x", 0.1), row("a", "y", 0.3), row("b", "z", 0.2)])
    with pytest.raises(DataValidationError, match=r"scored.jsonl: field 'reward': no sample "
                       r"reaches the top1 threshold 0.6 \(best reward 0.3000 over 3 rows, 2 prompts\)"):
        dm.validate()


def test_weighted_mode_uses_awr_weights(tmp_path):
    """Same hand values as tests/rl/test_awr.py: rewards 1.0, 0.0 (prompt a), 0.5 (b),
    0.2 (c) give weights 1.336082, 0.779337, 1.062520, 0.903867 at beta 5."""
    rows = [row("a", "x", 1.0), row("a", "y", 0.0), row("b", "z", 0.5), row("c", "w", 0.2)]
    weights = [w for _, _, w in selected(module(tmp_path, rows, mode="weighted"))]
    assert weights == pytest.approx([1.336082, 0.779337, 1.062520, 0.903867], abs=1e-5)


def test_batches_carry_weights_and_rewards(tmp_path):
    rows = [row("a", "x", 1.0), row("a", "y", 0.0), row("b", "z", 0.5), row("c", "w", 0.2)]
    dm = module(tmp_path, rows, mode="weighted")
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    order = batch.index.tolist()
    expected = {0: (1.336082, 1.0), 1: (0.779337, 0.0), 2: (1.062520, 0.5), 3: (0.903867, 0.2)}
    assert batch.weights.tolist() == pytest.approx([expected[i][0] for i in order], abs=1e-5)
    assert batch.rewards.tolist() == pytest.approx([expected[i][1] for i in order], abs=1e-6)
    assert batch.weights.dtype == torch.float32 and len(batch) == 4


def test_split_keeps_a_prompts_samples_together(tmp_path):
    rows = [row(f"p{p}", f"c{s}", s / 4) for p in range(20) for s in range(4)]
    dm = module(tmp_path, rows, mode="weighted", split_fractions=(0.6, 0.2, 0.2), seed=3)
    dm.validate()
    splits = {s: {r.prompt_id for r in dm.records[s]} for s in ("train", "val", "test")}
    assert splits["val"] and splits["test"]
    assert not (splits["train"] & splits["val"] or splits["train"] & splits["test"]
                or splits["val"] & splits["test"])
    for s in splits:
        assert all(sum(r.prompt_id == p for r in dm.records[s]) == 4 for p in splits[s])


def test_missing_prompt_id_is_derived_and_bad_rows_are_named(tmp_path):
    rows = [{"prompt": "hello", "completion": "x", "reward": 0.9}]
    dm = module(tmp_path, rows)
    dm.validate()
    assert dm.records["train"][0].prompt_id == derive_prompt_id("hello")
    assert derive_prompt_id("hello") == derive_prompt_id([{"role": "user", "content": "hello"}])
    bad = [{"prompt": "p", "completion": "x"}, {"prompt": "p", "completion": "x", "reward": "high"}]
    path = tmp_path / "bad.jsonl"
    # 1e999 parses as inf (json.dumps would write the non-JSON token Infinity)
    path.write_text("".join(json.dumps(r) + "\n" for r in bad)
                    + '{"prompt": "p", "completion": "x", "reward": 1e999}\n')
    dm = RewardFilteredDataModule(train_files=str(path), tokenizer="web4rl/tiny")
    with pytest.raises(DataValidationError) as err:
        dm.validate()
    text = str(err.value)
    assert "bad.jsonl:1: field 'reward': missing" in text
    assert "bad.jsonl:2: field 'reward': must be a finite number, got 'high'" in text
    assert "bad.jsonl:3: field 'reward': must be a finite number" in text


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="mode must be"):
        RewardFilteredDataModule(mode="best")
    with pytest.raises(ValueError, match="awr_beta"):
        RewardFilteredDataModule(mode="weighted", awr_beta=0)


def test_empty_sampled_completion_is_a_sample_not_an_error(tmp_path):
    """A policy that stops at once writes completion "": it keeps its reward and weight and
    trains as the stop token alone (found by the cpu pipeline run: it used to fail the fit)."""
    rows = [row("a", "x", 1.0), row("a", "", 0.0), row("b", "z", 0.5)]
    dm = module(tmp_path, rows, mode="weighted")
    assert [c for _, c, _ in selected(dm)] == ["x", "", "z"]
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert len(batch) == 3 and bool((batch.labels != IGNORE_INDEX).any(dim=1).all())
