#!/usr/bin/env bash
# The documented Stage 3 CPU run (docs/benchmarks.md "Online RL"): SFT warm start from exported
# reference solutions, held-out evaluation of the SFT adapter, then GRPO and PPO from it, then
# the curve plot. Tiny model, tool_use tasks (simple + medium), offline, 1 thread per process.
#   bash scripts/stage3_cpu_run.sh [UPDATES]
set -euo pipefail
export OMP_NUM_THREADS=1 WANDB_MODE=offline HF_HUB_OFFLINE=1
UPDATES=${1:-6}
OUT=runs/stage3
mkdir -p "$OUT"
python -m web4rl sim export-sft --out "$OUT/warm_sft.jsonl" --generated 16 \
    --categories tool_use --overwrite
if [ ! -f "$OUT/sft_adapter/adapter_config.json" ]; then
  python -m web4rl fit --config configs/sft_cpu.yaml \
      --data.init_args.train_files "$OUT/warm_sft.jsonl" \
      --data.init_args.max_length 1500 --data.init_args.max_prompt_length 1400 \
      --trainer.max_epochs 8 --model.init_args.adapter_dir "$OUT/sft_adapter" \
      --model.init_args.overwrite_adapter true
fi
# Same held-out set for every run: tool_use simple/medium, 8 procedural per difficulty plus the
# held-out handcrafted ones (17 tasks), greedy.
COMMON=(--model.init_args.policy.init_args.init_adapter "$OUT/sft_adapter"
        --data.init_args.categories "[tool_use]" --data.init_args.heldout_generated 8
        --data.init_args.eval_limit null --data.init_args.eval_batch_size 17
        --data.init_args.num_updates "$UPDATES" --trainer.val_check_interval 3
        --data.init_args.engine.init_args.max_new_tokens 96)
python -m web4rl validate --config configs/grpo_cpu.yaml "${COMMON[@]}" \
    --trainer.logger false 2>&1 | tee "$OUT/validate_sft.log"
python -m web4rl fit --config configs/grpo_cpu.yaml "${COMMON[@]}" \
    --model.init_args.adapter_dir "$OUT/grpo_adapter" > "$OUT/grpo.log" 2>&1 &
GRPO=$!
python -m web4rl fit --config configs/ppo_cpu.yaml "${COMMON[@]}" --model.init_args.epochs 2 \
    --model.init_args.adapter_dir "$OUT/ppo_adapter" > "$OUT/ppo.log" 2>&1 &
PPO=$!
wait $GRPO $PPO
