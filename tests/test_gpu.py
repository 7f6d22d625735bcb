"""GPU checks (marker `gpu`): skipped without CUDA; run on a lent GPU machine with
`pytest -m gpu`."""

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, lora_and_base_params, preference_rows, write_jsonl
from web4rl.algorithms import DPO, ORPO, SFT
from web4rl.callbacks import MatmulPrecision
from web4rl.data import PreferenceDataModule, SFTDataModule
from web4rl.policy import LoraSettings, Policy
from web4rl.tiny import build_tiny_model, load_tiny_tokenizer

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


class StepPeakMemory(L.Callback):
    """Peak CUDA memory a training step adds on top of what is allocated when it starts
    (activations + gradients), in bytes, one entry per step."""

    def __init__(self) -> None:
        self.peaks: list[int] = []
        self._start = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        self._start = torch.cuda.memory_allocated()

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        torch.cuda.synchronize()
        self.peaks.append(torch.cuda.max_memory_allocated() - self._start)


def test_gradient_checkpointing_cuts_peak_memory_of_a_model_loaded_from_disk(tmp_path):
    """Issue 17 item 1 on CUDA: a model loaded with from_pretrained (eval mode on load) must
    still checkpoint. Long sequences make the 4 decoder layers' activations dominate, so the
    checkpointed step's peak must be clearly below the plain one."""
    model_dir = tmp_path / "tiny"
    build_tiny_model(seed=0).save_pretrained(model_dir)
    load_tiny_tokenizer().save_pretrained(model_dir)
    words = " ".join(f"line{i} = value{i};" for i in range(100))  # ~780 tokens
    rows = [{"prompt": f"Write file {i}", "completion": words, "category": "code"}
            for i in range(8)]
    data_file = write_jsonl(tmp_path / "sft.jsonl", rows)
    peaks = {}
    for checkpointing in (False, True):
        torch.manual_seed(0)
        policy = Policy(str(model_dir), lora=LoraSettings(r=8, alpha=16),
                        gradient_checkpointing=checkpointing)
        probe = StepPeakMemory()
        trainer = cpu_trainer(tmp_path, accelerator="gpu", devices=1, precision="bf16-mixed",
                              max_steps=2, limit_val_batches=0, callbacks=[probe])
        trainer.fit(SFT(policy=policy, lr=1e-4),
                    SFTDataModule(train_files=str(data_file), batch_size=4, max_length=1024,
                                  max_prompt_length=64))
        peaks[checkpointing] = max(probe.peaks)
        del trainer, policy
        torch.cuda.empty_cache()
    print(f"step peak MiB: plain {peaks[False] / 2**20:.1f}, "
          f"checkpointed {peaks[True] / 2**20:.1f}")
    assert peaks[True] < 0.8 * peaks[False]


def test_matmul_precision_medium_keeps_torch_queryable_on_cuda():
    """Issue 17 item 4 on CUDA: after "medium", torch's precision getter must still answer."""
    before = torch.get_float32_matmul_precision()
    try:
        for precision in ("medium", "high", "highest"):
            MatmulPrecision(precision).setup(None, None, "fit")
            assert torch.get_float32_matmul_precision() == precision
    finally:
        torch.set_float32_matmul_precision(before)
