"""Pure RL maths shared by PPO, GRPO (and AWR): advantages, policy losses, KL control."""

from web4rl.rl.advantages import group_advantages, masked_gae, whiten
from web4rl.rl.kl_control import AdaptiveKLController
from web4rl.rl.losses import (
    aggregate,
    chunked_entropy,
    clipped_surrogate,
    clipped_value_loss,
    entropy_from_logits,
    explained_variance,
    kl_estimate,
)

__all__ = [
    "AdaptiveKLController",
    "aggregate",
    "chunked_entropy",
    "clipped_surrogate",
    "clipped_value_loss",
    "entropy_from_logits",
    "explained_variance",
    "group_advantages",
    "kl_estimate",
    "masked_gae",
    "whiten",
]
