"""Inter-annotator agreement: Cohen's kappa as a pure function, plus the guide's thresholds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence

CERTIFY_KAPPA = 0.7
"""kappa >= this certifies an annotator (the annotation guide)."""

RETRAIN_KAPPA = 0.6
"""kappa < this flags an annotator (or pair) for retraining."""


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items.

        kappa = (p_o - p_e) / (1 - p_e)
        p_o   = (1/n) * sum_i [a_i == b_i]                 observed agreement
        p_e   = sum_k (n_a(k) / n) * (n_b(k) / n)          chance agreement from the marginals

    Degenerate case: when both raters used one and the same label for every item, p_e = 1 and
    the formula is 0/0. Then p_o = 1 too (the raters agree everywhere), and we return 1.0:
    perfect agreement, not "undefined" (a certification run where every gold answer and every
    answer is "A" should pass, not crash). p_e = 1 implies p_o = 1, so no other 0/0 exists.

    Args:
        a: labels of rater 1, one per item.
        b: labels of rater 2, same items in the same order.

    Returns:
        kappa in [-1, 1]; ``nan`` when there are no items.

    Raises:
        ValueError: when ``a`` and ``b`` differ in length.
    """
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: {len(a)} labels vs {len(b)} labels; need one per item each")
    n = len(a)
    if n == 0:
        return math.nan
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    p_e = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if p_e >= 1.0:
        return 1.0
    return (p_o - p_e) / (1.0 - p_e)


def kappa_verdict(kappa: float) -> str:
    """``certified`` (>= 0.7), ``ok`` (0.6-0.7), ``retrain`` (< 0.6) or ``n/a`` (no data)."""
    if math.isnan(kappa):
        return "n/a"
    if kappa >= CERTIFY_KAPPA:
        return "certified"
    if kappa >= RETRAIN_KAPPA:
        return "ok"
    return "retrain"
