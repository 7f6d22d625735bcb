"""Adapter algebra for Stage 4: merge into the base, weighted averages, stacking.

LoRA on a linear layer adds ``delta_W = (alpha / r) * B @ A`` to the frozen weight. Deltas of
adapters trained on one base add up exactly, which is what every operation here relies on:

- ``merge``: ``W' = W + delta_W`` folded into a standalone model (PEFT ``merge_and_unload``);
- ``average``: ``delta = sum_i w_i * delta_i``; the default method ``cat`` represents it
  EXACTLY as one adapter of rank ``sum_i r_i`` (A_i stacked, B_i scaled by w_i); PEFT's
  ``linear`` (weighted sum of A's and of B's separately: an approximation, equal ranks only),
  ``svd`` and the TIES / DARE variants are available by name;
- ``stack``: adapters trained one after another on merged bases (base + d1 -> train d2 ...)
  compose to ``base + d1 + d2 + ...``, i.e. ``cat`` with weights 1. An adapter continued with
  ``init_adapter`` already contains its starting adapter: stacking it on that start would count
  the start twice, so stack only adapters trained on a merged base.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

AVERAGE_METHODS = ("cat", "linear", "svd", "ties", "dare_linear", "dare_ties", "magnitude_prune")


class AdapterError(ValueError):
    """Adapters that cannot be combined or loaded (mismatched bases, ranks, targets, paths)."""


@dataclass(frozen=True)
class AdapterInfo:
    """What an adapter directory declares (adapter_config.json)."""

    path: Path
    base: str
    r: int
    alpha: float
    target_modules: frozenset[str]
    peft_type: str


def read_adapter(path: str | os.PathLike) -> AdapterInfo:
    """Read and check ``adapter_config.json`` of a PEFT adapter directory."""
    directory = Path(path).expanduser()
    config_file = directory / "adapter_config.json"
    if not config_file.is_file():
        raise AdapterError(f"{directory}: not a PEFT adapter directory (no adapter_config.json)")
    if not any((directory / n).is_file() for n in ("adapter_model.safetensors", "adapter_model.bin")):
        raise AdapterError(f"{directory}: adapter_config.json but no adapter_model.safetensors")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise AdapterError(f"{config_file}:{err.lineno}: invalid JSON ({err.msg})") from None
    if config.get("peft_type") != "LORA":
        raise AdapterError(f"{config_file}: peft_type {config.get('peft_type')!r}, only LORA is supported")
    targets = config.get("target_modules") or []
    return AdapterInfo(
        path=directory, base=str(config.get("base_model_name_or_path") or ""),
        r=int(config["r"]), alpha=float(config["lora_alpha"]),
        target_modules=frozenset([targets] if isinstance(targets, str) else targets),
        peft_type="LORA",
    )


def check_compatible(infos: Sequence[AdapterInfo], method: str, base_override: str | None) -> None:
    """Refuse combinations that are not meaningful: different bases (unless the caller names
    the base), different target modules, different ranks for ``linear``."""
    if len(infos) < 2:
        raise AdapterError("need at least two adapters to combine")
    if base_override is None and len({_same_base_key(i.base) for i in infos}) > 1:
        listing = ", ".join(f"{i.path} -> {i.base or '?'}" for i in infos)
        raise AdapterError(f"adapters were trained on different bases ({listing}); "
                           "pass --base to combine them on one base anyway")
    if len({i.target_modules for i in infos}) > 1:
        listing = ", ".join(f"{i.path}: {sorted(i.target_modules)}" for i in infos)
        raise AdapterError(f"adapters target different modules ({listing})")
    if method == "linear" and len({i.r for i in infos}) > 1:
        listing = ", ".join(f"{i.path}: r={i.r}" for i in infos)
        raise AdapterError(f"method 'linear' needs equal ranks ({listing}); use 'cat' (exact)")


def _same_base_key(base: str) -> str:
    from web4rl.tiny import TINY_NAME, is_tiny

    return TINY_NAME if base and is_tiny(base) else base


def load_base(base: str, dtype: str = "float32", seed: int = 0):
    """(model, tokenizer) of a base: an HF id, a local directory, or ``web4rl/tiny``."""
    from web4rl.policy import Policy, _resolve_dtype

    torch_dtype = _resolve_dtype(dtype)  # type: ignore[arg-type]
    return Policy._load_base(base, torch_dtype, None, seed), Policy._load_tokenizer(base)


def _load_peft(infos: Sequence[AdapterInfo], base: str | None, dtype: str, seed: int):
    from peft import PeftModel

    base_name = base or infos[0].base
    if not base_name:
        raise AdapterError(f"{infos[0].path}: adapter_config.json names no base model; pass --base")
    model, tokenizer = load_base(base_name, dtype, seed)
    names = [f"a{i}" for i in range(len(infos))]
    peft_model = PeftModel.from_pretrained(model, str(infos[0].path), adapter_name=names[0])
    for name, info in zip(names[1:], infos[1:], strict=True):
        peft_model.load_adapter(str(info.path), adapter_name=name)
    return peft_model.eval(), tokenizer, names


def _save_adapter(peft_model, name: str, tokenizer, out: Path) -> Path:
    from web4rl.atomic import atomic_directory

    with atomic_directory(out) as tmp:
        peft_model.save_pretrained(str(tmp), selected_adapters=[name], safe_serialization=True)
        # save_pretrained puts a non-default adapter in a sub-folder named after it
        nested = tmp / name
        if nested.is_dir():
            for item in nested.iterdir():
                item.rename(tmp / item.name)
            nested.rmdir()
        tokenizer.save_pretrained(str(tmp))
    return out


def _save_merged(model, tokenizer, out: Path, max_shard_size: str) -> Path:
    from web4rl.atomic import atomic_directory

    with atomic_directory(out) as tmp:
        model.save_pretrained(str(tmp), safe_serialization=True, max_shard_size=max_shard_size)
        tokenizer.save_pretrained(str(tmp))
    return out


def merge(adapter: str | os.PathLike, out: str | os.PathLike, *, base: str | None = None,
          dtype: str = "float32", seed: int = 0, max_shard_size: str = "5GB") -> Path:
    """Fold ``adapter`` into its base and save a standalone Hugging Face model (safetensors,
    sharded above ``max_shard_size``, tokenizer included)."""
    info = read_adapter(adapter)
    peft_model, tokenizer, _ = _load_peft([info], base, dtype, seed)
    return _save_merged(peft_model.merge_and_unload(), tokenizer, Path(out), max_shard_size)


def average(adapters: Sequence[str | os.PathLike], out: str | os.PathLike, *,
            weights: Sequence[float] | None = None, method: str = "cat", density: float = 0.5,
            base: str | None = None, dtype: str = "float32", seed: int = 0,
            merged: bool = False, max_shard_size: str = "5GB") -> Path:
    """Weighted combination of adapters trained on one base, saved as one adapter (or, with
    ``merged``, as a standalone model). ``weights`` default to 1/n each; ``density`` is the
    kept fraction for TIES/DARE/magnitude pruning."""
    if method not in AVERAGE_METHODS:
        raise AdapterError(f"method {method!r} is not one of {', '.join(AVERAGE_METHODS)}")
    infos = [read_adapter(a) for a in adapters]
    weights = list(weights) if weights is not None else [1.0 / len(infos)] * len(infos)
    if len(weights) != len(infos):
        raise AdapterError(f"{len(weights)} weights for {len(infos)} adapters")
    check_compatible(infos, method, base)
    peft_model, tokenizer, names = _load_peft(infos, base, dtype, seed)
    kwargs = {"density": density} if method in ("ties", "dare_linear", "dare_ties", "magnitude_prune") else {}
    peft_model.add_weighted_adapter(names, weights, "combined", combination_type=method, **kwargs)
    peft_model.set_adapter("combined")
    for name in names:
        peft_model.delete_adapter(name)
    if merged:
        return _save_merged(peft_model.merge_and_unload(), tokenizer, Path(out), max_shard_size)
    return _save_adapter(peft_model, "combined", tokenizer, Path(out))


def stack(adapters: Sequence[str | os.PathLike], out: str | os.PathLike, **kwargs) -> Path:
    """Apply adapters in sequence (``base + d1 + d2 + ...``, exact) and save one adapter of
    rank ``sum r_i`` or, with ``merged=True``, one standalone model."""
    return average(adapters, out, weights=[1.0] * len(adapters), method="cat", **kwargs)
