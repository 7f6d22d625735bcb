"""Run by tests/test_ddp.py as a script: 2-process CPU DDP (gloo) ORPO training.

Lightning's DDP launcher re-executes this file for rank 1; every rank then writes its LoRA
weights to OUT/rank<r>.pt so the test can check that all ranks hold the same adapter.

Then every rank gets its own RNG streams, a checkpoint is saved, and a second fit resumes
from it: each rank writes OUT/rng<r>.pt with the streams at save time and right after
``on_load_checkpoint`` restored them (each rank must get its own back, not rank 0's).
"""

import random
import sys
from pathlib import Path

import lightning as L
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import preference_rows, write_jsonl  # noqa: E402
from web4rl.algorithms import ORPO  # noqa: E402
from web4rl.algorithms.base import collect_rng_states  # noqa: E402
from web4rl.data import PreferenceDataModule  # noqa: E402
from web4rl.policy import LoraSettings, Policy  # noqa: E402


class RngProbe(ORPO):
    """ORPO that records the RNG streams right after its checkpoint hook restored them."""

    restored = None

    def on_load_checkpoint(self, checkpoint):
        super().on_load_checkpoint(checkpoint)
        self.restored = collect_rng_states()


def trainer(out: Path, max_steps: int) -> L.Trainer:
    return L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_steps=max_steps,
                     limit_val_batches=1, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False,
                     default_root_dir=str(out))


def main(out: Path) -> None:
    L.seed_everything(0)
    data_file = out / "pairs.jsonl"
    if not data_file.exists():  # rank 0 runs first, before the launcher starts rank 1
        write_jsonl(data_file, preference_rows(32))
    module = RngProbe(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)), lr=1e-2,
                      adapter_dir=str(out / "adapter"))
    dm = PreferenceDataModule(train_files=str(data_file), batch_size=4, max_length=128,
                              max_prompt_length=64)
    first = trainer(out, max_steps=4)
    first.fit(module, dm)
    rank = first.global_rank
    lora = {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}
    torch.save({"lora": lora, "world_size": first.world_size}, out / f"rank{rank}.pt")

    # GPUs advance one CUDA generator per rank; on CPU give each rank its own streams.
    torch.manual_seed(1000 + rank)
    np.random.seed(1000 + rank)
    random.seed(1000 + rank)
    saved = collect_rng_states()
    first.save_checkpoint(out / "half.ckpt")  # a collective: every rank calls it
    torch.manual_seed(0), np.random.seed(0), random.seed(0)  # what a fresh process would hold
    module.hparams.adapter_dir = None  # the resumed fit must not rewrite the adapter
    trainer(out, max_steps=5).fit(module, dm, ckpt_path=str(out / "half.ckpt"))
    torch.save({"saved": saved, "restored": module.restored}, out / f"rng{rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
