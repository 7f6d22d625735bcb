"""Tokenization of records and collation into :mod:`web4rl.data.batches`.

The prompt is rendered by :func:`web4rl.chat.render_prompt` (the one chat-rendering home): the
tokenizer's chat template (``add_generation_prompt=True``) or, without a template,
``"User: ...\\nAssistant: "``. Prompt and completion are tokenized SEPARATELY without special
tokens and concatenated, so the prompt/completion boundary (and with it the loss mask) is exact;
tokenizing the joined string could merge tokens across the boundary.
The completion ends with ``eos_token_id`` so the model learns to stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from web4rl.chat import render_prompt
from web4rl.data.batches import PreferenceBatch, SequenceBatch
from web4rl.data.io import MAX_ERRORS
from web4rl.data.records import (
    UNCATEGORIZED,
    DataValidationError,
    PreferenceRecord,
    RowError,
    SFTRecord,
)
from web4rl.sequence import IGNORE_INDEX

log = logging.getLogger(__name__)

OverlongPrompt = Literal["error", "truncate", "skip"]


@dataclass(frozen=True)
class TokenizedSFT:
    """One tokenized SFT example (unpadded).

    Attributes:
        prompt_ids: prompt token ids (rendered chat prompt, possibly left-truncated).
        completion_ids: completion token ids ending in EOS (unless cut by ``max_length``).
        index: row index within its split.
    """

    prompt_ids: list[int]
    completion_ids: list[int]
    index: int


@dataclass(frozen=True)
class TokenizedPair:
    """One tokenized preference pair (unpadded); both sides share ``prompt_ids``.

    Attributes:
        prompt_ids: prompt token ids.
        chosen_ids: chosen completion ids ending in EOS (unless cut by ``max_length``).
        rejected_ids: rejected completion ids ending in EOS (unless cut by ``max_length``).
        index: pair index within its split.
        category: category name (``"uncategorized"`` when the row has none).
    """

    prompt_ids: list[int]
    chosen_ids: list[int]
    rejected_ids: list[int]
    index: int
    category: str


@dataclass
class TruncationStats:
    """Counts of what length limits did to one split.

    Attributes:
        rows: rows tokenized (before skipping).
        prompts_truncated: prompts cut to their last ``max_prompt_length`` tokens.
        prompts_skipped: rows dropped because their prompt was too long.
        completions_truncated: completions cut so prompt + completion fits ``max_length``
            (a pair counts once per truncated side).
    """

    rows: int = 0
    prompts_truncated: int = 0
    prompts_skipped: int = 0
    completions_truncated: int = 0
    skipped_locations: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.rows} rows: {self.completions_truncated} completions truncated to max_length, "
            f"{self.prompts_truncated} prompts truncated and {self.prompts_skipped} skipped by max_prompt_length"
        )


def _encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Token ids of each text, no special tokens added (batched: fast tokenizers parallelize)."""
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def _eos_id(tokenizer: Any) -> int:
    eos = getattr(tokenizer, "eos_token_id", None)
    if eos is None:
        raise ValueError(
            "the tokenizer has no eos_token_id; completions need one to mark their end"
        )
    return int(eos)


def pad_token_id(tokenizer: Any) -> int:
    """The tokenizer's pad id, falling back to EOS (padding is masked, so its value is moot)."""
    pad = getattr(tokenizer, "pad_token_id", None)
    return int(pad) if pad is not None else _eos_id(tokenizer)


def _fit_prompt(
    ids: list[int],
    record: SFTRecord | PreferenceRecord,
    max_prompt_length: int,
    overlong_prompt: OverlongPrompt,
    stats: TruncationStats,
    errors: list[RowError],
) -> list[int] | None:
    """Apply ``max_prompt_length``: the prompt ids to use, or None when the row is dropped."""
    if len(ids) <= max_prompt_length:
        return ids
    if overlong_prompt == "truncate":
        stats.prompts_truncated += 1
        return ids[-max_prompt_length:]  # keep the end: the question sits right before the answer
    if overlong_prompt == "skip":
        stats.prompts_skipped += 1
        stats.skipped_locations.append(str(record.location))
        return None
    errors.append(
        RowError(
            record.location,
            "prompt",
            f"prompt has {len(ids)} tokens > max_prompt_length {max_prompt_length} "
            "(set overlong_prompt to 'truncate' or 'skip', or raise max_prompt_length)",
        )
    )
    return None


