"""RL maths against hand-derived values (derivation in each test's docstring)."""

import math

import pytest
import torch

from web4rl.rl import (
    AdaptiveKLController,
    aggregate,
    chunked_entropy,
    clipped_surrogate,
    clipped_value_loss,
    entropy_from_logits,
    explained_variance,
    group_advantages,
    kl_estimate,
    masked_gae,
    whiten,
)


def test_gae_skips_non_policy_tokens():
    """Policy tokens at t=0 and t=2; t=1 is a tool-result token (reward 99, value 7 must be
    ignored: skipped, not a zero-reward step), t=3 padding. gamma 0.9, lambda 0.5.
    Last policy token (t=2): delta = 1 + 0.9 * 0 - 0.2 = 0.8, A = 0.8, R = 0.8 + 0.2 = 1.0.
    First (t=0): its next value is V(t=2) = 0.2, so delta = 0 + 0.9 * 0.2 - 0.5 = -0.32,
    A = -0.32 + 0.9 * 0.5 * 0.8 = 0.04, R = 0.54. Non-policy positions: A = R = 0."""
    rewards = torch.tensor([[0.0, 99.0, 1.0, 0.0]])
    values = torch.tensor([[0.5, 7.0, 0.2, 0.0]])
    mask = torch.tensor([[True, False, True, False]])
    adv, ret = masked_gae(rewards, values, mask, gamma=0.9, lam=0.5)
    assert adv[0].tolist() == pytest.approx([0.04, 0.0, 0.8, 0.0], abs=1e-6)
    assert ret[0].tolist() == pytest.approx([0.54, 0.0, 1.0, 0.0], abs=1e-6)


def test_gae_lambda_one_is_discounted_return_minus_value():
    """With lambda = 1, A_k = sum_l gamma^l r_{k+l} - V_k (the deltas telescope). Rewards
    (0, 0, 1) on three policy tokens, gamma 0.5, values (0.1, 0.2, 0.3): A_0 = 0.25 - 0.1,
    A_1 = 0.5 - 0.2, A_2 = 1 - 0.3; rows are independent (row 2 is all-masked -> zeros)."""
    rewards = torch.tensor([[0.0, 0.0, 1.0], [5.0, 5.0, 5.0]])
    values = torch.tensor([[0.1, 0.2, 0.3], [1.0, 1.0, 1.0]])
    mask = torch.tensor([[True, True, True], [False, False, False]])
    adv, ret = masked_gae(rewards, values, mask, gamma=0.5, lam=1.0)
    assert adv[0].tolist() == pytest.approx([0.15, 0.3, 0.7], abs=1e-6)
    assert ret[0].tolist() == pytest.approx([0.25, 0.5, 1.0], abs=1e-6)
    assert adv[1].abs().sum() == 0 and ret[1].abs().sum() == 0


def test_whiten_uses_masked_entries_only():
    """Masked entries 1, 2, 3 (100 is masked out): mean 2, population variance 2/3, so the
    whitened values are -1/sqrt(2/3), 0, 1/sqrt(2/3) = -1.2247, 0, 1.2247; without the mean
    shift 2 is added back."""
    x = torch.tensor([[1.0, 2.0], [3.0, 100.0]])
    mask = torch.tensor([[True, True], [True, False]])
    s = 1 / math.sqrt(2 / 3)
    assert whiten(x, mask).flatten().tolist() == pytest.approx([-s, 0, s, 0], abs=1e-5)
    assert whiten(x, mask, shift_mean=False).flatten().tolist() == pytest.approx(
        [2 - s, 2, 2 + s, 0], abs=1e-5)


def test_group_advantages():
    """Group (0, 4): mean 2, unbiased std sqrt((4 + 4) / 1) = 2.8284, A = -/+0.7071.
    Group (5, 5): all equal -> 0. Without std (Dr. GRPO): -2, 2, 0, 0."""
    r = torch.tensor([0.0, 4.0, 5.0, 5.0])
    assert group_advantages(r, 2).tolist() == pytest.approx([-0.70711, 0.70711, 0, 0], abs=1e-4)
    assert group_advantages(r, 2, scale_std=False).tolist() == [-2.0, 2.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="groups of 3"):
        group_advantages(r, 3)


def test_clipped_surrogate_four_cases():
    """eps 0.2. ratio 1.5, A=+1: min(1.5, 1.2) = 1.2 -> loss -1.2 (clipped).
    ratio 1.5, A=-1: min(-1.5, -1.2) = -1.5 -> loss 1.5 (not clipped).
    ratio 0.5, A=+1: min(0.5, 0.8) = 0.5 -> loss -0.5 (not clipped).
    ratio 0.5, A=-1: min(-0.5, -0.8) = -0.8 -> loss 0.8 (clipped).
    Clipped tokens get no gradient; the others d loss / d logp = -ratio * A."""
    old = torch.zeros(4)
    logps = torch.log(torch.tensor([1.5, 1.5, 0.5, 0.5])).requires_grad_()
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    loss, clipped = clipped_surrogate(logps, old, adv, clip=0.2)
    assert loss.tolist() == pytest.approx([-1.2, 1.5, -0.5, 0.8], abs=1e-6)
    assert clipped.tolist() == [True, False, False, True]
    loss.sum().backward()
    assert logps.grad.tolist() == pytest.approx([0.0, 1.5, -0.5, 0.0], abs=1e-6)


