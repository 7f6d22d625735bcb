"""Gate-aware checkpoints: a rollback-safe flag in every checkpoint and in an index file next to
them, the newest safe checkpoint protected from top-k pruning, and checkpoint -> PEFT adapter.

``<dirpath>/gates_index.json`` maps each checkpoint file that exists to its record::

    {"checkpoints": {"<path>": {"step": 100, "stage": "sft", "rollback_safe": true,
                                "score": 0.83, "gates": {...}, "reasons": [...]}}}

A path that is overwritten (``last.ckpt``) keeps only its newest record; a removed file loses
its entry. The file is replaced atomically (written aside, then ``os.replace``).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from web4rl.algorithms.base import POLICY_KEY
from web4rl.atomic import atomic_directory

INDEX_NAME = "gates_index.json"
GATE_KEY = "web4rl_gates"  # checkpoint entry written by GatedCheckpoint


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to a sibling temp file, then rename it over ``path`` (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=float), encoding="utf-8")
    os.replace(tmp, path)


def read_index(dirpath: str | Path) -> dict[str, dict[str, Any]]:
    """Records of the checkpoints in ``dirpath`` whose files still exist (path -> record)."""
    path = Path(dirpath) / INDEX_NAME
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8")).get("checkpoints", {})
    return {p: r for p, r in entries.items() if Path(p).is_file()}


def newest_safe(dirpath: str | Path, before_step: int | None = None) -> tuple[str, dict] | None:
    """The newest rollback-safe checkpoint (optionally with step < ``before_step``)."""
    safe = [(r["step"], p, r) for p, r in read_index(dirpath).items() if r.get("rollback_safe")
            and (before_step is None or r["step"] < before_step)]
    if not safe:
        return None
    _, path, record = max(safe, key=lambda t: (t[0], t[1]))
    return path, record


def best_safe(dirpath: str | Path, mode: str = "min") -> tuple[str, dict] | None:
    """The rollback-safe checkpoint with the best monitored score (ties: newest)."""
    scored = [(r["score"], r["step"], p, r) for p, r in read_index(dirpath).items()
              if r.get("rollback_safe") and r.get("score") is not None
              and math.isfinite(r["score"])]
    if not scored:
        return None
    sign = 1.0 if mode == "min" else -1.0
    _, _, path, record = min(scored, key=lambda t: (sign * t[0], -t[1]))
    return path, record


def checkpoint_record(trainer) -> dict[str, Any]:
    """The gate record of the current step: EvalGates' when one is attached (it evaluates at
    each checkpoint), else safe. A non-finite last training loss or a pending rollback (see
    :class:`~web4rl.callbacks.Rollback`) always makes it unsafe."""
    record = None
    for cb in trainer.callbacks:
        if callable(getattr(cb, "checkpoint_record", None)):
            record = cb.checkpoint_record(trainer)
    if record is None:
        record = {"step": trainer.global_step, "rollback_safe": True, "gates": {}, "reasons": []}
    loss = trainer.callback_metrics.get("train/loss")
    if loss is not None and not bool(torch.isfinite(torch.as_tensor(loss)).all()):
        record = {**record, "rollback_safe": False,
                  "reasons": [*record.get("reasons", []), "non-finite train/loss"]}
    for cb in trainer.callbacks:
        reason = getattr(cb, "pending_reason", None)
        if reason:
            record = {**record, "rollback_safe": False,
                      "reasons": [*record.get("reasons", []), reason]}
    return record


class GatedCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that records each checkpoint's rollback-safe status in
    ``gates_index.json`` and never prunes the newest rollback-safe checkpoint.

    The status comes from :func:`checkpoint_record` (EvalGates' verdict at this step, a
    finite training loss, no pending rollback).
    All ``ModelCheckpoint`` arguments apply (``every_n_train_steps``, ``save_top_k``, ...).
    """

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        # Every rank runs this (EvalGates may evaluate here: a collective under DDP); the
        # index write below (rank 0 only) reuses the record instead of evaluating again.
        self._record = checkpoint[GATE_KEY] = checkpoint_record(trainer)

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        super()._save_checkpoint(trainer, filepath)
        if not trainer.is_global_zero:
            return
        record = dict(getattr(self, "_record", None) or {"step": trainer.global_step,
                                                         "rollback_safe": False})
        score = self.current_score if self.monitor else None
        record["score"] = None if score is None else float(score)
        index_path = Path(self.dirpath) / INDEX_NAME
        entries = read_index(self.dirpath)
        entries[str(filepath)] = record
        write_json_atomic(index_path, {"checkpoints": entries})

    def write_adapter_out(self, trainer, adapter_dir: str, tokenizer, mode: str) -> bool:
        """PolicyModule.on_fit_end asks this first (see :func:`adapter_from_checkpoints`)."""
        return adapter_from_checkpoints(trainer, adapter_dir, tokenizer, mode)

    def _remove_checkpoint(self, trainer, filepath: str) -> None:
        newest = newest_safe(self.dirpath) if trainer.is_global_zero else None
        keep = trainer.strategy.broadcast(newest is not None and newest[0] == str(filepath))
        if keep:  # the newest restore point outlives top-k pruning
            return
        super()._remove_checkpoint(trainer, filepath)


# ---------------------------------------------------------------------------- adapters out
_ADAPTER_SEGMENT = re.compile(r"\.default(?=\.|$)")


