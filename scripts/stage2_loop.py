"""The Stage 2 loop measured on the tiny model (docs/benchmarks.md, "Stage 2 loop").

    python scripts/stage2_loop.py --out runs/stage2_loop

1. SFT adapter: ``fit --config configs/sft_cpu.yaml`` cut to ``--sft-max-steps`` (shipped SFT data,
   seed 42);
2. prompts: the SFT data module's own split (seed 42, 0.8/0.1/0.1): the first ``--train-prompts``
   train-split prompts to sample for Stage 2, and every test-split prompt as the held-out set
   (never trained on by SFT, RS-SFT or AWR);
3. ``sample --score`` from the SFT adapter on the train prompts (the Stage 2 data) and on the
   held-out prompts (the "before" number);
4. ``fit`` RS-SFT (rs_sft_cpu.yaml) and AWR (awr_cpu.yaml) on the scored train samples,
   continuing the SFT adapter (``init_adapter``);
5. ``sample --score`` from each new adapter on the held-out prompts ("after").

Every command is printed as it runs; the summary (mean judge reward and share > 0.8 on the
held-out prompts, before / after) is printed and written to ``<out>/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(cmd: list[str], log: Path) -> float:
    print("$", shlex.join(cmd), flush=True)
    start = time.perf_counter()
    with log.open("w") as fh:
        code = subprocess.call(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f"failed ({code}): see {log}")
    return time.perf_counter() - start


def write_prompts(out: Path, train_prompts: int) -> tuple[Path, Path]:
    from web4rl.data import SFTDataModule

    dm = SFTDataModule(seed=42)  # the sft_cpu config's data: shipped sft.jsonl, seed 42
    dm.validate()
    paths = []
    for split, limit in (("train", train_prompts), ("test", None)):
        seen, rows = set(), []
        for rec in dm.records[split]:
            key = json.dumps(rec.prompt)
            if key not in seen:
                seen.add(key)
                prompt = rec.prompt[0]["content"] if len(rec.prompt) == 1 else list(rec.prompt)
                rows.append({"prompt": prompt, "category": rec.category})
        path = out / f"prompts_{split}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows[:limit]))
        paths.append(path)
    return paths[0], paths[1]


def stats(path: Path) -> dict[str, float]:
    rewards = [json.loads(line)["reward"] for line in path.read_text().splitlines()]
    return {"rows": len(rewards), "mean": round(sum(rewards) / len(rewards), 4),
            "share_gt_0.8": round(sum(r > 0.8 for r in rewards) / len(rewards), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "stage2_loop")
    ap.add_argument("--train-prompts", type=int, default=64)
    ap.add_argument("--n", type=int, default=2, help="samples per prompt and temperature (train)")
    ap.add_argument("--eval-n", type=int, default=1, help="samples per prompt and temperature (held out)")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--sft-max-steps", type=int, default=150, help="SFT optimizer steps (batch 8)")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    py = [sys.executable, "-m", "web4rl"]
    quiet = ["--trainer.enable_progress_bar", "false"]
    sample_opts = ["--score", "--no-lint", "--no-progress", "--max-new-tokens",
                   str(args.max_new_tokens), "--seed", str(args.seed)]
    times = {}
    sft = out / "sft_adapter"
    if not (sft / "adapter_config.json").is_file():
        times["sft"] = run([*py, "fit", "--config", "configs/sft_cpu.yaml", *quiet,
                            "--trainer.max_steps", str(args.sft_max_steps),
                            "--model.init_args.adapter_dir", str(sft)], out / "sft.log")
    train_prompts, held_out = write_prompts(out, args.train_prompts)
    scored = out / "train_scored.jsonl"
    times["sample_train"] = run([*py, "sample", str(train_prompts), "-o", str(scored), "--adapter",
                                 str(sft), "-n", str(args.n), *sample_opts], out / "sample_train.log")
    evals = {"sft": out / "heldout_sft.jsonl"}
    times["sample_heldout_sft"] = run([*py, "sample", str(held_out), "-o", str(evals["sft"]),
                                       "--adapter", str(sft), "-n", str(args.eval_n), *sample_opts],
                                      out / "sample_heldout_sft.log")
    for alg in ("rs_sft", "awr"):
        adapter = out / f"{alg}_adapter"
        times[alg] = run([*py, "fit", "--config", f"configs/{alg}_cpu.yaml", *quiet,
                          "--data.init_args.train_files", str(scored),
                          "--model.init_args.policy.init_args.init_adapter", str(sft),
                          "--model.init_args.adapter_dir", str(adapter)], out / f"{alg}.log")
        evals[alg] = out / f"heldout_{alg}.jsonl"
        times[f"sample_heldout_{alg}"] = run(
            [*py, "sample", str(held_out), "-o", str(evals[alg]), "--adapter", str(adapter),
             "-n", str(args.eval_n), *sample_opts], out / f"sample_heldout_{alg}.log")
    summary = {"train_samples": stats(scored), "held_out": {k: stats(v) for k, v in evals.items()},
               "seconds": {k: round(v, 1) for k, v in times.items()}, "args": vars(args) | {"out": str(out)}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
