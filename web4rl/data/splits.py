"""Seeded train/val/test splitting and category balancing, as pure functions over indices."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SplitIndices:
    """Row indices of each split, each list in ascending (file) order.

    Attributes:
        train: indices of training rows.
        val: indices of validation rows.
        test: indices of test rows.
    """

    train: list[int]
    val: list[int]
    test: list[int]


def split_indices(
    keys: Sequence[str],
    fractions: Sequence[float],
    seed: int,
) -> SplitIndices:
    """Split rows into train/val/test, keeping rows that share a key (prompt) in one split.

    Grouping by prompt keeps held-out metrics honest: several pairs or samples of the same prompt
    never straddle train and val. Groups are shuffled with ``random.Random(seed)`` and handed to
    val, then test, until each reaches ``round(fraction * n)`` rows (at least one row when its
    fraction is positive); the rest is train. A large group can overshoot its target.

    Args:
        keys: one key per row; rows with equal keys land in the same split.
        fractions: ``(train, val, test)`` fractions, non-negative; they are normalized to sum 1
            (a zero fraction means that split gets no rows).
        seed: seed of the group shuffle; the same seed and keys give the same split.

    Raises:
        ValueError: on bad fractions, or when there are too few distinct keys to give every
            split with a positive fraction at least one row.
    """
    if len(fractions) != 3 or any(f < 0 or math.isnan(f) for f in fractions) or sum(fractions) <= 0:
        raise ValueError(
            f"split_fractions must be three non-negative numbers (train, val, test), got {list(fractions)}"
        )
    if fractions[0] <= 0:
        raise ValueError(
            f"split_fractions: the train fraction must be positive, got {list(fractions)}"
        )
    total = float(sum(fractions))
    n = len(keys)
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    order = list(groups.values())  # first-seen order: deterministic before shuffling
    random.Random(seed).shuffle(order)

    def target(f: float) -> int:
        return max(1, round(f / total * n)) if f > 0 else 0

    targets = [target(fractions[1]), target(fractions[2])]
    needed = 1 + sum(t > 0 for t in targets)
    if len(order) < needed:
        raise ValueError(
            f"cannot split {n} rows with {len(order)} distinct prompts into {needed} non-empty splits; "
            "add rows or give val_files/test_files"
        )
    held: list[list[int]] = [[], []]
    train: list[int] = []
    for g_index, group in enumerate(order):
        remaining_groups = len(order) - g_index
        # Never starve train: the last group always goes to train if train is still empty.
        if not train and remaining_groups == 1:
            train.extend(group)
            continue
        for s in (0, 1):
            if len(held[s]) < targets[s]:
                held[s].extend(group)
                break
        else:
            train.extend(group)
    return SplitIndices(sorted(train), sorted(held[0]), sorted(held[1]))


def balance_indices(categories: Sequence[str], seed: int) -> list[int]:
    """Row indices (with repeats) in which every category is equally represented.

    The result keeps the dataset's size (up to rounding): each of the ``K`` categories gets
    ``ceil(n / K)`` rows. Larger categories are undersampled without replacement; smaller ones
    are repeated whole as often as fits, and the remainder drawn without replacement, which
    keeps the repeats as even as possible. Seeded by ``seed``; the order is shuffled.
    """
    by_cat: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        by_cat.setdefault(c, []).append(i)
    if not by_cat:
        return []
    rng = random.Random(seed)
    per_cat = math.ceil(len(categories) / len(by_cat))
    out: list[int] = []
    for cat in sorted(by_cat):  # sorted: independent of row order of first appearance
        rows = by_cat[cat]
        copies, rest = divmod(per_cat, len(rows))
        out.extend(rows * copies)
        out.extend(rng.sample(rows, rest))
    rng.shuffle(out)
    return out
