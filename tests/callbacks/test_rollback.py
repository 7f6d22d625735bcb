"""Rollback: a critical signal restores the newest rollback-safe checkpoint exactly (adapter,
optimizer, scheduler, RNG, data position), then training continues; M rollbacks stop the run."""

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, sft_rows, write_jsonl
from web4rl.algorithms import SFT
from web4rl.callbacks import GatedCheckpoint, Rollback, RollbackLimitReached, fit_with_rollback
from web4rl.callbacks.checkpoints import read_index
from web4rl.data import SFTDataModule
from web4rl.policy import LoraSettings, Policy


class NaNAt(SFT):
    """SFT whose loss turns NaN at the given optimizer steps (each once)."""

    def __init__(self, *args, nan_steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.nan_steps = set(nan_steps)

    def compute_loss(self, batch):
        loss, metrics = super().compute_loss(batch)
        if self.global_step in self.nan_steps:
            self.nan_steps.discard(self.global_step)
            loss = loss * float("nan")
        return loss, metrics


class RecordStarts(L.Callback):
    """LoRA weights at the start of every fit (i.e. right after a restore)."""

    def __init__(self):
        self.starts = []

    def on_train_start(self, trainer, pl_module):
        self.starts.append((trainer.global_step, lora(pl_module)))


def lora(module):
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


def run(tmp_path, name, nan_steps=(), max_rollbacks=2, max_steps=8, lr_scale=1.0):
    L.seed_everything(0)
    module = NaNAt(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.1)),
                   lr=1e-2, warmup_ratio=0.25, nan_steps=nan_steps,
                   adapter_dir=str(tmp_path / name / "adapter"), adapter_out="last")
    data = SFTDataModule(train_files=str(write_jsonl(tmp_path / "sft.jsonl", sft_rows(24))),
                         batch_size=4, max_length=96, max_prompt_length=64)
    ckpt = GatedCheckpoint(dirpath=str(tmp_path / name / "ckpt"), every_n_train_steps=3,
                           save_top_k=-1, filename="{step}")
    starts = RecordStarts()
    rollback = Rollback(max_rollbacks=max_rollbacks, lr_scale=lr_scale)
    trainer = cpu_trainer(tmp_path / name, max_steps=max_steps, limit_val_batches=0,
                          enable_checkpointing=True, callbacks=[ckpt, rollback, starts])
    return module, trainer, data, rollback, starts


def test_nan_loss_rolls_back_to_last_safe_checkpoint_and_continues_exactly(tmp_path):
    clean, trainer, data, _, _ = run(tmp_path, "clean")
    fit_with_rollback(trainer, clean, data)
    clean_final = lora(clean)
    clean_at_3 = torch.load(tmp_path / "clean" / "ckpt" / "step=3.ckpt", weights_only=True)

    module, trainer, data, rollback, starts = run(tmp_path, "nan", nan_steps={4})
    fit_with_rollback(trainer, module, data)
    assert [(e.step, e.restored_step) for e in rollback.events] == [(4, 3)]
    assert rollback.events[0].reason == "non-finite gradients"  # caught before the step
    # Right after the restore the adapter is the clean run's adapter at step 3 ...
    step, restored = starts.starts[1]
    assert step == 3
    for name, weight in restored.items():
        assert torch.equal(weight, clean_at_3["state_dict"][name]), name
    # ... and the continued run ends exactly where the clean run ended.
    assert trainer.global_step == 8
    for name, weight in lora(module).items():
        assert torch.allclose(weight, clean_final[name], atol=1e-6), name
    # Every checkpoint is in the index as safe (the NaN step was never saved); none deleted.
    index = read_index(tmp_path / "nan" / "ckpt")
    assert sorted(r["step"] for r in index.values()) == [3, 6]
    assert all(r["rollback_safe"] for r in index.values())
    assert (tmp_path / "nan" / "adapter" / "adapter_model.safetensors").is_file()


def test_max_rollbacks_stops_the_run_with_the_reason(tmp_path):
    module, trainer, data, rollback, _ = run(tmp_path, "stop", nan_steps={4, 5, 6, 7},
                                             max_rollbacks=1, lr_scale=0.5)
    with pytest.raises(RollbackLimitReached, match="max_rollbacks=1"):
        fit_with_rollback(trainer, module, data)
    assert len(rollback.events) == 1
    # the one restore halved the schedule's peak LR (1e-2 -> 5e-3)
    assert trainer.lr_scheduler_configs[0].scheduler.base_lrs == [pytest.approx(5e-3)]
    # adapter_dir gets the newest safe checkpoint's adapter, never the diverged weights.
    from safetensors.torch import load_file

    out = load_file(tmp_path / "stop" / "adapter" / "adapter_model.safetensors")
    step3 = torch.load(tmp_path / "stop" / "ckpt" / "step=3.ckpt", weights_only=True)
    assert len(out) == len(step3["state_dict"])
    assert all(torch.isfinite(t).all() for t in out.values())
