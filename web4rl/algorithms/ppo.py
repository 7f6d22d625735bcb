"""Stage 3: PPO (Schulman et al. 2017) with a value head, on multi-turn simulator episodes."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from web4rl.algorithms.base import Metrics
from web4rl.algorithms.online import OnlineRLModule
from web4rl.rl import (
    clipped_surrogate,
    clipped_value_loss,
    explained_variance,
    kl_estimate,
    masked_gae,
    whiten,
)
from web4rl.rollout.batch import RolloutBatch

VALUE_HEAD_FILE = "value_head.pt"


class PPO(OnlineRLModule):
    """PPO with a scalar value head on the policy's last hidden state.

    Per policy token t (tool-result and prompt tokens are not time steps)::

        r_t  = [turn reward if t ends a turn] - beta * k1_t,  k1_t = log pi_b - log ref
        A, R = GAE(r, V; gamma, lambda) over policy tokens;  A whitened over the batch
        L    = agg(-min(rho A, clip(rho) A)) + vf_coef * agg(0.5 max((V-R)^2, (V_clip-R)^2))
               - entropy_coef * agg(H)

    Args:
        gamma: discount per policy token.
        lam: GAE lambda.
        vf_coef: value loss weight.
        value_clip: value clip eps (around the rollout-time values).
        init_value_head: a ``value_head.pt`` written by an earlier PPO run (else zeros).
        **kwargs: see ``OnlineRLModule`` and ``PolicyModule``.
    """

    def __init__(self, *args, gamma: float = 0.99, lam: float = 0.95, vf_coef: float = 0.5,
                 value_clip: float = 0.2, init_value_head: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gamma, self.lam, self.vf_coef, self.value_clip = gamma, lam, vf_coef, value_clip
        hidden = self.policy.model.get_base_model().config.hidden_size
        self.value_head = nn.Linear(hidden, 1)  # float32 whatever the base dtype
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        if init_value_head:
            self.value_head.load_state_dict(torch.load(init_value_head, weights_only=True))

    def values(self, hidden: torch.Tensor) -> torch.Tensor:
        """[N, T-1] V(state before token t+1) from hidden [N, T, H], in float32.

        Outside autocast: under bf16-mixed the head would otherwise return bfloat16, which
        neither fits prepare()'s float32 buffers nor keeps the regression targets' precision."""
        with torch.autocast(hidden.device.type, enabled=False):
            return self.value_head(hidden[:, :-1].float()).squeeze(-1)

    def prepare(self, batch: RolloutBatch) -> dict[str, torch.Tensor]:
        mask = batch.policy_mask[:, 1:]
        ref = torch.zeros_like(batch.behaviour_logps[:, 1:])
        values = torch.zeros_like(ref)
        for idx in self.minibatches(len(batch)):
            mb, idx = batch.select(idx), idx.to(ref.device)
            width = mb.input_ids.shape[1] - 1
            ref[idx, :width] = self.reference_logps(mb)
            values[idx, :width] = self.values(self.forward_batch(mb, entropy=False)["hidden"])
        kl = kl_estimate(batch.behaviour_logps[:, 1:], ref, "k1") * mask
        rewards = batch.token_rewards()[:, 1:] - self.kl_ctl.value * kl
        adv, returns = masked_gae(rewards, values * mask, mask, self.gamma, self.lam)
        return {"advantages": whiten(adv, mask), "returns": returns, "old_values": values,
                "seq_kl": kl.sum(-1), "raw_advantages": adv}

    def minibatch_loss(self, mb: RolloutBatch, prep: dict[str, torch.Tensor]) -> tuple[torch.Tensor, Metrics]:
        out = self.forward_batch(mb, entropy=True)
        mask = out["mask"]
        pg, clipped = clipped_surrogate(out["logps"], mb.behaviour_logps[:, 1:],
                                        prep["advantages"], self.clip)
        values = self.values(out["hidden"])
        vf, _ = clipped_value_loss(values, prep["old_values"], prep["returns"], self.value_clip)
        policy_loss, value_loss = self.agg(pg, mask), self.agg(vf, mask)
        entropy = self.agg(out["entropy"], mask)
        loss = policy_loss + self.vf_coef * value_loss - self.entropy_coef * entropy
        n = mask.sum().clamp(min=1)
        kl = kl_estimate(out["logps"].detach(), mb.behaviour_logps[:, 1:], "k3")
        return loss, {
            "policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(),
            "entropy": entropy.detach(), "approx_kl": ((kl * mask).sum() / n),
            "clip_fraction": ((clipped & mask).sum() / n).detach(),
            "explained_variance": explained_variance(values.detach(), prep["returns"], mask),
            "advantage_std": prep["raw_advantages"][mask].std(unbiased=False)
            if mask.sum() > 1 else torch.zeros(()),
        }

    def on_fit_end(self) -> None:
        super().on_fit_end()  # writes the adapter
        if self.hparams.adapter_dir and self.trainer.is_global_zero:
            path = Path(self.hparams.adapter_dir) / VALUE_HEAD_FILE
            torch.save({k: v.detach().cpu() for k, v in self.value_head.state_dict().items()}, path)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return self.policy.trainable_parameters() + list(self.value_head.parameters())
