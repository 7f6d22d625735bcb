"""SFTDataModule / PreferenceDataModule end to end: sources, splits, loaders, Trainer use."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from types import SimpleNamespace

import lightning as L
import pytest
import torch

from web4rl.data import (
    DataValidationError,
    PreferenceBatch,
    PreferenceDataModule,
    SequenceBatch,
    SFTDataModule,
)


def _prompts(dm, split):
    return [r.prompt[0]["content"] for r in dm.records[split]]


def test_sft_module_split_is_seeded_disjoint_and_indexed(write_jsonl, sft_row, tokenizer):
    path = write_jsonl("sft.jsonl", [sft_row(i) for i in range(50)])
    dm = SFTDataModule(train_files=str(path), batch_size=8, seed=1)
    assert dm.validate() == {"train": 40, "val": 5, "test": 5}
    again = SFTDataModule(train_files=str(path), seed=1)
    again.validate()
    for split in ("train", "val", "test"):
        assert _prompts(dm, split) == _prompts(again, split)
    sets = [set(_prompts(dm, s)) for s in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    dm.set_tokenizer(tokenizer)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))
    assert isinstance(batch, SequenceBatch) and batch.index.tolist() == [0, 1, 2, 3, 4]
    seen = torch.cat([b.index for b in dm.train_dataloader()])
    assert sorted(seen.tolist()) == list(range(40))


def test_train_loader_shuffles_reproducibly_and_val_does_not(write_jsonl, sft_row, tokenizer):
    path = write_jsonl("sft.jsonl", [sft_row(i) for i in range(40)])

    def orders(seed):
        dm = SFTDataModule(train_files=str(path), batch_size=4, seed=seed)
        dm.set_tokenizer(tokenizer)
        dm.setup("fit")
        loader = dm.train_dataloader()
        epochs = []
        for epoch in (0, 1, 0):
            loader.sampler.set_epoch(epoch)  # Lightning does this at every epoch start
            epochs.append(torch.cat([b.index for b in loader]).tolist())
        assert epochs[2] == epochs[0]  # the order depends on (seed, epoch) only: resumable
        epochs = epochs[:2]
        val = torch.cat([b.index for b in dm.val_dataloader()]).tolist()
        return epochs, val

    (e1, e2), val = orders(0)
    assert e1 != e2 and e1 != sorted(e1)  # shuffled, and differently each epoch
    assert orders(0) == ([e1, e2], val)  # same seed, same orders
    assert val == sorted(val)


def test_given_val_and_test_files_are_used_as_is(write_jsonl, sft_row):
    train = write_jsonl("train.jsonl", [sft_row(i) for i in range(10)])
    val = write_jsonl("val.jsonl", [sft_row(i) for i in range(100, 103)])
    test = write_jsonl("test.jsonl", [sft_row(i) for i in range(200, 202)])
    dm = SFTDataModule(train_files=str(train), val_files=str(val), test_files=[str(test)])
    assert dm.validate() == {"train": 10, "val": 3, "test": 2}
    # only val given: test is carved out of train with its share of (train + test)
    dm = SFTDataModule(train_files=str(train), val_files=str(val))
    assert dm.validate() == {"train": 9, "val": 3, "test": 1}


def test_validate_reports_all_sources_before_tokenizer(write_jsonl, sft_row):
    train = write_jsonl("train.jsonl", [sft_row(0), {"prompt": "p", "completion": ""}])
    val = write_jsonl("val.jsonl", ['{"prompt": '])
    dm = SFTDataModule(train_files=str(train), val_files=str(val), test_files=str(val))
    with pytest.raises(DataValidationError) as excinfo:
        dm.setup("fit")  # no tokenizer anywhere: validation still runs first and reports
    where = [(e.location.file, e.location.line, e.field) for e in excinfo.value.errors]
    assert where == [(str(train), 2, "completion"), (str(val), 1, None), (str(val), 1, None)]


def test_setup_without_tokenizer_says_how_to_give_one(write_jsonl, sft_row):
    dm = SFTDataModule(train_files=str(write_jsonl("t.jsonl", [sft_row(i) for i in range(5)])))
    with pytest.raises(ValueError, match="set_tokenizer"):
        dm.setup("fit")


def test_tokenizer_comes_from_the_trainers_policy(write_jsonl, sft_row, tokenizer):
    dm = SFTDataModule(train_files=str(write_jsonl("t.jsonl", [sft_row(i) for i in range(5)])))
    dm.trainer = SimpleNamespace(
        lightning_module=SimpleNamespace(policy=SimpleNamespace(tokenizer=tokenizer))
    )
    dm.setup("fit")
    assert dm.resolve_tokenizer() is tokenizer


def test_overlong_prompt_in_any_split_fails_setup_with_location(write_jsonl, sft_row, tokenizer):
    rows = [sft_row(i) for i in range(9)] + [{"prompt": "word " * 200, "completion": "c"}]
    path = write_jsonl("t.jsonl", rows)
    dm = SFTDataModule(train_files=str(path), max_length=128, max_prompt_length=64)
    dm.set_tokenizer(tokenizer)
    with pytest.raises(
        DataValidationError,
        match=r"t\.jsonl:10: field 'prompt': prompt has \d+ tokens > max_prompt_length 64",
    ):
        dm.setup("fit")
    dm = SFTDataModule(
        train_files=str(path), max_length=128, max_prompt_length=64, overlong_prompt="skip"
    )
    dm.set_tokenizer(tokenizer)
    dm.setup("fit")
    assert sum(s.prompts_skipped for s in dm.truncation.values()) == 1


def test_bad_arguments_fail_at_construction():
    with pytest.raises(ValueError, match="max_prompt_length < max_length"):
        SFTDataModule(max_length=100, max_prompt_length=100)
    with pytest.raises(ValueError, match="not both"):
        SFTDataModule(train_files="a.jsonl", hf_dataset="json")
    with pytest.raises(ValueError, match="overlong_prompt"):
        PreferenceDataModule(overlong_prompt="cut")


# ----------------------------------------------------------------------------- preferences


def _categories(dm) -> Counter:
    return Counter(dm.records["train"][i].category for i in dm.train_order)


def test_preference_module_batches(write_jsonl, pref_row, tokenizer):
    path = write_jsonl(
        "p.jsonl", [pref_row(i, category="style" if i % 3 else "guardrail") for i in range(30)]
    )
    dm = PreferenceDataModule(train_files=str(path), batch_size=4)
    dm.set_tokenizer(tokenizer)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, PreferenceBatch) and len(batch) == 4
    assert batch.chosen.input_ids.shape == batch.rejected.input_ids.shape
    assert set(batch.categories) <= {"style", "guardrail"}


def test_category_balancing_on_train_only(write_jsonl, pref_row):
    cats = ["tool_use"] * 40 + ["style"] * 30 + ["multi_step"] * 20 + ["guardrail"] * 10
    path = write_jsonl("p.jsonl", [pref_row(i, category=c) for i, c in enumerate(cats)])
    plain = PreferenceDataModule(train_files=str(path), seed=5)
    plain.validate()
    dm = PreferenceDataModule(train_files=str(path), seed=5, balance_categories=True)
    counts = dm.validate()
    n_train = len(dm.records["train"])
    assert counts["train"] == n_train  # same size, up to rounding to a multiple of 4
    assert len(set(_categories(dm).values())) == 1
    assert dm.records["val"] == plain.records["val"]  # val/test untouched
    again = PreferenceDataModule(train_files=str(path), seed=5, balance_categories=True)
    again.validate()
    assert again.train_order == dm.train_order


def test_category_filter(write_jsonl, pref_row):
    cats = ["tool_use", "style", "guardrail"] * 10
    path = write_jsonl("p.jsonl", [pref_row(i, category=c) for i, c in enumerate(cats)])
    dm = PreferenceDataModule(train_files=str(path), categories=["guardrail", "style"])
    dm.validate()
    for split in ("train", "val", "test"):
        assert {r.category for r in dm.records[split]} <= {"guardrail", "style"}
    with pytest.raises(DataValidationError, match="keeps no training pairs"):
        PreferenceDataModule(train_files=str(path), categories=["unsafe_code"]).validate()


# ----------------------------------------------------------------------------- HF datasets


def test_hf_json_builder_source(write_jsonl, pref_row, tokenizer):
    path = write_jsonl("p.jsonl", [pref_row(i) for i in range(20)])
    dm = PreferenceDataModule(hf_dataset="json", hf_data_files=str(path), batch_size=2)
    assert dm.validate() == {"train": 16, "val": 2, "test": 2}
    assert dm.records["train"][0].location.file == "hf:json[train]"
    dm.set_tokenizer(tokenizer)
    dm.setup("fit")
    assert isinstance(next(iter(dm.train_dataloader())), PreferenceBatch)


def test_hf_mixed_sft_row_forms_and_bad_row(tmp_path):
    """HF fills absent columns with None; all three SFT forms still parse, errors name the row."""
    rows = [
        {"prompt": "p", "completion": "c"},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        {"instruction": "i", "input": "", "output": "o"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dm = SFTDataModule(hf_dataset="json", hf_data_files=str(path), split_fractions=(1.0, 0.0, 0.0))
    assert dm.validate() == {"train": 3, "val": 0, "test": 0}
    assert [r.completion for r in dm.records["train"]] == ["c", "a", "o"]
    path.write_text(json.dumps({"prompt": "p", "completion": ""}) + "\n")
    with pytest.raises(
        DataValidationError, match=r"hf:json\[train\] row 1: field 'completion': is empty"
    ):
        SFTDataModule(hf_dataset="json", hf_data_files=str(path)).validate()


def test_hf_saved_dataset_dict_with_splits(tmp_path, pref_row):
    import datasets

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list([pref_row(i) for i in range(8)]),
            "validation": datasets.Dataset.from_list([pref_row(i) for i in range(100, 103)]),
        }
    )
    dd.save_to_disk(str(tmp_path / "ds"))
    dm = PreferenceDataModule(hf_dataset=str(tmp_path / "ds"), hf_val_split="validation")
    assert dm.validate() == {"train": 7, "val": 3, "test": 1}
    with pytest.raises(DataValidationError, match="split 'nope' not found"):
        PreferenceDataModule(hf_dataset=str(tmp_path / "ds"), hf_split="nope").validate()


def test_hf_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DataValidationError, match="cannot load dataset"):
        SFTDataModule(hf_dataset="json", hf_data_files=str(tmp_path / "none.jsonl")).validate()


# ----------------------------------------------------------------------------- with a Trainer


class _Probe(L.LightningModule):
    """Minimal module: records batches it sees; owns a ``policy.tokenizer`` like PolicyModule."""

    def __init__(self, tokenizer):
        super().__init__()
        self.policy = SimpleNamespace(tokenizer=tokenizer)
        self.w = torch.nn.Parameter(torch.zeros(()))
        self.seen: list[int] = []
        self.val_batches = 0

    def training_step(self, batch, _):
        assert isinstance(batch, PreferenceBatch | SequenceBatch)
        self.seen.extend(batch.index.tolist())
        return (self.w - 1.0) ** 2

    def validation_step(self, batch, _):
        self.val_batches += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit_one_epoch(probe, dm) -> None:
    """One quiet CPU epoch of ``probe`` over ``dm`` (no logger, checkpoints or sanity check)."""
    L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
    ).fit(probe, datamodule=dm)  # fmt: skip


@pytest.mark.parametrize("num_workers", [0, 2])
def test_trainer_fit_with_workers(write_jsonl, pref_row, tokenizer, num_workers):
    path = write_jsonl("p.jsonl", [pref_row(i) for i in range(20)])
    dm = PreferenceDataModule(train_files=str(path), batch_size=4, num_workers=num_workers)
    probe = _Probe(tokenizer)
    _fit_one_epoch(probe, dm)
    assert sorted(probe.seen) == list(range(16)) and probe.val_batches == 1


def test_trainer_fit_without_val_split(write_jsonl, sft_row, tokenizer):
    dm = SFTDataModule(
        train_files=str(write_jsonl("t.jsonl", [sft_row(i) for i in range(6)])),
        batch_size=3,
        split_fractions=(1.0, 0.0, 0.0),
    )
    probe = _Probe(tokenizer)
    _fit_one_epoch(probe, dm)
    assert sorted(probe.seen) == list(range(6)) and probe.val_batches == 0


def test_signature_is_a_jsonargparse_schema():
    from jsonargparse import ArgumentParser

    for cls in (SFTDataModule, PreferenceDataModule):
        parser = ArgumentParser(exit_on_error=False)
        parser.add_class_arguments(cls, "data")
        cfg = parser.parse_args(
            ["--data.train_files=[a.jsonl, b.jsonl]", "--data.overlong_prompt=skip"]
        )
        assert cfg.data.train_files == ["a.jsonl", "b.jsonl"] and cfg.data.max_length == 4096
        help_text = " ".join(parser.format_help().split())  # help wraps with the terminal
        assert "what to do with a prompt over" in help_text  # the docstring is the help text
        with pytest.raises(argparse.ArgumentError, match="overlong_prompt"):
            parser.parse_args(["--data.overlong_prompt=cut"])


# ----------------------------------------------------------------------------- shipped data


@pytest.mark.parametrize("cls", [SFTDataModule, PreferenceDataModule])
def test_defaults_read_the_shipped_sample_data(cls):
    """No files given: the package's sample data and (by name) the tiny tokenizer are used."""
    dm = cls(tokenizer="web4rl/tiny", batch_size=4)
    counts = dm.validate()
    assert counts["train"] > counts["val"] > 0 and counts["test"] > 0
    assert dm.records["train"][0].location.file.endswith(cls.default_file)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert len(batch) == 4
    assert all(s.prompts_skipped == 0 for s in dm.truncation.values())


