"""Loss functions against hand-derived values (derivations in each docstring)."""

import math

import pytest
import torch

from web4rl.losses import dpo_loss, log1mexp, orpo_loss, sft_nll


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_sft_nll_token_mean():
    """Completion tokens have log-probs -1, -2 (row 0) and -3 (row 1): NLL = (1+2+3)/3 = 2,
    perplexity e^2."""
    logps = torch.tensor([[-1.0, -2.0, 0.0], [-3.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    loss, m = sft_nll(logps, mask)
    assert loss.item() == pytest.approx(2.0)
    assert m["ppl"].item() == pytest.approx(math.exp(2.0), rel=1e-5)


def test_sft_nll_weighted():
    """Per-sequence NLLs are 1.5 and 3; weights 1 and 0.5 give (1.5 + 1.5) / 2 = 1.5."""
    logps = torch.tensor([[-1.0, -2.0, 0.0], [-3.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    loss, _ = sft_nll(logps, mask, weights=torch.tensor([1.0, 0.5]))
    assert loss.item() == pytest.approx(1.5)


def test_dpo_equal_policy_and_reference_is_ln2():
    """h = 0 when pi = ref, so L = -log sigma(0) = ln 2 whatever the smoothing."""
    x = t(-5.0, -7.0)
    for eps in (0.0, 0.2):
        loss, m = dpo_loss(x, x - 1, x, x - 1, beta=0.1, label_smoothing=eps)
        assert loss.item() == pytest.approx(math.log(2.0))
        assert m["reward_margin"].item() == 0.0


def test_dpo_hand_value():
    """pi_c=-10, pi_r=-12, ref_c=ref_r=-11, beta=0.1: rewards +0.1 / -0.1, h = 0.2,
    L = log(1 + e^-0.2) = 0.598138869; with eps = 0.1, L += 0.1 * 0.2 (since
    log(1+e^0.2) = 0.2 + log(1+e^-0.2)), i.e. 0.618138869."""
    loss, m = dpo_loss(t(-10.0), t(-12.0), t(-11.0), t(-11.0), beta=0.1)
    assert loss.item() == pytest.approx(0.598138869, abs=1e-9)
    assert m["reward_chosen"].item() == pytest.approx(0.1)
    assert m["reward_rejected"].item() == pytest.approx(-0.1)
    assert m["reward_accuracy"].item() == 1.0
    smoothed, _ = dpo_loss(t(-10.0), t(-12.0), t(-11.0), t(-11.0), beta=0.1, label_smoothing=0.1)
    assert smoothed.item() == pytest.approx(0.618138869, abs=1e-9)


def test_dpo_rejects_bad_smoothing():
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo_loss(t(0.0), t(0.0), t(0.0), t(0.0), label_smoothing=0.5)


def test_orpo_hand_value():
    """Chosen mean log-prob log 0.5 -> odds 1 -> log-odds 0; rejected log 0.2 -> odds 0.25.
    log_odds = 0 - log 0.25 = 1.386294; -log sigma(1.386294) = log(1 + 0.25) = 0.223143551.
    With NLL 2 and beta 0.1: L = 2 + 0.0223143551."""
    loss, m = orpo_loss(t(math.log(0.5)), t(math.log(0.2)), torch.tensor(2.0, dtype=torch.float64),
                        beta=0.1)
    assert loss.item() == pytest.approx(2.0223143551, abs=1e-9)
    assert m["log_odds"].item() == pytest.approx(math.log(4.0))
    assert m["odds_ratio_loss"].item() == pytest.approx(math.log(1.25))
    assert m["reward_accuracy"].item() == 1.0


def test_log1mexp_is_stable_at_both_ends():
    """Compare with exact float64 maths where it is well conditioned; near 0 the naive
    log(1 - exp(x)) in float32 returns -inf, log1mexp must not."""
    x = torch.tensor([-1e-5, -0.1, -0.6931, -1.0, -20.0, -80.0], dtype=torch.float64)
    expected = torch.log(-torch.expm1(x))
    assert torch.allclose(log1mexp(x), expected, rtol=1e-10)
    tiny = torch.tensor([-1e-12, 0.0], dtype=torch.float32)
    assert torch.isfinite(log1mexp(tiny)).all()
    assert torch.isinf(torch.log(1 - torch.exp(tiny))).any()  # why the stable form exists


def test_losses_backpropagate():
    pc = torch.tensor([-3.0, -4.0], requires_grad=True)
    loss, _ = dpo_loss(pc, t(-5.0, -5.0).float(), t(-3.0, -4.0).float(), t(-5.0, -5.0).float())
    loss.backward()
    assert (pc.grad < 0).all()  # raising chosen log-probs lowers the loss


def test_cosine_schedule_with_warmup():
    """10 steps, 2 warmup: 0.5, 1.0 during warmup; then cosine from 1 to min_ratio at the end;
    halfway through the decay (step 6 of 2..10) the multiplier is (1 + min) / 2."""
    from web4rl.algorithms.base import cosine_with_warmup

    assert cosine_with_warmup(0, 10, 2, 0.0) == pytest.approx(0.5)
    assert cosine_with_warmup(1, 10, 2, 0.0) == pytest.approx(1.0)
    assert cosine_with_warmup(2, 10, 2, 0.0) == pytest.approx(1.0)
    assert cosine_with_warmup(6, 10, 2, 0.1) == pytest.approx(0.55)
    assert cosine_with_warmup(10, 10, 2, 0.1) == pytest.approx(0.1)
