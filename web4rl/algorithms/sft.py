"""Stage 0: supervised fine-tuning of the LoRA adapter on gold completions."""

from __future__ import annotations

import torch

from web4rl.algorithms.base import Metrics, PolicyModule
from web4rl.data.batches import SequenceBatch
from web4rl.losses import sft_nll


class SFT(PolicyModule):
    """Token NLL over completion tokens (prompt masked); honours per-sample ``batch.weights``.

    Args: see ``PolicyModule`` (lr, schedule, adapter_dir, ...).
    """

    def compute_loss(self, batch: SequenceBatch) -> tuple[torch.Tensor, Metrics]:
        logps, mask = self.policy.token_logps(  # [B, T-1] each
            batch.input_ids, batch.attention_mask, batch.labels
        )
        return sft_nll(logps, mask, batch.weights)
