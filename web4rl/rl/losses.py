"""Policy-gradient losses as pure tensor maths: clipped surrogate, clipped value loss,
entropy, KL estimators and the loss aggregation modes.

Per-token functions return [B, T] tensors; :func:`aggregate` turns them into a scalar with one
of the named reductions (the choice changes the effective weighting of long vs short episodes,
so it is a config value, never implicit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch.utils.checkpoint import checkpoint

AggregationMode = Literal["token-mean", "seq-mean-token-mean", "token-sum-norm"]
KLEstimator = Literal["k1", "k2", "k3"]


def aggregate(
    values: torch.Tensor, mask: torch.Tensor, mode: AggregationMode, constant: float = 1.0
) -> torch.Tensor:
    """Reduce per-token values [B, T] over the masked tokens to a scalar.

    - ``token-mean`` (DAPO, Yu et al. 2025): sum_{b,t} m x / sum_{b,t} m; every token of the
      batch weighs the same.
    - ``seq-mean-token-mean`` (original GRPO): (1 / B') sum_b [sum_t m x / sum_t m] over the B'
      rows that have at least one token; every sequence weighs the same.
    - ``token-sum-norm`` (Dr. GRPO, Liu et al. 2025): sum_{b,t} m x / (B * constant), with a
      fixed constant (e.g. the generation budget), so no length normalisation biases the
      gradient toward long wrong or short right answers.
    """
    mask = mask.to(values.dtype)
    if mode == "token-mean":
        return (values * mask).sum() / mask.sum().clamp(min=1.0)
    if mode == "seq-mean-token-mean":
        counts = mask.sum(-1)
        per_seq = (values * mask).sum(-1) / counts.clamp(min=1.0)
        rows = (counts > 0).to(values.dtype)
        return (per_seq * rows).sum() / rows.sum().clamp(min=1.0)
    if mode == "token-sum-norm":
        if constant <= 0:
            raise ValueError(f"token-sum-norm needs a positive constant, got {constant}")
        return (values * mask).sum() / (values.shape[0] * constant)
    raise ValueError(
        f"unknown aggregation mode {mode!r}; use token-mean, seq-mean-token-mean or token-sum-norm"
    )


def clipped_surrogate(
    logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor, clip: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped policy objective per token (Schulman et al. 2017), as a loss::

        ratio = exp(log pi(a|s) - log pi_old(a|s))
        L     = -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)

    Args:
        logps: [B, T] log-probs under the current policy (carry gradients).
        old_logps: [B, T] behaviour log-probs (sampling time).
        advantages: [B, T] (or broadcastable) advantages.
        clip: eps.

    Returns:
        loss [B, T]; clipped [B, T] bool, where the clipped branch was the minimum (no gradient).
    """
    ratio = torch.exp(logps - old_logps.detach())
    unclipped = ratio * advantages
    clipped_obj = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages
    loss = -torch.minimum(unclipped, clipped_obj)
    return loss, (clipped_obj < unclipped).detach()


def clipped_value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped value loss per token::

        V_clip = V_old + clip(V - V_old, -eps_v, eps_v)
        L      = 0.5 * max((V - R)^2, (V_clip - R)^2)

    Returns loss [B, T] and clipped [B, T] bool (the clipped term was the larger).
    """
    v_clip = old_values + torch.clamp(values - old_values, -clip, clip)
    plain, clipped = (values - returns) ** 2, (v_clip - returns) ** 2
    return 0.5 * torch.maximum(plain, clipped), (clipped > plain).detach()


def kl_estimate(logps: torch.Tensor, ref_logps: torch.Tensor, kind: KLEstimator = "k3") -> torch.Tensor:
    """Per-token estimators of KL(pi || ref) from tokens sampled from pi (Schulman 2020),
    with x = log pi - log ref::

        k1 = x                   (unbiased, can be negative)
        k2 = x^2 / 2             (biased, low variance, non-negative)
        k3 = exp(-x) - 1 + x     (unbiased, non-negative; GRPO's choice)
    """
    x = logps - ref_logps
    if kind == "k1":
        return x
    if kind == "k2":
        return 0.5 * x * x
    if kind == "k3":
        return torch.expm1(-x) + x
    raise ValueError(f"unknown KL estimator {kind!r}; use k1, k2 or k3")


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of softmax(logits) over the last axis, [..., V] -> [...], computed stably::

        H = logsumexp(z) - sum_v softmax(z)_v * z_v
    """
    logits = logits.float()
    return torch.logsumexp(logits, dim=-1) - (torch.softmax(logits, dim=-1) * logits).sum(-1)


def chunked_entropy(
    hidden: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    mask: torch.Tensor,
    chunk_size: int,
) -> torch.Tensor:
    """``entropy_from_logits(head(hidden))`` [B, T] without materialising [B, T, V] logits:
    the head runs on ``chunk_size`` positions at a time under activation checkpointing, and
    chunks with no masked position are skipped (0 there), as ``chunked_token_logps``.

    Args:
        hidden: [B, T, H]. head: [.., H] -> [.., V]. mask: [B, T] bool.
    """
    pieces = []
    for start in range(0, hidden.shape[1], chunk_size):
        part = mask[:, start : start + chunk_size]
        if not part.any():
            pieces.append(hidden.new_zeros(part.shape, dtype=torch.float32))
            continue
        pieces.append(checkpoint(lambda h: entropy_from_logits(head(h)),
                                 hidden[:, start : start + chunk_size], use_reentrant=False))
    return torch.cat(pieces, dim=1) * mask


def explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - Var[R - V] / Var[R] over masked entries (1 = perfect value function, <= 0 useless)."""
    mask = mask.bool()
    v, r = values[mask].float(), returns[mask].float()
    var_r = r.var(unbiased=False)
    if r.numel() < 2 or var_r == 0:
        return torch.zeros((), device=values.device)
    return 1.0 - (r - v).var(unbiased=False) / var_r