def _fit_completion(
    prompt_len: int, ids: list[int], max_length: int, stats: TruncationStats
) -> list[int]:
    budget = max_length - prompt_len
    if len(ids) > budget:
        stats.completions_truncated += 1
        return ids[:budget]
    return ids


def check_limits(max_length: int, max_prompt_length: int, overlong_prompt: str) -> None:
    """Raise ValueError unless 1 <= max_prompt_length < max_length and overlong_prompt is known."""
    if max_prompt_length < 1 or max_length <= max_prompt_length:
        raise ValueError(
            f"need 1 <= max_prompt_length < max_length, got max_prompt_length={max_prompt_length}, "
            f"max_length={max_length}"
        )
    if overlong_prompt not in ("error", "truncate", "skip"):
        raise ValueError(
            f"overlong_prompt must be 'error', 'truncate' or 'skip', got {overlong_prompt!r}"
        )


def _tokenize_sides(
    records: Sequence[SFTRecord | PreferenceRecord],
    tokenizer: Any,
    sides: Sequence[Callable[[Any], str]],
    limits: tuple[int, int, OverlongPrompt],
    max_errors: int,
) -> tuple[list[tuple[int, list[int], list[list[int]]]], TruncationStats]:
    """The work both public tokenizers share, for any number of completions per prompt.

    Args:
        sides: one function per completion of a record (SFT: the completion; a pair: chosen,
            rejected).
        limits: ``(max_length, max_prompt_length, overlong_prompt)``.

    Returns:
        ``(index, prompt_ids, [completion_ids per side])`` per kept record, each completion
        ending in EOS and cut so that prompt + completion fits ``max_length``; and the counts.

    Raises:
        DataValidationError: naming file and line of every prompt over ``max_prompt_length``
            when ``overlong_prompt="error"``.
    """
    max_length, max_prompt_length, overlong_prompt = limits
    check_limits(max_length, max_prompt_length, overlong_prompt)
    eos = _eos_id(tokenizer)
    prompts = _encode(tokenizer, [render_prompt(tokenizer, r.prompt) for r in records])
    completions = [_encode(tokenizer, [side(r) for r in records]) for side in sides]  # [S][N]
    stats, errors, out = TruncationStats(rows=len(records)), [], []
    for i, (rec, p_ids) in enumerate(zip(records, prompts, strict=True)):
        p = _fit_prompt(p_ids, rec, max_prompt_length, overlong_prompt, stats, errors)
        if p is not None:
            cut = [_fit_completion(len(p), c[i] + [eos], max_length, stats) for c in completions]
            out.append((i, p, cut))
    if errors:
        raise DataValidationError(errors[:max_errors], truncated=len(errors) > max_errors)
    return out, stats


def tokenize_sft(
    records: Sequence[SFTRecord],
    tokenizer: Any,
    max_length: int = 4096,
    max_prompt_length: int = 2048,
    overlong_prompt: OverlongPrompt = "error",
    max_errors: int = MAX_ERRORS,
) -> tuple[list[TokenizedSFT], TruncationStats]:
    """Tokenize SFT records; ``index`` is each record's position in ``records``.

    Raises ``DataValidationError`` naming every prompt over ``max_prompt_length`` (file, line)
    when ``overlong_prompt="error"``.
    """
    items, stats = _tokenize_sides(records, tokenizer, [lambda r: r.completion],
                                   (max_length, max_prompt_length, overlong_prompt), max_errors)
    return [TokenizedSFT(p, c, i) for i, p, (c,) in items], stats


