"""Stage 1: ORPO on human preference pairs (Hong et al. 2024). No reference model."""

from __future__ import annotations

import torch

from web4rl.algorithms.base import Metrics, PolicyModule, stack_pair
from web4rl.data.batches import PreferenceBatch
from web4rl.losses import orpo_loss, sft_nll
from web4rl.options import constrain
from web4rl.sequence import masked_mean


@constrain(beta="> 0")
class ORPO(PolicyModule):
    """NLL(chosen) + beta * odds-ratio loss, with length-normalised (mean) log-probs.

    Args:
        beta: weight of the odds-ratio term (the paper's lambda; DESIGN.md default 0.1).
        **kwargs: see ``PolicyModule``.
    """

    def __init__(self, *args, beta: float = 0.1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.beta = beta

    def compute_loss(self, batch: PreferenceBatch) -> tuple[torch.Tensor, Metrics]:
        input_ids, attention_mask, labels = stack_pair(batch)  # [2B, T]
        logps, mask = self.policy.pair_token_logps(input_ids, attention_mask, labels)  # [2B, T-1]
        n = batch.index.numel()
        mean_logps = masked_mean(logps, mask)  # [2B]
        chosen_nll, _ = sft_nll(logps[:n], mask[:n])
        return orpo_loss(mean_logps[:n], mean_logps[n:], chosen_nll, beta=self.beta)
