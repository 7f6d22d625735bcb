"""Run by tests/test_fsdp_cpu.py as a script: train/grad_norm under plain torch FSDP on 2 CPU
processes (gloo), for FULL_SHARD, SHARD_GRAD_OP and NO_SHARD (issue 17, item 7).

The policy module is wrapped the way LoraFSDPStrategy wraps it (use_orig_params, LoraWrapPolicy).
Every rank sets each trainable parameter's local gradient (its shard, or the whole tensor when
nothing is sharded) to ones, as FSDP would leave identical replicated gradients, so the true
total norm is sqrt(number of trainable elements) whatever the sharding. The module's own
on_before_optimizer_step computes and logs train/grad_norm; each rank writes OUT/<strategy>-<r>.pt.
"""

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STRATEGIES = ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD")


def rank_main(rank: int, out: Path, port: int) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp import ShardingStrategy

    from web4rl.algorithms import ORPO
    from web4rl.distributed import LoraFSDPStrategy, LoraWrapPolicy, decoder_layer_names
    from web4rl.policy import LoraSettings, Policy

    for name in STRATEGIES:
        module = ORPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)))
        numel = sum(p.numel() for p in module.parameters() if p.requires_grad)
        root = FSDP(module, sharding_strategy=ShardingStrategy[name], use_orig_params=True,
                    auto_wrap_policy=LoraWrapPolicy(decoder_layer_names(module)),
                    device_id=torch.device("cpu"))
        strategy = LoraFSDPStrategy()
        strategy.model = root
        module._trainer = SimpleNamespace(strategy=strategy)
        logged = {}
        module.log = lambda key, value, _into=logged, **kw: _into.__setitem__(key, float(value))
        for p in module.policy.trainable_parameters():
            p.grad = torch.ones_like(p)  # this rank's part of the (replicated) gradient
        optimizer = torch.optim.SGD(module.policy.trainable_parameters(), lr=0.1)
        module.on_before_optimizer_step(optimizer)
        torch.save({"grad_norm": logged["train/grad_norm"], "expected": numel ** 0.5,
                    "strategy": str(root.sharding_strategy)}, out / f"{name}-{rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    out = Path(sys.argv[1])
    mp.spawn(rank_main, args=(out, int(sys.argv[2])), nprocs=2)
