"""Write configs/<algorithm>_<hardware>.yaml from one table, so the files cannot drift.

    python scripts/make_configs.py          # rewrite configs/
    python scripts/make_configs.py --check  # exit 1 if configs/ differs (used by the tests)

Numbers are DESIGN.md section 6. The cpu configs use the built-in tiny model with a larger
learning rate and shorter sequences so they finish in minutes on 2 cores. The smol_cpu configs
(SFT, ORPO, DPO) run SmolLM2-135M-Instruct on the same 2 cores with a 30-step budget
(docs/benchmarks.md, "Stage 0-1 on SmolLM2").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIG_MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"

HARDWARE = {
    "cpu": dict(
        about="2-core CPU with the built-in tiny model (offline); finishes in minutes",
        trainer=dict(accelerator="cpu", devices=1, precision="32-true"),
        policy=dict(model_name="web4rl/tiny", dtype="float32"),
        batch=8, accumulate=1, max_length=512, max_prompt_length=256, gpu=False,
    ),
    # The real model on the same 2 cores: SmolLM2-135M-Instruct (web4rl/smol, the [smol]
    # extra). Sized from measured step times (docs/benchmarks.md, "Stage 0-1 on SmolLM2"): the web4
    # tool catalog alone is ~600 of its tokens, so max_length 1024 keeps every simulator
    # conversation whole; batch 1 x 8 keeps the effective batch of the seed's cpu configs.
    "smol_cpu": dict(
        about="2-core CPU with SmolLM2-135M-Instruct (policy.model_name web4rl/smol, needs the "
              "[smol] extra); a fixed number of steps so each run takes tens of minutes",
        trainer=dict(accelerator="cpu", devices=1, precision="bf16-mixed"),
        policy=dict(model_name="web4rl/smol", dtype="float32"),
        batch=1, accumulate=8, max_length=1024, max_prompt_length=960, gpu=False,
        algorithms=("sft", "orpo", "dpo", "rs_sft", "awr", "grpo", "ppo"),
    ),
    "m1max": dict(
        about="Apple M1 Max (MPS): fp16 mixed (MPS has no bf16 autocast), gradient checkpointing, batch 1 x 16",
        trainer=dict(accelerator="mps", devices=1, precision="16-mixed"),
        policy=dict(model_name=BIG_MODEL, dtype="float16", gradient_checkpointing=True,
                    attn_implementation="sdpa"),
        batch=1, accumulate=16, gpu=False,
    ),
    "rtx4090": dict(
        about="one RTX 4090 (24 GB): bf16-mixed, TF32, fused AdamW, gradient checkpointing, batch 2 x 8",
        trainer=dict(accelerator="gpu", devices=1, precision="bf16-mixed"),
        policy=dict(model_name=BIG_MODEL, dtype="bfloat16", gradient_checkpointing=True,
                    attn_implementation="sdpa"),
        batch=2, accumulate=8, gpu=True,
    ),
    "a100": dict(
        about="one A100-80GB: bf16-mixed, TF32, fused AdamW, gradient checkpointing, batch 8 x 2 (A100-40GB: set batch_size 4, accumulate_grad_batches 4)",
        trainer=dict(accelerator="gpu", devices=1, precision="bf16-mixed"),
        policy=dict(model_name=BIG_MODEL, dtype="bfloat16", gradient_checkpointing=True,
                    attn_implementation="sdpa"),
        batch=8, accumulate=2, gpu=True,
    ),
    "ddp": dict(
        about="all visible GPUs with DDP: batch 4 per GPU, no accumulation, so the effective batch is 4 x n_gpus (16 on 4 GPUs, the A100-40GB 4 x 4 budget; on 2 GPUs set accumulate_grad_batches 2)",
        trainer=dict(accelerator="gpu", devices=-1, precision="bf16-mixed",
                     strategy=dict(class_path="lightning.pytorch.strategies.DDPStrategy",
                                   init_args=dict(find_unused_parameters=False))),
        policy=dict(model_name=BIG_MODEL, dtype="bfloat16", gradient_checkpointing=True,
                    attn_implementation="sdpa"),
        batch=4, accumulate=1, gpu=True,
    ),
    "fsdp": dict(
        about="all visible GPUs with FSDP (full shard, decoder-layer units, activation checkpointing); base in float32 so each flat parameter has one dtype, bf16 compute via bf16-mixed",
        trainer=dict(accelerator="gpu", devices=-1, precision="bf16-mixed",
                     strategy=dict(class_path="web4rl.distributed.LoraFSDPStrategy",
                                   init_args=dict(sharding_strategy="FULL_SHARD",
                                                  activation_checkpointing=True))),
        policy=dict(model_name=BIG_MODEL, dtype="float32", attn_implementation="sdpa"),
        batch=4, accumulate=1, gpu=True,
    ),
}

ALGORITHMS = {
    "sft": dict(class_path="web4rl.algorithms.SFT", data="web4rl.data.SFTDataModule",
                about="Stage 0 supervised fine-tuning of the LoRA adapter",
                args=dict(lr=2.0e-4, warmup_ratio=0.05), cpu_lr=2.0e-3, epochs=3,
                smol=dict(lr=1.0e-3, max_steps=30)),
    "orpo": dict(class_path="web4rl.algorithms.ORPO", data="web4rl.data.PreferenceDataModule",
                 about="Stage 1 ORPO on preference pairs (no reference model)",
                 args=dict(beta=0.1, lr=5.0e-6, warmup_ratio=0.1), cpu_lr=2.0e-3, epochs=3,
                 # smol: measured from SFT B; 5e-5 moved nothing beyond noise in 30 steps
                 smol=dict(lr=5.0e-4, max_steps=30)),
    "dpo": dict(class_path="web4rl.algorithms.DPO", data="web4rl.data.PreferenceDataModule",
                about="Stage 1 DPO on preference pairs (reference = starting policy)",
                args=dict(beta=0.1, lr=5.0e-6, warmup_ratio=0.1, label_smoothing=0.0,
                          precompute_reference=True), cpu_lr=1.0e-3, epochs=3,
                smol=dict(lr=5.0e-5, max_steps=30)),
    "rs_sft": dict(class_path="web4rl.algorithms.RSSFT", data="web4rl.data.RewardFilteredDataModule",
                   about="Stage 2 rejection-sampling SFT on the best judge-scored sample per prompt",
                   args=dict(lr=3.0e-6, warmup_ratio=0.05), cpu_lr=1.0e-3, epochs=2,
                   data_args=dict(mode="top1", threshold=0.6, max_rows=20000),
                   smol=dict(lr=1.0e-4, max_steps=30)),
    "awr": dict(class_path="web4rl.algorithms.AWR", data="web4rl.data.RewardFilteredDataModule",
                about="Stage 2 advantage-weighted regression on judge-scored samples",
                args=dict(lr=3.0e-6, warmup_ratio=0.05), cpu_lr=1.0e-3, epochs=2,
                data_args=dict(mode="weighted", awr_beta=5.0, awr_max_weight=10.0),
                smol=dict(lr=1.0e-4, max_steps=30)),
}


def gate_callbacks(name: str, alg: dict, cpu: bool) -> list[dict]:
    """Checkpoints + EvalGates + Rollback + TrainingMonitor for every config (issue 11). Seed
    cadence: gates every 50 optimizer steps, save every 100, keep the top 3 by val/loss; the
    cpu runs (300 steps) evaluate every 25 and save every 50. An algorithm entry may name its logged KL / entropy
    metrics (kl_key, entropy_key) for the RL critical signals. On cpu the tiny model cannot
    pass the gates, so they are logged only (safe_if finite) and Rollback acts on NaN/Inf."""
    every, save = (25, 50) if cpu else (50, 100)
    kl, ent = alg.get("kl_key"), alg.get("entropy_key")
    gates = dict(every_n_steps=every, num_prompts=8 if cpu else 32,
                 max_new_tokens=48 if cpu else 256, safe_if="finite" if cpu else "all_passed")
    off = dict(guardrail_max=None, json_validity_min=None) if cpu else {}
    return [
        dict(class_path="web4rl.callbacks.GatedCheckpoint",
             init_args=dict(dirpath=f"runs/{name}/checkpoints", monitor="val/loss", mode="min",
                            save_top_k=3, every_n_train_steps=save, save_last=True)),
        dict(class_path="web4rl.callbacks.EvalGates", init_args=gates),
        dict(class_path="web4rl.callbacks.Rollback",
             init_args=dict(max_rollbacks=3, lr_scale=0.5, kl_key=kl, entropy_key=ent, **off)),
        dict(class_path="web4rl.callbacks.TrainingMonitor",
             init_args=dict(kl_key=kl, plateau_steps=20 if cpu else 2000)),
    ]



def loggers(name: str) -> list[dict]:
    """W&B plus a local CSV copy of every metric (runs/<name>/version_N/metrics.csv), readable
    without W&B."""
    return [
        dict(class_path="lightning.pytorch.loggers.WandbLogger",
             init_args=dict(project="web4rl", name=name, save_dir="runs", log_model=False)),
        dict(class_path="lightning.pytorch.loggers.CSVLogger",
             init_args=dict(save_dir="runs", name=name)),
    ]


def lora(dropout: float) -> dict:
    """The seed's LoRA: r 16, alpha 32, all seven projections."""
    return dict(r=16, alpha=32, dropout=dropout,
                target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                "down_proj"])


