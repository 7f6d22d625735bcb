"""Export a deployable model (merged safetensors or GGUF) and prove it by loading it back and
comparing logits with the in-memory merged model on a few prompts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from web4rl.adapters.gguf_export import export_gguf
from web4rl.adapters.ops import AdapterError, _load_peft, _save_merged, load_base, read_adapter

VERIFY_PROMPTS = ("Read src/App.tsx", "List the files in src/components",
                  "Write a React button component in TypeScript")
# Max |logit difference| accepted after a round trip, by stored type.
TOLERANCE = {"f32": 1e-4, "safetensors": 1e-4, "f16": 5e-2, "bf16": 2e-1, "q8_0": 5e-1}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    max_logit_diff: float | None
    tolerance: float | None


def _merged_model(source: str | os.PathLike, base: str | None, dtype: str, seed: int):
    """(merged model, tokenizer) from an adapter directory or an already merged model."""
    if (Path(source) / "adapter_config.json").is_file():
        peft_model, tokenizer, _ = _load_peft([read_adapter(source)], base, dtype, seed)
        return peft_model.merge_and_unload().eval(), tokenizer
    if not (Path(source) / "config.json").is_file():
        raise AdapterError(f"{source}: neither an adapter (adapter_config.json) nor a model (config.json)")
    model, tokenizer = load_base(str(source), dtype, seed)
    return model.eval(), tokenizer


@torch.no_grad()
def _max_logit_diff(model, reloaded, tokenizer) -> float:
    worst = 0.0
    for prompt in VERIFY_PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        a = model(input_ids=ids).logits.float()
        b = reloaded(input_ids=ids).logits.float()
        worst = max(worst, (a - b).abs().max().item())
    return worst


def export(source: str | os.PathLike, out: str | os.PathLike, *, fmt: str = "safetensors",
           kind: str = "f16", verify: bool = True, base: str | None = None,
           dtype: str = "float32", seed: int = 0) -> ExportResult:
    """Write the merged model of ``source`` as a safetensors directory (``fmt="safetensors"``)
    or a single GGUF file of type ``kind`` (``fmt="gguf"``); with ``verify``, load it back
    (transformers, ``gguf_file=`` for GGUF) and check logits within the type's tolerance."""
    from transformers import AutoModelForCausalLM

    model, tokenizer = _merged_model(source, base, dtype, seed)
    out = Path(out)
    if fmt == "gguf":
        if out.suffix != ".gguf":
            out = out / "model.gguf"
        export_gguf(model, tokenizer, out, kind, name=Path(source).name)
        load = lambda: AutoModelForCausalLM.from_pretrained(  # noqa: E731
            str(out.parent), gguf_file=out.name, dtype=torch.float32)
        tolerance = TOLERANCE[kind]
    elif fmt == "safetensors":
        _save_merged(model, tokenizer, out, "5GB")
        load = lambda: AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32)  # noqa: E731
        tolerance = TOLERANCE["safetensors"]
    else:
        raise AdapterError(f"format {fmt!r} is not one of safetensors, gguf")
    if not verify:
        return ExportResult(out, None, None)
    diff = _max_logit_diff(model.float(), load().eval(), tokenizer)
    if diff > tolerance:
        raise AdapterError(f"{out}: reloaded model differs from the merged one (max |logit diff| "
                           f"{diff:.3g} > {tolerance:g}); the file is kept for inspection")
    return ExportResult(out, diff, tolerance)
