"""Hugging Face model card for an exported adapter or merged model: YAML metadata (base
model, library, tags, datasets), training lineage (stages, configs, data hashes), the
evaluation gate table and known limits."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from web4rl.adapters.ops import read_adapter


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _yaml_list(key: str, values: list[str]) -> list[str]:
    return [f"{key}:"] + [f"- {json.dumps(v)}" for v in values] if values else []


def _lineage_rows(lineage: list[dict], root: Path) -> list[str]:
    rows = ["| stage | algorithm | config | adapter | data (sha256, first 12) |", "|---|---|---|---|---|"]
    for entry in lineage:
        data = []
        for item in entry.get("data", []):
            path = (root / item) if not Path(item).is_absolute() else Path(item)
            data.append(f"`{Path(item).name}` {file_sha256(path)[:12]}" if path.is_file()
                        else f"`{Path(item).name}` (missing)")
        rows.append(f"| {entry.get('stage', '?')} | {entry.get('algorithm', '')} | "
                    f"`{entry.get('config', '')}` | `{entry.get('adapter', '')}` | "
                    f"{'<br>'.join(data) or '-'} |")
    return rows


def _gate_rows(report: dict, adapter_name: str | None) -> list[str]:
    """Gate table of an ``evaluate`` report (``adapters.<name>.gates``; the only or the named
    adapter) or of a plain ``{"gates": ...}`` mapping."""
    if "adapters" in report:
        entries = report["adapters"]
        name = adapter_name or (next(iter(entries)) if len(entries) == 1 else None)
        if name not in entries:
            return [f"The evaluation report holds {', '.join(entries)}; name one with --eval-adapter."]
        report = entries[name]
    gates = report.get("gates", {})
    if not gates:
        return ["No gate results in the evaluation report."]
    rows = ["| gate | value | threshold | pass |", "|---|---|---|---|"]
    for name, gate in gates.items():
        value, threshold = gate.get("value"), gate.get("threshold")
        shown = f"{value:.4f}" if isinstance(value, (int, float)) else str(value)
        verdict = {True: "yes", False: "NO", None: "no data"}[gate.get("passed")]
        rows.append(f"| {name} | {shown} | {threshold} | {verdict} |")
    return rows


# Directory names web4rl and PEFT users give every adapter (runs/<config>/adapter, .../final):
# as a card title they say nothing, so the run directory above them names the card instead.
_GENERIC_DIR_NAMES = frozenset({"adapter", "adapters", "lora", "final", "best", "last", "checkpoint"})


def card_title(adapter: str | os.PathLike) -> str:
    """The card's heading: the adapter directory's name, or ``<run>/<name>`` when the name is
    generic (``runs/orpo_cpu/adapter`` -> ``orpo_cpu/adapter``)."""
    path = Path(adapter).resolve()
    if path.name.lower() in _GENERIC_DIR_NAMES and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def write_card(adapter: str | os.PathLike, out: str | os.PathLike, *, lineage: list[dict] | None = None,
               eval_report: dict | None = None, eval_adapter: str | None = None,
               base: str | None = None,
               limits: list[str] | None = None, lineage_root: str | os.PathLike = ".") -> Path:
    """Write README.md-style model card text to ``out`` for ``adapter`` (PEFT directory)."""
    info = read_adapter(adapter)
    base_name = base or info.base
    lineage = lineage or []
    datasets = sorted({Path(d).name for e in lineage for d in e.get("data", [])})
    meta = ["---", f"base_model: {json.dumps(base_name)}", "library_name: peft",
            *_yaml_list("tags", ["web4rl", "lora", "tool-use", "code"]
                        + sorted({e["algorithm"].lower() for e in lineage if e.get("algorithm")})),
            *_yaml_list("datasets", datasets), "---", ""]
    body = [
        f"# {card_title(adapter)}", "",
        f"LoRA adapter (r={info.r}, alpha={info.alpha:g}, targets: "
        f"{', '.join(sorted(info.target_modules))}) for `{base_name}`, trained with web4rl.", "",
        "## Use", "", "```python", "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f"base = AutoModelForCausalLM.from_pretrained({json.dumps(base_name)})",
        f"model = PeftModel.from_pretrained(base, {json.dumps(str(Path(adapter).name))})",
        "```", "", "## Training lineage", "",
        *(_lineage_rows(lineage, Path(lineage_root)) if lineage else ["Not recorded."]), "",
        "## Evaluation gates", "", *(_gate_rows(eval_report, eval_adapter) if eval_report else ["No evaluation report given."]), "",
        "## Known limits", "",
        *[f"- {item}" for item in (limits or [
            "Evaluated on the judge and simulator of web4rl, not on human raters.",
            "Tool calls follow the tool profile it was trained on; other tool sets need retraining.",
        ])], "",
    ]
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(meta + body), encoding="utf-8")
    tmp.replace(path)
    return path
