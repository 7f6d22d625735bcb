"""OnlineRLModule: what PPO and GRPO share on top of PolicyModule.

Manual optimization: one ``training_step`` = one update = play a batch of episodes (the
RolloutDataModule does it when the step pulls from ``dataloader_iter``, so the batch is always
played by the current policy, never prefetched by an older one), then ``epochs`` passes of
minibatch gradient steps over it. Subclasses implement ``prepare`` (advantages etc., no grad)
and ``minibatch_loss``.

Conventions: all per-token tensors here are in the shifted view [N, T-1] (position t scores
token t+1), the view ``web4rl.sequence`` uses. Training forwards run with dropout off (the
rest of the model in train mode, so gradient checkpointing still applies): the behaviour
log-probs were sampled without dropout, and PPO's ratio must be exactly 1 before the first
step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from web4rl.algorithms.base import Metrics, PolicyModule, cosine_with_warmup
from web4rl.rl import AdaptiveKLController, chunked_entropy
from web4rl.rl.losses import AggregationMode, aggregate
from web4rl.rollout.batch import RolloutBatch
from web4rl.sequence import IGNORE_INDEX, chunked_token_logps


@contextlib.contextmanager
def no_dropout(model: nn.Module) -> Iterator[None]:
    """Dropout layers in eval mode for the block; every other module keeps its mode."""
    drops = [(m, m.training) for m in model.modules() if isinstance(m, nn.Dropout)]
    for m, _ in drops:
        m.training = False
    try:
        yield
    finally:
        for m, mode in drops:
            m.training = mode


def policy_labels(batch: RolloutBatch) -> torch.Tensor:
    """[N, T] labels: the sampled tokens, IGNORE_INDEX everywhere else."""
    return batch.input_ids.masked_fill(~batch.policy_mask, IGNORE_INDEX)


class OnlineRLModule(PolicyModule):
    """Base of PPO and GRPO.

    Args:
        clip: policy ratio clip eps.
        epochs: optimisation passes over each batch of episodes.
        minibatch_size: episodes per gradient step.
        max_grad_norm: gradient norm clip (manual optimization: the Trainer's
            gradient_clip_val must stay unset).
        kl_coef: initial KL penalty coefficient beta.
        kl_target: KL the adaptive controller steers toward.
        kl_horizon: adaptive controller horizon (episodes).
        adaptive_kl: adapt beta (Ziegler et al. 2019) or keep it fixed.
        entropy_coef: entropy bonus weight.
        aggregation: token-mean | seq-mean-token-mean | token-sum-norm.
        aggregation_constant: the token-sum-norm constant (None: the engine's generation
            budget, max_new_tokens * max_turns).
        **kwargs: see ``PolicyModule`` (lr, weight_decay, adapter_dir, ...).
    """

    def __init__(
        self, *args, clip: float = 0.2, epochs: int = 4, minibatch_size: int = 4,
        max_grad_norm: float = 1.0, kl_coef: float = 0.05, kl_target: float = 0.1,
        kl_horizon: int = 10_000, adaptive_kl: bool = True, entropy_coef: float = 0.01,
        aggregation: AggregationMode = "token-mean", aggregation_constant: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.automatic_optimization = False
        self.clip, self.epochs, self.minibatch_size = clip, epochs, minibatch_size
        self.max_grad_norm, self.entropy_coef = max_grad_norm, entropy_coef
        self.aggregation, self.aggregation_constant = aggregation, aggregation_constant
        self.kl_ctl = AdaptiveKLController(kl_coef, kl_target, kl_horizon, adaptive_kl)

    # ------------------------------------------------------------------ hooks for subclasses
    def prepare(self, batch: RolloutBatch) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def minibatch_loss(self, mb: RolloutBatch, prep: dict[str, torch.Tensor]) -> tuple[torch.Tensor, Metrics]:
        raise NotImplementedError

    # ------------------------------------------------------------------ shared maths
    def agg(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        constant = self.aggregation_constant
        if constant is None and self.aggregation == "token-sum-norm":
            engine = self.trainer.datamodule.engine
            constant = engine.max_new_tokens * engine.max_turns
        return aggregate(values, mask, self.aggregation, constant or 1.0)

    def forward_batch(self, batch: RolloutBatch, entropy: bool = True) -> dict[str, torch.Tensor]:
        """One forward pass: ``logps`` [N, T-1] of the sampled tokens under
        softmax(logits / temperature), ``mask`` [N, T-1], ``entropy`` [N, T-1] and the final
        hidden states ``hidden`` [N, T, H]. Chunked over positions like the policy's own
        log-probs (``policy.logits_chunk_size``)."""
        causal_lm = self.policy.model.get_base_model()
        head = causal_lm.get_output_embeddings()
        temp = batch.temperature if batch.temperature > 0 else 1.0

        def scaled_head(h: torch.Tensor) -> torch.Tensor:
            return head(h) / temp if temp != 1.0 else head(h)

        with no_dropout(self.policy.model):
            hidden = causal_lm.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                                     use_cache=False).last_hidden_state
        chunk = self.policy.logits_chunk_size or hidden.shape[1]
        logps, mask = chunked_token_logps(hidden, scaled_head, policy_labels(batch), chunk)
        out = {"logps": logps, "mask": mask, "hidden": hidden}
        if entropy:
            out["entropy"] = chunked_entropy(hidden[:, :-1], scaled_head, mask, chunk)
        return out

    def reference_logps(self, batch: RolloutBatch) -> torch.Tensor:
        """[N, T-1] log-probs of the sampled tokens under the reference policy (no copy)."""
        with self.policy.reference():
            return self.forward_batch(batch, entropy=False)["logps"]

    def minibatches(self, n: int) -> list[torch.Tensor]:
        return [torch.arange(n)[i:i + self.minibatch_size] for i in range(0, n, self.minibatch_size)]

    # ------------------------------------------------------------------ the update
    def training_step(self, dataloader_iter: Any) -> None:
        start = time.perf_counter()
        batch = next(dataloader_iter)  # played now, by the current policy
        if isinstance(batch, tuple):  # Lightning yields (batch, batch_idx, dataloader_idx)
            batch = batch[0]
        batch = batch.to(self.device)
        rollout_s = time.perf_counter() - start
        with torch.no_grad():
            prep = self.prepare(batch)
        opt, sched = self.optimizers(), self.lr_schedulers()
        sums: dict[str, float] = {}
        steps = 0
        for _ in range(self.epochs):
            order = torch.randperm(len(batch))
            for idx in self.minibatches(len(batch)):
                pick = order[idx]
                mb = batch.select(pick)
                width = mb.input_ids.shape[1] - 1
                mb_prep = {k: v[pick.to(v.device)][:, :width] if v.dim() == 2 else v[pick.to(v.device)]
                           for k, v in prep.items()}
                loss, metrics = self.minibatch_loss(mb, mb_prep)
                opt.zero_grad()
                self.manual_backward(loss)
                self.clip_gradients(opt, gradient_clip_val=self.max_grad_norm,
                                    gradient_clip_algorithm="norm")
                opt.step()
                sched.step()
                steps += 1
                for k, v in {"loss": loss.detach(), **metrics}.items():
                    sums[k] = sums.get(k, 0.0) + float(v)
        logged = {f"train/{k}": v / max(1, steps) for k, v in sums.items()}
        logged.update(self.rollout_metrics(batch, "train"))
        tokens = batch.policy_mask[:, 1:].sum().clamp(min=1)
        logged["train/kl"] = float(prep["seq_kl"].sum() / tokens)  # rollout policy vs reference
        logged["train/kl_coef"] = self.kl_ctl.value
        # Mean episode KL over all ranks, so every rank's controller (and checkpoint) agrees.
        mean_kl = self.trainer.strategy.reduce(prep["seq_kl"].mean().detach(), reduce_op="mean")
        self.kl_ctl.update(float(mean_kl), len(batch) * self.trainer.world_size)
        logged["train/rollout_seconds"] = rollout_s
        logged["train/update_seconds"] = time.perf_counter() - start - rollout_s
        self.log_dict(logged, on_step=True, on_epoch=False, batch_size=len(batch))

    def validation_step(self, batch: RolloutBatch, batch_idx: int) -> None:
        self.log_dict(self.rollout_metrics(batch, "val"), on_step=False, on_epoch=True,
                      batch_size=len(batch), sync_dist=True)

    @staticmethod
    def rollout_metrics(batch: RolloutBatch, stage: str) -> dict[str, float]:
        m = {f"{stage}/episode_return": float(batch.returns.float().mean()),
             f"{stage}/success_rate": float(batch.success.float().mean()),
             f"{stage}/episode_length": float(batch.num_turns.float().mean()),
             f"{stage}/generated_tokens": float(batch.num_generated_tokens)}
        for d in sorted(set(batch.difficulties)):
            rows = torch.tensor([x == d for x in batch.difficulties], device=batch.success.device)
            m[f"{stage}/success_rate_{d}"] = float(batch.success[rows].float().mean())
        return m

    # ------------------------------------------------------------------ optimizer, state
    def trainable_parameters(self) -> list[nn.Parameter]:
        """What the optimizer updates: the adapter (PPO adds its value head)."""
        return self.policy.trainable_parameters()

    def configure_optimizers(self):
        params = self.trainable_parameters()
        fused = self.hparams.fused_adamw
        if fused is None:
            fused = bool(params) and params[0].is_cuda
        optimizer = torch.optim.AdamW(params, lr=self.hparams.lr, betas=tuple(self.hparams.betas),
                                      weight_decay=self.hparams.weight_decay, fused=fused)
        # One schedule step per gradient step: epochs x minibatches per update.
        dm = self.trainer.datamodule
        per_update = self.epochs * -(-dm.episodes_per_update // self.minibatch_size)
        total = max(1, dm.num_updates * per_update)
        warmup = int(self.hparams.warmup_ratio * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: cosine_with_warmup(s, total, warmup, self.hparams.min_lr_ratio))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Norm before clipping (clip_gradients runs after this hook); DDP grads are identical.
        grads = [p.grad.detach().float().pow(2).sum() for p in self.trainable_parameters()
                 if p.grad is not None]
        norm = torch.stack(grads).sum().sqrt() if grads else torch.zeros((), device=self.device)
        self.log("train/grad_norm", norm, on_step=True, on_epoch=False, batch_size=1)
        self.log("train/lr", optimizer.param_groups[0]["lr"], on_step=True, on_epoch=False,
                 batch_size=1)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["web4rl_kl_controller"] = self.kl_ctl.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        if "web4rl_kl_controller" in checkpoint:
            self.kl_ctl.load_state_dict(checkpoint["web4rl_kl_controller"])
