"""Sampling throughput of the one generation path (web4rl.generation) on the tiny model.

    python scripts/bench_sample.py --prompts 8 --max-new-tokens 64 --batch-sizes 16 64

Prompts are the first distinct prompts of the shipped SFT data; each gets n completions at the
default four temperatures (0.6/0.8/1.0/1.2), as ``web4rl sample`` draws them. Reports the
median over ``--repeats`` of completions/s and generated tokens/s (stop token included) per
batch size. The tiny model's base is random, so most completions run to ``--max-new-tokens``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import torch

    from web4rl.policy import Policy
    from web4rl.sampling_cli import read_prompts

    items = read_prompts(ROOT / "web4rl" / "sample_data" / "sft.jsonl", limit=args.prompts)
    policy = Policy("web4rl/tiny").to(args.device)
    temps = (0.6, 0.8, 1.0, 1.2)
    results = []
    for batch_size in args.batch_sizes:
        rates, tok_rates = [], []
        for rep in range(args.repeats):
            start = time.perf_counter()
            out = policy.sample([it.prompt for it in items], n=args.n, temperatures=temps,
                                max_new_tokens=args.max_new_tokens, batch_size=batch_size, seed=rep)
            seconds = time.perf_counter() - start
            rates.append(len(out) / seconds)
            tok_rates.append(sum(c.num_tokens for c in out) / seconds)
        results.append({"batch_size": batch_size, "completions": len(out),
                        "completions_per_s": round(statistics.median(rates), 2),
                        "tokens_per_s": round(statistics.median(tok_rates), 1)})
    print(json.dumps({"machine": f"{platform.processor() or platform.machine()}, "
                                 f"{os.cpu_count()} cpus, torch {torch.__version__}, "
                                 f"threads {torch.get_num_threads()}",
                      "device": args.device, "prompts": len(items), "n": args.n,
                      "temperatures": temps, "max_new_tokens": args.max_new_tokens,
                      "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
