"""Tokenization, truncation and collation: exact masks and boundaries."""

from __future__ import annotations

import logging

import pytest
import torch

from web4rl.data import (
    IGNORE_INDEX,
    DataValidationError,
    Location,
    PreferenceCollator,
    PreferenceRecord,
    SFTCollator,
    SFTRecord,
    render_prompt,
    tokenize_preferences,
    tokenize_sft,
)
from web4rl.data.tokenize import warn_truncation


def _sft(prompt: str, completion: str, line: int = 1) -> SFTRecord:
    return SFTRecord(
        ({"role": "user", "content": prompt},), completion, None, Location("f.jsonl", line)
    )


def _pair(
    prompt: str, chosen: str, rejected: str, line: int = 1, category=None
) -> PreferenceRecord:
    return PreferenceRecord(
        ({"role": "user", "content": prompt},),
        chosen,
        rejected,
        category,
        (),
        None,
        Location("p.jsonl", line),
    )


def _ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def test_render_prompt_uses_template_or_plain_fallback(tokenizer, plain_tokenizer):
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    assert render_prompt(tokenizer, msgs) == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
    )
    assert render_prompt(plain_tokenizer, msgs) == "System: S\nUser: Q\nAssistant: "


def test_prompt_and_completion_tokenized_separately(tokenizer):
    items, stats = tokenize_sft([_sft("Read src/index.ts", "ok done")], tokenizer)
    (item,) = items
    assert item.prompt_ids == _ids(
        tokenizer, render_prompt(tokenizer, [{"role": "user", "content": "Read src/index.ts"}])
    )
    assert item.completion_ids == _ids(tokenizer, "ok done") + [tokenizer.eos_token_id]
    assert item.index == 0 and stats.rows == 1 and stats.completions_truncated == 0


@pytest.fixture(params=["tokenizer", "bpe_tokenizer", "plain_tokenizer"])
def any_tokenizer(request):
    """Each test tokenizer in turn: tiny (ChatML), a second BPE vocabulary, no chat template."""
    return request.getfixturevalue(request.param)


def test_sft_collator_masks_are_exact(any_tokenizer):
    tokenizer = any_tokenizer
    items, _ = tokenize_sft(
        [_sft("a", "export const x = 1;"), _sft("Refactor this function please", "ok")], tokenizer
    )
    batch = SFTCollator(tokenizer.pad_token_id)(items)
    lengths = [len(x.prompt_ids) + len(x.completion_ids) for x in items]
    t = max(lengths)
    assert batch.input_ids.shape == batch.labels.shape == batch.attention_mask.shape == (2, t)
    assert batch.input_ids.dtype == batch.labels.dtype == batch.attention_mask.dtype == torch.long
    assert batch.index.tolist() == [0, 1] and batch.weights is None
    for row, item in enumerate(items):
        n_p, n = len(item.prompt_ids), lengths[row]
        assert batch.input_ids[row, :n].tolist() == item.prompt_ids + item.completion_ids
        assert batch.input_ids[row, n:].eq(tokenizer.pad_token_id).all()
        assert batch.attention_mask[row].tolist() == [1] * n + [0] * (t - n)
        # labels: -100 exactly on prompt and padding; the first label is the first completion token
        assert batch.labels[row, :n_p].eq(IGNORE_INDEX).all()
        assert batch.labels[row, n:].eq(IGNORE_INDEX).all()
        assert batch.labels[row, n_p:n].tolist() == item.completion_ids
        first = int((batch.labels[row] != IGNORE_INDEX).nonzero()[0])
        assert first == n_p and batch.labels[row, first] == item.completion_ids[0]
        assert batch.labels[row, n - 1] == tokenizer.eos_token_id
    assert batch.completion_mask.sum().item() == sum(len(x.completion_ids) for x in items)


def test_pad_falls_back_to_eos(tokenizer):
    from web4rl.data.tokenize import pad_token_id

    class NoPad:
        pad_token_id = None
        eos_token_id = 7

    assert pad_token_id(tokenizer) == tokenizer.pad_token_id
    assert pad_token_id(NoPad()) == 7