def peft_tensors(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Checkpoint keys (``policy.model.<peft name>.lora_A.default.weight``) -> the names
    ``adapter_model.safetensors`` uses (module prefix and adapter name dropped)."""
    out = {}
    for key, value in state_dict.items():
        if not key.startswith("policy.model.") or "lora_" not in key:
            continue
        name = _ADAPTER_SEGMENT.sub("", key[len("policy.model."):])
        out[name] = value.detach().cpu().contiguous()
    return out


class ExportError(ValueError):
    """A checkpoint that cannot become an adapter (message says why)."""


def export_adapter(ckpt_path: str | Path, out_dir: str | Path, tokenizer=None,
                   overwrite: bool = False) -> Path:
    """Write a checkpoint's trainable LoRA weights as a PEFT adapter directory
    (adapter_config.json + adapter_model.safetensors; plus the tokenizer when given), loadable
    by ``peft.PeftModel.from_pretrained`` and ``Policy(init_adapter=...)``. Written to a temp
    sibling and renamed into place."""
    from safetensors.torch import save_file

    ckpt_path, target = Path(ckpt_path), Path(out_dir)
    if not ckpt_path.is_file():
        raise ExportError(f"--ckpt: {ckpt_path} does not exist")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise ExportError(f"-o: {target} already holds files (pass --overwrite)")
    try:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file
        raise ExportError(f"--ckpt: {ckpt_path} is not a readable checkpoint ({e})") from None
    record = ckpt.get(POLICY_KEY)
    if record is None:
        raise ExportError(f"--ckpt: {ckpt_path} has no {POLICY_KEY} entry (not written by a "
                          "web4rl PolicyModule)")
    tensors = peft_tensors(ckpt.get("state_dict", {}))
    if not tensors:
        raise ExportError(f"--ckpt: {ckpt_path} holds no LoRA tensors")
    with atomic_directory(target) as tmp:
        save_file(tensors, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
        (tmp / "adapter_config.json").write_text(json.dumps(record["peft_config"], indent=2),
                                                 encoding="utf-8")
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp))
    return target


def adapter_from_checkpoints(trainer, adapter_dir: str, tokenizer, mode: str) -> bool:
    """Handle the adapter out at fit end from the checkpoints when that applies. Returns True
    when handled (written, or deliberately not written), False when the caller should save
    the live weights.

    - a Rollback restore follows this fit: nothing yet (the run has not ended);
    - the Rollback callback stopped the run: the best rollback-safe adapter, else nothing
      (the live weights are the diverged ones);
    - ``mode == "best"``: the best rollback-safe checkpoint's adapter when there is one.
    """
    stopped = any(getattr(cb, "stop_reason", None) for cb in trainer.callbacks)
    pending = any(getattr(cb, "pending_reason", None) for cb in trainer.callbacks)
    if pending and not stopped:
        return True
    if stopped:
        if not write_best_adapter(trainer, adapter_dir, tokenizer):
            rank_zero_warn(f"web4rl: run stopped and no rollback-safe checkpoint; nothing "
                           f"written to {adapter_dir}")
        return True
    return mode == "best" and write_best_adapter(trainer, adapter_dir, tokenizer)


def write_best_adapter(trainer, adapter_dir: str, tokenizer) -> bool:
    """Export the best rollback-safe checkpoint's adapter to ``adapter_dir`` (rank 0).
    Returns False (nothing written) when there is no GatedCheckpoint or no safe checkpoint."""
    ckpt_cb = next((cb for cb in trainer.callbacks if isinstance(cb, GatedCheckpoint)), None)
    if ckpt_cb is None or ckpt_cb.dirpath is None:
        return False
    found = None
    if trainer.is_global_zero:
        found = best_safe(ckpt_cb.dirpath, ckpt_cb.mode) or newest_safe(ckpt_cb.dirpath)
    found = trainer.strategy.broadcast(found)
    if found is None:
        rank_zero_warn("web4rl: no rollback-safe checkpoint; adapter_dir gets the final weights")
        return False
    if trainer.is_global_zero:
        export_adapter(found[0], adapter_dir, tokenizer=tokenizer, overwrite=True)
        rank_zero_info(f"web4rl: adapter_dir {adapter_dir} <- best rollback-safe checkpoint "
                       f"{found[0]} (step {found[1]['step']})")
    return True


def export_main(argv: list[str] | None = None) -> int:
    """``python -m web4rl export-adapter --ckpt X.ckpt -o DIR``."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m web4rl export-adapter",
                                description="write a checkpoint's LoRA adapter as a PEFT directory")
    p.add_argument("--ckpt", required=True, help="a web4rl Lightning checkpoint (.ckpt)")
    p.add_argument("-o", "--out", required=True, help="adapter directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing directory")
    p.add_argument("--tokenizer", help="also save this tokenizer (name/path; web4rl/tiny ok)")
    args = p.parse_args(argv)
    try:
        tok = None
        if args.tokenizer:
            from web4rl.data import load_tokenizer

            tok = load_tokenizer(args.tokenizer)
        path = export_adapter(args.ckpt, args.out, tokenizer=tok, overwrite=args.overwrite)
    except ExportError as e:
        print(f"web4rl export-adapter: error: {e}", file=sys.stderr)
        return 2
    print(f"web4rl export-adapter: wrote {path}")
    return 0
