"""Fixtures for the data-layer tests: offline tokenizers and JSONL writers.

``tokenizer`` is the package's tiny tokenizer (what the cpu configs use). ``bpe_tokenizer`` and
``plain_tokenizer`` are byte-level BPEs trained here in milliseconds on a few lines, with and
without a chat template, so the masking tests also run against a second vocabulary. Nothing
downloads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

CORPUS = [
    "Read the file src/index.ts and list the directory.",
    '{"tool": "read_file", "args": {"path": "src/index.ts"}}',
    "export const Button = () => <button>Click</button>;",
    "I cannot help with that request.",
    "Refactor this function to use async/await.",
]


def _build_tokenizer(with_template: bool) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = CHAT_TEMPLATE if with_template else None
    return fast


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """The built-in tiny tokenizer (ChatML template; eos ``<|im_end|>``, pad ``<|endoftext|>``)."""
    from web4rl.tiny import load_tiny_tokenizer

    return load_tiny_tokenizer()


@pytest.fixture(scope="session")
def bpe_tokenizer() -> Any:
    """A BPE tokenizer built here, with a ChatML template: tests do not depend on tiny's vocab."""
    return _build_tokenizer(with_template=True)


@pytest.fixture(scope="session")
def plain_tokenizer() -> Any:
    """A tokenizer without a chat template (exercises the plain fallback format)."""
    return _build_tokenizer(with_template=False)


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """``write_jsonl(name, rows)`` writes rows (dicts, or raw str lines) into ``tmp_path``."""

    def write(name: str, rows: list[Any]) -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def _pref_row(i: int, category: str = "tool_use", **extra: Any) -> dict[str, Any]:
    """A valid preference row whose prompt is unique per ``i``."""
    row = {
        "prompt": f"Read file number {i}",
        "chosen": f'{{"tool": "read_file", "args": {{"path": "src/{i}.ts"}}}}',
        "rejected": "I will now read the file for you in great detail.",
        "category": category,
        "rejected_tags": ["verbose"],
        "source": "synthetic",
    }
    row.update(extra)
    return row


def _sft_row(i: int, category: str = "tool_use") -> dict[str, Any]:
    """A valid prompt/completion SFT row whose prompt is unique per ``i``."""
    return {
        "prompt": f"Read file number {i}",
        "completion": f'{{"tool": "read_file", "args": {{"path": "src/{i}.ts"}}}}',
        "category": category,
    }


@pytest.fixture(scope="session")
def pref_row() -> Callable[..., dict[str, Any]]:
    """``pref_row(i, category="tool_use", **overrides)``: a valid preference row."""
    return _pref_row


@pytest.fixture(scope="session")
def sft_row() -> Callable[..., dict[str, Any]]:
    """``sft_row(i, category="tool_use")``: a valid prompt/completion SFT row."""
    return _sft_row
