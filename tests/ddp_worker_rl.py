"""Run by tests/test_online_rl_ddp.py as a script: 2-process CPU DDP (gloo) GRPO on the bandit.

Each rank plays its own episodes (rank-specific seed); every rank writes its LoRA weights and
the task actions of its first batch to OUT/rank<r>.pt.
"""

import sys
from pathlib import Path

import lightning as L
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.bandit import BanditDataModule, favourite_text  # noqa: E402
from web4rl.algorithms import GRPO  # noqa: E402
from web4rl.policy import LoraSettings, Policy  # noqa: E402


class RecordingBandit(BanditDataModule):
    def play_update(self):
        batch = super().play_update()
        if not hasattr(self, "first_actions"):
            self.first_actions = batch.actions
        return batch


def main(out: Path) -> None:
    L.seed_everything(0)
    module = GRPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0)),
                  lr=1e-2, minibatch_size=8, adapter_dir=str(out / "adapter"))
    dm = RecordingBandit(favourite_text(module.policy), num_updates=2)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=1,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=str(out))
    trainer.fit(module, dm)
    lora = {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}
    torch.save({"lora": lora, "world_size": trainer.world_size, "actions": dm.first_actions},
               out / f"rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
