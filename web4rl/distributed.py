"""FSDP set up for LoRA on decoder-only models.

What LoRA needs from FSDP, and why:
- ``use_orig_params=True``: each FSDP unit mixes frozen base weights and trainable LoRA weights;
  without it FSDP flattens them into one FlatParameter that must be all-trainable or all-frozen.
- Wrap units: every decoder layer (the model's ``_no_split_modules``, e.g. Qwen2DecoderLayer)
  plus every leaf module whose parameters all train (the LoRA A/B linears), so trainable and
  frozen weights never share a flat parameter and each layer's all-gather is one unit.
- Mixed precision comes from the Trainer's ``precision`` (bf16-mixed gives FSDP a bf16
  MixedPrecision); load the base in float32 so every flat parameter has one dtype.

Lightning's FSDP strategy refuses the CPU accelerator, so this runs on GPUs only; the wrap
decisions are plain Python and are tested on CPU.
"""

from __future__ import annotations

from collections.abc import Iterable

from lightning.pytorch.strategies import FSDPStrategy
from torch import nn


def decoder_layer_names(model: nn.Module) -> set[str]:
    """Class names a transformers model declares as unsplittable (its decoder layers)."""
    names: set[str] = set()
    for module in model.modules():
        names.update(getattr(module, "_no_split_modules", None) or [])
    return names


class LoraWrapPolicy:
    """FSDP auto-wrap policy (callable form): wrap named layer classes and all-trainable leaves."""

    def __init__(self, layer_class_names: Iterable[str] = ()) -> None:
        self.layer_class_names = set(layer_class_names)

    def should_wrap(self, module: nn.Module) -> bool:
        if type(module).__name__ in self.layer_class_names:
            return True
        params = list(module.parameters(recurse=False))
        is_leaf = next(module.children(), None) is None
        return is_leaf and bool(params) and all(p.requires_grad for p in params)

    def __call__(self, module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
        # FSDP asks with recurse=True whether to descend; always descend, decide on the way up.
        return True if recurse else self.should_wrap(module)


class LoraFSDPStrategy(FSDPStrategy):
    """Lightning FSDPStrategy with the settings LoRA needs (see module docstring).

    Args:
        layer_class_names: decoder layer classes that become FSDP units; None = the model's
            ``_no_split_modules`` (Qwen2DecoderLayer, LlamaDecoderLayer, ...).
        sharding_strategy: FULL_SHARD (ZeRO-3), SHARD_GRAD_OP (ZeRO-2), HYBRID_SHARD, NO_SHARD.
        activation_checkpointing: checkpoint every decoder layer (saves activation memory).
        cpu_offload: offload sharded parameters to CPU between uses.
        state_dict_type: "full" (rank 0 gathers; checkpoints keep only LoRA weights anyway) or
            "sharded".
        **kwargs: passed to ``lightning.pytorch.strategies.FSDPStrategy``.
    """

    def __init__(
        self,
        layer_class_names: list[str] | None = None,
        sharding_strategy: str = "FULL_SHARD",
        activation_checkpointing: bool = False,
        cpu_offload: bool = False,
        state_dict_type: str = "full",
        **kwargs,
    ) -> None:
        self.wrap_policy = LoraWrapPolicy(layer_class_names or ())
        self._auto_layer_names = layer_class_names is None
        kwargs.setdefault("use_orig_params", True)
        kwargs.setdefault("limit_all_gathers", True)
        super().__init__(
            auto_wrap_policy=self.wrap_policy,
            activation_checkpointing_policy=self._checkpoint_policy
            if activation_checkpointing
            else None,
            sharding_strategy=sharding_strategy,
            cpu_offload=cpu_offload,
            state_dict_type=state_dict_type,
            **kwargs,
        )

    def _checkpoint_policy(self, module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
        return True if recurse else type(module).__name__ in self.wrap_policy.layer_class_names

    def resolve_layer_names(self, model: nn.Module) -> set[str]:
        if self._auto_layer_names:
            self.wrap_policy.layer_class_names = decoder_layer_names(model)
        if not self.wrap_policy.layer_class_names:
            raise ValueError(
                "LoraFSDPStrategy: no decoder layer classes found; set layer_class_names "
                "(e.g. [Qwen2DecoderLayer]) in the strategy's init_args"
            )
        return self.wrap_policy.layer_class_names

    def setup(self, trainer) -> None:
        self.resolve_layer_names(trainer.lightning_module)
        super().setup(trainer)
