"""Advantage-weighted regression weights (Peng et al. 2019, "Advantage-Weighted Regression")
for Stage 2 offline data: judge-scored samples, several per prompt.

AWR maximises sum_i w_i * log pi(y_i | x_i) with w_i = exp(A_i / beta): the regression target
of the policy is pi_old(y|x) * exp(A / beta) (the paper's eq. 7). We pick one concrete
definition of the advantage, because the seed ("A = r - baseline (normalized)") leaves the
baseline and the normalisation open:

    b(p)    = mean reward of prompt p's samples          if p has >= 2 samples
            = mean reward over the whole data set         if p has 1 sample
    A_i     = r_i - b(p_i)
    A^_i    = (A_i - mean_j A_j) / (std_j A_j + eps)      over the whole data set (population std)
    w_i     = min(exp(A^_i / beta), w_max)                beta = 5.0, w_max = 10 by default

Why this one:

- a per-prompt baseline (as GRPO's group mean) removes prompt difficulty: the best sample of a
  hard prompt is up-weighted even when its absolute reward is low, and a mediocre sample of an
  easy prompt is down-weighted even when its reward is high. A value network is not needed
  because we have several samples of the same prompt;
- a prompt with one sample has no within-prompt estimate, so the data-set mean stands in (its
  advantage then says "better or worse than a typical sample");
- normalising over the data set makes ``beta`` unit-free: the judge's reward scale changes
  with its weights and with the data, and exp(A / beta) is sensitive to that scale; after
  normalisation beta = 5 means the same thing on any data set. When every advantage is equal
  (std = 0) all normalised advantages are 0 and every weight is exactly 1 (plain SFT);
- the clip at ``w_max`` bounds the variance a single outlier sample adds (the paper's
  ``omega_max``).
"""

from __future__ import annotations

import torch


def awr_weights(
    rewards: torch.Tensor,
    groups: torch.Tensor,
    beta: float = 5.0,
    w_max: float = 10.0,
    normalize: bool = True,
    eps: float = 1e-8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """AWR sample weights over a data set of scored samples (definition in the module docstring).

    Args:
        rewards: [N] float rewards r_i.
        groups: [N] long prompt id per sample (samples of one prompt share the id).
        beta: temperature of the exponential (> 0).
        w_max: upper clip of the weights (> 0).
        normalize: standardise the advantages over the data set before the exponential.
        eps: added to the std.

    Returns:
        (weights [N], advantages [N]); advantages are the normalised A^ when ``normalize``.
    """
    if beta <= 0 or w_max <= 0:
        raise ValueError(f"awr_weights: need beta > 0 and w_max > 0, got beta={beta}, w_max={w_max}")
    if rewards.ndim != 1 or rewards.shape != groups.shape or rewards.numel() == 0:
        raise ValueError("awr_weights: rewards and groups must be non-empty [N] tensors of one shape")
    r = rewards.double()
    _, inverse = torch.unique(groups, return_inverse=True)  # [N] dense group index 0..G-1
    n_groups = int(inverse.max()) + 1
    counts = torch.zeros(n_groups, dtype=r.dtype).index_add_(0, inverse, torch.ones_like(r))  # [G]
    sums = torch.zeros(n_groups, dtype=r.dtype).index_add_(0, inverse, r)  # [G]
    group_mean = sums / counts  # [G]
    baseline = torch.where(counts[inverse] >= 2, group_mean[inverse], r.mean())  # [N]
    advantages = r - baseline
    if normalize:
        advantages = (advantages - advantages.mean()) / (advantages.std(unbiased=False) + eps)
    weights = torch.exp(advantages / beta).clamp(max=w_max)
    return weights.to(rewards.dtype), advantages.to(rewards.dtype)
