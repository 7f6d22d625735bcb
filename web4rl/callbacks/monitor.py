"""TrainingMonitor: the seed's warning signals as logged warnings plus a counter metric.

It never stops a run (critical signals are :class:`~web4rl.callbacks.Rollback`'s job).
Each warning is logged once per occurrence through Python logging (``web4rl.monitor``),
``monitor/warnings`` counts them all, and ``monitor/<signal>`` is 1.0 at the step it fired.
"""

from __future__ import annotations

import logging
import math

from lightning.pytorch import Callback

from web4rl.options import constrain

log = logging.getLogger("web4rl.monitor")


@constrain(grad_norm_max="> 0", kl_max=">= 0", ppl_max="> 0", ppl_min=">= 0",
           gate_regression=">= 0", plateau_steps=">= 1", min_delta=">= 0")
class TrainingMonitor(Callback):
    """Warn on: grad norm > 5, KL > 0.2, perplexity > 20 or < 2, a gate regressing by more
    than 5% against its first evaluation, a plateau, and validation loss rising while training
    loss falls (DESIGN.md section 6). Each bound is configurable; None disables a check.

    Args:
        grad_norm_max: warn when ``train/grad_norm`` exceeds this.
        kl_max: warn when ``kl_key`` exceeds this.
        kl_key: logged policy-KL metric (RL stages); None: not checked.
        ppl_max: warn when ``ppl_key`` exceeds this (the model is lost).
        ppl_min: warn when ``ppl_key`` falls below this (memorising the data).
        ppl_key: logged validation perplexity.
        gate_regression: warn when a gate is worse than at the run's first gate evaluation by
            more than this fraction of that baseline value.
        plateau_steps: warn when ``val/loss`` has not improved by ``min_delta`` for this many
            optimizer steps (seed: 2000).
        min_delta: improvement that resets the plateau clock.
    """

    def __init__(
        self,
        grad_norm_max: float | None = 5.0,
        kl_max: float | None = 0.2,
        kl_key: str | None = None,
        ppl_max: float | None = 20.0,
        ppl_min: float | None = 2.0,
        ppl_key: str = "val/ppl",
        gate_regression: float | None = 0.05,
        plateau_steps: int | None = 2000,
        min_delta: float = 1e-3,
    ) -> None:
        self.grad_norm_max = grad_norm_max
        self.kl_max, self.kl_key = kl_max, kl_key
        self.ppl_max, self.ppl_min, self.ppl_key = ppl_max, ppl_min, ppl_key
        self.gate_regression = gate_regression
        self.plateau_steps = plateau_steps
        self.min_delta = min_delta
        self.count = 0
        self.fired: list[tuple[int, str, str]] = []  # (step, signal, message)
        self._gate_baseline: dict[str, float] | None = None
        self._gate_step = -1
        self._best_val = math.inf
        self._best_step = 0
        self._plateau_warned_at = -1
        self._prev: tuple[float, float] | None = None  # (val loss, train loss) at last val

    def _warn(self, trainer, signal: str, message: str) -> None:
        self.count += 1
        step = trainer.global_step
        self.fired.append((step, signal, message))
        if trainer.is_global_zero:
            log.warning("web4rl monitor @ step %d: %s", step, message)
        for logger in trainer.loggers:
            logger.log_metrics({"monitor/warnings": float(self.count), f"monitor/{signal}": 1.0},
                               step=step)

    @staticmethod
    def _get(trainer, key: str | None) -> float | None:
        if key is None or key not in trainer.callback_metrics:
            return None
        value = float(trainer.callback_metrics[key])
        return None if math.isnan(value) else value

    # ------------------------------------------------------------------ training steps
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        gn = self._get(trainer, "train/grad_norm")
        if self.grad_norm_max is not None and gn is not None and gn > self.grad_norm_max:
            self._warn(trainer, "grad_norm", f"grad norm {gn:.2f} > {self.grad_norm_max}")
        kl = self._get(trainer, self.kl_key)
        if self.kl_max is not None and kl is not None and kl > self.kl_max:
            self._warn(trainer, "kl", f"{self.kl_key} {kl:.3f} > {self.kl_max}")
        self._check_gates(trainer)

    def _check_gates(self, trainer) -> None:
        latest = next((cb.latest for cb in trainer.callbacks
                       if getattr(cb, "latest", None) is not None
                       and hasattr(cb.latest, "values")), None)
        if latest is None or latest.step == self._gate_step or self.gate_regression is None:
            return
        self._gate_step = latest.step
        from web4rl.metrics.gates import gate_metrics

        metrics = gate_metrics()
        values = {k: v for k, v in latest.values.items() if k in metrics and not math.isnan(v)}
        if self._gate_baseline is None:
            self._gate_baseline = values
            return
        for name, v in values.items():
            base = self._gate_baseline.get(name)
            if base is None:
                continue
            lower_better = not metrics[name].higher_is_better
            worse = (v - base) if lower_better else (base - v)
            # Relative to the baseline value; an absolute 5 points for rates starting near 0.
            if worse > self.gate_regression * max(abs(base), 1.0 if lower_better else 1e-9):
                self._warn(trainer, f"gate_regression/{name}",
                           f"gate {name} regressed {base:.3f} -> {v:.3f}")

    # ------------------------------------------------------------------ validation
    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        step = trainer.global_step
        ppl = self._get(trainer, self.ppl_key)
        if ppl is not None and self.ppl_max is not None and ppl > self.ppl_max:
            self._warn(trainer, "perplexity", f"{self.ppl_key} {ppl:.2f} > {self.ppl_max}")
        if ppl is not None and self.ppl_min is not None and ppl < self.ppl_min:
            self._warn(trainer, "perplexity", f"{self.ppl_key} {ppl:.2f} < {self.ppl_min}")
        val = self._get(trainer, "val/loss")
        if val is None:
            return
        if val < self._best_val - self.min_delta:
            self._best_val, self._best_step = val, step
        elif (self.plateau_steps is not None and step - self._best_step >= self.plateau_steps
              and self._plateau_warned_at != self._best_step):
            self._plateau_warned_at = self._best_step
            self._warn(trainer, "plateau", f"val/loss has not improved for "
                       f"{step - self._best_step} steps (best {self._best_val:.4f})")
        train = self._get(trainer, "train/loss_epoch") or self._get(trainer, "train/loss")
        if train is not None and self._prev is not None:
            pv, pt = self._prev
            if val > pv and train < pt:
                self._warn(trainer, "overfitting", f"val/loss rose {pv:.4f} -> {val:.4f} while "
                           f"train/loss fell {pt:.4f} -> {train:.4f}")
        if train is not None:
            self._prev = (val, train)

    def state_dict(self) -> dict:
        return {"count": self.count}

    def load_state_dict(self, state_dict: dict) -> None:
        self.count = max(self.count, int(state_dict.get("count", 0)))
