"""KL-penalty coefficient controllers (checkpointable plain-Python state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class AdaptiveKLController:
    """Adaptive KL coefficient of Ziegler et al. 2019 ("Fine-Tuning Language Models from
    Human Preferences", eq. 2)::

        err  = clip(KL / target - 1, -0.2, 0.2)
        beta <- beta * (1 + err * n_steps / horizon)

    KL above target raises beta (pull back to the reference), below lowers it.
    ``adaptive=False`` keeps beta fixed at ``init``.

    Args:
        init: starting coefficient (DESIGN.md: 0.05).
        target: KL the controller steers toward (0.1).
        horizon: steps over which a 20% correction is applied at most.
        adaptive: update beta or keep it constant.
    """

    init: float = 0.05
    target: float = 0.1
    horizon: int = 10_000
    adaptive: bool = True

    def __post_init__(self) -> None:
        if self.target <= 0 or self.horizon <= 0 or self.init < 0:
            raise ValueError("kl control: need init >= 0, target > 0, horizon > 0")
        self.value = float(self.init)

    def update(self, current_kl: float, n_steps: int) -> float:
        """Apply one update after ``n_steps`` samples with mean KL ``current_kl``; returns beta."""
        if self.adaptive:
            err = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
            self.value *= 1.0 + err * n_steps / self.horizon
        return self.value

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])
