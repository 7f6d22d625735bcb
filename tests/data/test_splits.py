"""Seeded prompt-grouped splitting and category balancing."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web4rl.data import balance_indices, split_indices


def test_split_is_deterministic_disjoint_and_complete():
    keys = [f"p{i}" for i in range(100)]
    a = split_indices(keys, (0.8, 0.1, 0.1), seed=3)
    b = split_indices(keys, (0.8, 0.1, 0.1), seed=3)
    assert a == b
    assert (len(a.train), len(a.val), len(a.test)) == (80, 10, 10)
    assert sorted(a.train + a.val + a.test) == list(range(100))
    assert split_indices(keys, (0.8, 0.1, 0.1), seed=4) != a


def test_rows_sharing_a_prompt_stay_in_one_split():
    keys = [f"p{i // 3}" for i in range(60)]  # 20 prompts x 3 rows
    s = split_indices(keys, (0.8, 0.1, 0.1), seed=0)
    owner = {}
    for name, idx in (("train", s.train), ("val", s.val), ("test", s.test)):
        for i in idx:
            assert owner.setdefault(keys[i], name) == name
    assert s.val and s.test


def test_zero_fraction_gives_empty_split():
    s = split_indices([str(i) for i in range(10)], (0.9, 0.0, 0.1), seed=0)
    assert s.val == [] and len(s.test) == 1 and len(s.train) == 9


def test_small_data_gets_one_row_per_split():
    s = split_indices(["a", "b", "c"], (0.8, 0.1, 0.1), seed=0)
    assert (len(s.train), len(s.val), len(s.test)) == (1, 1, 1)


@pytest.mark.parametrize("fractions", [(0.8, 0.1), (0.0, 0.5, 0.5), (0.8, -0.1, 0.1), (0, 0, 0)])
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="split_fractions"):
        split_indices(["a", "b", "c"], fractions, seed=0)


def test_too_few_prompts_to_split():
    with pytest.raises(ValueError, match="distinct prompts"):
        split_indices(["a", "a", "b"], (0.8, 0.1, 0.1), seed=0)


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(st.integers(0, 30).map(str), min_size=3, max_size=80),
    seed=st.integers(0, 2**16),
)
def test_split_properties(keys, seed):
    if len(set(keys)) < 3:
        return
    s = split_indices(keys, (0.8, 0.1, 0.1), seed)
    assert sorted(s.train + s.val + s.test) == list(range(len(keys)))
    assert s.train and s.val and s.test
    assert not {keys[i] for i in s.train} & {keys[i] for i in s.val + s.test}


def test_balance_equalizes_categories_and_keeps_size():
    cats = ["tool_use"] * 40 + ["style"] * 30 + ["multi_step"] * 20 + ["guardrail"] * 10
    idx = balance_indices(cats, seed=0)
    counts = Counter(cats[i] for i in idx)
    assert set(counts.values()) == {25} and len(idx) == 100
    # undersampled categories: no repeats; oversampled: every row used, repeats as even as possible
    per_row = Counter(idx)
    assert max(per_row[i] for i in range(40)) == 1
    guard = [per_row[i] for i in range(90, 100)]
    assert min(guard) >= 2 and max(guard) <= 3
    assert balance_indices(cats, seed=0) == idx and balance_indices(cats, seed=1) != idx


def test_balance_empty():
    assert balance_indices([], seed=0) == []