def build(algorithm: str, hardware: str) -> tuple[str, dict]:
    alg, hw = ALGORITHMS[algorithm], HARDWARE[hardware]
    name = f"{algorithm}_{hardware}"
    # smol_cpu: the cpu cadence and logging, the real model's own lr and a step budget.
    smol = alg.get("smol") if hardware == "smol_cpu" else None
    cpu = hw["trainer"]["accelerator"] == "cpu"
    callbacks = [
        *gate_callbacks(name, alg, cpu),
        dict(class_path="web4rl.callbacks.TokenThroughput", init_args=dict(log_every_n_steps=10)),
    ]
    if hw["gpu"]:
        callbacks.append(dict(class_path="web4rl.callbacks.MatmulPrecision",
                              init_args=dict(precision="high")))
    trainer = dict(hw["trainer"])
    trainer.update(
        max_epochs=alg["epochs"], gradient_clip_val=1.0,
        accumulate_grad_batches=hw["accumulate"], log_every_n_steps=5 if cpu else 10,
        val_check_interval=1.0,
        logger=loggers(name),
        callbacks=callbacks,
    )
    if smol:
        # A step budget shorter than an epoch: validate once, at the last step (counted in
        # batches across epochs), so val/loss exists and picks the saved adapter.
        trainer.update(max_steps=smol["max_steps"],
                       val_check_interval=smol["max_steps"] * hw["accumulate"],
                       check_val_every_n_epoch=None)
    policy_args = dict(hw["policy"])
    if not cpu:
        # Qwen2.5's 152k vocabulary: full fp32 logits of 16 x 4096 tokens alone are ~40 GB.
        policy_args["logits_chunk_size"] = 512
    policy_args.update(init_adapter=None, lora=lora(dropout=0.05))
    model_args = dict(policy=dict(class_path="web4rl.policy.Policy", init_args=policy_args))
    model_args.update(alg["args"])
    if cpu:
        model_args["lr"] = smol["lr"] if smol else alg["cpu_lr"]
    if hw["gpu"]:
        model_args["fused_adamw"] = True
    if hardware == "fsdp" and "precompute_reference" in model_args:
        model_args["precompute_reference"] = False  # the sharded root cannot run outside a step
    model_args.update(weight_decay=0.01, adapter_dir=f"runs/{name}/adapter",
                      overwrite_adapter=cpu)
    data_args = dict(train_files=None, batch_size=hw["batch"],
                     max_length=hw.get("max_length", 4096),
                     max_prompt_length=hw.get("max_prompt_length", 2048), seed=42,
                     num_workers=0 if cpu else 4)
    if smol:  # the few simulator prompts longer than the catalog + 360 tokens are dropped
        data_args["overlong_prompt"] = "skip"
    data_args.update(alg.get("data_args", {}))
    config = dict(
        seed_everything=42,
        trainer=trainer,
        model=dict(class_path=alg["class_path"], init_args=model_args),
        data=dict(class_path=alg["data"], init_args=data_args),
    )
    header = (
        f"# {name}: {alg['about']}.\n# Hardware: {hw['about']}.\n"
        f"# Run: python -m web4rl fit --config {name}.yaml  (a shipped name works from any directory)\n"
        "# Continue the Web4 SFT adapter: --model.init_args.policy.init_args.init_adapter "
        "path/to/SFT.lora\n# Own data: --data.init_args.train_files path/to/rows.jsonl\n"
        "# Generated by scripts/make_configs.py; edit the table there, then re-run it.\n"
    )
    if smol:
        header += ("# Measured (docs/benchmarks.md, 'Stage 0-1 on SmolLM2'): data from "
                   "python scripts/smol_stage01_data.py --out runs/smol/data\n")
    return name, header + yaml.safe_dump(config, sort_keys=False, width=100)


