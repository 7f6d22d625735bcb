"""web4rl: LoRA policy improvement with human feedback, AI feedback and online RL."""

__version__ = "0.1.0"
