"""PolicyModule: the one base class the algorithms share (DESIGN.md section 4).

It owns what every algorithm needs and nothing algorithm-specific: the policy, AdamW (fused on
CUDA), a cosine schedule with linear warmup, logging under shared metric names, grad-norm
logging, adapter saving, and checkpoints that hold only trainable weights. Subclasses implement
``compute_loss(batch) -> (loss, metrics)``.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from web4rl.distributed import sum_over_shard_group
from web4rl.losses import Metrics
from web4rl.options import check_options, constrain, output_dir_free
from web4rl.policy import Policy, require_trainable_keys, trainable_state_names


def collect_rng_states() -> dict[str, Any]:
    """RNG streams as plain tensors/tuples, so checkpoints still load with weights_only=True."""
    np_state = np.random.get_state()
    states = {
        "torch": torch.get_rng_state(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def gather_rng_states(world_size: int) -> list[dict[str, Any]]:
    """Every rank's RNG streams, indexed by global rank. A collective when ``world_size > 1``:
    every rank must call it (Lightning runs ``on_save_checkpoint`` on all ranks). Each rank
    advances its own streams (its CUDA device's generator, dropout on its own data), so one
    rank's states restored everywhere would not resume bit-exactly."""
    states = collect_rng_states()
    if world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * world_size
        torch.distributed.all_gather_object(gathered, states)
        return gathered
    return [states]


def restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


POLICY_KEY = "web4rl_policy"  # checkpoint entry: what export-adapter needs besides tensors


def policy_record(policy: Policy) -> dict[str, Any]:
    """The trainable adapter's PEFT config (JSON-safe) and the base model name."""
    import json

    from web4rl.policy import TRAINABLE_ADAPTER

    config = policy.model.peft_config[TRAINABLE_ADAPTER].to_dict()
    config = json.loads(json.dumps(config, default=lambda v: sorted(v) if isinstance(v, set)
                                   else str(v)))
    return {"peft_config": config, "model_name": policy.model_name}


def cosine_with_warmup(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """LR multiplier: linear 0->1 over warmup, then cosine 1->min_ratio until total_steps."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@constrain(lr=">= 0", weight_decay=">= 0", betas="[0, 1)", warmup_ratio="[0, 1)",
           min_lr_ratio="[0, 1]", adapter_dir=output_dir_free)
class PolicyModule(L.LightningModule):
    """Base for SFT, ORPO, DPO, ... over one shared LoRA ``Policy``.

    Args:
        policy: the shared LoRA policy (model, adapter, tokenizer).
        lr: peak learning rate of AdamW.
        weight_decay: AdamW decoupled weight decay.
        betas: AdamW (beta1, beta2).
        warmup_ratio: share of all optimizer steps spent in linear warmup.
        min_lr_ratio: final LR as a share of the peak (cosine floor).
        fused_adamw: use the fused AdamW kernel; None = on when the parameters are on CUDA.
        adapter_dir: where the trained adapter is written (PEFT format) when fit ends; None
            skips. An existing non-empty directory is refused unless ``overwrite_adapter``.
        overwrite_adapter: allow replacing an existing adapter at ``adapter_dir``.
        adapter_out: which adapter ``adapter_dir`` receives: ``best`` (the best rollback-safe
            checkpoint's, by the GatedCheckpoint monitor; the final weights when there is none)
            or ``last`` (the final weights).
    """

    def __init__(
        self,
        policy: Policy,
        lr: float = 5e-6,
        weight_decay: float = 0.01,
        betas: tuple[float, float] = (0.9, 0.999),
        warmup_ratio: float = 0.1,
        min_lr_ratio: float = 0.0,
        fused_adamw: bool | None = None,
        adapter_dir: str | None = None,
        overwrite_adapter: bool = False,
        adapter_out: Literal["best", "last"] = "best",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["policy"])
        check_options(type(self), self.hparams)  # library use too: DPO(lr=-1) fails here
        self.policy = policy
        # Checkpoints carry only trainable weights, so loading must not demand the frozen base.
        self.strict_loading = False

    def setup(self, stage: str) -> None:
        # Only fit writes the adapter; validate/test with the same config must still run.
        adapter_dir = self.hparams.adapter_dir
        if stage == "fit" and adapter_dir and not self.hparams.overwrite_adapter:
            existing = Path(adapter_dir)
            if existing.is_dir() and any(existing.iterdir()):
                raise FileExistsError(
                    f"model.adapter_dir: {existing} already holds files; choose a new directory "
                    "or set overwrite_adapter: true (nothing has been written)"
                )

    # ------------------------------------------------------------------ algorithm hook
    def compute_loss(self, batch: Any) -> tuple[torch.Tensor, Metrics]:
        raise NotImplementedError

    # ------------------------------------------------------------------ steps
    def _shared_step(self, batch: Any, stage: str) -> torch.Tensor:
        loss, metrics = self.compute_loss(batch)
        batch_size = int(batch.index.numel())
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss.detach(), prog_bar=True, on_step=on_step,
                 on_epoch=not on_step, batch_size=batch_size, sync_dist=not on_step)
        self.log_dict({f"{stage}/{k}": v for k, v in metrics.items()}, on_step=on_step,
                      on_epoch=not on_step, batch_size=batch_size, sync_dist=not on_step)
        return loss

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # Every training step runs the whole policy in train mode, frozen base included: HF
        # gradient checkpointing and LoRA dropout act only in train mode, and a model loaded
        # with from_pretrained (or a callback / sampler that left it in eval) would otherwise
        # train silently without them. Dropout-free bases compute the same either way.
        self.policy.train()

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "test")

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        params = self.policy.trainable_parameters()
        fused = self.hparams.fused_adamw
        if fused is None:
            fused = bool(params) and params[0].is_cuda
        optimizer = torch.optim.AdamW(
            params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay,
            betas=tuple(self.hparams.betas), fused=fused,
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(self.hparams.warmup_ratio * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: cosine_with_warmup(step, total, warmup, self.hparams.min_lr_ratio),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Total L2 norm of trainable grads before clipping (the Trainer clips after this hook).
        squares = [p.grad.detach().float().pow(2).sum() for p in self.policy.trainable_parameters()
                   if p.grad is not None]
        total = torch.stack(squares).sum() if squares else torch.zeros((), device=self.device)
        if isinstance(self.trainer.strategy, FSDPStrategy):
            # Each rank holds its shard of the gradients: the squares add up over the shard
            # group, not over replicas (NO_SHARD / HYBRID_SHARD). On the compute device: NCCL
            # cannot reduce the CPU tensors CPU offload leaves. (Under DDP gradients are
            # already identical on every rank.)
            total = sum_over_shard_group(total.to(self.device), self.trainer.strategy.model)
        self.log("train/grad_norm", total.sqrt(), on_step=True, on_epoch=False)
        self.log("train/lr", optimizer.param_groups[0]["lr"], on_step=True, on_epoch=False)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None) -> None:
        if gradient_clip_val and isinstance(self.trainer.strategy, FSDPStrategy):
            # Lightning's FSDP precision plugin refuses norm clipping; FSDP's own
            # clip_grad_norm_ computes the norm over all shards and clips in place.
            self.trainer.strategy.model.clip_grad_norm_(gradient_clip_val)
            return
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    # ------------------------------------------------------------------ persistence
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Keep only trainable tensors: a 7B base must never be written into every checkpoint.
        trainable = self._trainable_names()
        checkpoint["state_dict"] = {
            k: v for k, v in checkpoint["state_dict"].items() if k in trainable
        }
        # Exact resume needs the RNG streams too (LoRA dropout, sampling, shuffling): one
        # entry per rank, in global rank order.
        world_size = self.trainer.world_size if self._trainer is not None else 1
        checkpoint["web4rl_rng_states"] = gather_rng_states(world_size)
        checkpoint[POLICY_KEY] = policy_record(self.policy)  # for export-adapter

    def _trainable_names(self) -> set[str]:
        return trainable_state_names(self)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning's FSDP strategy loads the weights itself and removes "state_dict" before
        # this hook; LoraFSDPStrategy.load_checkpoint checks the trainable keys there instead.
        if "state_dict" in checkpoint:
            require_trainable_keys(self._trainable_names(), checkpoint["state_dict"])
        self.restore_rng(checkpoint.get("web4rl_rng_states"))

    def restore_rng(self, states: list[dict[str, Any]] | dict[str, Any] | None) -> None:
        """Restore this rank's RNG streams from a checkpoint's ``web4rl_rng_states`` (a list
        in global rank order; a single dict from older checkpoints)."""
        if isinstance(states, dict):  # written before per-rank states (a single dict)
            states = [states]
        if not states:
            return
        world_size = self.trainer.world_size if self._trainer is not None else 1
        if len(states) != world_size:
            rank_zero_warn(f"web4rl: checkpoint holds RNG states of {len(states)} rank(s), this "
                           f"run has {world_size}; the resume is not bit-exact")
        if self.global_rank < len(states):
            restore_rng_states(states[self.global_rank])

    def on_fit_end(self) -> None:
        adapter_dir = self.hparams.adapter_dir
        # A GatedCheckpoint may supply it (best rollback-safe checkpoint, Rollback states).
        mode = self.hparams.get("adapter_out", "best")
        if not adapter_dir or any(
                cb.write_adapter_out(self.trainer, adapter_dir, self.policy.tokenizer, mode)
                for cb in self.trainer.callbacks if hasattr(cb, "write_adapter_out")):
            return
        strategy = self.trainer.strategy
        if isinstance(strategy, FSDPStrategy):
            # Sharded weights: every rank joins the gather, rank 0 alone receives and writes.
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

            with FSDP.summon_full_params(strategy.model, writeback=False, rank0_only=True,
                                         offload_to_cpu=True):
                if self.trainer.is_global_zero:
                    self.policy.save_adapter(adapter_dir, self.policy.lora_state_dict())
        elif self.trainer.is_global_zero:
            self.policy.save_adapter(adapter_dir)
        rank_zero_info(f"web4rl: adapter written to {adapter_dir}")


def stack_pair(batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Chosen rows then rejected rows as one [2B, T] batch, so both take a single forward pass.

    Returns input_ids, attention_mask, labels, each [2B, T]; rows 0..B-1 are chosen, B..2B-1
    rejected. The collator already pads both sides to one length T (the PreferenceBatch
    contract), so this only concatenates.
    """
    chosen, rejected = batch.chosen, batch.rejected
    if chosen.input_ids.shape != rejected.input_ids.shape:
        raise ValueError(
            "PreferenceBatch: chosen and rejected must be padded to one shape, got "
            f"{tuple(chosen.input_ids.shape)} and {tuple(rejected.input_ids.shape)}"
        )
    return (torch.cat([chosen.input_ids, rejected.input_ids]),
            torch.cat([chosen.attention_mask, rejected.attention_mask]),
            torch.cat([chosen.labels, rejected.labels]))
