"""DPO's precomputed reference log-probs in library use (issue 17, item 3): a user's own
DataModule falls back to the per-step reference pass; a second fit/validate/test on other data
never reads the first data's table."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, preference_rows, write_jsonl
from web4rl.algorithms import DPO
from web4rl.data import PreferenceDataModule
from web4rl.policy import LoraSettings, Policy


def _policy():
    return Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0))


def _data(tmp_path, name, rows, **kwargs):
    return PreferenceDataModule(train_files=str(write_jsonl(tmp_path / f"{name}.jsonl", rows)),
                                batch_size=4, max_length=96, max_prompt_length=64, **kwargs)


class OwnData(L.LightningDataModule):
    """A user's DataModule: only dataloaders (no datasets / collator / batch_size)."""

    def __init__(self, inner: PreferenceDataModule) -> None:
        super().__init__()
        self.inner = inner

    def train_dataloader(self):
        return self.inner.train_dataloader()

    def val_dataloader(self):
        return self.inner.val_dataloader()


def test_precompute_with_own_datamodule_warns_and_trains(tmp_path):
    module = DPO(policy=_policy(), precompute_reference=True, lr=1e-3)
    inner = _data(tmp_path, "pairs", preference_rows(16))
    inner.set_tokenizer(module.policy.tokenizer)
    inner.setup("fit")
    trainer = cpu_trainer(tmp_path, max_steps=2, limit_val_batches=1)
    with pytest.warns(UserWarning, match="precompute_reference is ignored without a web4rl"):
        trainer.fit(module, OwnData(inner))
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    assert not module._reference_cache


def _shifted_rows(n: int) -> list[dict]:
    """Pairs unlike preference_rows (other prompts and completions), and more of them."""
    rows = preference_rows(n)
    for i, row in enumerate(rows):
        row["prompt"] = f"Please list the folder src/pages/Page{i} and then read its index file"
        row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
    return rows


def test_reference_cache_follows_the_data(tmp_path):
    """fit on data 1, then validate and test on data 2 (more, different pairs): the losses
    must equal those of the per-step reference pass on data 2. Before the fix, data 2's pair
    indices were looked up in data 1's tables (IndexError, NaN or a wrong loss)."""
    torch.manual_seed(0)
    splits = dict(split_fractions=(0.5, 0.25, 0.25))
    module = DPO(policy=_policy(), precompute_reference=True, lr=1e-2, warmup_ratio=0.0)
    cpu_trainer(tmp_path, max_steps=2, limit_val_batches=1).fit(
        module, _data(tmp_path, "one", preference_rows(8), **splits))
    assert module._reference_cache  # the tables were in use
    # lora_B moved away from 0 during fit, so the policy differs from the reference and a
    # wrong reference shows in the loss.
    online = DPO(policy=module.policy, precompute_reference=False)
    for run in ("validate", "test"):
        other = _data(tmp_path, "two", _shifted_rows(24), **splits)
        trainer = cpu_trainer(tmp_path)
        got = getattr(trainer, run)(module, other)[0]
        want = getattr(cpu_trainer(tmp_path), run)(online, other)[0]
        key = "val/loss" if run == "validate" else "test/loss"
        assert got[key] == pytest.approx(want[key], abs=1e-5), run
        split = "val" if run == "validate" else "test"
        # ...and it came from a new table for data 2, not from the per-step fallback
        assert module._reference_cache[split][0] is other.datasets[split]
        batch = next(iter(getattr(other, f"{split}_dataloader")()))
        trainer.testing = split == "test"  # the stage the lookup reads its split from
        assert module._cached_reference(batch) is not None
