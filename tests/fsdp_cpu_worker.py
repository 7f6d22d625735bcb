"""Run by tests/test_fsdp_cpu.py as a script: LoraFSDPStrategy on 2 CPU processes (gloo).

Lightning's own FSDPStrategy code runs (wrapping aside): fit, save a trainable-only
checkpoint, validate from it, resume fit from it; with FULL_SHARD, once with a full checkpoint
(one file) and once with a sharded (distributed) one. Each rank writes OUT/<config>-<r>.pt.
(NO_SHARD is not run under Lightning: with its forward redirection FSDP asserts in the
root's post-forward reshard on CPU, before and after issue 17.)

Then, in the same processes, ``grad_norm_checks`` wraps the policy module with plain torch
FSDP as LoraFSDPStrategy does (use_orig_params, LoraWrapPolicy) for FULL_SHARD, SHARD_GRAD_OP
and NO_SHARD, sets every rank's local part of each trainable gradient to ones (what FSDP
leaves when gradients are replicated and identical), and runs the module's own
on_before_optimizer_step: the true norm is sqrt(number of trainable elements) whatever the
sharding. Each rank writes OUT/gradnorm-<strategy>-<r>.pt.

Two CPU-only patches, both outside the code under test: FSDP on CPU needs
``device_id=cpu`` (Lightning passes the device index, None on CPU), and FSDP's full state
dict with ``offload_to_cpu=True`` crashes (segfault) when the parameters already live on the
CPU, so full-state-dict gathers here use ``offload_to_cpu=False``. On GPUs neither applies.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import lightning.fabric.strategies.fsdp as fabric_fsdp
import lightning.pytorch.strategies.fsdp as pytorch_fsdp
import torch
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import preference_rows, write_jsonl  # noqa: E402
from web4rl.algorithms import ORPO  # noqa: E402
from web4rl.data import PreferenceDataModule  # noqa: E402
from web4rl.distributed import LoraFSDPStrategy  # noqa: E402
from web4rl.policy import LoraSettings, Policy, strip_wrapper_prefixes  # noqa: E402


def _full_state_dict_context(module, world_size, rank0_only=True):
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    from torch.distributed.fsdp.api import FullOptimStateDictConfig

    return FSDP.state_dict_type(
        module=module, state_dict_type=StateDictType.FULL_STATE_DICT,
        state_dict_config=FullStateDictConfig(offload_to_cpu=False, rank0_only=rank0_only),
        optim_state_dict_config=FullOptimStateDictConfig(offload_to_cpu=False,
                                                         rank0_only=rank0_only))


fabric_fsdp._get_full_state_dict_context = _full_state_dict_context
pytorch_fsdp._get_full_state_dict_context = _full_state_dict_context


class CpuLoraFSDP(LoraFSDPStrategy):
    """LoraFSDPStrategy with FSDP placed on the CPU (see module docstring)."""

    def _setup_model(self, model):
        return FSDP(model, sharding_strategy=self.sharding_strategy,
                    device_id=torch.device("cpu"), **self.kwargs)


class GradNormProbe(L.Callback):
    """Per step: the logged train/grad_norm and FSDP's own total norm (clip_grad_norm_ with an
    infinite bound computes the norm the right way for every sharding strategy and scales the
    gradients by 1)."""

    def __init__(self) -> None:
        self.fsdp_norms: list[float] = []
        self.logged: list[float] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.fsdp_norms.append(float(trainer.strategy.model.clip_grad_norm_(float("inf"))))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.logged.append(float(trainer.callback_metrics["train/grad_norm"]))


def lora_weights(trainer, module) -> dict[str, torch.Tensor]:
    with FSDP.summon_full_params(trainer.strategy.model, writeback=False):
        return {strip_wrapper_prefixes(n): p.detach().clone()
                for n, p in module.named_parameters() if "lora_" in n}


def make_trainer(out: Path, state_dict_type: str, sharding: str, **kwargs) -> L.Trainer:
    return L.Trainer(accelerator="cpu", devices=2,
                     strategy=CpuLoraFSDP(state_dict_type=state_dict_type,
                                          sharding_strategy=sharding),
                     logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=str(out), **kwargs)


def make_module() -> ORPO:
    return ORPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0)),
                lr=1e-2, warmup_ratio=0.0)


def run(out: Path, dm, state_dict_type: str, sharding: str) -> None:
    name = f"{state_dict_type}-{sharding}"
    ckpt = out / f"{name}.ckpt"
    L.seed_everything(0)
    probe = GradNormProbe()
    module = make_module()
    trainer = make_trainer(out, state_dict_type, sharding, max_steps=2, limit_val_batches=0,
                           callbacks=[probe])
    trainer.fit(module, dm)
    trainer.save_checkpoint(ckpt)
    saved = lora_weights(trainer, module)

    # validate from the checkpoint: the LoRA weights come back on a fresh module
    fresh = make_module()
    validator = make_trainer(out, state_dict_type, sharding, limit_val_batches=1)
    validator.validate(fresh, dm, ckpt_path=str(ckpt))
    restored = lora_weights(validator, fresh)

    # resume fit from it: optimizer state included (AdamW's step counter continues at 2)
    resumed = make_module()
    resumer = make_trainer(out, state_dict_type, sharding, max_steps=3, limit_val_batches=0)
    resumer.fit(resumed, dm, ckpt_path=str(ckpt))
    steps = {float(s["step"]) for s in resumer.optimizers[0].state.values()}
    torch.save({"logged": probe.logged, "fsdp_norms": probe.fsdp_norms, "saved": saved,
                "restored": restored, "resumed_steps": sorted(steps),
                "global_step": resumer.global_step},
               out / f"{name}-{trainer.global_rank}.pt")


def grad_norm_checks(out: Path, rank: int) -> None:
    from torch.distributed.fsdp import ShardingStrategy

    from web4rl.distributed import LoraWrapPolicy, decoder_layer_names

    for name in ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"):
        module = make_module()
        numel = sum(p.numel() for p in module.parameters() if p.requires_grad)
        root = FSDP(module, sharding_strategy=ShardingStrategy[name], use_orig_params=True,
                    auto_wrap_policy=LoraWrapPolicy(decoder_layer_names(module)),
                    device_id=torch.device("cpu"))
        strategy = LoraFSDPStrategy()
        strategy.model = root
        module._trainer = SimpleNamespace(strategy=strategy)
        logged: dict[str, float] = {}
        module.log = lambda key, value, _into=logged, **kw: _into.__setitem__(key, float(value))
        for p in module.policy.trainable_parameters():
            p.grad = torch.ones_like(p)  # this rank's part of the (replicated) gradient
        optimizer = torch.optim.SGD(module.policy.trainable_parameters(), lr=0.1)
        module.on_before_optimizer_step(optimizer)
        torch.save({"grad_norm": logged["train/grad_norm"], "expected": numel ** 0.5,
                    "strategy": str(root.sharding_strategy)},
                   out / f"gradnorm-{name}-{rank}.pt")


def main(out: Path) -> None:
    data_file = out / "pairs.jsonl"
    if not data_file.exists():  # rank 0 runs first, before the launcher starts rank 1
        write_jsonl(data_file, preference_rows(16))
    dm = PreferenceDataModule(train_files=str(data_file), batch_size=4, max_length=96,
                              max_prompt_length=64)
    run(out, dm, "full", "FULL_SHARD")
    run(out, dm, "sharded", "FULL_SHARD")
    grad_norm_checks(out, torch.distributed.get_rank())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
