#!/usr/bin/env python3
"""Build the built-in tiny model files in ``web4rl/tiny/`` (tokenizer + Qwen2 config).

What it writes (no weights: the base model is built from ``config.json`` with a fixed seed):

* ``tokenizer.json``: a byte-level BPE tokenizer (HF ``tokenizers``) trained on the shipped
  sample data (``web4rl/sample_data/*.jsonl``) plus the generic English/code text below, with
  exactly Qwen2's pipeline: NFC normalizer, Qwen2's pre-tokenizer split (digits one by one),
  byte-level BPE (no unknown tokens: any UTF-8 text round-trips once NFC-normalized) and Qwen2's
  ChatML special tokens ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``.
* ``tokenizer_config.json`` + ``special_tokens_map.json``: pad ``<|endoftext|>``, eos
  ``<|im_end|>``, no bos, and Qwen2's ChatML ``chat_template``, so
  ``AutoTokenizer.from_pretrained(web4rl/tiny)`` works offline.
* ``config.json``: a small ``Qwen2ForCausalLM`` (sizes in ``MODEL_SIZES``); vocab is the
  tokenizer size rounded up to a multiple of 64.
* ``generation_config.json``: eos/pad ids so sampling stops at ``<|im_end|>``.

Run ``python scripts/generate_sample_data.py`` first when the data changes, then
``python scripts/build_tiny.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "web4rl" / "tiny"
DEFAULT_DATA = ROOT / "web4rl" / "sample_data"

# Trainer target including the three special tokens. 6144 = 96 * 64, so the model's embedding
# needs no padding rows when the corpus yields enough merges.
VOCAB_SIZE = 6144
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's pre-tokenizer regex (contractions, letter runs, single digits, punctuation runs,
# newlines, whitespace), taken from its tokenizer.json.
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Qwen2-Instruct's ChatML template (default system prompt when none is given).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Sized so that (a) the tool-call format is learnable in minutes on 2 CPU cores and (b) an
# ORPO step on 4 x 256 tokens (chosen + rejected = 8 sequences) stays well under a second.
# head_dim = 256 / 4 = 64; intermediate = 2.5 x hidden. ~3.3M parameters with vocab 4544.
# (Measured on 2 idle cores: LoRA r=16 fwd+bwd+AdamW on 8 x 256 tokens ~0.46 s at hidden 256,
# ~0.36 s at 192; 256 chosen for capacity.)
MODEL_SIZES = {
    "hidden_size": 256,
    "intermediate_size": 640,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}

# Generic text so the vocabulary is not only the sample data's phrasing: English prose,
# TypeScript/React, Python, shell, JSON, Markdown. Written here, not downloaded.
GENERIC_TEXT = [
    """The quick brown fox jumps over the lazy dog. Software engineering is the practice of
designing, building, testing and maintaining programs. A good commit message explains why a
change was made, not only what changed. When you are unsure, read the documentation first,
then write a small test that shows the behaviour you expect.""",
    """Please review the pull request when you have a moment. I fixed the failing build, updated
the README and added tests for the new parser. Could you check whether the error messages are
clear enough? Thanks! Let me know if anything should be renamed before we merge it.""",
    """Security matters: never commit secrets, rotate keys that leaked, validate every input,
