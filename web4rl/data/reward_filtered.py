"""Stage 2 data: judge-scored samples in, reward-filtered (RS-SFT) or AWR-weighted batches out.

Rows are the output of ``python -m web4rl sample --score`` or ``python -m web4rl score``
(DESIGN.md section 5): ``{"prompt_id", "prompt", "completion", "reward", "components"?,
"temperature"?, "category"?}``. A row without ``prompt_id`` gets one derived from its prompt
(:func:`derive_prompt_id`, the same hash ``sample`` uses), so scored SFT files work as they are.

Selection runs on each source before the train/val/test split, and the split keeps every
sample of a prompt in one split (rows are grouped by prompt), so held-out metrics never see a
prompt the model trained on.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

from web4rl.data.batches import SequenceBatch
from web4rl.data.modules import SFTDataModule
from web4rl.data.records import (
    DataValidationError,
    Location,
    Message,
    RowError,
    SFTRecord,
    parse_sft_row,
)
from web4rl.data.tokenize import SFTCollator, TokenizedSFT, TruncationStats, tokenize_sft
from web4rl.rl.awr import awr_weights

Mode = Literal["top1", "weighted"]


def derive_prompt_id(prompt: str | Sequence[Message]) -> str:
    """A stable id for a prompt: ``p-`` + 16 hex digits of SHA-1 over its canonical JSON
    (a string prompt counts as one user message), identical across runs and machines."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    canon = json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False)
    return "p-" + hashlib.sha1(canon.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ScoredRecord(SFTRecord):
    """A judge-scored sample (an :class:`SFTRecord` plus its score).

    Attributes:
        prompt_id: the prompt's id (samples of one prompt share it).
        reward: the judge's reward (finite; the judge gives [0, 1]).
        weight: loss weight (1 in top1 mode, the AWR weight in weighted mode).
    """

    prompt_id: str = ""
    reward: float = 0.0
    weight: float = 1.0


def parse_scored_row(row: Any, location: Location) -> ScoredRecord | list[RowError]:
    """Parse one scored row: an SFT row (prompt + completion, ...) plus ``reward`` and an
    optional ``prompt_id``. Returns the record or every problem of the row."""
    # A sampled completion may be empty (the policy stopped at once): a real sample with its
    # reward, trained as the stop token alone; only the other fields are checked here.
    empty = isinstance(row, dict) and row.get("completion") == ""
    base = parse_sft_row({**row, "completion": "-"} if empty else row, location)
    if empty and not isinstance(base, list):
        base = replace(base, completion="")
    errors = base if isinstance(base, list) else []
    if not isinstance(row, dict):
        return errors
    reward = row.get("reward")
    if reward is None:
        errors.append(RowError(location, "reward", "missing (score the samples first: "
                                                   "python -m web4rl score FILE)"))
    elif isinstance(reward, bool) or not isinstance(reward, int | float) or not math.isfinite(reward):
        errors.append(RowError(location, "reward", f"must be a finite number, got {reward!r}"))
    pid = row.get("prompt_id")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, str | int)):
        errors.append(RowError(location, "prompt_id", f"must be a string or integer, got {pid!r}"))
    if errors:
        return errors
    pid = str(pid) if pid is not None else derive_prompt_id(list(base.prompt))
    return ScoredRecord(base.prompt, base.completion, base.category, base.location,
                        prompt_id=pid, reward=float(reward))


def _no_rows(records: Sequence[ScoredRecord], field: str, message: str) -> DataValidationError:
    where = records[0].location.file if records else "scored data"
    return DataValidationError([RowError(Location(where, 0), field, message)])


def select_top1(
    records: Sequence[ScoredRecord], threshold: float, max_rows: int | None = None
) -> list[ScoredRecord]:
    """RS-SFT selection: per prompt, its best sample when that reward is >= ``threshold``.

    Ties on reward go to the shorter completion (the judge already charges verbosity; between
    equal rewards the concise answer is the better target), then to the earlier row. With
    ``max_rows``, only that many prompts are kept: those with the highest selected reward
    (ties: earlier row). The result is in file order, each with weight 1.

    Raises:
        DataValidationError: when no prompt has a sample at or above the threshold.
    """
    best: dict[str, int] = {}
    for i, rec in enumerate(records):
        j = best.get(rec.prompt_id)
        if j is None or (rec.reward, -len(rec.completion)) > (records[j].reward,
                                                              -len(records[j].completion)):
            best[rec.prompt_id] = i
    kept = [i for i in best.values() if records[i].reward >= threshold]
    if not kept:
        top = max((r.reward for r in records), default=float("nan"))
        raise _no_rows(records, "reward", (
            f"no sample reaches the top1 threshold {threshold} (best reward {top:.4f} over "
            f"{len(records)} rows, {len(best)} prompts); lower threshold or sample more"))
    if max_rows is not None and len(kept) > max_rows:
        kept = sorted(kept, key=lambda i: (-records[i].reward, i))[:max_rows]
    return [replace(records[i], weight=1.0) for i in sorted(kept)]


