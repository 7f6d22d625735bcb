#!/usr/bin/env python3
"""Benchmark the built-in tiny model: step time, tokenizer speed, and (optionally) learnability.

* step: LoRA (all seven projections) forward + backward + AdamW on a batch of B x T random
  tokens, the shape of an ORPO step on 4 pairs x 256 tokens (B = 8 sequences), per thread count.
* tokenizer: encode throughput over the shipped sample data.
* learn (``--learn-seconds N``): LoRA-SFT on the shipped SFT rows for N seconds, then greedy
  decoding on 60 held-out tool_use/multi_step prompts from preferences.jsonl, scored with the
  simulator's parser: does the output start with the right tool in the contract format, is it
  valid JSON, does it pass the tool schemas.

    python scripts/bench_tiny.py                       # step + tokenizer (~1 min)
    python scripts/bench_tiny.py --learn-seconds 300   # + learnability (5 min)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import time

import torch

from web4rl.chat import as_messages, render_prompt
from web4rl.sequence import IGNORE_INDEX
from web4rl.tiny import TINY_DIR, build_tiny_model, load_tiny_tokenizer

DATA = TINY_DIR.parent / "sample_data"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def lora_model(r: int):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(build_tiny_model(seed=0), LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.05,
                                                               target_modules=TARGETS))


def bench_step(batch: int, seq: int, threads: int, reps: int = 5, r: int = 16) -> float:
    """Median seconds per LoRA training step (after one warm-up step)."""
    torch.set_num_threads(threads)
    m = lora_model(r)
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-3)
    x = torch.randint(3, m.config.vocab_size, (batch, seq), generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        m(input_ids=x, labels=x).loss.backward()
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def bench_tokenizer() -> tuple[float, float]:
    """(tokens/s, chars per token) encoding the shipped SFT file line by line."""
    tok = load_tiny_tokenizer()
    lines = (DATA / "sft.jsonl").read_text(encoding="utf-8").splitlines()
    t = time.perf_counter()
    n = sum(len(ids) for ids in tok(lines, add_special_tokens=False)["input_ids"])
    return n / (time.perf_counter() - t), sum(map(len, lines)) / n


def learn(seconds: float, lr: float, r: int, threads: int) -> dict:
    """LoRA-SFT for `seconds`, then score greedy outputs on held-out prompts."""
    from web4rl.sim.actions import parse_actions

    torch.set_num_threads(threads)
    torch.manual_seed(0)  # LoRA init + dropout: results vary a lot between seeds at this budget
    tok = load_tiny_tokenizer()

    def encode(prompt: str, completion: str) -> tuple[list[int], list[int]]:
        text = render_prompt(tok, as_messages(prompt))
        p = tok(text, add_special_tokens=False)["input_ids"]
        c = tok(completion + tok.eos_token, add_special_tokens=False)["input_ids"]
        return p + c, [IGNORE_INDEX] * len(p) + c  # loss on completion tokens only

    rows = [json.loads(x) for x in (DATA / "sft.jsonl").read_text(encoding="utf-8").splitlines()]
    data = [encode(r["prompt"], r["completion"]) for r in rows]
    m = lora_model(r)
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    rng = random.Random(0)
    steps, t0, first_loss, loss = 0, time.time(), None, None
    while time.time() - t0 < seconds:
        batch = rng.sample(data, 8)
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([a + [tok.pad_token_id] * (width - len(a)) for a, _ in batch])
        labels = torch.tensor([b + [IGNORE_INDEX] * (width - len(b)) for _, b in batch])
        mask = (ids != tok.pad_token_id).long()
        out = m(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        steps += 1
        first_loss = first_loss if first_loss is not None else out.loss.item()
        loss = out.loss.item()
    m.eval()
    held = [json.loads(x) for x in (DATA / "preferences.jsonl").read_text(encoding="utf-8").splitlines()]
    held = [r for r in held if r["category"] in ("tool_use", "multi_step")][:60]
    prefix = valid_json = schema_ok = 0
    for r in held:
        text = render_prompt(tok, as_messages(r["prompt"]))
        x = tok([text], return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = m.generate(**x, max_new_tokens=120, do_sample=False, pad_token_id=tok.pad_token_id)
        gen = tok.decode(out[0, x["input_ids"].shape[1]:], skip_special_tokens=True)
        want = parse_actions(r["chosen"]).actions[0]["tool"]
        head = re.match(r'\[?\{"tool": "(\w+)", "args": \{', gen)
        prefix += bool(head and head.group(1) == want)
        try:
            json.loads(gen)
            valid_json += 1
        except ValueError:
            pass
        schema_ok += parse_actions(gen, strict=True).ok
    return {"steps": steps, "seconds": round(time.time() - t0), "first_loss": round(first_loss, 2),
            "last_loss": round(loss, 2), "n_heldout": len(held), "right_tool_prefix": prefix,
            "valid_json": valid_json, "schema_valid": schema_ok}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--learn-seconds", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for --learn-seconds")
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    m = build_tiny_model()
    print(f"tiny model: {sum(p.numel() for p in m.parameters()) / 1e6:.2f}M parameters")
    for threads in (1, 2):
        s = bench_step(args.batch, args.seq, threads, r=args.r)
        print(f"LoRA r={args.r} step {args.batch}x{args.seq} threads={threads}: {s:.3f} s "
              f"({args.batch * args.seq / s:,.0f} tokens/s)")
    tps, cpt = bench_tokenizer()
    print(f"tokenizer: {tps:,.0f} tokens/s, {cpt:.2f} chars/token on sft.jsonl")
    if args.learn_seconds > 0:
        print("learn:", json.dumps(learn(args.learn_seconds, args.lr, args.r, threads=args.threads)))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
