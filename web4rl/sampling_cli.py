"""`python -m web4rl sample`: prompts -> sampled (optionally judge-scored) rows, resumable.

    python -m web4rl sample prompts.jsonl -o samples.jsonl --adapter runs/sft/adapter --score

Prompt rows: ``{"prompt_id"?, "prompt"}`` (a string or chat messages), SFT rows (prompt +
completion, ``messages`` whose last assistant turn is dropped, Alpaca instruction/input) or
preference rows (prompt + chosen + rejected); ``category``, ``task``, ``expected_actions`` and
``tools`` (the judge's tool profile for that row) are carried over (the judge uses them). A row without ``prompt_id`` gets a stable hash of its
prompt (:func:`web4rl.data.reward_filtered.derive_prompt_id`); repeated prompts are sampled once.

Output rows (DESIGN.md section 5): ``{"prompt_id", "prompt", "completion", "temperature",
"sample_index", "finish_reason", "completion_tokens", "logprob_sum", "seed", ...}``, plus
``"reward"`` and ``"components"`` with ``--score`` (the ``web4rl score`` format).

Resumable: rows are written per batch of whole prompts (append, flush, fsync), so a killed run
loses at most the batch in flight; a rerun skips prompt ids already complete, drops rows of an
incomplete prompt and a torn last line. Each batch is seeded from ``--seed`` and its prompt
ids, and batches are consecutive chunks of the pending prompts, so a resumed run writes the
same rows an uninterrupted one would.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web4rl.data.io import iter_jsonl, parse_rows
from web4rl.data.records import DataValidationError, Location, RowError
from web4rl.data.reward_filtered import derive_prompt_id

CARRIED = ("category", "task", "expected_actions", "tools")
"""Prompt-row fields copied into every sample row (the judge reads them)."""


@dataclass(frozen=True)
class PromptItem:
    """One prompt to sample: its id, the prompt (string or messages) and carried fields."""

    prompt_id: str
    prompt: str | list[dict]
    extra: dict[str, Any] = field(default_factory=dict)


def _messages(value: Any, name: str, loc: Location, errors: list[RowError]) -> list[dict] | None:
    if not isinstance(value, list) or not value:
        errors.append(RowError(loc, name, "must be a non-empty list of messages"))
        return None
    for i, m in enumerate(value):
        if not (isinstance(m, dict) and isinstance(m.get("role"), str)
                and isinstance(m.get("content"), str)):
            errors.append(RowError(loc, f"{name}[{i}]", "must be an object with string role and content"))
            return None
    return [{"role": m["role"], "content": m["content"]} for m in value]


def parse_prompt_row(row: Any, loc: Location) -> PromptItem | list[RowError]:
    """The prompt of a prompt / SFT / preference / Alpaca row, or the row's problems."""
    if not isinstance(row, dict):
        return [RowError(loc, None, f"row must be a JSON object, got {type(row).__name__}")]
    errors: list[RowError] = []
    prompt: str | list[dict] | None = None
    if row.get("messages") is not None:
        msgs = _messages(row["messages"], "messages", loc, errors)
        if msgs is not None:
            while msgs and msgs[-1]["role"] == "assistant":  # the answer is what we sample
                msgs.pop()
            if not msgs:
                errors.append(RowError(loc, "messages", "has no prompt message before the answer"))
            prompt = msgs or None
    elif row.get("prompt") is not None:
        value = row["prompt"]
        if isinstance(value, str):
            prompt = value
        else:
            prompt = _messages(value, "prompt", loc, errors)
    elif row.get("instruction") is not None:
        if not isinstance(row["instruction"], str):
            errors.append(RowError(loc, "instruction", "must be a string"))
        else:
            extra = row.get("input")
            prompt = row["instruction"] + (f"\n\n{extra}" if isinstance(extra, str) and extra.strip() else "")
    else:
        errors.append(RowError(loc, None, "row has none of: prompt, messages, instruction; keys: "
                               + (", ".join(sorted(row)) or "none")))
    if prompt is not None and isinstance(prompt, list) and len(prompt) == 1 and prompt[0]["role"] == "user":
        prompt = prompt[0]["content"]
    if isinstance(prompt, str) and not prompt.strip():
        errors.append(RowError(loc, "prompt", "is empty"))
    pid = row.get("prompt_id")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, str | int)):
        errors.append(RowError(loc, "prompt_id", f"must be a string or integer, got {pid!r}"))
    if errors or prompt is None:
        return errors
    pid = str(pid) if pid is not None else derive_prompt_id(prompt)
    return PromptItem(pid, prompt, {k: row[k] for k in CARRIED if row.get(k) is not None})


def read_prompts(path: str | Path, limit: int | None = None) -> list[PromptItem]:
    """Every distinct prompt of a JSONL file in file order (first occurrence of an id wins).

    Raises:
        DataValidationError: naming file, line and field of every bad row (up to 20).
    """
    items: dict[str, PromptItem] = {}
    for item in parse_rows(iter_jsonl(path), parse_prompt_row):
        items.setdefault(item.prompt_id, item)
    out = list(items.values())
    return out[:limit] if limit is not None else out


