"""Rollback: on a critical signal, restore the last rollback-safe checkpoint and go on.

Critical signals (DESIGN.md section 6; each bound configurable, None disables it): non-finite
loss or gradients, guardrail violations > 5%, JSON validity < 90% (from EvalGates), policy KL
> 0.3 and entropy < 0.5 (RL stages; read from logged metrics by name).

How a restore works: the callback marks the run (``pending_reason``), asks the Trainer to stop
(``trainer.should_stop``), and :func:`fit_with_rollback` (what ``python -m web4rl fit`` runs)
calls ``trainer.fit(..., ckpt_path=<newest safe checkpoint>)`` again. Lightning's own resume
restores adapter, optimizer, scheduler, loop counters and callback states; PolicyModule
restores the RNG streams; this callback restores the data position (the rest of the
interrupted epoch, in the same shuffled order, single-process loaders). Checkpoints are never
deleted; the rollback count and log survive the restore (they are kept in memory, not taken
from the older checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from lightning.pytorch import Callback
from lightning.pytorch.utilities import rank_zero_warn

from web4rl.callbacks.checkpoints import GatedCheckpoint, newest_safe
from web4rl.metrics import GateThresholds
from web4rl.options import constrain

_DEFAULTS = GateThresholds()


class RollbackLimitReached(RuntimeError):
    """The run was stopped after ``max_rollbacks`` restores (the message gives the reason)."""


@dataclass
class RollbackEvent:
    step: int
    reason: str
    restored_from: str | None
    restored_step: int | None


@constrain(max_rollbacks=">= 0", lr_scale="(0, 1]", guardrail_max="[0, 1]",
           json_validity_min="[0, 1]", kl_max=">= 0", entropy_min=">= 0")
class Rollback(Callback):
    """Restore the last rollback-safe checkpoint on a critical signal.

    Args:
        max_rollbacks: stop the run (with the reason) when one more rollback would be needed.
        lr_scale: multiply the learning rate by this after each rollback (1.0: unchanged).
        nonfinite: treat NaN/Inf loss or gradients as critical.
        guardrail_max: ``gate/guardrail_violation_rate`` above this is critical.
        json_validity_min: ``gate/json_validity`` below this is critical.
        kl_max: ``kl_key`` above this is critical (RL stages).
        kl_key: logged metric holding the policy KL to the reference (None: not checked).
        entropy_min: ``entropy_key`` below this is critical (RL stages).
        entropy_key: logged metric holding the policy entropy (None: not checked).
    """

    def __init__(
        self,
        max_rollbacks: int = 3,
        lr_scale: float = 1.0,
        nonfinite: bool = True,
        guardrail_max: float | None = _DEFAULTS.guardrail_violation_critical,
        json_validity_min: float | None = _DEFAULTS.json_validity_critical,
        kl_max: float | None = 0.3,
        kl_key: str | None = None,
        entropy_min: float | None = 0.5,
        entropy_key: str | None = None,
    ) -> None:
        if max_rollbacks < 0 or not 0 < lr_scale <= 1:
            raise ValueError("Rollback: need max_rollbacks >= 0 and 0 < lr_scale <= 1")
        self.max_rollbacks = max_rollbacks
        self.lr_scale = lr_scale
        self.nonfinite = nonfinite
        self.guardrail_max = guardrail_max
        self.json_validity_min = json_validity_min
        self.kl_max, self.kl_key = kl_max, kl_key
        self.entropy_min, self.entropy_key = entropy_min, entropy_key
        self.events: list[RollbackEvent] = []
        self.pending_reason: str | None = None
        self.pending_path: str | None = None
        self.stop_reason: str | None = None
        self._seen_gate_step = -1
        self.ignored: set[str] = set()  # gate signals the starting adapter already shows
        self._restoring = False
        self._rng_states = self._apply_rng_at_batch = None

    # ------------------------------------------------------------------ signals
    def _gate_reasons(self, trainer, at_start: bool = False) -> list[str]:
        m = trainer.callback_metrics
        out = []

        def val(key):
            return float(m[key]) if key in m else None

        gr, js = val("gate/guardrail_violation_rate"), val("gate/json_validity")
        if self.guardrail_max is not None and gr is not None and gr > self.guardrail_max:
            out.append(("guardrail", f"guardrail violations {gr:.1%} > {self.guardrail_max:.0%}"))
        if self.json_validity_min is not None and js is not None and js < self.json_validity_min:
            out.append(("json", f"JSON validity {js:.1%} < {self.json_validity_min:.0%}"))
        if at_start:
            # The starting adapter already crosses these bounds: rolling back cannot help.
            for key, why in out:
                if key not in self.ignored:
                    self.ignored.add(key)
                    rank_zero_warn(f"web4rl rollback: the starting adapter already has {why}; "
                                   "this signal will not trigger rollbacks in this run")
        return [why for key, why in out if key not in self.ignored]

    def _metric_reasons(self, trainer) -> list[str]:
        m, out = trainer.callback_metrics, []
        if self.kl_key and self.kl_max is not None and self.kl_key in m:
            kl = float(m[self.kl_key])
            if kl > self.kl_max:
                out.append(f"{self.kl_key} {kl:.3f} > {self.kl_max}")
        if self.entropy_key and self.entropy_min is not None and self.entropy_key in m:
            ent = float(m[self.entropy_key])
            if ent < self.entropy_min:
                out.append(f"{self.entropy_key} {ent:.3f} < {self.entropy_min}")
        return out

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        if not self.nonfinite or self.pending_reason:
            return
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        # One host sync for all tensors, not one per LoRA matrix.
        if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
            self.trigger(trainer, "non-finite gradients")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.pending_reason:
            return
        reasons = []
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if self.nonfinite and isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss).all()):
            reasons.append(f"non-finite loss ({float(loss)})")
        gate_step = self._gate_step(trainer)
        if gate_step is not None and gate_step != self._seen_gate_step:
            self._seen_gate_step = gate_step
            reasons += self._gate_reasons(trainer, at_start=gate_step == 0)
        reasons += self._metric_reasons(trainer)
        if reasons:
            self.trigger(trainer, "; ".join(reasons))

    @staticmethod
    def _gate_step(trainer) -> int | None:
        for cb in trainer.callbacks:
            latest = getattr(cb, "latest", None)
            if latest is not None and hasattr(latest, "values"):
                return latest.step
        return None

    # ------------------------------------------------------------------ acting
    def _checkpoint_dir(self, trainer) -> str | None:
        for cb in trainer.callbacks:
            if isinstance(cb, GatedCheckpoint):
                return cb.dirpath
        return None

    def trigger(self, trainer, reason: str) -> None:
        """Record a critical signal at this step and stop the current fit so that
        :func:`fit_with_rollback` restores the newest safe checkpoint."""
        step = trainer.global_step
        # Every rank sees the same synced signals; rank 0's file view decides the target.
        dirpath = self._checkpoint_dir(trainer)
        found = newest_safe(dirpath) if dirpath and trainer.is_global_zero else None
        found = trainer.strategy.broadcast(found)
        self.pending_reason = f"step {step}: {reason}"
        trainer.should_stop = True
        if found is None:
            self.stop_reason = (f"critical signal at {self.pending_reason}, and no rollback-safe "
                                f"checkpoint to restore (checkpoint dir: {dirpath})")
        elif len(self.events) >= self.max_rollbacks:
            self.stop_reason = (f"critical signal at {self.pending_reason} after "
                                f"{len(self.events)} rollback(s) (max_rollbacks="
                                f"{self.max_rollbacks}); last: "
                                + (self.events[-1].reason if self.events else "-"))
        else:
            self.pending_path = found[0]
            self.events.append(RollbackEvent(step, reason, found[0], found[1]["step"]))
        rank_zero_warn(f"web4rl rollback: {self.pending_reason}"
                       + (f" -> STOP: {self.stop_reason}" if self.stop_reason
                          else f" -> restoring {found[0]} (step {found[1]['step']})"))
        for logger in trainer.loggers:
            logger.log_metrics({"rollback/count": float(len(self.events))}, step=step)

    def take_pending(self) -> str | None:
        """The checkpoint to restore next (clears the pending state); None when none is."""
        path = None if self.stop_reason else self.pending_path
        self.pending_reason = self.pending_path = None
        self._restoring = path is not None
        return path

    # ------------------------------------------------------------------ after a restore
    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        self._rng_states = checkpoint.get("web4rl_rng_states")

    def on_train_start(self, trainer, pl_module) -> None:
        if trainer.ckpt_path and skip_consumed_batches(trainer):
            # Mid-epoch: creating the epoch's iterator again draws a base seed from the global
            # RNG that the uninterrupted run drew long before; re-apply the checkpoint's RNG at
            # the first batch so dropout masks continue exactly.
            self._apply_rng_at_batch = getattr(self, "_rng_states", None)
        if self._restoring:
            self._restoring = False
            if self.lr_scale != 1.0:
                scale_lr(trainer, self.lr_scale ** len(self.events))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._seen_gate_step < 0 and self._gate_step(trainer) == 0:  # the start evaluation
            self._seen_gate_step = 0
            self._gate_reasons(trainer, at_start=True)
        states = getattr(self, "_apply_rng_at_batch", None)
        if states is not None:
            pl_module.restore_rng(states)  # this rank's streams
            self._apply_rng_at_batch = None

    def state_dict(self) -> dict:
        return {"events": [e.__dict__ for e in self.events]}

    def load_state_dict(self, state_dict: dict) -> None:
        # Restoring an older checkpoint must not forget rollbacks made since: keep the longer log.
        events = [RollbackEvent(**e) for e in state_dict.get("events", [])]
        if len(events) > len(self.events):
            self.events = events


def scale_lr(trainer, factor: float) -> None:
    """Multiply the restored learning rates (and the schedule's base) by ``factor``."""
    for config in trainer.lr_scheduler_configs:
        sched = config.scheduler
        sched.base_lrs = [lr * factor for lr in sched.base_lrs]
    for opt in trainer.optimizers:
        for group in opt.param_groups:
            group["lr"] *= factor
            if "initial_lr" in group:
                group["initial_lr"] *= factor


class _SkipFirst:
    """Wraps a sampler for one pass: yields its order without the first ``n`` indices."""

    def __init__(self, sampler, n: int, owner) -> None:
        self.sampler, self.n, self.owner = sampler, n, owner

    def __iter__(self):
        self.owner.sampler = self.sampler  # one pass only; later epochs use the sampler as is
        for i, index in enumerate(self.sampler):
            if i >= self.n:
                yield index

    def __len__(self) -> int:
        return len(self.sampler)


def skip_consumed_batches(trainer) -> int:
    """After a mid-epoch resume, make the train loader continue where the checkpoint was
    taken instead of replaying the epoch from its start. Returns the samples skipped.

    Works for single-process map-style loaders with a batch sampler (ours); under a
    distributed sampler Lightning's default (replay the epoch) stays.
    """
    # A checkpoint taken in on_train_batch_end has that batch processed but not yet
    # "completed"; Lightning counts it completed on restart, so ``processed`` is the position.
    done = trainer.fit_loop.epoch_loop.batch_progress.current.processed
    loader = trainer.train_dataloader
    batch_sampler = getattr(loader, "batch_sampler", None)
    if not done or batch_sampler is None or trainer.world_size > 1 or done >= len(loader):
        return 0  # epoch start or end: nothing to skip
    n = done * batch_sampler.batch_size
    batch_sampler.sampler = _SkipFirst(batch_sampler.sampler, n, batch_sampler)
    return n


def fit_with_rollback(trainer, model, datamodule=None, ckpt_path: str | None = None,
                      **kwargs) -> None:
    """``trainer.fit`` that performs the restores a :class:`Rollback` callback asks for.

    Raises:
        RollbackLimitReached: the Rollback callback stopped the run (message: why).
    """
    rollback = next((cb for cb in trainer.callbacks if isinstance(cb, Rollback)), None)
    while True:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, **kwargs)
        if rollback is None or (rollback.pending_reason is None and rollback.stop_reason is None):
            return
        if rollback.stop_reason:
            raise RollbackLimitReached(f"web4rl: run stopped: {rollback.stop_reason}")
        ckpt_path = rollback.take_pending()
