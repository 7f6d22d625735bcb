"""Stage 2: advantage-weighted regression (Peng et al. 2019) on judge-scored samples."""

from __future__ import annotations

import torch

from web4rl.algorithms.base import Metrics, PolicyModule
from web4rl.algorithms.rs_sft import check_mode, reward_metrics
from web4rl.data.reward_filtered import RewardBatch
from web4rl.losses import sft_nll


class AWR(PolicyModule):
    """Weighted NLL: L = (1 / B) sum_b w_b * nll_b, nll_b the mean token NLL of sample b and
    w_b = min(exp(A^_b / beta), w_max) its AWR weight, computed once over the data set by
    ``RewardFilteredDataModule(mode="weighted")`` (definition in :mod:`web4rl.rl.awr`).

    Args: see ``PolicyModule`` (lr, schedule, adapter_dir, ...); beta and the clip are data
    options (``awr_beta``, ``awr_max_weight``) because the weights depend on the whole data set.
    """

    def on_fit_start(self) -> None:
        check_mode(self, "weighted")

    def compute_loss(self, batch: RewardBatch) -> tuple[torch.Tensor, Metrics]:
        if batch.weights is None:
            raise ValueError("AWR needs weighted batches (RewardFilteredDataModule, mode weighted)")
        logps, mask = self.policy.token_logps(  # [B, T-1] each
            batch.input_ids, batch.attention_mask, batch.labels
        )
        loss, metrics = sft_nll(logps, mask, batch.weights.to(logps.dtype))
        metrics.update(reward_metrics(batch))
        return loss, metrics
