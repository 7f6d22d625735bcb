"""EvalGates overhead: seconds per evaluation and share of the run's wall time (CPU, tiny model).

    python scripts/bench_gates.py --steps 100 --every 50 --prompts 32 --max-new-tokens 128

Trains SFT on the shipped sample data (as configs/sft_cpu.yaml: batch 8, max_length 512) for
``--steps`` optimizer steps with EvalGates every ``--every`` steps, then prints one JSON line:
per-evaluation seconds, total evaluation seconds, fit wall time and the evaluation share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=1.0)
    args = p.parse_args()
    import lightning as L
    import torch

    from web4rl.algorithms import SFT
    from web4rl.callbacks import EvalGates
    from web4rl.data import SFTDataModule
    from web4rl.policy import Policy

    L.seed_everything(42)
    gates = EvalGates(every_n_steps=args.every, num_prompts=args.prompts,
                      max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                      safe_if="finite")
    gates.prompts()  # load the evaluation set before timing (one-off, not per evaluation)
    module = SFT(policy=Policy("web4rl/tiny"), lr=2e-3)
    data = SFTDataModule(batch_size=8, max_length=512, max_prompt_length=256, seed=42)
    trainer = L.Trainer(accelerator="cpu", max_steps=args.steps, limit_val_batches=0,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[gates])
    start = time.perf_counter()
    trainer.fit(module, data)
    wall = time.perf_counter() - start
    evals = [round(r.seconds, 2) for r in gates.history]
    print(json.dumps({
        "steps": args.steps, "every": args.every, "prompts": args.prompts,
        "max_new_tokens": args.max_new_tokens, "threads": torch.get_num_threads(),
        "omp": os.environ.get("OMP_NUM_THREADS"), "eval_seconds": evals,
        "eval_total_s": round(sum(evals), 1), "fit_wall_s": round(wall, 1),
        "eval_share": round(sum(evals) / wall, 3),
    }))


if __name__ == "__main__":
    main()
