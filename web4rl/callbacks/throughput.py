"""Tokens per second during training, from the batches' attention masks."""

from __future__ import annotations

import time

import torch
from lightning.pytorch import Callback

from web4rl.options import constrain


def count_tokens(batch) -> int:
    """Real (non-padding) tokens in a SequenceBatch or PreferenceBatch."""
    if hasattr(batch, "chosen"):
        return count_tokens(batch.chosen) + count_tokens(batch.rejected)
    return int(batch.attention_mask.sum())


@constrain(log_every_n_steps=">= 1")
class TokenThroughput(Callback):
    """Logs ``train/tokens_per_sec`` (this rank's processed tokens / wall time per batch) and,
    on CUDA, ``train/peak_mem_gib``.

    Args:
        log_every_n_steps: average over this many batches before logging.
    """

    def __init__(self, log_every_n_steps: int = 10) -> None:
        self.log_every_n_steps = log_every_n_steps
        self._tokens = 0
        self._batches = 0
        self._start: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._start is None:
            self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._tokens += count_tokens(batch)
        self._batches += 1
        if self._batches < self.log_every_n_steps:
            return
        elapsed = time.perf_counter() - self._start
        pl_module.log("train/tokens_per_sec", self._tokens / max(elapsed, 1e-9), on_step=True,
                      on_epoch=False)
        if torch.cuda.is_available():
            pl_module.log("train/peak_mem_gib", torch.cuda.max_memory_allocated() / 2**30,
                          on_step=True, on_epoch=False)
        self._tokens, self._batches, self._start = 0, 0, time.perf_counter()
