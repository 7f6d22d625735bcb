"""Stage 2: rejection-sampling SFT (RS-SFT) on the best judge-scored sample per prompt."""

from __future__ import annotations

import torch

from web4rl.algorithms.base import Metrics, PolicyModule
from web4rl.data.reward_filtered import RewardBatch
from web4rl.losses import sft_nll


def reward_metrics(batch: RewardBatch) -> Metrics:
    """``weight_mean``, ``weight_max`` and ``reward_mean`` of a batch (shared by RS-SFT/AWR)."""
    weights = batch.weights if batch.weights is not None else torch.ones(len(batch))
    out = {"weight_mean": weights.detach().float().mean(), "weight_max": weights.detach().float().max()}
    if getattr(batch, "rewards", None) is not None:
        out["reward_mean"] = batch.rewards.detach().float().mean()
    return out


def check_mode(module: PolicyModule, mode: str) -> None:
    """Refuse a DataModule in the wrong selection mode (e.g. AWR over top1 rows would silently
    be RS-SFT): a config mistake, named before the first step."""
    datamodule = module.trainer.datamodule if module._trainer is not None else None
    found = getattr(datamodule, "mode", None)
    if found is not None and found != mode:
        raise ValueError(
            f"{type(module).__name__} needs data.init_args.mode: {mode} (the DataModule has "
            f"mode {found!r})"
        )


class RSSFT(PolicyModule):
    """Token NLL (as SFT) on the top-1 sample per prompt with reward >= threshold; the
    selection is done by ``RewardFilteredDataModule(mode="top1")``.

    Args: see ``PolicyModule`` (lr, schedule, adapter_dir, ...).
    """

    def on_fit_start(self) -> None:
        check_mode(self, "top1")

    def compute_loss(self, batch: RewardBatch) -> tuple[torch.Tensor, Metrics]:
        logps, mask = self.policy.token_logps(  # [B, T-1] each
            batch.input_ids, batch.attention_mask, batch.labels
        )
        loss, metrics = sft_nll(logps, mask)  # selected rows all weigh 1: plain token mean
        metrics.update(reward_metrics(batch))
        return loss, metrics
