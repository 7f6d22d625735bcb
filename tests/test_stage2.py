"""Stage 2 end to end on the tiny model loaded from disk: `sample` (resume after a kill, bad
input, --score), `pairs`, and RS-SFT / AWR training (LoRA changes, base does not)."""

import json

import pytest
import torch

from tests.helpers import cpu_trainer, lora_and_base_params, write_jsonl
from web4rl.algorithms import AWR, RSSFT
from web4rl.cli import main
from web4rl.data import PreferenceDataModule, RewardFilteredDataModule
from web4rl.pairs_cli import build_pairs, read_scored, rejected_tags
from web4rl.policy import LoraSettings, Policy
from web4rl.sampling_cli import read_prompts, sample_to_file
from web4rl.tiny import build_tiny_model

PROMPTS = [{"prompt": f"Read src/file{i}.ts"} for i in range(5)]


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """The tiny base written with save_pretrained, as users point --model at a directory."""
    path = tmp_path_factory.mktemp("tiny_base")
    build_tiny_model(seed=0).save_pretrained(path)
    Policy("web4rl/tiny").tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def policy(base_dir):
    return Policy(str(base_dir), lora=LoraSettings(r=4, alpha=8, dropout=0.0))


def _sample(policy, items, out, after_batch=None):
    # 2 prompts x (1 sample x 2 temperatures) per batch of 4 completions -> 3 batches for 5 prompts
    return sample_to_file(policy, items, out, n=1, temperatures=(0.7, 1.1), max_new_tokens=4,
                          batch_size=4, seed=7, progress=False, after_batch=after_batch)


class Killed(Exception):
    pass


def test_sample_resumes_after_a_kill(policy, tmp_path):
    items = read_prompts(write_jsonl(tmp_path / "prompts.jsonl", PROMPTS))
    straight = tmp_path / "straight.jsonl"
    _sample(policy, items, straight)
    rows = [json.loads(line) for line in straight.read_text().splitlines()]
    assert len(rows) == 5 * 2 and {r["temperature"] for r in rows} == {0.7, 1.1}
    assert len({r["prompt_id"] for r in rows}) == 5

    def kill_after_two(batches_written):
        if batches_written == 2:
            raise Killed

    resumed = tmp_path / "resumed.jsonl"
    with pytest.raises(Killed):
        _sample(policy, items, resumed, after_batch=kill_after_two)
    assert len(resumed.read_text().splitlines()) == 8  # two whole batches survived
    # a kill in the middle of the next write leaves a torn line: the rerun drops it
    with resumed.open("a") as fh:
        fh.write('{"prompt_id": "p-torn", "compl')
    stats = _sample(policy, items, resumed)
    assert stats.skipped == 4 and stats.completions == 2
    assert resumed.read_text() == straight.read_text()  # same rows as the uninterrupted run
    assert _sample(policy, items, resumed).completions == 0  # complete: nothing left to do