def test_clipped_value_loss():
    """V 1.0, V_old 0.5, eps 0.2 -> V_clip 0.7. Target 2: (1-2)^2 = 1 < (0.7-2)^2 = 1.69,
    loss 0.845 (clipped). Target 0: 1 > 0.49, loss 0.5 (not clipped)."""
    loss, clipped = clipped_value_loss(torch.tensor([1.0, 1.0]), torch.tensor([0.5, 0.5]),
                                       torch.tensor([2.0, 0.0]), clip=0.2)
    assert loss.tolist() == pytest.approx([0.845, 0.5], abs=1e-6)
    assert clipped.tolist() == [True, False]


def test_kl_estimators():
    """pi = 2 * ref at the token: x = ln 2. k1 = 0.693147, k2 = ln(2)^2 / 2 = 0.240227,
    k3 = 1/2 - 1 + ln 2 = 0.193147. At x = 0 all are 0."""
    lp, ref = torch.tensor([math.log(0.5), -1.0]), torch.tensor([math.log(0.25), -1.0])
    assert kl_estimate(lp, ref, "k1").tolist() == pytest.approx([0.693147, 0], abs=1e-6)
    assert kl_estimate(lp, ref, "k2").tolist() == pytest.approx([0.240227, 0], abs=1e-6)
    assert kl_estimate(lp, ref, "k3").tolist() == pytest.approx([0.193147, 0], abs=1e-6)
    with pytest.raises(ValueError, match="k4"):
        kl_estimate(lp, ref, "k4")


def test_aggregation_modes():
    """Tokens (1, 2) in row 0 and (3) in row 1. token-mean: 6 / 3 = 2. seq-mean-token-mean:
    (1.5 + 3) / 2 = 2.25. token-sum-norm with constant 4: 6 / (2 rows * 4) = 0.75."""
    x = torch.tensor([[1.0, 2.0, 9.0], [3.0, 9.0, 9.0]])
    m = torch.tensor([[True, True, False], [True, False, False]])
    assert aggregate(x, m, "token-mean").item() == pytest.approx(2.0)
    assert aggregate(x, m, "seq-mean-token-mean").item() == pytest.approx(2.25)
    assert aggregate(x, m, "token-sum-norm", constant=4).item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate(x, m, "mean")


def test_entropy_and_chunked_entropy():
    """Logits (0, 0): uniform over 2, H = ln 2. Logits (0, ln 3): p = (1/4, 3/4),
    H = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.562335. The chunked form equals the full one."""
    h = entropy_from_logits(torch.tensor([[0.0, 0.0], [0.0, math.log(3)]]))
    assert h.tolist() == pytest.approx([math.log(2), 0.562335], abs=1e-6)
    torch.manual_seed(0)
    hidden = torch.randn(2, 7, 5)
    head = torch.nn.Linear(5, 11)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[:, :3] = False
    full = entropy_from_logits(head(hidden)) * mask
    assert torch.allclose(chunked_entropy(hidden, head, mask, chunk_size=2), full, atol=1e-6)


def test_adaptive_kl_controller():
    """init 0.05, target 0.1, horizon 100, 16 samples. KL 0.15: err = clip(0.5) = 0.2,
    beta = 0.05 * (1 + 0.2 * 16 / 100) = 0.0516. Then KL 0.09: err = -0.1,
    beta = 0.0516 * (1 - 0.1 * 0.16) = 0.0507744. State round-trips; adaptive=False fixed."""
    c = AdaptiveKLController(init=0.05, target=0.1, horizon=100)
    assert c.update(0.15, 16) == pytest.approx(0.0516)
    assert c.update(0.09, 16) == pytest.approx(0.0507744)
    d = AdaptiveKLController()
    d.load_state_dict(c.state_dict())
    assert d.value == c.value
    fixed = AdaptiveKLController(init=0.05, adaptive=False)
    assert fixed.update(5.0, 16) == 0.05


def test_explained_variance():
    """V = (1, 2, 3), R = (1, 2, 4): Var R = 14/9, Var(R - V) = Var(0, 0, 1) = 2/9,
    EV = 1 - (2/9) / (14/9) = 6/7."""
    ev = explained_variance(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 4.0]),
                            torch.ones(3, dtype=torch.bool))
    assert ev.item() == pytest.approx(6 / 7, abs=1e-6)
