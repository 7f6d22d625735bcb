"""web4rl against TRL on the same run: DPO and ORPO training steps, side by side.

    pip install -e '.[bench]'                     # TRL (never a core dependency)
    python scripts/bench_vs_trl.py --algorithm dpo --rounds 3      # CPU, ~26M Qwen2
    python scripts/bench_vs_trl.py --algorithm orpo --rounds 3
    python scripts/bench_vs_trl.py --gpu --algorithm dpo          # CUDA, bf16, ~0.5B Qwen2, MFU
    python scripts/bench_vs_trl.py --gpu --dry-run --algorithm dpo   # the GPU path on CPU, tiny
    python scripts/bench_vs_trl.py --model smol --algorithm orpo    # real SmolLM2-135M (>12 GB RAM)

The same model (a Qwen2 built from config with a fixed seed and the built-in tiny tokenizer,
saved once and loaded by both libraries), the same 8-pair batches in the same order (the first
rows of the shipped ``web4rl/sample_data/preferences.jsonl``, tokenized once by web4rl's
tokenizer path and handed to TRL as token ids, so both see identical tokens), LoRA r16/alpha32
on all seven projections with no dropout (TRL disables dropout by default), AdamW lr 1e-4, no
gradient checkpointing on either side (TRL's DPOConfig turns it on by default; off here so
both do the same work), fp32 on CPU. Each library trains through its own trainer (Lightning
``Trainer.fit`` for web4rl, ``DPOTrainer.train`` / ``ORPOTrainer.train`` for TRL) in its own
subprocess, so peak RSS is that run's alone; a step is timed from the trainer's step-begin to
step-end hook (forward, backward, optimizer step; data loading excluded on both sides), the
first ``--warmup`` steps untimed. Variants alternate within each round; the table gives the
median over rounds.

Variants: ``trl`` (TRL's defaults: reference log-probs every step), ``trl-pre`` (TRL with its
own ``precompute_ref_log_probs``), ``w4-plain`` (web4rl with ``pack_pairs: false``: the
pre-optimisation step), ``w4`` (web4rl's default step, reference every step: the like-for-like
figure), ``w4-pre`` (web4rl's defaults, DPO's reference table precomputed).

``--parity`` first runs one loss on the first batch on both sides, with the same non-zero LoRA
weights (seeded by parameter name), and fails unless the losses agree (DPO: the loss; ORPO:
the odds-ratio term and the mean log-probs; TRL's ORPO NLL also covers prompt tokens, by
design, so its total loss differs by that NLL and both NLLs are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's web4rl, also when run as scripts/bench_vs_trl.py

# Qwen2 shapes built from config (tiny tokenizer, fixed seed). Parameter counts include the tied
# embedding. qwen2-26m: 26.4M; qwen2-0.5b: Qwen2-0.5B's shapes and vocabulary size (494M).
MODELS = {
    "tiny": {},  # web4rl/tiny's own config.json (3.3M)
    "qwen2-26m": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=8,
                      num_attention_heads=8, num_key_value_heads=2),
    "qwen2-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                       num_attention_heads=14, num_key_value_heads=2, vocab_size=151936),
    "smol": None,  # the real SmolLM2-135M-Instruct (web4rl/smol, when installed), own tokenizer
}
# Dense bf16 tensor-core peak per GPU (TFLOP/s, vendor datasheets, no sparsity). Matched by
# substring of torch.cuda.get_device_name(); --peak-tflops overrides.
PEAK_BF16_TFLOPS = {
    "H200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H100": 756.0,
    "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10G": 70.0, "A10": 125.0,
    "RTX 4090": 165.2, "RTX 3090": 71.0,
}
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


# ---------------------------------------------------------------------------- shared setup
def model_path(args) -> Path:
    """Where both libraries load the model (and its tokenizer) from."""
    if args.model == "smol":
        from web4rl.models import resolve_smol

        return resolve_smol()
    return Path(args.workdir) / "model"


def load_tokenizer(args):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path(args)))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def build_model(name: str, out: Path, dtype: str) -> Path:
    """Save the named Qwen2 (built from config, seed 0) with the tiny tokenizer into ``out``."""
    import torch
    from transformers import AutoModelForCausalLM

    from web4rl.tiny import load_tiny_tokenizer

    if name == "smol" or (out / "config.json").is_file():
        return out
    config = model_config(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config)
    model = model.to({"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype])
    model.save_pretrained(str(out), safe_serialization=True)
    load_tiny_tokenizer().save_pretrained(str(out))
    return out


def model_config(name: str):
    """The tiny model's Qwen2Config with ``MODELS[name]``'s sizes (rebuilt, so derived fields
    such as the per-layer attention types follow the new layer count)."""
    from transformers import AutoConfig, Qwen2Config

    from web4rl.tiny import tiny_config

    if name == "smol":
        from web4rl.models import resolve_smol

        return AutoConfig.from_pretrained(str(resolve_smol()))
    values = tiny_config().to_dict()
    values.pop("layer_types", None)
    values.update(MODELS[name])
    return Qwen2Config(**values)


def tokenized_pairs(args, tokenizer):
    """The first steps * batch_size shipped pairs, tokenized by web4rl (chat-rendered prompt,
    completion + EOS, max_length / max_length // 2, long prompts truncated)."""
    from web4rl.data.base import sample_data_path
    from web4rl.data.records import Location, parse_preference_row
    from web4rl.data.tokenize import tokenize_preferences

    n = (args.warmup + args.steps) * args.batch_size
    path = sample_data_path("preferences.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()[:n]]
    records = [parse_preference_row(row, Location(str(path), i + 1)) for i, row in enumerate(rows)]
    items, _ = tokenize_preferences(records, tokenizer, args.max_length, args.max_length // 2,
                                    "truncate")
    assert len(items) == n, "every benchmark pair must survive tokenization"
    return rows[:n], items


def step_tokens(items, batch_size: int) -> list[int]:
    """Real (non-padding) tokens per step in the two-rows-per-pair layout: prompt + chosen plus
    prompt + rejected. The same count for both libraries (the work of the same pairs)."""
    return [sum(2 * len(x.prompt_ids) + len(x.chosen_ids) + len(x.rejected_ids)
                for x in items[i:i + batch_size]) for i in range(0, len(items), batch_size)]


def seeded_lora(model) -> int:
    """Give every LoRA A/B weight values seeded by its layer-relative name, so both libraries
    start from the same non-zero adapter (parity check). Returns how many were set."""
    import torch

    count = 0
    for name, p in model.named_parameters():
        if "lora_A" not in name and "lora_B" not in name:
            continue
        key = name[name.index("layers."):].replace(".default", "")
        g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        with torch.no_grad():
            p.copy_((torch.randn(p.shape, generator=g) * 0.02).to(p.dtype))
        count += 1
    return count


def model_flops_per_step(config, tokens: int, seq_len: float, reference: bool) -> float:
    """Model FLOPs of one LoRA step over ``tokens`` real tokens of sequences ``seq_len`` long
    on average (the formula docs/benchmarks.md gives).

    N = matmul weights: q, k, v, o, gate, up, down of every layer and the output head (the
    embedding lookup is no matmul). A = causal attention, 4 * d * seq_len / 2 per token and
    layer (QK^T and AV over half the sequence on average). Per token: forward 2N + A;
    backward 2N + 2A (activation gradients only: the base is frozen; the LoRA weights' own
    gradients are under 1% and left out); the DPO reference forward another 2N + A unless
    precomputed. Counted on the plain two-rows-per-pair tokens, so both libraries get the same
    FLOPs for the same pairs (web4rl's packing avoids part of this work: its MFU is "useful"
    FLOPs per second, not what the hardware executed)."""
    d, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    kv = config.num_key_value_heads * (d // config.num_attention_heads)
    per_layer = 2 * d * d + 2 * d * kv + 3 * d * f  # q, o; k, v; gate, up, down
    n = layers * per_layer + config.vocab_size * d
    attention = layers * 4 * d * seq_len / 2
    forward, backward = 2 * n + attention, 2 * n + 2 * attention
    return tokens * (forward + backward + (forward if reference else 0.0))


# ---------------------------------------------------------------------------- one run
def run_web4rl(args, model_dir: Path, items, variant: str) -> dict:
    import lightning as L
    import torch

    from web4rl.algorithms import DPO, ORPO
    from web4rl.data import PreferenceDataModule
    from web4rl.policy import LoraSettings, Policy

    cuda = args.device == "cuda"
    policy = Policy(str(model_dir), lora=LoraSettings(r=16, alpha=32, dropout=0.0,
                                                      target_modules=LORA_TARGETS),
                    dtype=args.dtype, pack_pairs=variant != "w4-plain")
    extra = {}
    if args.algorithm == "dpo":
        extra["precompute_reference"] = variant == "w4-pre"
    module = {"dpo": DPO, "orpo": ORPO}[args.algorithm](
        policy=policy, lr=1e-4, warmup_ratio=0.0, beta=0.1, **extra)

    class Sequential(PreferenceDataModule):
        """The same batches as TRL's: file order, no shuffle."""

        def train_dataloader(self):
            return self.make_loader(self.datasets["train"], False, self.collator)

    rows_path = Path(args.workdir) / "pairs.jsonl"
    data = Sequential(train_files=str(rows_path), batch_size=args.batch_size,
                      max_length=args.max_length, max_prompt_length=args.max_length // 2,
                      overlong_prompt="truncate", split_fractions=(1.0, 0.0, 0.0), seed=0)
    data.set_tokenizer(policy.tokenizer)
    data.setup("fit")
    if args.parity:
        seeded_lora(policy.model)
        batch = next(iter(data.train_dataloader()))
        module.to(args.device)
        batch = module.transfer_batch_to_device(batch, torch.device(args.device), 0)
        policy.train()
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.dtype == "bfloat16"):
            loss, metrics = module.compute_loss(batch)
        return {"loss": float(loss), **{k: float(v) for k, v in metrics.items()}}
    times: list[float] = []
    marks: dict[str, float] = {}

    class Timer(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if cuda:
                torch.cuda.synchronize()
            marks["start"] = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - marks["start"])

        def on_fit_start(self, trainer, pl_module):
            marks["fit_start"] = time.perf_counter()

        def on_train_start(self, trainer, pl_module):
            marks["setup"] = time.perf_counter() - marks["fit_start"]  # includes precompute

    precision = "bf16-mixed" if args.dtype == "bfloat16" else "32-true"
    trainer = L.Trainer(accelerator="gpu" if cuda else "cpu", devices=1, precision=precision,
                        max_steps=args.warmup + args.steps, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0, callbacks=[Timer()])
    trainer.fit(module, data)
    return {"step_times": times, "setup_s": marks.get("setup", 0.0)}


def run_trl(args, model_dir: Path, items, variant: str) -> dict:
    import datasets
    import torch
    from peft import LoraConfig
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

    cuda = args.device == "cuda"
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(
        str(model_dir), dtype={"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype])
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS,
                      task_type="CAUSAL_LM")
    times: list[float] = []
    marks: dict[str, float] = {}

    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            marks["start"] = time.perf_counter()

        def on_step_end(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - marks["start"])

    common = dict(
        output_dir=str(Path(args.workdir) / f"trl-{variant}"), per_device_train_batch_size=args.batch_size,
        max_steps=args.warmup + args.steps, learning_rate=1e-4, lr_scheduler_type="constant",
        warmup_steps=0, logging_steps=10_000, save_strategy="no", report_to=[], seed=0,
        bf16=args.dtype == "bfloat16", gradient_checkpointing=False, use_cpu=not cuda,
        dataloader_num_workers=0, max_length=args.max_length, beta=0.1,
        disable_tqdm=True,
    )
    if args.algorithm == "dpo":
        from trl import DPOConfig, DPOTrainer

        class SequentialDPO(DPOTrainer):
            """Already tokenized (the same ids as web4rl's), file order, no shuffle."""

            def _prepare_dataset(self, dataset, *a, **k):
                return dataset

            def _get_train_sampler(self, *a, **k):
                return SequentialSampler(self.train_dataset)

        dataset = datasets.Dataset.from_dict({
            "prompt_ids": [x.prompt_ids for x in items], "chosen_ids": [x.chosen_ids for x in items],
            "rejected_ids": [x.rejected_ids for x in items]})
        config = DPOConfig(**common, precompute_ref_log_probs=variant == "trl-pre")
        start = time.perf_counter()
        trainer = SequentialDPO(model=model, args=config, train_dataset=dataset,
                                processing_class=tokenizer, peft_config=lora, callbacks=[Timer()])
    else:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        class SequentialORPO(ORPOTrainer):
            """Already tokenized (the same ids as web4rl's), file order, no shuffle."""

            def tokenize_row(self, feature, model=None):
                p, c, r = feature["w_prompt"], feature["w_chosen"], feature["w_rejected"]
                return {
                    "prompt_input_ids": p, "prompt_attention_mask": [1] * len(p),
                    "chosen_input_ids": p + c, "chosen_attention_mask": [1] * (len(p) + len(c)),
                    "chosen_labels": [-100] * len(p) + c,
                    "rejected_input_ids": p + r, "rejected_attention_mask": [1] * (len(p) + len(r)),
                    "rejected_labels": [-100] * len(p) + r,
                }

            def _get_train_sampler(self, *a, **k):
                return SequentialSampler(self.train_dataset)

        dataset = datasets.Dataset.from_dict({
            "prompt": ["p"] * len(items), "chosen": ["c"] * len(items), "rejected": ["r"] * len(items),
            "w_prompt": [x.prompt_ids for x in items], "w_chosen": [x.chosen_ids for x in items],
            "w_rejected": [x.rejected_ids for x in items]})
        config = ORPOConfig(**common)
        start = time.perf_counter()
        trainer = SequentialORPO(model=model, args=config, train_dataset=dataset,
                                 processing_class=tokenizer, peft_config=lora, callbacks=[Timer()])
    setup = time.perf_counter() - start  # includes TRL's reference precompute when on
    if args.parity:
        seeded_lora(trainer.model)
        inputs = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
        trainer.model.train()
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.dtype == "bfloat16"):
            if args.algorithm == "dpo":
                loss = trainer.compute_loss(trainer.model, inputs)
                metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}
            else:
                loss, metrics = trainer.get_batch_loss_metrics(trainer.model, inputs)
        return {"loss": float(loss), **{k: float(v) for k, v in metrics.items()}}
    trainer.train()
    return {"step_times": times, "setup_s": setup}


def worker(args) -> dict:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model_dir = model_path(args)
    _, items = tokenized_pairs(args, load_tokenizer(args))
    run = run_trl if args.variant.startswith("trl") else run_web4rl
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    out = run(args, model_dir, items, args.variant)
    out.update(variant=args.variant, threads=torch.get_num_threads(),
               peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               import_rss_mib=import_rss)
    if args.device == "cuda":
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


# ---------------------------------------------------------------------------- driver
def spawn(args, variant: str, parity: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--variant", variant] + args.passthrough
    if parity:
        cmd.append("--parity")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads or os.cpu_count()),
               PYTHONPATH=str(ROOT), TQDM_DISABLE="1", WANDB_MODE="offline",
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-6000:])
        raise SystemExit(f"{variant} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parity(args) -> bool:
    w4 = spawn(args, "w4", parity=True)
    trl = spawn(args, "trl", parity=True)
    tol = 1e-4 if args.dtype == "float32" else 2e-2
    if args.algorithm == "dpo":
        checks = {"loss": (w4["loss"], trl["loss"]),
                  "logps_chosen": (w4["logps_chosen"], trl["logps/chosen"]),
                  "logps_rejected": (w4["logps_rejected"], trl["logps/rejected"])}
    else:
        checks = {"odds_ratio_term": (w4["loss"] - w4["nll"], trl["loss"] - trl["nll_loss"]),
                  "mean_logp_chosen": (w4["reward_chosen"] / 0.1, trl["logps/chosen"]),
                  "mean_logp_rejected": (w4["reward_rejected"] / 0.1, trl["logps/rejected"]),
                  "log_odds": (w4["log_odds"], trl["log_odds_chosen"])}
        print(f"# ORPO NLL: web4rl (completion tokens) {w4['nll']:.6f}, TRL (prompt and "
              f"completion tokens, by design) {trl['nll_loss']:.6f}")
    ok = True
    for name, (a, b) in checks.items():
        good = abs(a - b) <= tol * max(1.0, abs(b))
        ok &= good
        print(f"# parity {name}: web4rl {a:.6f}  TRL {b:.6f}  {'ok' if good else 'MISMATCH'}")
    return ok


def summarise(args, results: dict[str, list[dict]], tokens: list[int]) -> None:
    import transformers

    timed_tokens = sum(tokens[args.warmup:args.warmup + args.steps])
    pairs = args.steps * args.batch_size
    config = model_config(args.model)
    seq_len = timed_tokens / (2 * pairs)
    peak = args.peak_tflops
    if peak is None and args.device == "cuda":
        import torch

        name = torch.cuda.get_device_name()
        peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    rows = {}
    for variant, runs in results.items():
        secs = [sum(r["step_times"][args.warmup:]) for r in runs]
        med = statistics.median(secs)
        reference = args.algorithm == "dpo" and not variant.endswith("-pre")
        flops = model_flops_per_step(config, timed_tokens, seq_len, reference)
        rows[variant] = {
            "pairs_s": pairs / med, "tokens_s": timed_tokens / med,
            "rss": statistics.median(r["peak_rss_mib"] for r in runs),
            "setup": statistics.median(r["setup_s"] for r in runs),
            "all": [round(pairs / s, 3) for s in secs],
            "secs": secs,
            "mfu": (flops / med / (peak * 1e12)) if peak else None,
            "cuda": statistics.median(r["peak_cuda_mib"] for r in runs) if "peak_cuda_mib" in runs[0] else None,
        }
    import trl
    print(f"# {args.algorithm.upper()} {args.model} on {args.device} ({args.dtype}), batch "
          f"{args.batch_size} pairs, max_length {args.max_length}, {args.steps} timed steps after "
          f"{args.warmup} warm-up, {args.rounds} rounds, {args.threads or 'default'} torch threads; "
          f"trl {trl.__version__}, transformers {transformers.__version__}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| variant | pairs/s (median) | tokens/s | peak RSS MiB | setup s | vs trl (per-round) | vs trl-pre | MFU | runs (pairs/s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for variant, r in rows.items():
        base, base_pre = rows.get("trl"), rows.get("trl-pre")
        # ratio of medians, and in brackets the median of the per-round ratios (each round
        # runs the variants back to back, so a load change between rounds cancels out)
        paired = (f" ({statistics.median(b / s for s, b in zip(r['secs'], base['secs'], strict=False)):.2f}x)"
                  if base else "")
        ratio = f"{r['pairs_s'] / base['pairs_s']:.2f}x{paired}" if base else "-"
        ratio_pre = f"{r['pairs_s'] / base_pre['pairs_s']:.2f}x" if base_pre else "-"
        mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "-"
        rss = f"{r['rss']:.0f}" + (f" (GPU {r['cuda']:.0f})" if r["cuda"] else "")
        print(f"| {variant} | {r['pairs_s']:.3f} | {r['tokens_s']:.0f} | {rss} | {r['setup']:.1f} | "
              f"{ratio} | {ratio_pre} | {mfu} | {r['all']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", choices=["dpo", "orpo"], default="dpo")
    parser.add_argument("--variants", default=None,
                        help="comma list (default dpo: trl,w4-plain,w4,trl-pre,w4-pre; orpo: "
                             "trl,w4-plain,w4)")
    parser.add_argument("--model", choices=sorted(MODELS), default=None,
                        help="default qwen2-26m (CPU) / qwen2-0.5b (--gpu) / tiny (--dry-run)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default=None)
    parser.add_argument("--gpu", action="store_true", help="CUDA, bf16, qwen2-0.5b, MFU")
    parser.add_argument("--dry-run", action="store_true",
                        help="with --gpu: the same path on the CPU with the tiny model")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per side (0 = all)")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--no-parity", action="store_true")
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parity", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gpu:
        args.device = "cpu" if args.dry_run else "cuda"
        args.dtype = args.dtype or "bfloat16"
        args.model = args.model or ("tiny" if args.dry_run else "qwen2-0.5b")
        args.threads = 0 if not args.dry_run else args.threads
    args.dtype = args.dtype or "float32"
    args.model = args.model or "qwen2-26m"
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    variants = (args.variants.split(",") if args.variants else
                ["trl", "w4-plain", "w4", "trl-pre", "w4-pre"] if args.algorithm == "dpo" else
                ["trl", "w4-plain", "w4"])
    with tempfile.TemporaryDirectory(prefix="bench_vs_trl_") as workdir:
        args.workdir = workdir
        build_model(args.model, Path(workdir) / "model", args.dtype)
        rows, items = tokenized_pairs(args, load_tokenizer(args))
        (Path(workdir) / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        args.passthrough = [
            "--algorithm", args.algorithm, "--model", args.model, "--device", args.device,
            "--dtype", args.dtype, "--batch-size", str(args.batch_size), "--max-length",
            str(args.max_length), "--steps", str(args.steps), "--warmup", str(args.warmup),
            "--threads", str(args.threads), "--workdir", workdir]
        print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, python "
              f"{platform.python_version()}", flush=True)
        if not args.no_parity and not parity(args):
            print("# parity FAILED: the two libraries do not compute the same loss")
            return 1
        results: dict[str, list[dict]] = {v: [] for v in variants}
        for round_ in range(args.rounds):
            for variant in variants:
                results[variant].append(spawn(args, variant))
                times = results[variant][-1]["step_times"][args.warmup:]
                print(f"# round {round_ + 1} {variant}: {args.batch_size * len(times) / sum(times):.3f} "
                      f"pairs/s, load {os.getloadavg()[0]:.2f}", flush=True)
        summarise(args, results, step_tokens(items, args.batch_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
