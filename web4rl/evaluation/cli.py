"""``python -m web4rl evaluate``: adapters (or the base) x evaluation set -> generations (the
one sampling path), judge, gate and distribution-shift metrics, held-out task success,
``eval.json`` and ``report.md`` (+ PNG plots).

    python -m web4rl evaluate --adapter sft=runs/sft_cpu/adapter --adapter orpo=runs/orpo_cpu/adapter -o runs/eval

The first adapter is the baseline (``--baseline NAME`` picks another): its generations are
saved under ``<out>/generations`` once and reused by later calls, as are every adapter's
(interrupted runs resume; see web4rl.evaluation.generations).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from web4rl.evaluation.evalset import EvalSetError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m web4rl evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--adapter", action="append", default=[], metavar="[NAME=]DIR",
                   help="PEFT adapter directory (repeat for a per-stage comparison)")
    p.add_argument("--base", action="store_true", help="also evaluate the base model (no adapter)")
    p.add_argument("--model", default="web4rl/tiny", help="base model id or path")
    p.add_argument("--eval-file", help="evaluation JSONL (default: the shipped held-out set)")
    p.add_argument("--limit", type=int, help="first N prompts only")
    p.add_argument("--tasks", type=int, default=10, help="held-out simulator tasks (0: none)")
    p.add_argument("--task-runner", default="first_action", help="how tasks are played")
    p.add_argument("--baseline", help="adapter NAME whose generations are the shift baseline")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--use-linter", action="store_true", help="lint code with Biome (if installed)")
    p.add_argument("--samples", type=int, default=3, help="best/worst samples shown per adapter")
    p.add_argument("--fresh", action="store_true", help="ignore cached generations")
    p.add_argument("-o", "--out", required=True, help="output directory")
    return p


def _adapters(args) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [("base", None)] if args.base else []
    for spec in args.adapter:
        name, _, path = spec.rpartition("=")
        name = name or Path(path).name
        if not (Path(path) / "adapter_config.json").is_file():
            raise EvalSetError(f"--adapter {spec}: {path} is not a PEFT adapter directory "
                               "(no adapter_config.json)")
        if name in dict(out):
            raise EvalSetError(f"--adapter {spec}: the name {name!r} is used twice")
        out.append((name, path))
    if not out:
        raise EvalSetError("give at least one --adapter DIR or --base")
    return out


def _gate_table(values: dict, base: dict | None) -> dict:
    from web4rl.metrics import GateThresholds

    rows = {}
    for r in GateThresholds().check({k: v for k, v in values.items()}):
        delta = None
        if base is not None and r.name in base and base[r.name] == base[r.name]:
            delta = r.value - base[r.name]
        no_data = r.value != r.value  # NaN: no applicable sample (e.g. no code to lint)
        rows[r.name] = {"value": r.value, "threshold": r.threshold,
                        "passed": None if no_data else r.passed,
                        "critical": r.critical, "delta": delta}
    return rows


def run(args) -> dict:
    import torch
    from tqdm import tqdm

    from web4rl.evaluation.core import BaselineStats, GateAccumulator, generate
    from web4rl.evaluation.evalset import default_eval_prompts, heldout_tasks, load_eval_prompts
    from web4rl.evaluation.generations import cached_generate
    from web4rl.evaluation.report import plot, write_markdown
    from web4rl.evaluation.tasks import TASK_RUNNERS, summarize
    from web4rl.judges import Judge
    from web4rl.policy import Policy

    out = Path(args.out)
    adapters = _adapters(args)
    if args.task_runner not in TASK_RUNNERS:
        raise EvalSetError(f"--task-runner: one of {sorted(TASK_RUNNERS)}")
    prompts = load_eval_prompts(args.eval_file) if args.eval_file else default_eval_prompts()
    prompts = prompts[: args.limit] if args.limit else prompts
    tasks = heldout_tasks(args.tasks) if args.tasks else []
    baseline_name = args.baseline or adapters[0][0]
    if baseline_name not in dict(adapters):
        raise EvalSetError(f"--baseline {baseline_name}: not among the evaluated adapters")
    settings = {"temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
                "batch_size": args.batch_size, "seed": args.seed, "model": args.model,
                "eval_set": args.eval_file or "builtin", "use_linter": args.use_linter}
    judge = Judge(use_linter=args.use_linter)
    gens_dir = out / "generations"
    if args.fresh and gens_dir.is_dir():
        import shutil

        shutil.rmtree(gens_dir)
    # Baseline first: the others' shift metrics need its statistics.
    order = sorted(adapters, key=lambda a: a[0] != baseline_name)
    result = {"eval_set": settings["eval_set"], "num_prompts": len(prompts),
              "num_tasks": len(tasks), "task_runner": args.task_runner,
              "baseline": baseline_name, "settings": settings, "adapters": {}}
    baseline = None
    for name, path in order:
        start = time.perf_counter()
        policy = Policy(args.model, init_adapter=path)
        with tqdm(total=len(prompts), desc=f"{name}: prompts", file=sys.stderr) as bar:
            gens = cached_generate(policy, prompts, judge, gens_dir, name,
                                   {**settings, "adapter": path}, progress=bar.update)
        if name == baseline_name:
            # Sampled ids range over the output layer (can exceed len(tokenizer): padded vocab).
            vocab = policy.model.get_output_embeddings().weight.shape[0]
            baseline = BaselineStats.from_generations(gens, vocab)
        acc = GateAccumulator(baseline if name != baseline_name else None)
        acc.update(gens)
        values = acc.compute()
        if name == baseline_name:  # the baseline against itself: by definition no shift
            values.update(distinct_unigram_ratio=1.0, token_kl=0.0, length_ratio=1.0)
        task_rows = []
        if tasks:
            def gen(pol, ps):
                return generate(pol, ps, temperature=args.temperature,
                                max_new_tokens=args.max_new_tokens,
                                batch_size=args.batch_size, seed=args.seed)
            with tqdm(total=1, desc=f"{name}: tasks", file=sys.stderr) as bar:
                task_rows = TASK_RUNNERS[args.task_runner](policy, tasks, gen)
                bar.update()
            values.update(summarize(task_rows))
        ranked = sorted(gens, key=lambda g: g.reward)
        text_of = {p.id: p.text for p in prompts}
        pick = [{"prompt_id": g.prompt_id, "category": g.category, "prompt": text_of[g.prompt_id],
                 "completion": g.text, "reward": g.reward} for g in ranked]
        result["adapters"][name] = {
            "path": path, "values": values, "rewards": [g.reward for g in gens],
            "best": pick[::-1][: args.samples], "worst": pick[: args.samples],
            "tasks": [t.__dict__ for t in task_rows], "seconds": time.perf_counter() - start,
        }
        del policy
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    base_values = result["adapters"][baseline_name]["values"]
    for name in [a[0] for a in adapters]:  # report in the order given
        entry = result["adapters"].pop(name)
        entry["gates"] = _gate_table(entry["values"],
                                     base_values if name != baseline_name else None)
        result["adapters"][name] = entry
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "eval.json.tmp"
    tmp.write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    tmp.replace(out / "eval.json")
    plots = plot(result, out)
    if isinstance(plots, str):
        print(f"web4rl evaluate: {plots}", file=sys.stderr)
    report = write_markdown(result, out, plots)
    print(f"web4rl evaluate: wrote {out / 'eval.json'} and {report}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args)
    except EvalSetError as e:
        print(f"web4rl evaluate: error: {e}", file=sys.stderr)
        return 2
    return 0
