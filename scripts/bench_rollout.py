"""Rollout throughput (episodes/s, generated tokens/s) and PPO / GRPO update time per step.

    python scripts/bench_rollout.py                                  # tiny model, CPU
    python scripts/bench_rollout.py --adapter runs/stage3/sft_adapter  # warm-started tiny model
    python scripts/bench_rollout.py --device cuda --model Qwen/Qwen2.5-Coder-7B-Instruct \\
        --dtype bfloat16 --episodes 64 --max-turns 20 --max-new-tokens 512 --gen-batch 64

Rollout: ``--episodes`` simulator episodes (procedural simple/medium tasks, web4 profile)
played by one RolloutEngine call (all active episodes batched per turn), timed after a
warm-up call. Update: one PPO / GRPO training step (manual optimization: forward, backward,
AdamW over epochs x minibatches) on a fixed, pre-played batch of 16 episodes, median of
``--updates`` steps after one warm-up step; rollout time excluded.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's web4rl


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="web4rl/tiny")
    p.add_argument("--adapter", default=None, help="PEFT adapter to act with (e.g. the SFT one)")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--max-turns", type=int, default=6)
    p.add_argument("--max-new-tokens", type=int, default=160)
    p.add_argument("--gen-batch", type=int, default=16)
    p.add_argument("--updates", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()

    import lightning as L
    import torch
    from torch.utils.data import DataLoader

    from web4rl.algorithms import GRPO, PPO
    from web4rl.policy import LoraSettings, Policy
    from web4rl.rollout import RolloutEngine
    from web4rl.sim.generators import generate_task

    class Timer(L.Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_batch_end(self, trainer, *unused) -> None:
            self.times.append(float(trainer.callback_metrics["train/update_seconds"]))

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    policy = Policy(args.model, dtype=args.dtype, init_adapter=args.adapter,
                    lora=LoraSettings(dropout=0.0)).to(args.device)
    engine = RolloutEngine(max_turns=args.max_turns, max_new_tokens=args.max_new_tokens,
                           batch_size=args.gen_batch, max_length=8192)
    tasks = [generate_task(c, d, 1000 + i) for i, (c, d) in enumerate(
        (c, d) for d in ("simple", "medium")
        for c in ("tool_use", "multi_step", "code_generation", "search_and_edit", "refactor"))]

    def pick(n: int, offset: int) -> list:
        return [tasks[(offset + i) % len(tasks)] for i in range(n)]

    engine.play_tasks(policy.model, policy.tokenizer, pick(2, 0), seed=0)  # warm-up
    start = time.perf_counter()
    batch, _ = engine.play_tasks(policy.model, policy.tokenizer, pick(args.episodes, 3), seed=1)
    seconds = time.perf_counter() - start
    result = {
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads, device {args.device}",
        "model": args.model, "adapter": args.adapter, "episodes": len(batch),
        "rollout_seconds": round(seconds, 2),
        "episodes_per_s": round(len(batch) / seconds, 3),
        "generated_tokens_per_s": round(batch.num_generated_tokens / seconds, 1),
        "median_turns": statistics.median(batch.num_turns.tolist()),
        "mean_conversation_tokens": round(float(batch.attention_mask.sum(-1).float().mean()), 1),
        "success_rate": float(batch.success.float().mean()),
    }
    print(json.dumps(result), flush=True)  # rollout figures survive an interrupted update bench
    fixed, _ = engine.play_tasks(policy.model, policy.tokenizer, pick(4, 5), seed=2,
                                 group_size=4)

    class Fixed(L.LightningDataModule):
        def __init__(self) -> None:
            super().__init__()
            self.engine, self.episodes_per_update, self.num_updates = engine, 16, args.updates + 1

        def train_dataloader(self):
            return DataLoader([fixed] * self.num_updates, batch_size=None, collate_fn=lambda b: b)

    for name, cls in (("grpo", GRPO), ("ppo", PPO)):
        module = cls(policy=policy, lr=1e-6)
        timer = Timer()

        trainer = L.Trainer(accelerator="gpu" if args.device.startswith("cuda") else "cpu",
                            devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False,
                            callbacks=[timer])
        trainer.fit(module, Fixed())
        result[f"{name}_update_seconds_median"] = round(statistics.median(timer.times[1:]), 2)
        result[f"{name}_optimizer_steps_per_update"] = module.epochs * 4
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
