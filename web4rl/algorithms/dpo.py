"""Stage 1: DPO on human preference pairs (Rafailov et al. 2023), optional cDPO smoothing."""

from __future__ import annotations

import torch
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, Subset

from web4rl.algorithms.base import Metrics, PolicyModule, stack_pair
from web4rl.data.batches import PreferenceBatch
from web4rl.losses import dpo_loss
from web4rl.sequence import masked_sum


class DPO(PolicyModule):
    """Sigmoid DPO loss on completion log-probs summed over tokens.

    Args:
        beta: inverse temperature of the implicit reward (DESIGN.md default 0.1).
        label_smoothing: cDPO flip probability in [0, 0.5); 0 = plain DPO.
        precompute_reference: compute reference log-probs for every train/val/test pair once,
            before training, instead of a no-grad reference forward pass in every step (about
            a quarter of a step's compute; the reference never changes). Ignored under FSDP,
            whose sharded root module cannot run outside the wrapped forward.
        **kwargs: see ``PolicyModule``.
    """

    def __init__(
        self,
        *args,
        beta: float = 0.1,
        label_smoothing: float = 0.0,
        precompute_reference: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.beta = beta
        self.label_smoothing = label_smoothing
        self.precompute_reference = precompute_reference
        # split -> [N, 2] (chosen, rejected) reference log-probs, indexed by batch.index.
        self._reference_cache: dict[str, torch.Tensor] = {}

    def _pair_logps(self, batch: PreferenceBatch) -> tuple[torch.Tensor, torch.Tensor]:
        input_ids, attention_mask, labels = stack_pair(batch)
        logps, mask = self.policy.token_logps(input_ids, attention_mask, labels)  # [2B, T-1]
        summed = masked_sum(logps, mask)  # [2B]
        n = batch.index.numel()
        return summed[:n], summed[n:]

    def _current_split(self) -> str:
        if self.trainer.training:
            return "train"
        return "test" if self.trainer.testing else "val"

    def reference_logps(self, batch: PreferenceBatch) -> tuple[torch.Tensor, torch.Tensor]:
        cache = self._reference_cache.get(self._current_split()) if self._trainer else None
        if cache is not None:
            pair = cache[batch.index.cpu()].to(self.device)
            return pair[:, 0], pair[:, 1]
        with self.policy.reference():
            return self._pair_logps(batch)

    def compute_loss(self, batch: PreferenceBatch) -> tuple[torch.Tensor, Metrics]:
        policy_chosen, policy_rejected = self._pair_logps(batch)
        ref_chosen, ref_rejected = self.reference_logps(batch)
        loss, metrics = dpo_loss(
            policy_chosen,
            policy_rejected,
            ref_chosen,
            ref_rejected,
            beta=self.beta,
            label_smoothing=self.label_smoothing,
        )
        # log pi/ref summed over the chosen completion (dataset responses, not policy samples):
        # a drift signal, not the token-level KL the RL gates threshold.
        metrics["chosen_logratio"] = (policy_chosen - ref_chosen).detach().mean()
        return loss, metrics

    # ------------------------------------------------------------------ precomputation
    def _fill_cache(self, split: str) -> None:
        dataset = self.trainer.datamodule.datasets.get(split)
        if not dataset:
            return
        # Category balancing repeats pairs: compute each pair index once.
        first_position = {item.index: pos for pos, item in reversed(list(enumerate(dataset)))}
        loader = DataLoader(
            Subset(dataset, sorted(first_position.values())),
            batch_size=self.trainer.datamodule.batch_size,
            collate_fn=self.trainer.datamodule.collator,
            num_workers=0,
        )
        rows: dict[int, torch.Tensor] = {}
        # fork_rng: this extra pass must not shift the RNG streams a resumed run restored.
        devices = [self.device] if self.device.type == "cuda" else []
        with (
            torch.random.fork_rng(devices=devices),
            self.trainer.precision_plugin.forward_context(),
        ):
            for batch in loader:
                batch = self.transfer_batch_to_device(batch, self.device, 0)
                with self.policy.reference():
                    chosen, rejected = self._pair_logps(batch)
                pairs = torch.stack([chosen, rejected], dim=1).float().cpu()  # [B, 2]
                rows.update(zip(batch.index.tolist(), pairs, strict=True))
        cache = torch.full((max(rows) + 1, 2), float("nan"))  # NaN: index never looked up
        for i, pair in rows.items():
            cache[i] = pair
        self._reference_cache[split] = cache

    def _precompute(self, splits: tuple[str, ...]) -> None:
        if not self.precompute_reference or self.trainer.datamodule is None:
            return
        if isinstance(self.trainer.strategy, FSDPStrategy):
            rank_zero_warn(
                "web4rl DPO: precompute_reference is ignored under FSDP; the "
                "reference pass runs in every step instead"
            )
            return
        # Every rank computes the full table: one forward pass over the data, no collective
        # communication, and lookups by pair index stay local.
        for split in splits:
            self._fill_cache(split)
        rank_zero_info(f"web4rl DPO: precomputed reference log-probs for {', '.join(splits)}")

    def on_fit_start(self) -> None:
        self._precompute(("train", "val"))

    def on_test_start(self) -> None:
        self._precompute(("test",))