escape output, and grant the least privilege a process needs. Destructive commands such as
deleting files or dropping tables deserve a second look and a backup.""",
    """import React, { useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';

export interface LayoutProps {
  title: string;
  children: ReactNode;
}

export function Layout({ title, children }: LayoutProps) {
  const [isOpen, setIsOpen] = useState(false);
  useEffect(() => {
    document.title = title;
  }, [title]);
  const year = useMemo(() => new Date().getFullYear(), []);
  return (
    <main className="layout">
      <header>
        <h1>{title}</h1>
        <button type="button" onClick={() => setIsOpen((open) => !open)}>Menu</button>
      </header>
      {isOpen && <nav aria-label="Main">{children}</nav>}
      <footer>&copy; {year}</footer>
    </main>
  );
}
""",
    """export async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, headers: { 'Content-Type': 'application/json' } });
  if (!response.ok) {
    throw new Error(`Request failed: ${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
type Result<T, E = Error> = { ok: true; value: T } | { ok: false; error: E };
enum Direction { Up = 'UP', Down = 'DOWN' }
const items: Array<Record<string, unknown>> = [];
for (let i = 0; i < 10; i += 1) { items.push({ index: i, even: i % 2 === 0 }); }
""",
    """def fibonacci(n: int) -> list[int]:
    \"\"\"Return the first n Fibonacci numbers.\"\"\"
    values = [0, 1]
    while len(values) < n:
        values.append(values[-1] + values[-2])
    return values[:n]


class Stack:
    def __init__(self) -> None:
        self._items: list[object] = []

    def push(self, item: object) -> None:
        self._items.append(item)
""",
    """$ npm install --save-dev typescript eslint prettier
$ npx tsc --init && npm run build
$ git checkout -b feature/login-form && git add -A && git commit -m "Add login form"
$ ls -la src/ && cat package.json | head -20
$ docker compose up -d && curl -s http://localhost:3000/health
""",
    """{
  "name": "web-app",
  "version": "1.2.0",
  "private": true,
  "scripts": { "dev": "vite", "build": "tsc && vite build", "test": "vitest run", "lint": "eslint ." },
  "dependencies": { "react": "^18.3.1", "react-dom": "^18.3.1" },
  "devDependencies": { "typescript": "^5.5.0", "vite": "^5.4.0", "vitest": "^2.0.0" }
}
""",
    """# Getting started

1. Clone the repository.
2. Run `npm install`.
3. Copy `.env.example` to `.env` and fill in the values.
4. Start the app with `npm run dev` and open http://localhost:5173.

| Command | What it does |
|---------|--------------|
| `npm test` | runs the unit tests |
| `npm run lint` | checks code style |
""",
    """Numbers and symbols: 0 1 2 3 4 5 6 7 8 9 10 42 100 1000 3.14159 -1 1e-5 50% $19.99 #fff
@media (max-width: 768px) { .card { padding: 8px; } } a && b || !c ?? d ?. e => f === g !== h
<div>{items.map((x) => <span key={x.id}>{x.label}</span>)}</div> // comment /* block */
Unicode: café, naïve, Größe, 東京, Москва, emoji 🙂 ✅ 🚀 and arrows → ← ↑ ↓.""",
]


def corpus_lines(data_dir: Path) -> list[str]:
    """All text the tokenizer learns from: every string field of the sample data + generic text."""
    texts: list[str] = list(GENERIC_TEXT)
    for name in ("sft.jsonl", "preferences.jsonl"):
        path = data_dir / name
        if not path.exists():
            raise SystemExit(f"{path} is missing: run scripts/generate_sample_data.py first")
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [v for k, v in row.items() if isinstance(v, str) and k not in ("category", "source")]
    # A few rendered chat turns so the template's fixed strings become single tokens.
    texts += ["<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"] * 8
    texts += ["<|im_end|>\n<|im_start|>assistant\n"] * 8
    return texts


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Byte-level BPE with Qwen2's split; special tokens get ids 0, 1, 2."""
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    # NFC like Qwen2. transformers 5 loads any model_type=qwen2 tokenizer through
    # Qwen2Tokenizer, which rebuilds this exact pipeline (NFC included) from our vocab/merges;
    # shipping the same pipeline keeps raw `tokenizers`, transformers 4.x and 5.x in agreement.
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def tokenizer_config(model_max_length: int) -> dict:
    """tokenizer_config.json contents (Qwen2-style: no bos, pad = endoftext, eos = im_end)."""
    added = {
        str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                 "single_word": False, "special": True}
        for i, t in enumerate(SPECIAL_TOKENS)
    }
    return {
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": model_max_length,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }


def model_config(vocab_size: int, token_ids: dict[str, int]) -> dict:
    """config.json for Qwen2ForCausalLM (keys understood by transformers 4.45+ and 5.x)."""
    padded = -(-vocab_size // 64) * 64
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": padded,
        **MODEL_SIZES,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "attention_dropout": 0.0,
        "use_cache": True,
        "use_sliding_window": False,
        "sliding_window": None,
        "max_window_layers": MODEL_SIZES["num_hidden_layers"],
        "tie_word_embeddings": True,
        "bos_token_id": token_ids["<|endoftext|>"],
        "eos_token_id": token_ids["<|im_end|>"],
        "pad_token_id": token_ids["<|endoftext|>"],
        "torch_dtype": "float32",
    }


def write_json(path: Path, obj: dict) -> None:
    """Stable, diff-friendly JSON."""
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """CLI entry: train the tokenizer and write all tiny-model files into --out."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="sample data directory")
    ap.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    args = ap.parse_args(argv)

    tok = train_tokenizer(corpus_lines(args.data), args.vocab_size)
    ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    assert list(ids.values()) == [0, 1, 2], ids  # the trainer puts special tokens first
    args.out.mkdir(parents=True, exist_ok=True)
    tok.save(str(args.out / "tokenizer.json"))
    max_len = MODEL_SIZES["max_position_embeddings"]
    write_json(args.out / "tokenizer_config.json", tokenizer_config(max_len))
    write_json(args.out / "special_tokens_map.json", {
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
    })
    write_json(args.out / "config.json", model_config(tok.get_vocab_size(), ids))
    write_json(args.out / "generation_config.json", {
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    })
    print(f"wrote tokenizer ({tok.get_vocab_size()} tokens) and config to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
