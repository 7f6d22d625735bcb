"""The built-in tiny model: a small Qwen2-architecture config plus a ChatML tokenizer.

Everything here works offline. No weights are shipped: the base model is built from
``config.json`` with a fixed seed, so ``build_tiny_model(seed)`` is the same model on every
machine. The files are produced by ``scripts/build_tiny.py`` (tokenizer trained on the shipped
sample data) and loaded with the ordinary ``transformers`` Auto classes::

    from web4rl.tiny import TINY_DIR, build_tiny_model, load_tiny_tokenizer
    tok = load_tiny_tokenizer()            # == AutoTokenizer.from_pretrained(TINY_DIR)
    model = build_tiny_model(seed=0)       # fresh Qwen2ForCausalLM, deterministic per seed

Tokenizer facts other modules rely on: pad ``<|endoftext|>`` (id 0), ``<|im_start|>`` (id 1),
eos ``<|im_end|>`` (id 2), no bos; ``apply_chat_template`` renders Qwen2's ChatML.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep `import web4rl.tiny` cheap: torch/transformers load on first use
    import torch
    from transformers import PretrainedConfig, PreTrainedTokenizerBase, Qwen2ForCausalLM

TINY_DIR: Path = Path(__file__).resolve().parent
"""Directory holding config.json, generation_config.json and the tokenizer files."""

TINY_NAME = "web4rl/tiny"
"""The name configs use for the built-in model (``model_name_or_path: web4rl/tiny``)."""


def is_tiny(name: str | os.PathLike[str]) -> bool:
    """True when ``name`` means the built-in tiny model.

    Accepts the name ``"web4rl/tiny"`` (with or without a trailing slash) or any path that
    resolves to :data:`TINY_DIR`. HF hub ids and other local paths give False.
    """
    text = os.fspath(name)
    if text.rstrip("/\\") == TINY_NAME:
        return True
    try:
        return Path(text).expanduser().resolve() == TINY_DIR
    except (OSError, RuntimeError):  # unresolvable path: certainly not our directory
        return False


def tiny_config() -> PretrainedConfig:
    """The tiny model's ``Qwen2Config`` (read from ``config.json``)."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(TINY_DIR)


def load_tiny_tokenizer() -> PreTrainedTokenizerBase:
    """The tiny tokenizer, loaded offline with ``AutoTokenizer`` from :data:`TINY_DIR`."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TINY_DIR)


def build_tiny_model(
    seed: int = 0,
    dtype: torch.dtype | None = None,
    attn_implementation: str | None = None,
) -> Qwen2ForCausalLM:
    """A freshly initialised ``Qwen2ForCausalLM`` from the tiny config; same seed, same weights.

    Args:
        seed: initialisation seed. The global torch RNG state is saved and restored, so
            building a model does not disturb the caller's random stream.
        dtype: parameter dtype (default float32). Weights are always initialised in float32
            and then cast, so a given seed gives the same values in every dtype up to rounding.
        attn_implementation: passed to ``from_config`` ("eager", "sdpa", ...); None = default.
    """
    import torch
    from transformers import AutoModelForCausalLM

    kwargs = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
    config = tiny_config()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, **kwargs)
    if dtype is not None:
        model = model.to(dtype)
    return model


__all__ = [
    "TINY_DIR",
    "TINY_NAME",
    "build_tiny_model",
    "is_tiny",
    "load_tiny_tokenizer",
    "tiny_config",
]
