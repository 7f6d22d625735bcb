import torch

from web4rl.sequence import IGNORE_INDEX, masked_mean, sequence_logps, token_logps


def test_token_logps_match_log_softmax_and_shift():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 3, 1, IGNORE_INDEX],
                           [IGNORE_INDEX, 4, 2, 6, 0]])
    logps, mask = token_logps(logits, labels)
    reference = torch.log_softmax(logits, -1)
    # position t predicts token t+1
    assert torch.allclose(logps[0, 1], reference[0, 1, 3])
    assert torch.allclose(logps[0, 2], reference[0, 2, 1])
    assert logps[0, 0] == 0 and not mask[0, 0] and not mask[0, 3]
    assert mask[1].all()
    summed, _, _ = sequence_logps(logits, labels)
    assert torch.allclose(summed[0], reference[0, 1, 3] + reference[0, 2, 1])


def test_masked_mean_empty_row_is_zero():
    values = torch.tensor([[1.0, 3.0], [5.0, 7.0]])
    mask = torch.tensor([[True, True], [False, False]])
    assert masked_mean(values, mask).tolist() == [2.0, 0.0]
    assert masked_mean(values, mask, dim=None).item() == 2.0