def judge_prompt(prompt: str | list[dict]) -> str:
    """The request text the judge sees: the prompt, or its non-system messages joined."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(m["content"] for m in prompt if m["role"] != "system")


def completed_prompt_ids(path: Path, expected: int, temperatures: Sequence[float],
                         scored: bool) -> set[str]:
    """Prompt ids the output file already holds in full, after repairing it in place: a torn
    last line (a kill mid-write) and the rows of incomplete prompts are removed.

    Raises:
        DataValidationError: when the file holds rows this run cannot continue (other
            temperatures, scored vs unscored, malformed lines before the end).
    """
    if not path.is_file():
        return set()
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    torn = lines[-1] != b""  # the last write did not reach its newline
    lines = lines[:-1]
    rows: list[tuple[bytes, dict]] = []
    errors: list[RowError] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        loc = Location(str(path), number)
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            errors.append(RowError(loc, None, "malformed JSON in the existing output; fix or "
                                              "remove the file"))
            continue
        if not isinstance(row, dict) or not isinstance(row.get("prompt_id"), str):
            errors.append(RowError(loc, "prompt_id", "missing in the existing output"))
        elif row.get("temperature") not in temperatures:
            errors.append(RowError(loc, "temperature", f"{row.get('temperature')!r} is not one of "
                                   f"{list(temperatures)}; write to a new output file"))
        elif ("reward" in row) != scored:
            errors.append(RowError(loc, "reward", "existing rows are " + ("unscored" if scored else
                                   "scored") + "; write to a new output file or match --score"))
        else:
            rows.append((line, row))
        if len(errors) >= 20:
            break
    if errors:
        raise DataValidationError(errors, truncated=len(errors) >= 20)
    counts: dict[str, int] = {}
    for _, row in rows:
        counts[row["prompt_id"]] = counts.get(row["prompt_id"], 0) + 1
    done = {pid for pid, c in counts.items() if c >= expected}
    keep = [line for line, row in rows if row["prompt_id"] in done]
    if torn or len(keep) != len(rows):
        tmp = path.with_name(path.name + ".repair")
        tmp.write_bytes(b"".join(line + b"\n" for line in keep))
        os.replace(tmp, path)
        print(f"web4rl sample: repaired {path}: dropped {len(rows) - len(keep)} rows of incomplete "
              f"prompts{' and a torn last line' if torn else ''}", file=sys.stderr)
    return done


def batch_seed(seed: int, prompt_ids: Sequence[str]) -> int:
    """Seed of one batch from the run seed and its prompt ids (stable across runs/machines)."""
    digest = hashlib.sha256(json.dumps([seed, list(prompt_ids)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass
class SampleStats:
    """What a sampling run did (for the summary line and the benchmark)."""

    prompts: int = 0
    skipped: int = 0
    completions: int = 0
    tokens: int = 0
    seconds: float = 0.0
    rewards: list[float] = field(default_factory=list)


def sample_to_file(
    policy,
    items: Sequence[PromptItem],
    out_path: str | Path,
    *,
    n: int = 4,
    temperatures: Sequence[float] = (0.6, 0.8, 1.0, 1.2),
    max_new_tokens: int = 256,
    top_p: float = 1.0,
    batch_size: int = 16,
    seed: int = 0,
    judge=None,
    meta: dict[str, Any] | None = None,
    progress: bool = True,
    after_batch: Callable[[int], None] | None = None,
) -> SampleStats:
    """Sample ``n`` completions per prompt and temperature into ``out_path`` (resumable).

    Args:
        policy: a :class:`~web4rl.policy.Policy` (its model is used as it is: device, adapter).
        items: the prompts (:func:`read_prompts`).
        batch_size: completions per forward batch; a batch holds whole prompts
            (``max(1, batch_size // (n * len(temperatures)))`` of them).
        judge: a :class:`~web4rl.judges.Judge` to score each batch before it is written.
        meta: extra fields written into every row (model, adapter).
        after_batch: called with the number of batches written so far (tests interrupt here).
    """
    from tqdm import tqdm

    from web4rl.generation import sample

    out_path = Path(out_path)
    per_prompt = n * len(temperatures)
    done = completed_prompt_ids(out_path, per_prompt, temperatures, judge is not None)
    pending = [it for it in items if it.prompt_id not in done]
    stats = SampleStats(prompts=len(pending), skipped=len(items) - len(pending))
    group = max(1, batch_size // per_prompt)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with (out_path.open("a", encoding="utf-8") as out,
          tqdm(total=len(pending) * per_prompt, unit="completion", desc="sampling",
               disable=not progress) as bar):
        for b, first in enumerate(range(0, len(pending), group), 1):
            chunk = pending[first : first + group]
            seed_b = batch_seed(seed, [it.prompt_id for it in chunk])
            completions = sample(policy, [it.prompt for it in chunk], n=n, temperatures=temperatures,
                                 max_new_tokens=max_new_tokens, top_p=top_p, batch_size=batch_size,
                                 seed=seed_b, progress=bar.update)
            rows = []
            for c in completions:
                it = chunk[c.prompt_index]
                rows.append({
                    "prompt_id": it.prompt_id, "prompt": it.prompt, "completion": c.text,
                    "temperature": c.temperature, "sample_index": c.sample_index,
                    "finish_reason": c.finish_reason, "completion_tokens": c.num_tokens,
                    "logprob_sum": round(float(c.logprobs.sum()), 4), "seed": seed_b,
                    **it.extra, **(meta or {}),
                })
                stats.tokens += c.num_tokens
            if judge is not None:
                from web4rl.judges import Sample

                samples = [Sample.from_row({**r, "prompt": judge_prompt(r["prompt"])},
                                           f"prompt {r['prompt_id']}") for r in rows]
                for r, res in zip(rows, judge.score_batch(samples), strict=True):
                    r["reward"] = round(res.reward, 6)
                    r["components"] = res.components
                    stats.rewards.append(res.reward)
            out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            out.flush()
            os.fsync(out.fileno())  # a kill after this line loses nothing already sampled
            stats.completions += len(rows)
            if after_batch is not None:
                after_batch(b)
    stats.seconds = time.perf_counter() - start
    return stats


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m web4rl sample", description=__doc__.splitlines()[0])
    ap.add_argument("prompts", type=Path, help="JSONL of prompt, SFT or preference rows")
    ap.add_argument("-o", "--output", type=Path, required=True, help="sample rows (appended; resumable)")
    ap.add_argument("--model", default="web4rl/tiny", help="base model: HF id, local dir or web4rl/tiny")
    ap.add_argument("--adapter", default=None, help="PEFT adapter directory to sample from (e.g. SFT.lora)")
    ap.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16", "auto"])
    ap.add_argument("-n", "--n", type=int, default=4, help="completions per prompt and temperature")
    ap.add_argument("--temperatures", type=float, nargs="+", default=[0.6, 0.8, 1.0, 1.2])
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=16, help="completions per forward batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="first N distinct prompts only")
    ap.add_argument("--score", action="store_true", help="score each row with the judge (reward, components)")
    ap.add_argument("--no-lint", action="store_true", help="with --score: do not run Biome")
    from web4rl.sim.tools import PROFILE_NAMES

    ap.add_argument("--tools", default=None, choices=PROFILE_NAMES,
                    help="with --score: the judge's tool profile (default: the judge's); a prompt "
                    "row's own tools field wins")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def _device(name: str):
    import torch

    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError as err:
            raise ValueError(f"--device {name}: {err}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"--device {name}: CUDA is not available in this torch installation")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"--device {name}: MPS is not available on this machine")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("mps" if torch.backends.mps.is_available() else "cpu")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m web4rl sample`; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.n < 1 or args.batch_size < 1 or args.max_new_tokens < 0 or not 0 < args.top_p <= 1 \
            or any(t < 0 for t in args.temperatures) or (args.limit is not None and args.limit < 1):
        print("web4rl sample: error: need -n >= 1, --batch-size >= 1, --max-new-tokens >= 0, "
              "0 < --top-p <= 1, temperatures >= 0, --limit >= 1", file=sys.stderr)
        return 2
    from web4rl.policy import Policy, PolicyConfigError

    try:
        device = _device(args.device)
        items = read_prompts(args.prompts, args.limit)
        # Check (and repair) the output before the model loads: a wrong file costs seconds.
        completed_prompt_ids(args.output, args.n * len(args.temperatures), args.temperatures,
                             args.score)
        if args.score:  # a bad task / expected_actions field must fail before the model loads
            from web4rl.judges import Sample

            for it in items:
                Sample.from_row({**it.extra, "prompt": judge_prompt(it.prompt), "completion": ""},
                                f"{args.prompts}: prompt_id {it.prompt_id}")
        policy = Policy(args.model, init_adapter=args.adapter, dtype=args.dtype)
    except (DataValidationError, PolicyConfigError, ValueError) as err:
        print(f"web4rl sample: error: {err}", file=sys.stderr)
        return 2
    policy.to(device)
    judge = None
    if args.score:
        from web4rl.judges import Judge

        judge = Judge(use_linter=not args.no_lint,
                      **({"tools": args.tools} if args.tools else {}))
    stats = sample_to_file(
        policy, items, args.output, n=args.n, temperatures=args.temperatures,
        max_new_tokens=args.max_new_tokens, top_p=args.top_p, batch_size=args.batch_size,
        seed=args.seed, judge=judge, meta={"model": args.model, "adapter": args.adapter},
        progress=not args.no_progress,
    )
    rate = stats.completions / stats.seconds if stats.seconds else 0.0
    tok_rate = stats.tokens / stats.seconds if stats.seconds else 0.0
    print(f"sampled {stats.completions} completions for {stats.prompts} prompts "
          f"({stats.skipped} already complete) in {stats.seconds:.1f} s: {rate:.2f} completions/s, "
          f"{tok_rate:.0f} tokens/s -> {args.output}")
    if stats.rewards:
        mean = sum(stats.rewards) / len(stats.rewards)
        share = sum(r > 0.8 for r in stats.rewards) / len(stats.rewards)
        print(f"judge reward of the new rows: mean {mean:.4f}, share > 0.8 {share:.4f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
