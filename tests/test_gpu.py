"""GPU checks (marker `gpu`): skipped without CUDA; run on a lent GPU machine with
`pytest -m gpu`."""

import pytest
import torch

from tests.helpers import cpu_trainer, lora_and_base_params, preference_rows, write_jsonl
from web4rl.algorithms import DPO, ORPO
from web4rl.callbacks import MatmulPrecision
from web4rl.data import PreferenceDataModule
from web4rl.policy import LoraSettings, Policy

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.mark.parametrize("cls", [ORPO, DPO])
def test_bf16_mixed_step_on_gpu(cls, tmp_path):
    module = cls(policy=Policy("web4rl/tiny", lora=LoraSettings(r=8, alpha=16)), lr=1e-3)
    lora_before, base_before = lora_and_base_params(module)
    data = PreferenceDataModule(train_files=str(write_jsonl(tmp_path / "p.jsonl",
                                                            preference_rows(32))),
                                batch_size=4, max_length=128, max_prompt_length=64)
    trainer = cpu_trainer(tmp_path, accelerator="gpu", devices=1, precision="bf16-mixed",
                          max_epochs=1, limit_train_batches=3, limit_val_batches=1,
                          callbacks=[MatmulPrecision("high")])
    trainer.fit(module, data)
    optimizer = trainer.optimizers[0]
    assert optimizer.defaults.get("fused")  # fused AdamW is chosen automatically on CUDA
    lora_after, base_after = lora_and_base_params(module)
    assert any(not torch.equal(lora_before[k], lora_after[k].cpu()) for k in lora_before)
    assert all(torch.equal(base_before[k], base_after[k].cpu()) for k in base_before)
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
