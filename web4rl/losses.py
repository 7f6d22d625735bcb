"""Loss functions as pure tensor maths: no module state, no trainer.

Each function returns ``(loss, metrics)`` where ``loss`` is a scalar tensor carrying gradients
and ``metrics`` maps short metric names (the part after ``train/`` or ``val/``) to detached
scalars. The names are shared across algorithms, so dashboards line up.

Reduction conventions (they matter when comparing runs):
- ``sft_nll``: mean over every completion token in the batch (token-level mean, as Hugging
  Face's causal-LM loss); with per-sample weights, each sequence's mean token NLL times its
  weight, averaged over the batch (sum_b w_b * nll_b / B, so weights also scale the loss).
- ``dpo_loss``: inputs are log-probs *summed* over completion tokens; loss is the mean over pairs.
- ``orpo_loss``: inputs are log-probs *averaged* over completion tokens (the paper's
  length-normalised odds); loss is chosen NLL plus beta times the mean odds-ratio term.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from web4rl.sequence import masked_mean

Metrics = dict[str, torch.Tensor]


def sft_nll(
    token_logps: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None
) -> tuple[torch.Tensor, Metrics]:
    """Negative log-likelihood of the completion tokens.

        L = - (1 / N) * sum_{b, t in completion} log pi(y_{b,t} | x_b, y_{b,<t})

    With per-sample ``weights`` w_b (AWR, reward filtering) the loss is
    ``sum_b w_b * nll_b / sum_b 1`` where nll_b is sequence b's mean token NLL.

    Args:
        token_logps: [B, T] per-token log-probs (0 where masked).
        mask: [B, T] bool, completion tokens.
        weights: optional [B] non-negative sample weights.
    """
    if weights is None:
        nll = -masked_mean(token_logps, mask, dim=None)
        loss = nll
    else:
        per_seq_nll = -masked_mean(token_logps, mask, dim=-1)  # [B]
        loss = (weights * per_seq_nll).mean()
        nll = per_seq_nll.mean()
    nll_d = nll.detach()
    return loss, {"nll": nll_d, "ppl": torch.exp(nll_d.clamp(max=50.0))}


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, Metrics]:
    """Direct Preference Optimization (Rafailov et al. 2023, eq. 7), with cDPO label smoothing.

        h = beta * [(log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x))]
        L = -(1 - eps) * log sigma(h) - eps * log sigma(-h)

    eps = label_smoothing is the assumed probability that a preference label is flipped
    (Mitchell 2023, "conservative DPO"); eps = 0 is the original DPO loss. When the policy
    equals the reference, h = 0 and L = ln 2 for any eps.

    Args: four [B] tensors of log-probs summed over completion tokens.
    Metrics: implicit rewards beta * (pi - ref) for chosen/rejected, their margin, accuracy
    (share of pairs with margin > 0), and the policy log-probs.
    """
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps)
    rejected_rewards = beta * (policy_rejected_logps - reference_rejected_logps)
    margin = chosen_rewards - rejected_rewards
    losses = -(1.0 - label_smoothing) * F.logsigmoid(margin) - label_smoothing * F.logsigmoid(
        -margin
    )
    return losses.mean(), {
        "reward_chosen": chosen_rewards.detach().mean(),
        "reward_rejected": rejected_rewards.detach().mean(),
        "reward_margin": margin.detach().mean(),
        "reward_accuracy": (margin.detach() > 0).float().mean(),
        "logps_chosen": policy_chosen_logps.detach().mean(),
        "logps_rejected": policy_rejected_logps.detach().mean(),
    }


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x < 0, computed stably (Maechler 2012).

    Near 0, 1 - exp(x) cancels catastrophically, so use log(-expm1(x)); far below 0, exp(x)
    underflows gracefully and log1p(-exp(x)) is exact. The switch point is x = -ln 2.
    x is clamped to <= -1e-7 so a sequence the model is certain of (mean log-prob rounding to
    0) gives a large finite odds instead of -inf.
    """
    x = x.clamp(max=-1e-7)
    return torch.where(x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def orpo_loss(
    chosen_mean_logps: torch.Tensor,
    rejected_mean_logps: torch.Tensor,
    chosen_nll: torch.Tensor,
    beta: float = 0.1,
) -> tuple[torch.Tensor, Metrics]:
    """Odds Ratio Preference Optimization (Hong et al. 2024, eqs. 6-7). No reference model.

        odds(y|x)  = P(y|x) / (1 - P(y|x)),  log P(y|x) = mean token log-prob of y
        log_odds   = log odds(y_w|x) - log odds(y_l|x)
                   = (lw - log1mexp(lw)) - (ll - log1mexp(ll))
        L          = NLL(y_w) + beta * mean_b[-log sigma(log_odds_b)]

    Args:
        chosen_mean_logps, rejected_mean_logps: [B] mean per-token completion log-probs.
        chosen_nll: scalar SFT loss on the chosen completions (from ``sft_nll``).
        beta: weight of the odds-ratio term (the paper's lambda).
    Metrics: log_odds, odds-ratio loss, rewards beta * mean log-prob (TRL's convention) and
    their margin/accuracy, so ORPO and DPO dashboards share names.
    """
    log_odds = (chosen_mean_logps - log1mexp(chosen_mean_logps)) - (
        rejected_mean_logps - log1mexp(rejected_mean_logps)
    )
    odds_ratio_loss = -F.logsigmoid(log_odds).mean()
    loss = chosen_nll + beta * odds_ratio_loss
    chosen_rewards = beta * chosen_mean_logps.detach()
    rejected_rewards = beta * rejected_mean_logps.detach()
    return loss, {
        "nll": chosen_nll.detach(),
        "ppl": torch.exp(chosen_nll.detach().clamp(max=50.0)),
        "log_odds": log_odds.detach().mean(),
        "odds_ratio_loss": odds_ratio_loss.detach(),
        "reward_chosen": chosen_rewards.mean(),
        "reward_rejected": rejected_rewards.mean(),
        "reward_margin": (chosen_rewards - rejected_rewards).mean(),
        "reward_accuracy": (log_odds.detach() > 0).float().mean(),
    }
