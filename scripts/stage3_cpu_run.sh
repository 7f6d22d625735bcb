#!/usr/bin/env bash
# The documented Stage 3 CPU run (docs/benchmarks.md "Online RL"): SFT warm start from exported
# reference solutions, held-out evaluation of the SFT adapter, then GRPO and PPO from it, then
# the curve plot. Tool_use tasks (simple + medium), offline, 1 thread per process.
#   bash scripts/stage3_cpu_run.sh [UPDATES]                      # tiny model, as documented
# Another model / start adapter / config set, by environment variable:
#   HW=smol_cpu SFT_ADAPTER=runs/smol_sft/adapter OUT=runs/stage3_smol ALGS="grpo" \
#       bash scripts/stage3_cpu_run.sh 8                          # SmolLM2 from its SFT adapter
# HW picks configs/{grpo,ppo}_$HW.yaml (their model); SFT_ADAPTER skips the export + SFT warm
# start; ALGS picks the algorithms; PARALLEL=0 runs the SFT validation and them one after the
# other (default: side by side); MAX_NEW_TOKENS, EVAL_EVERY and EXTRA (more fit/validate options) tune the run.
set -euo pipefail
export OMP_NUM_THREADS=1 WANDB_MODE=offline HF_HUB_OFFLINE=1
UPDATES=${1:-6}
HW=${HW:-cpu}
OUT=${OUT:-runs/stage3}
ALGS=${ALGS:-grpo ppo}
PARALLEL=${PARALLEL:-1}
MAX_NEW_TOKENS=${MAX_NEW_TOKENS:-96}
EVAL_EVERY=${EVAL_EVERY:-3}
read -r -a EXTRA_ARGS <<< "${EXTRA:-}"
mkdir -p "$OUT"
if [ -n "${SFT_ADAPTER:-}" ]; then
  SFT=$SFT_ADAPTER
else
  SFT=$OUT/sft_adapter
  python -m web4rl sim export-sft --out "$OUT/warm_sft.jsonl" --generated 16 \
      --categories tool_use --overwrite
  if [ ! -f "$SFT/adapter_config.json" ]; then
    python -m web4rl fit --config "configs/sft_$HW.yaml" \
        --data.init_args.train_files "$OUT/warm_sft.jsonl" \
        --data.init_args.max_length 1500 --data.init_args.max_prompt_length 1400 \
        --trainer.max_epochs 8 --model.init_args.adapter_dir "$SFT" \
        --model.init_args.overwrite_adapter true
  fi
fi
# Same held-out set for every run: tool_use simple/medium, 8 procedural per difficulty plus the
# held-out handcrafted ones (17 tasks), greedy.
COMMON=(--model.init_args.policy.init_args.init_adapter "$SFT"
        --data.init_args.categories "[tool_use]" --data.init_args.heldout_generated 8
        --data.init_args.eval_limit null --data.init_args.eval_batch_size 17
        --data.init_args.num_updates "$UPDATES" --trainer.val_check_interval "$EVAL_EVERY"
        --data.init_args.engine.init_args.max_new_tokens "$MAX_NEW_TOKENS" "${EXTRA_ARGS[@]}")
FIRST=${ALGS%% *}
PIDS=()
if [ ! -f "$OUT/validate_sft.log" ]; then  # the SFT start on the held-out set
  python -m web4rl validate --config "configs/${FIRST}_$HW.yaml" "${COMMON[@]}" \
      --data.init_args.log_dir "$OUT/episodes_sft" --trainer.logger false \
      > "$OUT/validate_sft.log" 2>&1 &
  PIDS+=($!)
  [ "$PARALLEL" = 1 ] || wait "${PIDS[@]}"
fi
for ALG in $ALGS; do
  ARGS=("${COMMON[@]}" --model.init_args.adapter_dir "$OUT/${ALG}_adapter"
        --data.init_args.log_dir "$OUT/episodes_$ALG")
  [ "$ALG" = ppo ] && ARGS+=(--model.init_args.epochs 2)
  if [ "$PARALLEL" = 1 ]; then
    python -m web4rl fit --config "configs/${ALG}_$HW.yaml" "${ARGS[@]}" > "$OUT/$ALG.log" 2>&1 &
    PIDS+=($!)
  else
    python -m web4rl fit --config "configs/${ALG}_$HW.yaml" "${ARGS[@]}" > "$OUT/$ALG.log" 2>&1
  fi
done
[ ${#PIDS[@]} -eq 0 ] || wait "${PIDS[@]}"
