"""Batch contracts between the collators and the algorithms."""

import pytest
import torch

from web4rl.algorithms.base import stack_pair
from web4rl.data import IGNORE_INDEX, PreferenceCollator, TokenizedPair


def test_stack_pair_concatenates_the_collated_sides_without_repadding():
    # Chosen 2 tokens, rejected 4: the collator pads both sides of every row to
    # prompt (2) + longest side (4) = 6, so stacking is a plain concatenation to [2B, 6].
    items = [TokenizedPair([5, 6], [7, 8], [9, 10, 11, 12], 0, "style"),
             TokenizedPair([5], [7], [9], 1, "style")]
    batch = PreferenceCollator(pad_token_id=0)(items)
    ids, mask, labels = stack_pair(batch)
    assert ids.shape == mask.shape == labels.shape == (4, 6)
    assert torch.equal(ids, torch.cat([batch.chosen.input_ids, batch.rejected.input_ids]))
    assert ids[0].tolist() == [5, 6, 7, 8, 0, 0] and ids[2].tolist() == [5, 6, 9, 10, 11, 12]
    assert labels[0].tolist() == [IGNORE_INDEX, IGNORE_INDEX, 7, 8, IGNORE_INDEX, IGNORE_INDEX]
    assert mask[3].tolist() == [1, 1, 0, 0, 0, 0]


def test_stack_pair_refuses_sides_of_different_lengths():
    batch = PreferenceCollator(pad_token_id=0)([TokenizedPair([5], [7], [9, 10], 0, "style")])
    batch.rejected.input_ids = batch.rejected.input_ids[:, :2]
    with pytest.raises(ValueError, match="padded to one shape"):
        stack_pair(batch)
