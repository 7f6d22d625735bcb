"""Shared sequence maths: the one place log-probs and masked reductions are computed.

Conventions: a causal LM's logits at position t predict token t+1, so every function here works
on the *shifted* view (length T-1). Labels use ``IGNORE_INDEX`` (-100) for positions that carry
no loss (prompt and padding), the Hugging Face convention.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.checkpoint import checkpoint

IGNORE_INDEX = -100
"""Label value of positions that carry no loss (prompt and padding), as in ``torch.nn.CrossEntropyLoss``."""


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


def _chunk_logps(
    head: Callable[[torch.Tensor], torch.Tensor], hidden: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    logits = head(hidden).float()  # [B, C, V]
    picked = torch.gather(logits, 2, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)


def chunked_token_logps(
    hidden: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    labels: torch.Tensor,
    chunk_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``token_logps(head(hidden), labels)`` without the full [B, T, V] logits.

    The output head runs on ``chunk_size`` positions at a time under activation checkpointing,
    so at most one chunk of logits ([B, chunk, V], float32) exists at once, in forward and in
    backward. Chunks without completion tokens (long prompts) are skipped entirely. With a
    152k vocabulary and T = 4096 this is the difference between ~40 GB and ~1 GB of logits.

    Args:
        hidden: [B, T, H] final hidden states (after the final norm).
        head: the output projection (e.g. ``lm_head``), [.., H] -> [.., V].
        labels: [B, T] token ids, IGNORE_INDEX where no loss is taken.
    Returns: logps [B, T-1], mask [B, T-1], as ``token_logps``.
    """
    shifted_hidden = hidden[:, :-1, :]
    shifted_labels = labels[:, 1:]
    mask = shifted_labels != IGNORE_INDEX
    safe_labels = shifted_labels.masked_fill(~mask, 0)
    pieces = []
    for start in range(0, shifted_labels.shape[1], chunk_size):
        end = start + chunk_size
        if not mask[:, start:end].any():
            pieces.append(hidden.new_zeros(mask[:, start:end].shape, dtype=torch.float32))
            continue
        pieces.append(checkpoint(_chunk_logps, head, shifted_hidden[:, start:end],
                                 safe_labels[:, start:end], use_reentrant=False))
    logps = torch.cat(pieces, dim=1)
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
