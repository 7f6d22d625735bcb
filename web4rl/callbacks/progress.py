"""Progress as plain lines, for output that is not a terminal (log files, CI, ``| tee``)."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from lightning.pytorch.callbacks import ProgressBar

from web4rl.options import constrain


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@constrain(every_seconds="> 0")
class PlainProgressBar(ProgressBar):
    """One line every ``every_seconds`` during training and evaluation, plus one at the end of
    every epoch with the validation metrics: epoch, batch, overall share, the progress-bar
    metrics, elapsed time and an ETA for the remaining training batches.

    The CLI adds it instead of Lightning's tqdm bar when stdout is not a terminal (a tqdm bar
    redraws one line with carriage returns, so a log shows nothing until an epoch ends).

    Args:
        every_seconds: seconds between two progress lines.
    """

    def __init__(self, every_seconds: float = 30.0) -> None:
        super().__init__()
        self.every_seconds = every_seconds
        self._enabled = True
        self._fit_start: float | None = None
        self._last_line = 0.0
        self._eval_start = 0.0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def _emit(self, text: str) -> None:
        if self._enabled:
            print(f"web4rl: {text}", file=sys.stdout, flush=True)
            self._last_line = time.monotonic()

    def _metrics(self, prefix: str | None = None) -> str:
        items = self.get_metrics(self.trainer, self.trainer.lightning_module)
        parts = []
        for key, value in items.items():
            if key == "v_num" or (prefix and not key.startswith(prefix)):
                continue
            parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
        return "  ".join(parts)

    def _total_train_batches(self) -> float:
        trainer = self.trainer
        per_epoch = trainer.num_training_batches
        if trainer.max_steps and trainer.max_steps > 0:
            by_steps = trainer.max_steps * trainer.accumulate_grad_batches
            if trainer.max_epochs in (None, -1) or math.isinf(per_epoch):
                return by_steps
            return min(by_steps, per_epoch * trainer.max_epochs)
        return per_epoch * (trainer.max_epochs or 1)

    # ------------------------------------------------------------------ training
    def on_train_start(self, trainer, pl_module) -> None:
        self._fit_start = time.monotonic()
        self._done = 0
        self._last_line = self._fit_start
        self._emit(f"training: {self._total_train_batches():.0f} batches "
                   f"({trainer.max_epochs} epochs of {trainer.num_training_batches}); "
                   f"a line every {self.every_seconds:.0f} s")

    def on_train_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._done += 1
        if time.monotonic() - self._last_line < self.every_seconds:
            return
        total = self._total_train_batches()
        elapsed = time.monotonic() - (self._fit_start or time.monotonic())
        share = self._done / total if total and not math.isinf(total) else float("nan")
        eta = elapsed / self._done * (total - self._done) if share == share else float("nan")
        eta_text = _clock(eta) if eta == eta else "?"
        self._emit(
            f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}  batch {batch_idx + 1}/"
            f"{self.total_train_batches:.0f}  ({share:.0%} of training)  {self._metrics()}  "
            f"elapsed {_clock(elapsed)}  ETA {eta_text}"
        )

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        elapsed = time.monotonic() - (self._fit_start or time.monotonic())
        self._emit(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs} done  "
                   f"{self._metrics()}  elapsed {_clock(elapsed)}")

    def on_train_end(self, trainer, pl_module) -> None:
        elapsed = time.monotonic() - (self._fit_start or time.monotonic())
        self._emit(f"training finished in {_clock(elapsed)}")

    # ------------------------------------------------------------------ evaluation
    def _eval_start_line(self, what: str, total: float) -> None:
        self._eval_start = time.monotonic()
        if not self.trainer.sanity_checking:
            self._emit(f"{what}: {total:.0f} batches")

    def on_validation_start(self, trainer, pl_module) -> None:
        self._eval_start_line("validation", self.total_val_batches)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._emit(f"validation done in {_clock(time.monotonic() - self._eval_start)}  "
                       f"{self._metrics('val/')}")

    def on_test_start(self, trainer, pl_module) -> None:
        self._eval_start = time.monotonic()
        self._emit("testing")

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if time.monotonic() - self._last_line >= self.every_seconds:
            total = self.total_test_batches_current_dataloader
            self._emit(f"test batch {batch_idx + 1}/{total:.0f}  "
                       f"elapsed {_clock(time.monotonic() - self._eval_start)}")

    def on_test_end(self, trainer, pl_module) -> None:
        self._emit(f"testing done in {_clock(time.monotonic() - self._eval_start)}")
