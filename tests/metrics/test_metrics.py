"""Gate and distribution-shift metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from web4rl.metrics.gates import (
    GateThresholds,
    GuardrailViolationRate,
    JSONValidity,
    PlanMinimality,
    gate_metrics,
    update_gate_metrics,
)
from web4rl.metrics.shift import DistinctN, MeanLengthRatio, SelfBLEU, TokenKL, stable_id
from web4rl.metrics.text import distinct_counts, ngrams, sentence_bleu, tokenize


def test_rate_metric_skips_not_applicable_and_accumulates():
    """[1, 0, skip, 1] then [0.5]: hits 2.5 over 4 applicable samples."""
    m = JSONValidity()
    m.update([True, False, None, 1.0])
    m.update(torch.tensor([0.5, float("nan")]))
    assert m.compute().item() == pytest.approx(2.5 / 4)


def test_rate_metric_empty_is_nan_and_rejects_out_of_range():
    m = GuardrailViolationRate()
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert math.isnan(m.compute().item())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.update([2.0])


def test_plan_minimality():
    """steps/gold: 2/2 -> 1, 4/2 -> 0.5, 1/2 -> capped 1, no gold -> skipped: mean 2.5/3."""
    m = PlanMinimality()
    m.update([2, 4, 1, 3], [2, 2, 2, None])
    assert m.compute().item() == pytest.approx(2.5 / 3)


def test_update_gate_metrics_from_judge_components():
    ms = gate_metrics()
    comps = [
        {"json": 1.0, "schema": 1.0, "guardrail": 0.0, "lint": None, "steps": 1, "gold_steps": 1},
        {"json": 0.0, "schema": None, "guardrail": 1.0, "lint": 1.0, "steps": 0},
    ]
    update_gate_metrics(ms, comps)
    assert ms["json_validity"].compute().item() == 0.5
    assert ms["schema_compliance"].compute().item() == 1.0
    assert ms["guardrail_violation_rate"].compute().item() == 0.5
    assert ms["lint_pass"].compute().item() == 1.0
    assert ms["plan_minimality"].compute().item() == 1.0
    assert math.isnan(ms["naming"].compute().item())


def test_gate_thresholds_match_design():
    g = GateThresholds()
    res = {
        r.name: r
        for r in g.check(
            {
                "json_validity": 0.985,
                "schema_compliance": 0.97,
                "lint_pass": 1.0,
                "ast_correctness": 0.89,
                "naming": 0.95,
                "guardrail_violation_rate": 0.06,
                "self_bleu": 0.5,
                "token_kl": 0.1,
                "length_ratio": 0.79,
                "distinct_unigram_ratio": float("nan"),
            }
        )
    }
    assert not res["json_validity"].passed and not res["json_validity"].critical
    assert res["schema_compliance"].passed and res["lint_pass"].passed and res["naming"].passed
    assert not res["ast_correctness"].passed
    assert res["guardrail_violation_rate"].critical
    assert not res["self_bleu"].passed  # strict "< 0.5"
    assert res["token_kl"].passed and not res["length_ratio"].passed
    assert not res["distinct_unigram_ratio"].passed  # no data is not a pass
    assert g.check({"json_validity": 0.89})[0].critical
    summ = g.summary({"json_validity": 0.995, "guardrail_violation_rate": 0.06})
    assert not summ.passed and summ.critical
    assert g.summary({"json_validity": 0.995, "naming": 0.96}).passed


def test_tokenize_and_ngrams():
    assert tokenize("const fooBar = (a) => a+1;") == [
        "const",
        "foobar",
        "=",
        "(",
        "a",
        ")",
        "=",
        ">",
        "a",
        "+",
        "1",
        ";",
    ]
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []
    assert distinct_counts([["a", "b", "a"], ["a"]], 1) == (2, 4)


def test_sentence_bleu_hand_computed():
    """hyp = a b c d, ref = a b c e (max_n = 2).

    p1 = 3/4; bigrams hyp {ab, bc, cd}, matched {ab, bc} = 2 -> smoothed (2+1)/(3+1) = 3/4.
    Same length -> BP = 1. BLEU = exp((ln 3/4 + ln 3/4)/2) = 3/4.
    """
    assert sentence_bleu(list("abcd"), [list("abce")], max_n=2) == pytest.approx(0.75)
    assert sentence_bleu(list("abcd"), [list("abcd")]) == pytest.approx(1.0)
    assert sentence_bleu(list("xy"), [list("ab")]) == 0.0
    # Brevity: hyp "a b" vs ref "a b c d", max_n 1: p1 = 1, BP = exp(1 - 4/2) = e^-1.
    assert sentence_bleu(list("ab"), [list("abcd")], max_n=1) == pytest.approx(math.exp(-1))


def test_distinct_n():
    """Unigrams of "a b a" + "c": 4 total, 3 distinct -> 0.75; bigrams: ab, ba -> 2/2."""
    d1, d2 = DistinctN(1), DistinctN(2)
    for d in (d1, d2):
        d.update(["a b a", "c"])
    assert d1.compute().item() == pytest.approx(0.75)
    assert d2.compute().item() == pytest.approx(1.0)


def test_self_bleu():
    """Two identical samples score 1 each; a third with no shared unigram scores 0: mean 2/3."""
    m = SelfBLEU()
    m.update(["the cat sat on the mat", "the cat sat on the mat"])
    m.update(["dog ran"])
    assert m.compute().item() == pytest.approx(2 / 3)


def test_token_kl_hand_computed():
    """Baseline counts [1, 1, 0], policy [2, 1, 0], alpha 0.5, V = 3.

    q = [1.5, 1.5, 0.5] / 3.5; p = [2.5, 1.5, 0.5] / 4.5; KL = sum p ln(p/q).
    """
    m = TokenKL(baseline_counts=torch.tensor([1.0, 1.0, 0.0]), alpha=0.5)
    m.update([[0, 0, 1]])
    q = [1.5 / 3.5, 1.5 / 3.5, 0.5 / 3.5]
    p = [2.5 / 4.5, 1.5 / 4.5, 0.5 / 4.5]
    want = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    assert m.compute().item() == pytest.approx(want)
    same = TokenKL(baseline_counts=torch.tensor([3.0, 1.0]), ignore_index=-100)
    same.update(torch.tensor([[0, 0, 0, 1, -100]]))
    assert same.compute().item() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="token ids"):
        same.update([[5]])


def test_mean_length_ratio():
    m = MeanLengthRatio(baseline_mean=10.0)
    m.update([8, 14])
    assert m.compute().item() == pytest.approx(1.1)


def test_stable_id_is_deterministic():
    assert stable_id("foo") == stable_id("foo") != stable_id("bar")
    assert 0 <= stable_id(("a", "b")) < 2**63
