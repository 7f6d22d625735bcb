"""Shared sequence maths: the one place log-probs and masked reductions are computed.

Conventions: a causal LM's logits at position t predict token t+1, so every function here works
on the *shifted* view (length T-1). Labels use -100 for positions that carry no loss (prompt and
padding), the Hugging Face convention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def token_logps(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probabilities of the label tokens.

    Args:
        logits: [B, T, V] model outputs for the full (prompt + completion) sequence.
        labels: [B, T] token ids, IGNORE_INDEX where no loss is taken.

    Returns:
        logps: [B, T-1] float32 log p(label_{t+1} | tokens_{<=t}); 0 where masked.
        mask:  [B, T-1] bool, True on completion tokens.
    """
    shifted_logits = logits[:, :-1, :].float()  # float32: log_softmax in bf16 loses ~2 digits
    shifted_labels = labels[:, 1:]
    mask = shifted_labels != IGNORE_INDEX
    safe_labels = shifted_labels.masked_fill(~mask, 0)
    # logsumexp + gather instead of log_softmax(...).gather: avoids a second [B, T, V] tensor.
    picked = torch.gather(shifted_logits, 2, safe_labels.unsqueeze(-1)).squeeze(-1)
    logps = picked - torch.logsumexp(shifted_logits, dim=-1)
    return logps.masked_fill(~mask, 0.0), mask


def masked_sum(values: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sum of `values` where `mask` is True along `dim`."""
    return (values * mask).sum(dim)


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = -1) -> torch.Tensor:
    """Mean of `values` over positions where `mask` is True (0 for an all-masked row).

    dim=None averages over every unmasked element of the batch (token-level mean).
    """
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1.0)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1.0)


def sequence_logps(
    logits: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Summed completion log-prob per sequence, plus the token view for token-level losses.

    Returns:
        summed: [B] sum of completion-token log-probs (the DPO convention).
        logps:  [B, T-1] per-token log-probs (0 where masked).
        mask:   [B, T-1] completion-token mask.
    """
    logps, mask = token_logps(logits, labels)
    return masked_sum(logps, mask), logps, mask


def entropy_from_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean per-token entropy (nats) over masked positions; logits [B, T, V], mask [B, T-1]."""
    log_p = F.log_softmax(logits[:, :-1, :].float(), dim=-1)
    ent = -(log_p.exp() * log_p).sum(-1)
    return masked_mean(ent, mask, dim=None)