# Stage 0 -> 4 chains for `python -m web4rl pipeline` (schema: web4rl/pipeline/spec.py).
PIPELINES = {
    "cpu": dict(
        about="the whole chain offline on the built-in tiny model, cut to fit ~20 minutes on 2 "
              "cores. Its base is random and passes none of the seed's gates (it emits no valid "
              "JSON), so the exit criteria here are the no-regression margins only: this run "
              "proves the mechanics, not an improvement",
        model="web4rl/tiny",
        stages=[
            dict(name="sft", stage=0, config="sft_cpu.yaml",
                 overrides=["--trainer.max_steps", "150"]),
            dict(name="orpo", stage=1, config="orpo_cpu.yaml",
                 overrides=["--trainer.max_steps", "60"]),
            dict(name="awr", stage=2, config="awr_cpu.yaml",
                 sample=dict(limit=48, n=2, temperatures=[0.7, 1.0], max_new_tokens=64),
                 overrides=["--trainer.max_steps", "40"]),
            dict(name="grpo", stage=3, config="grpo_cpu.yaml",
                 overrides=["--data.init_args.num_updates", "3",
                            "--data.init_args.episodes_per_update", "8",
                            "--data.init_args.eval_limit", "8",
                            "--data.init_args.engine.init_args.max_turns", "3",
                            "--data.init_args.engine.init_args.max_new_tokens", "96"]),
        ],
        evaluation=dict(limit=24, tasks=4, max_new_tokens=64),
        exit=dict(gates=[], thresholds={}, max_regression=0.1,
                  compare=["json_validity", "reward_mean"]),
        export=dict(format="gguf", type="q8_0"),
    ),
    "a100": dict(
        about="one A100-80GB: the seed's stages with the a100 configs and the seed's exit gates; "
              "set init_adapter to the Web4 SFT.lora to start from it",
        model=BIG_MODEL,
        stages=[
            dict(name="sft", stage=0, config="sft_a100.yaml"),
            dict(name="dpo", stage=1, config="dpo_a100.yaml"),
            dict(name="rs_sft", stage=2, config="rs_sft_a100.yaml",
                 sample=dict(limit=2000, n=2, temperatures=[0.6, 0.8, 1.0, 1.2],
                             max_new_tokens=512)),
            dict(name="grpo", stage=3, config="grpo_a100.yaml"),
        ],
        evaluation=dict(limit=500, tasks=50, max_new_tokens=512),
        exit=dict(gates=["json_validity", "schema_compliance", "guardrail_violation_rate"],
                  thresholds={}, max_regression=0.05, compare=["json_validity", "reward_mean"]),
        export=dict(format="gguf", type="q8_0"),
    ),
}