def test_preference_collator_pads_both_sides_to_one_length(any_tokenizer):
    tokenizer = any_tokenizer
    recs = [
        _pair("q one", "short", "a much longer rejected answer", category="style"),
        _pair("q2", "x", "y"),
    ]
    items, _ = tokenize_preferences(recs, tokenizer)
    batch = PreferenceCollator(tokenizer.pad_token_id)(items)
    assert batch.chosen.input_ids.shape == batch.rejected.input_ids.shape
    assert batch.categories == ["style", "uncategorized"]
    assert batch.index.tolist() == [0, 1] and len(batch) == 2
    for row, item in enumerate(items):
        n_p = len(item.prompt_ids)
        assert (
            batch.chosen.input_ids[row, :n_p].tolist()
            == batch.rejected.input_ids[row, :n_p].tolist()
        )
        assert batch.chosen.labels[row, :n_p].eq(IGNORE_INDEX).all()
        assert (
            batch.chosen.labels[row, n_p : n_p + len(item.chosen_ids)].tolist() == item.chosen_ids
        )
        assert (
            batch.rejected.labels[row, n_p : n_p + len(item.rejected_ids)].tolist()
            == item.rejected_ids
        )
        assert (batch.chosen.labels[row] != IGNORE_INDEX).sum() == len(item.chosen_ids)
        assert (batch.rejected.labels[row] != IGNORE_INDEX).sum() == len(item.rejected_ids)


def test_max_length_cuts_completion_and_counts(tokenizer, caplog):
    long = "export const Button = () => <button>Click</button>; " * 5
    rec = _sft("a", long)
    p_len = len(_ids(tokenizer, render_prompt(tokenizer, rec.prompt)))
    items, stats = tokenize_sft(
        [rec, _sft("b", "ok")], tokenizer, max_length=p_len + 4, max_prompt_length=p_len
    )
    assert len(items[0].prompt_ids) + len(items[0].completion_ids) == p_len + 4
    assert items[0].completion_ids == _ids(tokenizer, long)[:4]  # cut, so no EOS
    assert stats.completions_truncated == 1 and stats.rows == 2
    with caplog.at_level(logging.WARNING, logger="web4rl.data.tokenize"):
        warn_truncation("train", stats)
    assert "1 completions truncated" in caplog.text


def test_preference_max_length_applies_to_each_side(tokenizer):
    rec = _pair("q", "a b c d e f g h i j k l m n o p", "no")
    p_len = len(_ids(tokenizer, render_prompt(tokenizer, rec.prompt)))
    (item,), stats = tokenize_preferences(
        [rec], tokenizer, max_length=p_len + 3, max_prompt_length=p_len
    )
    assert len(item.chosen_ids) == 3
    assert item.rejected_ids == _ids(tokenizer, "no") + [tokenizer.eos_token_id]
    assert stats.completions_truncated == 1


def test_overlong_prompt_error_names_file_line(tokenizer):
    recs = [_sft("short", "c", line=1), _sft("a much longer prompt " * 10, "c", line=7)]
    with pytest.raises(DataValidationError) as excinfo:
        tokenize_sft(recs, tokenizer, max_length=96, max_prompt_length=40)
    (err,) = excinfo.value.errors
    assert (err.location.file, err.location.line, err.field) == ("f.jsonl", 7, "prompt")
    assert "> max_prompt_length 40" in err.message
    assert "f.jsonl:7: field 'prompt': prompt has" in str(excinfo.value)


def test_overlong_prompt_truncate_keeps_last_tokens(tokenizer):
    rec = _sft("a much longer prompt " * 10, "c")
    full = _ids(tokenizer, render_prompt(tokenizer, rec.prompt))
    (item,), stats = tokenize_sft(
        [rec], tokenizer, max_length=96, max_prompt_length=40, overlong_prompt="truncate"
    )
    assert item.prompt_ids == full[-40:]  # the generation prompt (assistant header) survives
    assert stats.prompts_truncated == 1


def test_overlong_prompt_skip_drops_and_counts(tokenizer):
    recs = [_pair("short", "a", "b", line=1), _pair("a much longer prompt " * 10, "a", "b", line=2)]
    items, stats = tokenize_preferences(
        recs, tokenizer, max_length=96, max_prompt_length=40, overlong_prompt="skip"
    )
    assert [x.index for x in items] == [0]
    assert stats.prompts_skipped == 1 and stats.skipped_locations == ["p.jsonl:2"]


@pytest.mark.parametrize(
    ("max_length", "max_prompt_length", "mode"),
    [(10, 10, "error"), (10, 0, "error"), (10, 5, "cut")],
)
def test_bad_limits_rejected(tokenizer, max_length, max_prompt_length, mode):
    with pytest.raises(ValueError):
        tokenize_sft([_sft("a", "b")], tokenizer, max_length, max_prompt_length, mode)
