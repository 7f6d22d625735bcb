"""Advantages: GAE over masked tokens, whitening, group-normalised (GRPO) advantages.

All functions are pure tensor maths (no module state). Shapes: B sequences of T positions;
``mask`` [B, T] marks the *policy* tokens (tokens the policy sampled). Everything else in a
conversation (system prompt, task, tool results, padding) is not a time step at all: GAE skips
those positions instead of treating them as zero-reward steps, so a long tool result does not
discount the value of the next action by gamma^len(result).
"""

from __future__ import annotations

import torch


def masked_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    gamma: float = 0.99,
    lam: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over the policy tokens only.

    For each row, let t_1 < t_2 < ... < t_K be the positions where ``mask`` is True, and
    write r_k, V_k for the reward and value at t_k. Then, with V_{K+1} = 0 (no value after the
    last policy token: the episode is over)::

        delta_k = r_k + gamma * V_{k+1} - V_k
        A_k     = sum_{l >= 0} (gamma * lambda)^l * delta_{k+l}
                = delta_k + gamma * lambda * A_{k+1}
        R_k     = A_k + V_k                       (the value target, "returns")

    Masked-out positions are skipped (not zero-reward steps) and get A = R = 0.

    Args:
        rewards: [B, T] per-token rewards (only read where ``mask``).
        values: [B, T] value estimates V(s_t) (only read where ``mask``).
        mask: [B, T] bool, policy tokens.
        gamma: discount per policy token.
        lam: GAE lambda.

    Returns:
        advantages [B, T], returns [B, T] (float32, zero where ``mask`` is False).
    """
    rewards, values = rewards.float(), values.float().detach()
    mask = mask.bool()
    batch, length = rewards.shape
    next_value = rewards.new_zeros(batch)  # V_{k+1} of the next policy token to the right
    next_adv = rewards.new_zeros(batch)  # A_{k+1}
    advantages = torch.zeros_like(rewards)
    # Right to left; non-policy positions leave the carried (next_value, next_adv) untouched.
    for t in range(length - 1, -1, -1):
        m = mask[:, t]
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        adv = delta + gamma * lam * next_adv
        advantages[:, t] = torch.where(m, adv, advantages.new_zeros(()))
        next_value = torch.where(m, values[:, t], next_value)
        next_adv = torch.where(m, adv, next_adv)
    returns = (advantages + values) * mask
    return advantages, returns


def whiten(
    values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8
) -> torch.Tensor:
    """Normalise ``values`` over the masked entries of the whole batch::

        mu = mean_{m}(x),  var = mean_{m}((x - mu)^2)   (population variance)
        whiten(x) = (x - mu) / sqrt(var + eps)          (shift_mean=False adds mu back)

    Masked-out entries are returned as 0.

    Args:
        values: [B, T]. mask: [B, T] bool.
    """
    mask = mask.bool()
    n = mask.sum().clamp(min=1)
    mean = (values * mask).sum() / n
    var = (((values - mean) * mask) ** 2).sum() / n
    out = (values - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        out = out + mean
    return out * mask


def group_advantages(
    returns: torch.Tensor, group_size: int, scale_std: bool = True, eps: float = 1e-6
) -> torch.Tensor:
    """GRPO advantages (Shao et al. 2024): each episode's return against its group's::

        A_i = (R_i - mean_{j in g(i)} R_j) / (std_{j in g(i)} R_j + eps)

    std is the unbiased (Bessel-corrected) sample std, as in the DeepSeekMath code and TRL.
    ``scale_std=False`` gives Dr. GRPO's (Liu et al. 2025) A_i = R_i - mean(R_group).
    A group whose returns are all equal gets A = 0 (no signal, no noise).

    Args:
        returns: [N] episode returns, groups contiguous: rows g*group_size .. (g+1)*group_size-1.
        group_size: episodes per group (N must be a multiple).

    Returns: [N] advantages.
    """
    if group_size < 1 or returns.numel() % group_size:
        raise ValueError(f"{returns.numel()} returns do not split into groups of {group_size}")
    grouped = returns.float().view(-1, group_size)  # [G, group_size]
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale_std and group_size > 1:
        centred = centred / (grouped.std(dim=1, keepdim=True) + eps)
    return centred.reshape(-1)