def build_pipeline(hardware: str) -> tuple[str, str]:
    spec = dict(PIPELINES[hardware])
    name = f"pipeline_{hardware}"
    header = (f"# {name}: Stage 0 -> 4 with exit criteria; {spec.pop('about')}.\n"
              f"# Run: python -m web4rl pipeline --config {name}.yaml   (rerun to resume)\n"
              "# Generated by scripts/make_configs.py; edit the table there, then re-run it.\n")
    body = dict(run_dir=f"runs/{name}", model=spec["model"], init_adapter=None,
                stages=spec["stages"], evaluation=spec["evaluation"], exit=spec["exit"],
                export=spec["export"])
    return name, header + yaml.safe_dump(body, sort_keys=False, width=100)
# Stage 3 online RL (DESIGN.md section 6: lr 1e-6, 16 episodes per update, 4 PPO epochs in
# minibatches of 4, clip 0.2, vf 0.5, entropy 0.01, KL 0.05 adaptive to 0.1, gamma 0.99,
# lambda 0.95, 20 turns, GRPO group 4). Manual optimization: the module clips gradients
# itself (max_grad_norm), so the Trainer has no gradient_clip_val; one training step = one
# update, and data.num_updates (with max_epochs 1) sets the run length.
RL_ALGORITHMS = {
    "ppo": dict(class_path="web4rl.algorithms.PPO", group_size=1,
                about="Stage 3 PPO with a value head on simulator episodes",
                args=dict(epochs=4, minibatch_size=4, clip=0.2, vf_coef=0.5, value_clip=0.2,
                          entropy_coef=0.01, gamma=0.99, lam=0.95, aggregation="token-mean")),
    "grpo": dict(class_path="web4rl.algorithms.GRPO", group_size=4,
                 about="Stage 3 GRPO (groups of 4 episodes per task) on simulator episodes",
                 args=dict(epochs=1, minibatch_size=4, clip=0.2, entropy_coef=0.0,
                           scale_std=True, aggregation="seq-mean-token-mean")),
}
RL_HARDWARE = {  # engine sizes per target: the tiny model gets short turns and episodes
    "cpu": dict(max_turns=6, max_new_tokens=160, max_length=3072, gen_batch=16, updates=30,
                lr=1.0e-4, eval_limit=24, val_every=10),
    # SmolLM2 on 2 shared cores (docs/benchmarks.md, "Stage 3 on SmolLM2"): one update of 8
    # one-turn episodes took minutes there, so 2 tasks x 4 per update, a few updates, chunked
    # logits over its 49k vocabulary, and the held-out tool_use simple/medium set of the
    # documented run (17 tasks).
    "smol_cpu": dict(max_turns=6, max_new_tokens=96, max_length=2048, gen_batch=16, updates=8,
                     lr=1.0e-4, eval_limit=None, val_every=4, episodes=8, logits_chunk=256,
                     categories=["tool_use"], heldout_generated=8, eval_batch=17),
}
RL_GPU = dict(max_turns=20, max_new_tokens=512, max_length=16384, gen_batch=16, updates=500,
              lr=1.0e-6, eval_limit=None, val_every=25)