def test_sample_cli_scores_and_reports_bad_prompt_files(base_dir, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": ""}\n{"messages": [{"role": "user"}]}\n[1]\n')
    code = main(["sample", str(bad), "-o", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "bad.jsonl:2: field 'prompt': is empty" in err
    assert "bad.jsonl:3: field 'messages[0]'" in err and "bad.jsonl:4: row must be a JSON object" in err
    assert not (tmp_path / "out.jsonl").exists()
    badtask = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "task": "no-such-task"}])
    assert main(["sample", str(badtask), "-o", str(tmp_path / "out.jsonl"), "--score"]) == 2
    assert "unknown built-in task id 'no-such-task'" in capsys.readouterr().err
    assert main(["sample", str(badtask), "-o", str(tmp_path / "out.jsonl"), "--device", "gpu9"]) == 2
    assert "--device gpu9" in capsys.readouterr().err

    sft = write_jsonl(tmp_path / "sft.jsonl", [
        {"prompt": "List the src folder", "completion": "x", "category": "tool_use"},
        {"instruction": "Write a button", "input": "in React", "output": "y", "category": "style"},
        {"prompt": "List the src folder", "completion": "dup"},  # same prompt: sampled once
    ])
    out = tmp_path / "scored.jsonl"
    assert main(["sample", str(sft), "-o", str(out), "--model", str(base_dir), "-n", "2",
                 "--temperatures", "1.0", "--max-new-tokens", "3", "--score", "--no-lint",
                 "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 * 2 and all(0 <= r["reward"] <= 1 and "json" in r["components"] for r in rows)
    assert rows[2]["prompt"] == "Write a button\n\nin React" and rows[2]["category"] == "style"
    # the output is what the Stage 2 DataModule reads
    dm = RewardFilteredDataModule(train_files=str(out), mode="weighted", tokenizer="web4rl/tiny",
                                  split_fractions=(1.0, 0.0, 0.0))
    assert dm.validate()["train"] == 4
    # unscored output cannot be continued with --score
    assert main(["sample", str(sft), "-o", str(out), "--model", str(base_dir), "-n", "2",
                 "--temperatures", "1.0"]) == 2
    assert "existing rows are scored" in capsys.readouterr().err


def scored_rows():
    comps_bad = {"json": 0.0, "schema": 0.0, "verbosity": 2.0, "guardrail": 0.0, "lint": None}
    return [
        {"prompt_id": "a", "prompt": "Read a.ts", "completion": "good a", "reward": 0.9,
         "category": "tool_use", "components": {"json": 1.0}},
        {"prompt_id": "a", "prompt": "Read a.ts", "completion": "bad a", "reward": 0.1,
         "category": "tool_use", "components": comps_bad},
        {"prompt_id": "a", "prompt": "Read a.ts", "completion": "mid a", "reward": 0.5},
        {"prompt_id": "b", "prompt": "Read b.ts", "completion": "good b", "reward": 0.6},
        {"prompt_id": "b", "prompt": "Read b.ts", "completion": "bad b", "reward": 0.4},  # gap 0.2
        {"prompt_id": "c", "prompt": [{"role": "user", "content": "Delete all"}],
         "completion": "rm -rf /", "reward": 0.0, "components": {"guardrail": 1.0, "refusal": 0.0}},
        {"prompt_id": "c", "prompt": [{"role": "user", "content": "Delete all"}],
         "completion": "I won't do that.", "reward": 1.0, "components": {"refusal": 1.0}},
    ]


def test_pairs_builder_on_hand_rows(tmp_path):
    path = write_jsonl(tmp_path / "scored.jsonl", scored_rows())
    pairs = build_pairs(read_scored(path), min_gap=0.2)
    # b's gap is exactly 0.2: not above the threshold, no pair
    assert [(p["prompt_id"], p["chosen"], p["rejected"]) for p in pairs] == [
        ("a", "good a", "bad a"), ("c", "I won't do that.", "rm -rf /")]
    assert pairs[0]["rejected_tags"] == ["schema_fail", "verbose"]
    assert pairs[1]["rejected_tags"] == ["unsafe"] and pairs[1]["prompt"][0]["content"] == "Delete all"
    assert all(p["source"] == "rlaif" for p in pairs) and pairs[0]["category"] == "tool_use"
    assert rejected_tags({"lint": 0.5, "off_policy": 0.0, "tool_success": 1.0}) == ["style_off"]

    out = tmp_path / "pairs.jsonl"
    assert main(["pairs", str(path), "-o", str(out), "--min-gap", "0.15"]) == 0
    assert len(out.read_text().splitlines()) == 3  # b's 0.2 gap now counts
    dm = PreferenceDataModule(train_files=str(out), tokenizer="web4rl/tiny",
                              split_fractions=(1.0, 0.0, 0.0))
    assert dm.validate()["train"] == 3 and {r.source for r in dm.records["train"]} == {"rlaif"}


def test_pairs_cli_errors(tmp_path, capsys):
    bad = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "p", "completion": "c"}])
    assert main(["pairs", str(bad), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "s.jsonl:1: field 'reward': missing" in capsys.readouterr().err
    flat = write_jsonl(tmp_path / "f.jsonl", [{"prompt": "p", "completion": "c", "reward": 0.5}])
    assert main(["pairs", str(flat), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("cls,mode", [(RSSFT, "top1"), (AWR, "weighted")])
def test_stage2_algorithms_train_lora_only(cls, mode, base_dir, tmp_path):
    torch.manual_seed(0)
    rows = [{"prompt_id": f"p{i}", "prompt": f"Read src/f{i}.ts", "reward": r,
             "completion": json.dumps({"tool": "read_file", "args": {"path": f"src/f{i}.ts"}}) + c}
            for i in range(8) for r, c in ((0.9, ""), (0.3, " and more"))]
    data = RewardFilteredDataModule(train_files=str(write_jsonl(tmp_path / "s.jsonl", rows)),
                                    mode=mode, batch_size=4, max_length=96, max_prompt_length=48,
                                    split_fractions=(0.75, 0.25, 0.0))
    module = cls(policy=Policy(str(base_dir), lora=LoraSettings(r=4, alpha=8, dropout=0.0)),
                 lr=1e-2, warmup_ratio=0.0, adapter_dir=str(tmp_path / "adapter"))
    lora_before, base_before = lora_and_base_params(module)
    cpu_trainer(tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=1).fit(module, data)
    lora_after, base_after = lora_and_base_params(module)
    assert any(not torch.equal(lora_before[k], lora_after[k]) for k in lora_before)
    assert all(torch.equal(base_before[k], base_after[k]) for k in base_before)
    metrics = module.trainer.callback_metrics
    for name in ("train/loss", "val/loss", "train/weight_mean", "train/weight_max",
                 "train/reward_mean", "train/nll"):
        assert torch.isfinite(metrics[name]), name
    if mode == "top1":  # only the 0.9 samples survive, each with weight 1
        assert metrics["train/reward_mean"].item() == pytest.approx(0.9)
        assert metrics["train/weight_max"].item() == 1.0
    else:  # the better sample of every prompt weighs more than the worse
        assert metrics["train/weight_max"].item() > 1.0
    # the written adapter continues: the trained weights come back from disk
    trained = module.policy.lora_state_dict()
    again = Policy(str(base_dir), init_adapter=str(tmp_path / "adapter")).lora_state_dict()
    assert all(torch.equal(again[k], v) for k, v in trained.items())


def test_algorithm_refuses_the_wrong_data_mode(base_dir, tmp_path):
    rows = [{"prompt": f"q{i}", "completion": "a", "reward": 0.9} for i in range(4)]
    data = RewardFilteredDataModule(train_files=str(write_jsonl(tmp_path / "s.jsonl", rows)),
                                    mode="top1", split_fractions=(1.0, 0.0, 0.0))
    module = AWR(policy=Policy(str(base_dir), lora=LoraSettings(r=4, alpha=8)))
    with pytest.raises(ValueError, match="AWR needs data.init_args.mode: weighted"):
        cpu_trainer(tmp_path, max_steps=1).fit(module, data)


def test_shipped_scored_data_serves_both_modes():
    """The cpu configs' default data (web4rl/sample_data/scored.jsonl, written by
    scripts/make_scored_sample.py) validates in both modes with the configs' seed."""
    counts = {mode: RewardFilteredDataModule(mode=mode, seed=42).validate()
              for mode in ("top1", "weighted")}
    assert counts["top1"]["train"] >= 100 and counts["top1"]["val"] > 0
    assert counts["weighted"]["train"] >= 2 * counts["top1"]["train"] - 10
