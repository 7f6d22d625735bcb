"""Stage 1: DPO on human preference pairs (Rafailov et al. 2023), optional cDPO smoothing."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, Subset

from web4rl.algorithms.base import Metrics, PolicyModule, stack_pair
from web4rl.data.batches import PreferenceBatch
from web4rl.losses import dpo_loss
from web4rl.options import constrain
from web4rl.sequence import masked_sum


@constrain(beta="> 0", label_smoothing="[0, 0.5)")
class DPO(PolicyModule):
    """Sigmoid DPO loss on completion log-probs summed over tokens.

    Args:
        beta: inverse temperature of the implicit reward (DESIGN.md default 0.1).
        label_smoothing: cDPO flip probability in [0, 0.5); 0 = plain DPO.
        precompute_reference: compute reference log-probs for every train/val/test pair once,
            before training, instead of a no-grad reference forward pass in every step (about
            a quarter of a step's compute). On by default because it is exact here: the
            reference is fixed (the adapter-disabled base, or the frozen copy of
            ``init_adapter``) and runs in eval mode, so the table holds the very log-probs the
            per-step pass would compute (up to float summation order). Each table is tied
            to the dataset object it was computed from: fit/validate/test with other data
            recomputes it. Needs a web4rl data module (``datasets``, ``collator``,
            ``batch_size``); with other data, and under FSDP (whose sharded root module cannot
            run outside the wrapped forward), it warns and runs the per-step pass instead.
        **kwargs: see ``PolicyModule``.
    """

    def __init__(
        self, *args, beta: float = 0.1, label_smoothing: float = 0.0,
        precompute_reference: bool = True, **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.beta = beta
        self.label_smoothing = label_smoothing
        self.precompute_reference = precompute_reference
        # split -> (dataset the table was computed from, [N, 2] (chosen, rejected) reference
        # log-probs indexed by batch.index). The dataset object is the key: a lookup with any
        # other data (a second fit/validate/test on another data module) never uses the table.
        self._reference_cache: dict[str, tuple[object, torch.Tensor]] = {}
        self._warned_no_precompute = False

    def _pair_logps(self, batch: PreferenceBatch) -> tuple[torch.Tensor, torch.Tensor]:
        input_ids, attention_mask, labels = stack_pair(batch)
        logps, mask = self.policy.pair_token_logps(input_ids, attention_mask, labels)  # [2B, T-1]
        summed = masked_sum(logps, mask)  # [2B]
        n = batch.index.numel()
        return summed[:n], summed[n:]

    def _current_split(self) -> str:
        if self.trainer.training:
            return "train"
        return "test" if self.trainer.testing else "val"

    def _cached_reference(self, batch: PreferenceBatch) -> torch.Tensor | None:
        """[B, 2] cached reference log-probs for this batch, or None when there is no table
        for the data being iterated now (then the reference pass runs)."""
        if not self._reference_cache or self._trainer is None:
            return None
        split = self._current_split()
        entry = self._reference_cache.get(split)
        if entry is None or entry[0] is not self._split_dataset(split):
            return None
        table, index = entry[1], batch.index.cpu()
        if index.numel() == 0 or int(index.max()) >= table.shape[0]:
            return None
        pair = table[index]
        return None if torch.isnan(pair).any() else pair

    def reference_logps(self, batch: PreferenceBatch) -> tuple[torch.Tensor, torch.Tensor]:
        pair = self._cached_reference(batch)
        if pair is not None:
            pair = pair.to(self.device)
            return pair[:, 0], pair[:, 1]
        with self.policy.reference():
            return self._pair_logps(batch)

    def compute_loss(self, batch: PreferenceBatch) -> tuple[torch.Tensor, Metrics]:
        policy_chosen, policy_rejected = self._pair_logps(batch)
        ref_chosen, ref_rejected = self.reference_logps(batch)
        loss, metrics = dpo_loss(
            policy_chosen, policy_rejected, ref_chosen, ref_rejected,
            beta=self.beta, label_smoothing=self.label_smoothing,
        )
        # log pi/ref summed over the chosen completion (dataset responses, not policy samples):
        # a drift signal, not the token-level KL the RL gates threshold.
        metrics["chosen_logratio"] = (policy_chosen - ref_chosen).detach().mean()
        return loss, metrics

    # ------------------------------------------------------------------ precomputation
    def _split_dataset(self, split: str):
        """The dataset of ``split`` in the attached web4rl data module (None without one)."""
        datasets = getattr(self.trainer.datamodule, "datasets", None)
        return datasets.get(split) if isinstance(datasets, Mapping) else None

    def _fill_cache(self, split: str, dataset) -> None:
        datamodule = self.trainer.datamodule
        # Category balancing repeats pairs: compute each pair index once.
        first_position = {item.index: pos for pos, item in reversed(list(enumerate(dataset)))}
        loader = DataLoader(Subset(dataset, sorted(first_position.values())),
                            batch_size=datamodule.batch_size,
                            collate_fn=datamodule.collator, num_workers=0)
        rows: dict[int, torch.Tensor] = {}
        # fork_rng: this extra pass must not shift the RNG streams a resumed run restored.
        # inference_mode(False): validate/test hooks run under inference mode, whose tensors
        # could not be used by a later training step.
        devices = [self.device] if self.device.type == "cuda" else []
        with (torch.random.fork_rng(devices=devices), torch.inference_mode(False),
              self.trainer.precision_plugin.forward_context()):
            for batch in loader:
                batch = self.transfer_batch_to_device(batch, self.device, 0)
                with self.policy.reference():
                    chosen, rejected = self._pair_logps(batch)
                pairs = torch.stack([chosen, rejected], dim=1).float().cpu()  # [B, 2]
                rows.update(zip(batch.index.tolist(), pairs, strict=True))
        cache = torch.full((max(rows) + 1, 2), float("nan"))  # NaN: index never looked up
        for i, pair in rows.items():
            cache[i] = pair
        self._reference_cache[split] = (dataset, cache)

    def _warn_no_precompute(self, why: str) -> None:
        if not self._warned_no_precompute:
            rank_zero_warn(f"web4rl DPO: precompute_reference is ignored {why}; the reference "
                           "pass runs in every step instead")
            self._warned_no_precompute = True

    def _precompute(self, splits: tuple[str, ...]) -> None:
        if not self.precompute_reference:
            return
        if isinstance(self.trainer.strategy, FSDPStrategy):
            self._warn_no_precompute("under FSDP")
            return
        datamodule = self.trainer.datamodule
        if not (isinstance(getattr(datamodule, "datasets", None), Mapping)
                and hasattr(datamodule, "collator") and hasattr(datamodule, "batch_size")):
            self._warn_no_precompute(
                "without a web4rl PreferenceDataModule (the data needs datasets, collator and "
                "batch_size to be read once ahead)")
            return
        # Every rank computes the full table: one forward pass over the data, no collective
        # communication, and lookups by pair index stay local.
        done = []
        for split in splits:
            dataset = self._split_dataset(split)
            entry = self._reference_cache.get(split)
            if not dataset:
                self._reference_cache.pop(split, None)
            elif entry is None or entry[0] is not dataset:  # new or other data: (re)compute
                self._fill_cache(split, dataset)
                done.append(split)
        if done:
            rank_zero_info(f"web4rl DPO: precomputed reference log-probs for {', '.join(done)}")

    def on_fit_start(self) -> None:
        self._precompute(("train", "val"))

    def on_validation_start(self) -> None:
        # A no-op within fit (the table is current); a standalone validate() on other data
        # recomputes it.
        self._precompute(("val",))

    def on_test_start(self) -> None:
        self._precompute(("test",))