def select_weighted(
    records: Sequence[ScoredRecord], beta: float, w_max: float, normalize: bool = True
) -> list[ScoredRecord]:
    """AWR: every sample, weighted by :func:`web4rl.rl.awr.awr_weights` (per-prompt baseline,
    data-set normalisation, clip; the definition and its reasons are documented there)."""
    if not records:
        return []
    ids = {pid: k for k, pid in enumerate(dict.fromkeys(r.prompt_id for r in records))}
    weights, _ = awr_weights(
        torch.tensor([r.reward for r in records], dtype=torch.float64),
        torch.tensor([ids[r.prompt_id] for r in records]),
        beta=beta, w_max=w_max, normalize=normalize,
    )
    return [replace(r, weight=float(w)) for r, w in zip(records, weights.tolist(), strict=True)]


@dataclass(frozen=True)
class ScoredTokenized(TokenizedSFT):
    """A tokenized scored sample: :class:`TokenizedSFT` plus its loss weight and reward."""

    weight: float = 1.0
    reward: float = 0.0


@dataclass
class RewardBatch(SequenceBatch):
    """A :class:`SequenceBatch` whose ``weights`` ([B] float) are always set, plus
    ``rewards``: [B] float judge rewards of the rows (for logging)."""

    rewards: torch.Tensor | None = None


@dataclass(frozen=True)
class RewardCollator:
    """Pads like :class:`SFTCollator` and attaches the rows' weights and rewards."""

    pad_token_id: int

    def __call__(self, items: Sequence[ScoredTokenized]) -> RewardBatch:
        b = SFTCollator(self.pad_token_id)(items)
        return RewardBatch(
            b.input_ids, b.attention_mask, b.labels, b.index,
            weights=torch.tensor([x.weight for x in items], dtype=torch.float32),
            rewards=torch.tensor([x.reward for x in items], dtype=torch.float32),
        )


class RewardFilteredDataModule(SFTDataModule):
    """Judge-scored samples for RS-SFT (``top1``) or AWR (``weighted``); batches are
    :class:`RewardBatch` (weights and rewards per row).

    Modes:
        ``top1``: per prompt, the best sample with reward >= ``threshold`` (ties: shorter
        completion, then earlier row), at most ``max_rows`` prompts; weight 1.
        ``weighted``: every sample with its AWR weight
        ``w = min(exp(A^ / awr_beta), awr_max_weight)``, A = r - mean reward of its prompt's
        samples (data-set mean for a prompt with one sample), A^ = A standardised over the data
        set (see :mod:`web4rl.rl.awr` for why).

    Args:
        mode: ``top1`` (rejection-sampling SFT) or ``weighted`` (AWR).
        threshold: top1: least reward a prompt's best sample needs to be kept.
        max_rows: top1: most prompts kept (highest rewards first); None = all.
        awr_beta: weighted: temperature beta of the exponential.
        awr_max_weight: weighted: clip of the weights.
        awr_normalize: weighted: standardise advantages over the data set.
        **kwargs: the options of :class:`~web4rl.data.modules.RecordDataModule` and
            :class:`~web4rl.data.base.BaseDataModule` (``train_files``: scored JSONL; ``None``
            uses the package's ``web4rl/sample_data/scored.jsonl``; split, tokenizer, lengths).
    """

    default_file = "scored.jsonl"
    parse_row = staticmethod(parse_scored_row)
    collator_class = RewardCollator

    def __init__(
        self,
        mode: Mode = "top1",
        threshold: float = 0.6,
        max_rows: int | None = 20000,
        awr_beta: float = 5.0,
        awr_max_weight: float = 10.0,
        awr_normalize: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if mode not in ("top1", "weighted"):
            raise ValueError(f"mode must be 'top1' or 'weighted', got {mode!r}")
        if max_rows is not None and max_rows < 1:
            raise ValueError(f"max_rows must be >= 1 or None, got {max_rows}")
        if awr_beta <= 0 or awr_max_weight <= 0:
            raise ValueError(f"need awr_beta > 0 and awr_max_weight > 0, got {awr_beta}, {awr_max_weight}")
        self.mode = mode
        self.threshold = threshold
        self.max_rows = max_rows
        self.awr_beta = awr_beta
        self.awr_max_weight = awr_max_weight
        self.awr_normalize = awr_normalize

    def _select(self, records: list[ScoredRecord]) -> list[ScoredRecord]:
        if self.mode == "top1":
            return select_top1(records, self.threshold, self.max_rows)
        return select_weighted(records, self.awr_beta, self.awr_max_weight, self.awr_normalize)

    def _split(self, records: dict[str, list[Any]]) -> dict[str, list[Any]]:
        # Select per source first (AWR normalises over the whole source), then carve val/test.
        return super()._split({s: self._select(rs) if rs else rs for s, rs in records.items()})

    def _tokenize(
        self, records: list[ScoredRecord], tokenizer: Any
    ) -> tuple[list[ScoredTokenized], TruncationStats]:
        items, stats = tokenize_sft(
            records, tokenizer, self.max_length, self.max_prompt_length, self.overlong_prompt
        )
        out = [ScoredTokenized(x.prompt_ids, x.completion_ids, x.index,
                               weight=records[x.index].weight, reward=records[x.index].reward)
               for x in items]
        return out, stats


__all__ = [
    "RewardBatch",
    "RewardCollator",
    "RewardFilteredDataModule",
    "ScoredRecord",
    "derive_prompt_id",
    "parse_scored_row",
    "select_top1",
    "select_weighted",
]