def build_rl(algorithm: str, hardware: str) -> tuple[str, str]:
    alg, hw = RL_ALGORITHMS[algorithm], HARDWARE[hardware]
    rl = RL_HARDWARE.get(hardware, RL_GPU)
    name = f"{algorithm}_{hardware}"
    cpu = hw["trainer"]["accelerator"] == "cpu"
    callbacks = [dict(class_path="lightning.pytorch.callbacks.ModelCheckpoint",
                      init_args=dict(dirpath=f"runs/{name}/checkpoints",
                                     monitor="val/success_rate", mode="max", save_top_k=1,
                                     save_last=True))]
    if hw["gpu"]:
        callbacks.append(dict(class_path="web4rl.callbacks.MatmulPrecision",
                              init_args=dict(precision="high")))
    trainer = dict(hw["trainer"])
    trainer.update(
        max_epochs=1, log_every_n_steps=1, val_check_interval=rl["val_every"],
        check_val_every_n_epoch=None, num_sanity_val_steps=0,
        logger=loggers(name),
        callbacks=callbacks,
    )
    policy_args = dict(hw["policy"])
    if not cpu or "logits_chunk" in rl:
        policy_args["logits_chunk_size"] = rl.get("logits_chunk", 512)
    # LoRA dropout off: behaviour log-probs are sampled without dropout (the module also
    # turns dropout off in its training forwards, so a continued adapter's dropout is moot).
    policy_args.update(init_adapter=None, lora=lora(dropout=0.0))
    model_args = dict(policy=dict(class_path="web4rl.policy.Policy", init_args=policy_args))
    model_args.update(alg["args"])
    model_args.update(lr=rl["lr"], warmup_ratio=0.0, min_lr_ratio=1.0, weight_decay=0.0,
                      max_grad_norm=1.0, kl_coef=0.05, kl_target=0.1, kl_horizon=10000,
                      adaptive_kl=True, adapter_dir=f"runs/{name}/adapter",
                      overwrite_adapter=cpu)
    if hw["gpu"]:
        model_args["fused_adamw"] = True
    engine = dict(class_path="web4rl.rollout.RolloutEngine",
                  init_args=dict(tools="web4", max_turns=rl["max_turns"],
                                 max_new_tokens=rl["max_new_tokens"], temperature=1.0, top_p=1.0,
                                 batch_size=rl["gen_batch"], max_length=rl["max_length"],
                                 max_reply_chars=2000 if cpu else 8000,
                                 reward=dict(class_path="web4rl.rollout.SimulatorReward")))
    data_args = dict(engine=engine, episodes_per_update=rl.get("episodes", 16),
                     group_size=alg["group_size"], num_updates=rl["updates"],
                     procedural_fraction=0.5, heldout_fraction=0.2,
                     heldout_generated=rl.get("heldout_generated", 2),
                     eval_batch_size=rl.get("eval_batch", 16 if cpu else 32),
                     eval_temperature=0.0, eval_limit=rl["eval_limit"], seed=42,
                     log_dir=f"runs/{name}/episodes", log_every_n_updates=10)
    if "categories" in rl:
        data_args["categories"] = rl["categories"]
    if cpu:  # the tiny model only meets simple and medium tasks (its warm start covers those)
        data_args["phases"] = [dict(until=1.0e12, mix=[0.7, 0.3, 0.0, 0.0])]
    config = dict(
        seed_everything=42, trainer=trainer,
        model=dict(class_path=alg["class_path"], init_args=model_args),
        data=dict(class_path="web4rl.rollout.RolloutDataModule", init_args=data_args),
    )
    header = (
        f"# {name}: {alg['about']}.\n# Hardware: {hw['about']}.\n"
        f"# Run: python -m web4rl fit --config configs/{name}.yaml "
        "--model.init_args.policy.init_args.init_adapter path/to/SFT.lora\n"
        "# Held-out success before training: python -m web4rl validate --config "
        f"configs/{name}.yaml (same init_adapter)\n"
        "# Episode logs: python -m web4rl sim replay runs/<name>/episodes/<file>.jsonl\n"
        "# Generated by scripts/make_configs.py; edit the table there, then re-run it.\n"
    )
    if hardware == "smol_cpu":
        header += ("# Measured (docs/benchmarks.md, 'Stage 3 on SmolLM2'): HW=smol_cpu "
                   "SFT_ADAPTER=path/to/SFT.lora bash scripts/stage3_cpu_run.sh\n")
    return name, header + yaml.safe_dump(config, sort_keys=False, width=100)


def all_configs() -> dict[str, str]:
    def offered(algorithm: str, hardware: str) -> bool:
        return algorithm in HARDWARE[hardware].get("algorithms", (algorithm,))

    configs = dict(build(a, h) for a in ALGORITHMS for h in HARDWARE if offered(a, h))
    configs.update(build_pipeline(h) for h in PIPELINES)
    configs.update(build_rl(a, h) for a in RL_ALGORITHMS for h in HARDWARE if offered(a, h))
    return configs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    out = ROOT / "configs"
    stale = []
    for name, text in all_configs().items():
        path = out / f"{name}.yaml"
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            out.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("configs out of date (run scripts/make_configs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
