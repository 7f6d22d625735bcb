"""The Stage 2 loop: SFT adapter -> sample -> judge -> RS-SFT / AWR -> held-out judge reward.

    python scripts/stage2_loop.py --out runs/stage2_loop            # tiny model, as documented
    python scripts/stage2_loop.py --model web4rl/smol --sft-adapter runs/smol/sft_adapter \
        --rs-config configs/rs_sft_smol_cpu.yaml --awr-config configs/awr_smol_cpu.yaml \
        --train-file runs/smol/data/stage1_prompts.jsonl --text-prompts-only \
        --heldout-file runs/smol/data/heldout_prompts.jsonl --tools web4 --noise-seed 1 \
        --out runs/stage2_smol                                      # SmolLM2 from its SFT adapter

(docs/benchmarks.md, "Stage 2").

1. SFT adapter: ``--sft-adapter DIR`` when given (trained elsewhere on ``--model``), else
   ``fit --config configs/sft_cpu.yaml`` cut to ``--sft-max-steps`` (shipped SFT data, seed 42);
2. prompts: the SFT data module's own split (seed 42, 0.8/0.1/0.1): the first ``--train-prompts``
   train-split prompts to sample for Stage 2, and every test-split prompt as the held-out set
   (never trained on by SFT, RS-SFT or AWR); ``--train-file`` / ``--heldout-file`` replace them
   with prepared prompt rows (e.g. ``scripts/smol_stage01_data.py``'s, whose held-out set is the
   same shipped test split with web4 ``expected_actions``);
3. ``sample --score`` from the SFT adapter on the train prompts (the Stage 2 data) and on the
   held-out prompts (the "before" number);
4. ``fit`` RS-SFT (rs_sft_cpu.yaml) and AWR (awr_cpu.yaml) on the scored train samples,
   continuing the SFT adapter (``init_adapter``);
5. ``sample --score`` from each new adapter on the held-out prompts ("after");
6. with ``--noise-seed S``: the held-out sampling of the SFT adapter and of each new adapter again
   with sampling seed S, so the before/after difference can be read against the seed-to-seed
   difference of one adapter (the noise band).

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


def write_prompts(out: Path, train_prompts: int, heldout_prompts: int | None = None) -> tuple[Path, Path]:
    from web4rl.data import SFTDataModule

    dm = SFTDataModule(seed=42)  # the sft_cpu config's data: shipped sft.jsonl, seed 42
    dm.validate()
    paths = []
    for split, limit in (("train", train_prompts), ("test", heldout_prompts)):
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


def copy_rows(src: Path, dst: Path, limit: int | None, text_only: bool = False) -> Path:
    """The first ``limit`` prompt rows of ``src`` (all fields kept) into ``dst``."""
    rows = [line for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    if text_only:
        rows = [line for line in rows if isinstance(json.loads(line)["prompt"], str)]
    dst.write_text("".join(line + "\n" for line in rows[:limit]), encoding="utf-8")
    return dst


def stats(path: Path) -> dict[str, float]:
    rewards = [json.loads(line)["reward"] for line in path.read_text().splitlines()]
    return {"rows": len(rewards), "mean": round(sum(rewards) / len(rewards), 4),
            "share_gt_0.8": round(sum(r > 0.8 for r in rewards) / len(rewards), 4)}


def paired(base: Path, other: Path, resamples: int = 2000) -> dict[str, float]:
    """Mean reward difference ``other - base`` over the prompts both sampled (per-prompt means),
    with a percentile bootstrap 95% interval over prompts (``random.Random(0)``): the same
    prompts on both sides, so prompt difficulty cancels and only sampling noise and the
    adapter change remain."""
    import random

    def per_prompt(path: Path) -> dict[str, float]:
        acc: dict[str, list[float]] = {}
        for line in path.read_text().splitlines():
            row = json.loads(line)
            acc.setdefault(row["prompt_id"], []).append(row["reward"])
        return {k: sum(v) / len(v) for k, v in acc.items()}

    a, b = per_prompt(base), per_prompt(other)
    diffs = [b[k] - a[k] for k in a if k in b]
    rng = random.Random(0)
    means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(resamples))
    return {"prompts": len(diffs), "mean_diff": round(sum(diffs) / len(diffs), 4),
            "ci95": [round(means[int(0.025 * resamples)], 4), round(means[int(0.975 * resamples) - 1], 4)]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "stage2_loop")
    ap.add_argument("--model", default="web4rl/tiny", help="base model (policy.model_name)")
    ap.add_argument("--sft-adapter", type=Path, default=None,
                    help="start from this SFT adapter of --model instead of training one")
    ap.add_argument("--from-base", action="store_true",
                    help="start from the base model itself (no SFT adapter): sample it, and train "
                         "fresh LoRA adapters with RS-SFT / AWR")
    ap.add_argument("--sft-config", default="configs/sft_cpu.yaml")
    ap.add_argument("--rs-config", default="configs/rs_sft_cpu.yaml")
    ap.add_argument("--awr-config", default="configs/awr_cpu.yaml")
    ap.add_argument("--algorithms", nargs="+", default=["rs_sft", "awr"],
                    choices=["rs_sft", "awr"])
    ap.add_argument("--train-file", type=Path, default=None,
                    help="Stage 2 prompt rows (default: the train split of the shipped sft.jsonl)")
    ap.add_argument("--heldout-file", type=Path, default=None,
                    help="held-out prompt rows (default: the test split of the shipped sft.jsonl)")
    ap.add_argument("--text-prompts-only", action="store_true",
                    help="with --train-file: keep only rows whose prompt is one user message "
                         "(e.g. the shipped-data prompts, not the simulator's multi-turn ones)")
    ap.add_argument("--train-prompts", type=int, default=64)
    ap.add_argument("--heldout-prompts", type=int, default=None,
                    help="first N test-split prompts (default: all)")
    ap.add_argument("--n", type=int, default=2, help="samples per prompt and temperature (train)")
    ap.add_argument("--eval-n", type=int, default=1, help="samples per prompt and temperature (held out)")
    ap.add_argument("--temperatures", type=float, nargs="+", default=None,
                    help="sampling temperatures (default: sample's 0.6 0.8 1.0 1.2)")
    ap.add_argument("--eval-temperatures", type=float, nargs="+", default=None,
                    help="held-out sampling temperatures (default: --temperatures)")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--tools", default=None, help="the judge's tool profile (sample --tools)")
    ap.add_argument("--sft-max-steps", type=int, default=150, help="SFT optimizer steps (batch 8)")
    ap.add_argument("--train-max-steps", type=int, default=None,
                    help="cap RS-SFT / AWR optimizer steps (default: the config's epochs)")
    ap.add_argument("--fit-arg", action="append", default=[],
                    help="extra option for every Stage 2 fit (repeat; e.g. --fit-arg=--model.init_args.lr=1e-4)")
    ap.add_argument("--eval-base", action="store_true",
                    help="also sample the base model (no adapter) on the held-out prompts")
    ap.add_argument("--summary-only", action="store_true",
                    help="run nothing: summarize the held-out files already in --out")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    ap.add_argument("--noise-seed", type=int, default=None,
                    help="also sample every held-out adapter with this seed (noise band)")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    py = [sys.executable, "-m", "web4rl"]
    quiet = ["--trainer.enable_progress_bar", "false"]
    model_opt = ["--model.init_args.policy.init_args.model_name", args.model]

    def sample_opts(seed: int, held_out: bool = False) -> list[str]:
        temps = (args.eval_temperatures if held_out else None) or args.temperatures
        return ["--model", args.model, "--score", "--no-lint", "--no-progress", "--max-new-tokens",
                str(args.max_new_tokens), "--seed", str(seed),
                *(["--temperatures", *map(str, temps)] if temps else []),
                *(["--tools", args.tools] if args.tools else [])]

    times: dict[str, float] = {}

    def go(cmd: list[str], log: Path) -> float:
        return 0.0 if args.summary_only else run(cmd, log)
    sft: Path | None = args.sft_adapter.resolve() if args.sft_adapter else out / "sft_adapter"
    if args.from_base:
        sft = None
    elif not (sft / "adapter_config.json").is_file():
        if args.sft_adapter:
            raise SystemExit(f"--sft-adapter {sft}: no adapter_config.json there")
        times["sft"] = go([*py, "fit", "--config", args.sft_config, *quiet, *model_opt,
                            "--trainer.max_steps", str(args.sft_max_steps),
                            "--model.init_args.adapter_dir", str(sft)], out / "sft.log")
    train_prompts, held_out = write_prompts(out, args.train_prompts, args.heldout_prompts)
    if args.train_file:
        train_prompts = copy_rows(args.train_file, out / "prompts_train.jsonl", args.train_prompts,
                                  args.text_prompts_only)
    if args.heldout_file:
        held_out = copy_rows(args.heldout_file, out / "prompts_test.jsonl", args.heldout_prompts)
    scored = out / "train_scored.jsonl"
    start = ["--adapter", str(sft)] if sft else []
    times["sample_train"] = go([*py, "sample", str(train_prompts), "-o", str(scored), *start,
                                 "-n", str(args.n), *sample_opts(args.seed)],
                                out / "sample_train.log")
    adapters: dict[str, Path | None] = {"base": None} if args.eval_base or not sft else {}
    if sft:
        adapters["sft"] = sft
    for alg in args.algorithms:
        adapter = out / f"{alg}_adapter"
        if not (adapter / "adapter_config.json").is_file():
            config = args.rs_config if alg == "rs_sft" else args.awr_config
            steps = ["--trainer.max_steps", str(args.train_max_steps)] if args.train_max_steps else []
            times[alg] = go([*py, "fit", "--config", config, *quiet, *model_opt, *steps,
                              "--data.init_args.train_files", str(scored),
                              *(["--model.init_args.policy.init_args.init_adapter", str(sft)]
                                if sft else []),
                              "--model.init_args.adapter_dir", str(adapter), *args.fit_arg],
                             out / f"{alg}.log")
        adapters[alg] = adapter
    evals: dict[str, Path] = {}
    start_name = "sft" if sft else "base"

    def summarize() -> dict:  # rewritten after every held-out sampling: a cut run keeps its numbers
        ref = evals.get(f"{start_name}_seed{args.seed}")
        summary = {"train_samples": stats(scored),
                   "held_out": {k: stats(v) for k, v in evals.items()},
                   f"paired_vs_{start_name}_seed{args.seed}": {
                       k: paired(ref, v) for k, v in evals.items() if ref and v != ref},
                   "seconds": {k: round(v, 1) for k, v in times.items() if not args.summary_only},
                   "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
                   | {"out": str(out)}}
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary

    # Every adapter with the first seed, then the start policy with the noise seed (the noise
    # band), then each new adapter with the noise seed: on a busy machine the order that gives
    # a readable comparison soonest.
    order = [(args.seed, name) for name in adapters]
    if args.noise_seed is not None:
        order += [(args.noise_seed, start_name)]
        order += [(args.noise_seed, n) for n in adapters if n not in (start_name, "base")]
    for seed, name in order:
        adapter = adapters[name]
        key = f"{name}_seed{seed}"
        evals[key] = out / f"heldout_{key}.jsonl"
        if args.summary_only:
            if not evals[key].is_file() or not evals[key].stat().st_size:
                del evals[key]
            continue
        times[f"sample_heldout_{key}"] = go(
            [*py, "sample", str(held_out), "-o", str(evals[key]),
             *(["--adapter", str(adapter)] if adapter else []),
             "-n", str(args.eval_n), *sample_opts(seed, held_out=True)],
            out / f"sample_heldout_{key}.log")
        summarize()
    print(json.dumps(summarize(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
