"""One real run: the tiny model is first taught to emit a valid tool call, then its adapter is
deliberately broken mid-run; the real EvalGates (real sampling, real judge) sees JSON validity
collapse, Rollback restores the last safe checkpoint and the run continues with passing gates."""

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, write_jsonl
from web4rl.algorithms import SFT
from web4rl.callbacks import EvalGates, GatedCheckpoint, Rollback, fit_with_rollback
from web4rl.data import SFTDataModule
from web4rl.policy import LoraSettings, Policy

CALL = '{"tool": "ls", "args": {}}'


class BreakAdapterOnce(L.Callback):
    """Overwrite lora_B with large noise after the given optimizer step (once)."""

    def __init__(self, step):
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            self.step = None
            g = torch.Generator().manual_seed(0)
            with torch.no_grad():
                for name, p in pl_module.named_parameters():
                    if "lora_B" in name and p.requires_grad:
                        p.copy_(torch.randn(p.shape, generator=g) * 2.0)


@pytest.mark.slow
def test_broken_adapter_fails_the_gates_and_is_rolled_back(tmp_path):
    rows = [{"prompt": f"List files {i}", "completion": CALL, "category": "tool_use"}
            for i in range(8)]
    data_file = write_jsonl(tmp_path / "d.jsonl", rows)

    def data():
        return SFTDataModule(train_files=str(data_file), batch_size=8, max_length=64,
                             max_prompt_length=32, split_fractions=(1, 0, 0))

    # 1. An adapter that answers with a valid tool call (saved and loaded back from disk).
    L.seed_everything(0)
    teacher = SFT(policy=Policy("web4rl/tiny", lora=LoraSettings(r=8, alpha=16, dropout=0.0)),
                  lr=3e-3, warmup_ratio=0.0)
    cpu_trainer(tmp_path, max_steps=60, limit_val_batches=0).fit(teacher, data())
    teacher.policy.save_adapter(tmp_path / "good")

    # 2. Continue it (lr 0: only the break changes weights); break it after step 3.
    eval_file = write_jsonl(tmp_path / "eval.jsonl", [
        {"prompt": f"List files {i}", "category": "tool_use"} for i in (90, 91, 92, 93)])
    gates = EvalGates(every_n_steps=2, num_prompts=4, eval_file=str(eval_file), temperature=0.0,
                      max_new_tokens=16, gates=["json_validity"])
    rollback = Rollback(max_rollbacks=1)
    module = SFT(policy=Policy("web4rl/tiny", init_adapter=str(tmp_path / "good")), lr=0.0,
                 adapter_dir=str(tmp_path / "out"))
    start = {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}
    trainer = cpu_trainer(tmp_path, max_steps=6, limit_val_batches=0, enable_checkpointing=True,
                          callbacks=[gates, GatedCheckpoint(dirpath=str(tmp_path / "ckpt"),
                                                            every_n_train_steps=2, save_top_k=-1),
                                     rollback, BreakAdapterOnce(3)])
    fit_with_rollback(trainer, module, data())

    assert [(e.step, e.restored_step) for e in rollback.events] == [(4, 2)]
    assert "JSON validity" in rollback.events[0].reason
    by_step = {r.step: r.values["json_validity"] for r in gates.history}
    assert by_step[2] == 1.0 and by_step[4] < 0.9  # passed, then collapsed
    assert gates.latest.step == 6 and gates.latest.values["json_validity"] == 1.0
    for name, weight in module.named_parameters():
        if weight.requires_grad:
            assert torch.equal(weight, start[name]), name
