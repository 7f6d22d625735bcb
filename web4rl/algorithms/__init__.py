"""One LightningModule per algorithm over the shared LoRA policy."""

from web4rl.algorithms.base import PolicyModule
from web4rl.algorithms.dpo import DPO
from web4rl.algorithms.grpo import GRPO
from web4rl.algorithms.orpo import ORPO
from web4rl.algorithms.ppo import PPO
from web4rl.algorithms.sft import SFT

__all__ = ["DPO", "GRPO", "ORPO", "PPO", "SFT", "PolicyModule"]
