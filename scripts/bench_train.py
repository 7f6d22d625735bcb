"""Tokens/s and peak memory of ORPO and DPO training steps.

    python scripts/bench_train.py                       # tiny model, CPU, batch 8 x 512
    python scripts/bench_train.py --device cuda --model Qwen/Qwen2.5-Coder-7B-Instruct \
        --dtype bfloat16 --batch-size 4 --max-length 2048

Each algorithm runs in its own subprocess so peak memory is that algorithm's alone. A step is
forward + backward + AdamW update on one batch of the shipped sample preference data (real
token counts, padding excluded from tokens/s). Warm-up steps are not timed.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time


def measure(args: argparse.Namespace) -> dict:
    import torch

    from web4rl.algorithms import DPO, ORPO
    from web4rl.callbacks import count_tokens
    from web4rl.data import PreferenceDataModule
    from web4rl.policy import Policy

    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    # Peak RSS of the process after imports alone: torch + transformers + datasets cost ~1 GiB
    # before any model exists, so the step's own memory is the difference.
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    policy = Policy(args.model, dtype=args.dtype)
    module = {"orpo": ORPO, "dpo": DPO}[args.algorithm](policy=policy, lr=1e-4).to(args.device)
    data = PreferenceDataModule(batch_size=args.batch_size, max_length=args.max_length,
                                max_prompt_length=args.max_length // 2, seed=0,
                                overlong_prompt="truncate")
    data.set_tokenizer(policy.tokenizer)
    data.setup("fit")
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=1e-4)
    batches = iter(data.train_dataloader())
    tokens, elapsed = 0, 0.0
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        batch = module.transfer_batch_to_device(next(batches), torch.device(args.device), 0)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(args.device.split(":")[0], dtype=torch.bfloat16,
                            enabled=args.device.startswith("cuda")):
            loss, _ = module.compute_loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        if step >= args.warmup:
            elapsed += time.perf_counter() - start
            tokens += count_tokens(batch)
    result = {
        "algorithm": args.algorithm, "device": args.device, "model": args.model,
        "batch_size": args.batch_size, "max_length": args.max_length, "steps": args.steps,
        "tokens_per_sec": round(tokens / elapsed, 1), "sec_per_step": round(elapsed / args.steps, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "import_rss_mib": round(baseline_rss, 1),
        "threads": torch.get_num_threads(),
    }
    if args.device.startswith("cuda"):
        result["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", choices=["orpo", "dpo"], help="internal: one run")
    parser.add_argument("--model", default="web4rl/tiny")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    if args.algorithm:
        print(json.dumps(measure(args)))
        return 0
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}")
    for algorithm in ("orpo", "dpo"):
        cmd = [sys.executable, __file__, "--algorithm", algorithm] + sys.argv[1:]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        print(out.strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
