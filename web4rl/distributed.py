"""FSDP set up for LoRA on decoder-only models.

What LoRA needs from FSDP, and why:
- ``use_orig_params=True``: each FSDP unit mixes frozen base weights and trainable LoRA weights;
  without it FSDP flattens them into one FlatParameter that must be all-trainable or all-frozen.
- Wrap units: every decoder layer (the model's ``_no_split_modules``, e.g. Qwen2DecoderLayer)
  plus every leaf module whose parameters all train (the LoRA A/B linears), so trainable and
  frozen weights never share a flat parameter and each layer's all-gather is one unit.
- Mixed precision comes from the Trainer's ``precision`` (bf16-mixed gives FSDP a bf16
  MixedPrecision); load the base in float32 so every flat parameter has one dtype.

Checkpoints hold only the trainable (LoRA) tensors. Lightning's FSDP loader expects the whole
model in a sharded checkpoint, so ``LoraFSDPStrategy.load_checkpoint`` reads only the
trainable entries (and checks them, for full checkpoints too: Lightning removes
``state_dict`` before ``on_load_checkpoint`` could).

Lightning refuses ``strategy="fsdp"`` with the CPU accelerator, and FSDP on CPU needs
``device_id=cpu``; tests/fsdp_cpu_worker.py runs this strategy on CPU (gloo) with those two
details patched in a test subclass.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.strategies import FSDPStrategy
from torch import nn

from web4rl.policy import require_trainable_keys, trainable_state_names


def decoder_layer_names(model: nn.Module) -> set[str]:
    """Class names a transformers model declares as unsplittable (its decoder layers)."""
    names: set[str] = set()
    for module in model.modules():
        names.update(getattr(module, "_no_split_modules", None) or [])
    return names


def sum_over_shard_group(value: torch.Tensor, fsdp_root: nn.Module) -> torch.Tensor:
    """Sum a per-rank partial result over the ranks that shard parameters together.

    For the squared L2 norm of the gradients: with ``use_orig_params`` each rank's ``p.grad``
    is its own part of the gradient, so the squares add up over FSDP's shard group and only
    there. NO_SHARD keeps whole gradients on every rank (nothing to add); FULL_SHARD and
    SHARD_GRAD_OP shard over all ranks; HYBRID_SHARD shards within a node and replicates
    across nodes. Summing over all ranks counted each replica once more: a NO_SHARD norm came
    out sqrt(world_size) times too large. Every rank of the shard group must call this.
    """
    from torch.distributed.fsdp import ShardingStrategy

    if fsdp_root.sharding_strategy == ShardingStrategy.NO_SHARD:
        return value
    torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.SUM,
                                 group=fsdp_root.process_group)
    return value


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
            activation_checkpointing_policy=self._checkpoint_policy if activation_checkpointing else None,
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

    def load_checkpoint(self, checkpoint_path, weights_only: bool | None = None) -> dict[str, Any]:
        """Load a trainable-only checkpoint: a full one (one file) through Lightning after a
        key check; a sharded one (a directory) reading only the trainable entries."""
        from lightning.fabric.strategies.fsdp import _is_full_checkpoint, _is_sharded_checkpoint
        from lightning.fabric.utilities.load import _lazy_load

        path = Path(self.broadcast(checkpoint_path))
        trainable = trainable_state_names(self.model)
        if _is_sharded_checkpoint(path):
            return self._load_sharded_trainable(path, trainable, weights_only)
        if _is_full_checkpoint(path):
            require_trainable_keys(trainable, _lazy_load(path)["state_dict"].keys())
        return super().load_checkpoint(path, weights_only=weights_only)

    def _load_sharded_trainable(self, path: Path, trainable: set[str],
                                weights_only: bool | None) -> dict[str, Any]:
        # Lightning's FSDPStrategy.load_checkpoint (sharded branch), except that the
        # distributed checkpoint is asked only for the trainable tensors it holds.
        from lightning.fabric.strategies.fsdp import _get_sharded_state_dict_context
        from lightning.fabric.utilities.load import _METADATA_FILENAME
        from lightning.pytorch.trainer.states import TrainerFn
        from torch.distributed.checkpoint import FileSystemReader
        from torch.distributed.checkpoint import load as dcp_load
        from torch.distributed.checkpoint.optimizer import load_sharded_optimizer_state_dict
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        reader = FileSystemReader(path)
        saved = reader.read_metadata().state_dict_metadata
        require_trainable_keys(trainable, {k.removeprefix("model.") for k in saved
                                           if k.startswith("model.")})
        with _get_sharded_state_dict_context(self.model):
            state = self.model.state_dict()  # every tensor, base included, as local shards
            subset = {k: v for k, v in state.items() if k in trainable}
            dcp_load({"model": subset}, checkpoint_id=path)  # fills the shards in place
            state.update(subset)
            self.model.load_state_dict(state, strict=self.lightning_module.strict_loading)
            if self.lightning_module.trainer.state.fn == TrainerFn.FITTING and self.optimizers:
                for idx, optimizer in enumerate(self.optimizers):
                    key = f"optimizer_{idx}"
                    optim_state = load_sharded_optimizer_state_dict(
                        model_state_dict=subset, optimizer_key=key,
                        storage_reader=FileSystemReader(path))
                    optimizer.load_state_dict(FSDP.optim_state_dict_to_load(
                        model=self.model, optim=optimizer, optim_state_dict=optim_state[key]))
        return torch.load(path / _METADATA_FILENAME, weights_only=weights_only)
