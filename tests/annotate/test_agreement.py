"""Cohen's kappa against hand-computed values."""

import math

import pytest

from web4rl.annotate.agreement import cohen_kappa, kappa_verdict


def test_kappa_three_labels_hand_value():
    """a = A A B B T A, b = A B B B T A (n = 6).

    p_o = 5/6 (all but item 2 agree). Marginals: a has A3 B2 T1, b has A2 B3 T1, so
    p_e = (3*2 + 2*3 + 1*1) / 36 = 13/36 and
    kappa = (5/6 - 13/36) / (1 - 13/36) = (17/36) / (23/36) = 17/23 = 0.73913...
    """
    a = ["A", "A", "B", "B", "Tie", "A"]
    b = ["A", "B", "B", "B", "Tie", "A"]
    assert cohen_kappa(a, b) == pytest.approx(17 / 23)
    assert cohen_kappa(b, a) == pytest.approx(17 / 23)  # symmetric


def test_kappa_chance_level_and_total_disagreement():
    """a = A A B B, b = A B A B: p_o = 1/2, p_e = (2*2 + 2*2)/16 = 1/2 -> kappa 0.
    a = A B, b = B A: p_o = 0, p_e = (1 + 1)/4 = 1/2 -> kappa = -1/2 / 1/2 = -1."""
    assert cohen_kappa(list("AABB"), list("ABAB")) == pytest.approx(0.0)
    assert cohen_kappa(["A", "B"], ["B", "A"]) == pytest.approx(-1.0)


def test_kappa_perfect_agreement_varied_labels():
    """p_o = 1, p_e = (2*2 + 1*1)/9 = 5/9 -> kappa = (4/9)/(4/9) = 1."""
    assert cohen_kappa(["A", "B", "A"], ["A", "B", "A"]) == pytest.approx(1.0)


def test_kappa_degenerate_all_agree_on_one_label():
    """Both raters say A everywhere: p_o = 1 and p_e = 1, so the formula is 0/0. Perfect
    agreement must read as kappa = 1 (not nan, not a ZeroDivisionError)."""
    assert cohen_kappa(["A"] * 5, ["A"] * 5) == 1.0
    assert cohen_kappa(["Tie"], ["Tie"]) == 1.0


def test_kappa_one_rater_constant():
    """a = A A A A, b = A A A B: p_o = 3/4; p_e = (4*3)/16 = 3/4 -> kappa = 0 (agreement no
    better than chance when one rater never varies)."""
    assert cohen_kappa(list("AAAA"), list("AAAB")) == pytest.approx(0.0)


def test_kappa_empty_and_mismatched():
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError, match="one per item"):
        cohen_kappa(["A"], ["A", "B"])


def test_verdicts_follow_the_guide_thresholds():
    assert kappa_verdict(0.7) == "certified"
    assert kappa_verdict(0.69) == "ok"
    assert kappa_verdict(0.6) == "ok"
    assert kappa_verdict(0.59) == "retrain"
    assert kappa_verdict(math.nan) == "n/a"