def tokenize_preferences(
    records: Sequence[PreferenceRecord],
    tokenizer: Any,
    max_length: int = 4096,
    max_prompt_length: int = 2048,
    overlong_prompt: OverlongPrompt = "error",
    max_errors: int = MAX_ERRORS,
) -> tuple[list[TokenizedPair], TruncationStats]:
    """Tokenize preference records; ``max_length`` bounds prompt + chosen and prompt + rejected.

    Raises as :func:`tokenize_sft`.
    """
    items, stats = _tokenize_sides(records, tokenizer, [lambda r: r.chosen, lambda r: r.rejected],
                                   (max_length, max_prompt_length, overlong_prompt), max_errors)
    return [TokenizedPair(p, c, r, i, records[i].category or UNCATEGORIZED)
            for i, p, (c, r) in items], stats


def _pad_sequences(
    prompts: Sequence[list[int]], completions: Sequence[list[int]], pad_id: int, length: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels``, each ``[B, length]`` long."""
    b = len(prompts)
    input_ids = torch.full((b, length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((b, length), dtype=torch.long)
    labels = torch.full((b, length), IGNORE_INDEX, dtype=torch.long)
    for row, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        n_p, n = len(p), len(p) + len(c)
        input_ids[row, :n] = torch.tensor(p + c, dtype=torch.long)
        attention_mask[row, :n] = 1
        labels[row, n_p:n] = input_ids[row, n_p:n]
    return input_ids, attention_mask, labels


@dataclass(frozen=True)
class SFTCollator:
    """Pads :class:`TokenizedSFT` items to the longest in the batch into a :class:`SequenceBatch`.

    A frozen dataclass (not a closure) so DataLoader worker processes can pickle it.

    Attributes:
        pad_token_id: id written into padding positions (masked out everywhere).
    """

    pad_token_id: int

    def __call__(self, items: Sequence[TokenizedSFT]) -> SequenceBatch:
        length = max(len(x.prompt_ids) + len(x.completion_ids) for x in items)
        ids, mask, labels = _pad_sequences(
            [x.prompt_ids for x in items],
            [x.completion_ids for x in items],
            self.pad_token_id,
            length,
        )
        index = torch.tensor([x.index for x in items], dtype=torch.long)
        return SequenceBatch(ids, mask, labels, index)


@dataclass(frozen=True)
class PreferenceCollator:
    """Pads :class:`TokenizedPair` items into a :class:`PreferenceBatch`.

    Chosen and rejected are padded to one common length (the longest of either side), so an
    algorithm can concatenate them for a single forward pass.

    Attributes:
        pad_token_id: id written into padding positions (masked out everywhere).
    """

    pad_token_id: int

    def __call__(self, items: Sequence[TokenizedPair]) -> PreferenceBatch:
        length = max(len(x.prompt_ids) + max(len(x.chosen_ids), len(x.rejected_ids)) for x in items)
        prompts = [x.prompt_ids for x in items]
        index = torch.tensor([x.index for x in items], dtype=torch.long)
        chosen = SequenceBatch(
            *_pad_sequences(prompts, [x.chosen_ids for x in items], self.pad_token_id, length),
            index,
        )
        rejected = SequenceBatch(
            *_pad_sequences(prompts, [x.rejected_ids for x in items], self.pad_token_id, length),
            index.clone(),
        )
        return PreferenceBatch(chosen, rejected, index, [x.category for x in items])


def warn_truncation(split: str, stats: TruncationStats) -> None:
    """Log one warning for a split when any row was truncated or skipped."""
    if stats.prompts_truncated or stats.prompts_skipped or stats.completions_truncated:
        where = (
            f" (skipped: {', '.join(stats.skipped_locations[:5])}{' ...' if len(stats.skipped_locations) > 5 else ''})"
            if stats.skipped_locations
            else ""
        )
        log.warning("%s split: %s%s", split, stats.describe(), where)
