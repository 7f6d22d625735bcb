"""Small builders shared by the training tests (tiny model, tiny JSONL files)."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import torch

TOOLS = ["read_file", "list_dir", "grep", "write"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def preference_rows(n: int = 24) -> list[dict]:
    rows = []
    for i in range(n):
        tool = TOOLS[i % len(TOOLS)]
        wrong = TOOLS[(i + 1) % len(TOOLS)]
        path = f"src/components/Widget{i}.tsx"
        rows.append({
            "prompt": f"Use the {tool} tool on {path}",
            "chosen": json.dumps({"tool": tool, "args": {"target_file": path}}),
            "rejected": json.dumps({"tool": wrong, "args": {"path": path}}),
            "category": "tool_use",
            "rejected_tags": ["wrong_tool"],
        })
    return rows


def sft_rows(n: int = 24) -> list[dict]:
    return [{"prompt": r["prompt"], "completion": r["chosen"], "category": "tool_use"}
            for r in preference_rows(n)]


def lora_and_base_params(module: torch.nn.Module) -> tuple[dict, dict]:
    lora, base = {}, {}
    for name, p in module.named_parameters():
        (lora if "lora_" in name else base)[name] = p.detach().clone()
    return lora, base


def cpu_trainer(tmp_path: Path, **kwargs) -> L.Trainer:
    defaults = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False,
                    default_root_dir=str(tmp_path))
    defaults.update(kwargs)
    return L.Trainer(**defaults)
