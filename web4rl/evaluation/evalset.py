"""Evaluation sets: prompts with categories (judged) and held-out simulator tasks.

The default set ships with the package without a separate file: it is the *test* split of the
shipped SFT sample data (``web4rl/sample_data/sft.jsonl``) under the split the shipped configs
use (seed 42, fractions 0.8/0.1/0.1, grouped by prompt), so no prompt of it is ever trained on
or used for validation by those configs. Held-out simulator tasks are procedural tasks from a
reserved seed block (:data:`HELDOUT_TASK_SEED`); the curriculum draws its seeds uniformly from
[0, 2**31 - 1), so a collision with the block is possible but has probability ~n / 2**31.

An evaluation file is JSONL, one object per line: ``{"prompt": str | [messages], "category"?,
"id"?, "completion"? (a gold answer, shown in the report), "expected_actions"?}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_SPLIT_SEED = 42
DEFAULT_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
HELDOUT_TASK_SEED = 1_900_000_000  # start of the reserved seed block for held-out tasks


class EvalSetError(ValueError):
    """A bad evaluation file; the message names file, line and field."""


@dataclass(frozen=True)
class EvalPrompt:
    """One evaluation prompt.

    Attributes:
        id: stable identifier (file stem + line, or the row's own ``id``).
        prompt: user text, or a chat message list.
        category: tool_use, style, multi_step, guardrail, ... (None: unknown).
        reference: a gold completion, shown next to the model's in the report (optional).
        expected_actions: the gold plan as ``[{"tool", "args"}]`` (optional; the judge uses it).
    """

    id: str
    prompt: str | tuple[dict, ...]
    category: str | None = None
    reference: str | None = None
    expected_actions: tuple[dict[str, Any], ...] | None = None

    @property
    def text(self) -> str:
        """The prompt as one string (the last user message of a message list)."""
        if isinstance(self.prompt, str):
            return self.prompt
        users = [m["content"] for m in self.prompt if m.get("role") == "user"]
        return users[-1] if users else self.prompt[-1]["content"]

    def chat(self) -> str | list[dict]:
        """The prompt as the generation path takes it."""
        return self.prompt if isinstance(self.prompt, str) else [dict(m) for m in self.prompt]


def default_eval_prompts(limit: int | None = None) -> list[EvalPrompt]:
    """The shipped evaluation prompts: the held-out test split of the shipped SFT sample data."""
    from web4rl.data import SFTDataModule

    dm = SFTDataModule(seed=DEFAULT_SPLIT_SEED, split_fractions=DEFAULT_SPLIT_FRACTIONS)
    dm.validate()
    out = []
    for rec in dm.records["test"]:
        msgs = tuple(dict(m) for m in rec.prompt)
        prompt: str | tuple[dict, ...] = (
            msgs[0]["content"] if len(msgs) == 1 and msgs[0]["role"] == "user" else msgs
        )
        out.append(EvalPrompt(f"sft_test:{rec.location.line}", prompt, rec.category,
                              rec.completion))
    return out[:limit] if limit is not None else out


def _expected(value: Any, where: str) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(a, dict) and isinstance(a.get("tool"), str) for a in value
    ):
        raise EvalSetError(f"{where}: field 'expected_actions' must be a list of "
                           '{"tool": name, "args": {...}} objects')
    return tuple({"tool": a["tool"], "args": dict(a.get("args", {}))} for a in value)


def load_eval_prompts(path: str | Path) -> list[EvalPrompt]:
    """Read an evaluation JSONL file; raises :class:`EvalSetError` naming file:line and field."""
    path = Path(path)
    if not path.is_file():
        raise EvalSetError(f"{path}: evaluation file does not exist")
    out: list[EvalPrompt] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise EvalSetError(f"{where}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise EvalSetError(f"{where}: a row must be a JSON object")
            prompt = row.get("prompt")
            if isinstance(prompt, list):
                if not all(isinstance(m, dict) and isinstance(m.get("content"), str)
                           and isinstance(m.get("role"), str) for m in prompt) or not prompt:
                    raise EvalSetError(f"{where}: field 'prompt' must be a string or a list of "
                                       '{"role", "content"} messages')
                prompt = tuple(dict(m) for m in prompt)
            elif not isinstance(prompt, str) or not prompt.strip():
                raise EvalSetError(f"{where}: field 'prompt' must be a non-empty string")
            for key in ("category", "id", "completion"):
                if row.get(key) is not None and not isinstance(row[key], str):
                    raise EvalSetError(f"{where}: field {key!r} must be a string")
            out.append(EvalPrompt(
                row.get("id") or f"{path.stem}:{line_no}", prompt, row.get("category"),
                row.get("completion"), _expected(row.get("expected_actions"), where),
            ))
    if not out:
        raise EvalSetError(f"{path}: no evaluation rows")
    return out


def heldout_tasks(n: int, difficulty: str = "simple",
                  categories: Sequence[str] | None = None) -> list:
    """``n`` procedural simulator tasks from the reserved seed block, categories in turn."""
    from web4rl.sim.generators import generate_task
    from web4rl.sim.tasks import CATEGORIES

    cats = tuple(categories or CATEGORIES)
    return [generate_task(cats[i % len(cats)], difficulty, HELDOUT_TASK_SEED + i)
            for i in range(n)]
