"""Stage 3: GRPO (Shao et al. 2024) on simulator episodes, groups of episodes per task."""

from __future__ import annotations

import torch

from web4rl.algorithms.base import Metrics
from web4rl.algorithms.online import OnlineRLModule
from web4rl.rl import clipped_surrogate, group_advantages, kl_estimate
from web4rl.rollout.batch import RolloutBatch


class GRPO(OnlineRLModule):
    """Group-relative policy optimisation, no value function.

    Per episode i of a group (same task, ``data.group_size`` episodes, DESIGN.md: 4)::

        A_i   = (R_i - mean_group R) / (std_group R + 1e-6)     (std off: Dr. GRPO)
        L_tok = -min(rho A_i, clip(rho, 1 - eps, 1 + eps) A_i) + beta * k3(pi, ref)
        L     = aggregate(L_tok over the policy tokens, mode)

    rho = pi / pi_behaviour per sampled token; k3 is taken against the reference policy
    (disabled / frozen starting adapter, no model copy); ``entropy_coef`` subtracts an
    entropy bonus (0 by default for GRPO).

    Args:
        scale_std: divide by the group's return std (False = Dr. GRPO).
        **kwargs: see ``OnlineRLModule`` (clip, epochs, minibatch_size, kl_coef,
            aggregation, ...) and ``PolicyModule``.
    """

    def __init__(self, *args, scale_std: bool = True, epochs: int = 1,
                 entropy_coef: float = 0.0, **kwargs) -> None:
        super().__init__(*args, epochs=epochs, entropy_coef=entropy_coef, **kwargs)
        self.scale_std = scale_std

    def prepare(self, batch: RolloutBatch) -> dict[str, torch.Tensor]:
        if batch.group_size < 2:
            raise ValueError("GRPO needs data.group_size >= 2 (episodes per task)")
        adv = group_advantages(batch.returns, batch.group_size, self.scale_std)  # [N]
        mask = batch.policy_mask[:, 1:]
        ref = torch.zeros_like(batch.behaviour_logps[:, 1:])
        for idx in self.minibatches(len(batch)):
            mb, idx = batch.select(idx), idx.to(ref.device)
            ref[idx, : mb.input_ids.shape[1] - 1] = self.reference_logps(mb)
        kl = kl_estimate(batch.behaviour_logps[:, 1:], ref, "k3") * mask
        return {"advantages": adv, "ref_logps": ref, "seq_kl": kl.sum(-1)}

    def minibatch_loss(self, mb: RolloutBatch, prep: dict[str, torch.Tensor]) -> tuple[torch.Tensor, Metrics]:
        out = self.forward_batch(mb, entropy=True)
        mask = out["mask"]
        old = mb.behaviour_logps[:, 1:]
        pg, clipped = clipped_surrogate(out["logps"], old, prep["advantages"][:, None], self.clip)
        kl = kl_estimate(out["logps"], prep["ref_logps"], "k3")
        per_token = pg + self.kl_ctl.value * kl - self.entropy_coef * out["entropy"]
        loss = self.agg(per_token, mask)
        n = mask.sum().clamp(min=1)
        return loss, {
            "policy_loss": self.agg(pg, mask).detach(),
            "kl_penalty": ((kl * mask).sum() / n).detach(),
            "entropy": ((out["entropy"] * mask).sum() / n).detach(),
            "clip_fraction": ((clipped & mask).sum() / n).detach(),
            "advantage_std": prep["advantages"].std(unbiased=False).detach(),
        }