class _RankProbe(_Probe):
    """Writes the row indices each DDP rank trained on to ``out_dir/rank<r>.json``."""

    def __init__(self, tokenizer, out_dir):
        super().__init__(tokenizer)
        self.out_dir = str(out_dir)

    def on_train_end(self):
        path = f"{self.out_dir}/rank{self.global_rank}.json"
        with open(path, "w") as f:
            json.dump(self.seen, f)


def test_ddp_ranks_get_disjoint_shards(write_jsonl, pref_row, tokenizer, tmp_path):
    """Under DDP (2 CPU processes, gloo) Lightning shards the train set: disjoint, complete."""
    path = write_jsonl("p.jsonl", [pref_row(i) for i in range(20)])
    dm = PreferenceDataModule(train_files=str(path), batch_size=2)
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=0,
    )  # fmt: skip
    trainer.fit(_RankProbe(tokenizer, tmp_path), datamodule=dm)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 8
    assert sorted(ranks[0] + ranks[1]) == list(range(16))


def test_loader_parts_pickle_for_spawned_workers(write_jsonl, pref_row, tokenizer):
    """macOS (MPS) starts DataLoader workers with spawn: dataset and collator must pickle."""
    import pickle

    dm = PreferenceDataModule(
        train_files=str(write_jsonl("p.jsonl", [pref_row(i) for i in range(10)]))
    )
    dm.set_tokenizer(tokenizer)
    dm.setup("fit")
    loader = dm.train_dataloader()
    dataset, collate = pickle.loads(pickle.dumps((loader.dataset, loader.collate_fn)))
    assert isinstance(collate([dataset[0], dataset[1]]), PreferenceBatch)
