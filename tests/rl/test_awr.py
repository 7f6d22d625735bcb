"""AWR weights (web4rl.rl.awr) against hand-computed values."""

import pytest
import torch

from web4rl.rl.awr import awr_weights

REWARDS = torch.tensor([1.0, 0.0, 0.5, 0.2])
GROUPS = torch.tensor([0, 0, 1, 2])


def test_hand_values():
    """Prompt 0 has two samples (rewards 1.0, 0.0), prompts 1 and 2 one each (0.5, 0.2).

    Baselines: prompt 0 -> its mean 0.5; prompts 1, 2 -> the data-set mean
    (1 + 0 + 0.5 + 0.2) / 4 = 0.425. Advantages A = [0.5, -0.5, 0.075, -0.225].
    mean(A) = -0.0375, A - mean = [0.5375, -0.4625, 0.1125, -0.1875],
    population var = (0.28890625 + 0.21390625 + 0.01265625 + 0.03515625) / 4 = 0.13765625,
    std = 0.37102055. A^ = [1.448707, -1.246562, 0.303218, -0.505363].
    beta = 5: w = exp(A^ / 5) = [1.336082, 0.779337, 1.062520, 0.903867] (none clipped).
    """
    w, adv = awr_weights(REWARDS, GROUPS, beta=5.0, w_max=10.0)
    assert adv.tolist() == pytest.approx([1.448707, -1.246562, 0.303218, -0.505363], abs=1e-5)
    assert w.tolist() == pytest.approx([1.336082, 0.779337, 1.062520, 0.903867], abs=1e-5)


def test_clip_and_unnormalized():
    """beta = 0.5: exp(1.448707 / 0.5) = 18.1 is clipped to w_max = 10; the others are
    exp(2 A^) = [0.082651, 1.833883, 0.363955].
    Without normalisation the raw A / beta is used: exp(0.5 / 0.5) = e, exp(-1), exp(0.15),
    exp(-0.45)."""
    w, _ = awr_weights(REWARDS, GROUPS, beta=0.5, w_max=10.0)
    assert w.tolist() == pytest.approx([10.0, 0.082651, 1.833883, 0.363955], abs=1e-5)
    w, adv = awr_weights(REWARDS, GROUPS, beta=0.5, normalize=False)
    assert adv.tolist() == pytest.approx([0.5, -0.5, 0.075, -0.225], abs=1e-6)
    assert w.tolist() == pytest.approx([2.718282, 0.367879, 1.161834, 0.637628], abs=1e-5)


def test_equal_rewards_give_unit_weights():
    """All advantages equal -> std 0 -> every normalised advantage 0 -> every weight exp(0) = 1."""
    w, adv = awr_weights(torch.full((5,), 0.7), torch.tensor([0, 0, 1, 1, 2]))
    assert torch.equal(adv, torch.zeros(5)) and torch.equal(w, torch.ones(5))


@pytest.mark.parametrize("kwargs", [{"beta": 0.0}, {"w_max": -1.0}])
def test_bad_settings(kwargs):
    with pytest.raises(ValueError, match="awr_weights"):
        awr_weights(REWARDS, GROUPS, **kwargs)
