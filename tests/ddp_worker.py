"""Run by tests/test_ddp.py as a script: 2-process CPU DDP (gloo) ORPO training.

Lightning's DDP launcher re-executes this file for rank 1; every rank then writes its LoRA
weights to OUT/rank<r>.pt so the test can check that all ranks hold the same adapter.
"""

import sys
from pathlib import Path

import lightning as L
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import preference_rows, write_jsonl  # noqa: E402
from web4rl.algorithms import ORPO  # noqa: E402
from web4rl.data import PreferenceDataModule  # noqa: E402
from web4rl.policy import LoraSettings, Policy  # noqa: E402


def main(out: Path) -> None:
    L.seed_everything(0)
    data_file = out / "pairs.jsonl"
    if not data_file.exists():  # rank 0 runs first, before the launcher starts rank 1
        write_jsonl(data_file, preference_rows(32))
    module = ORPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)), lr=1e-2,
                  adapter_dir=str(out / "adapter"))
    dm = PreferenceDataModule(train_files=str(data_file), batch_size=4, max_length=128,
                              max_prompt_length=64)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_steps=4,
                        limit_val_batches=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=str(out))
    trainer.fit(module, dm)
    lora = {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}
    torch.save({"lora": lora, "world_size": trainer.world_size},
               out / f"rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
