import torch

from web4rl.sequence import (
    IGNORE_INDEX,
    chunked_token_logps,
    masked_mean,
    masked_sum,
    token_logps,
)


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
    summed = masked_sum(logps, mask)
    assert torch.allclose(summed[0], reference[0, 1, 3] + reference[0, 2, 1])


def test_masked_mean_empty_row_is_zero():
    values = torch.tensor([[1.0, 3.0], [5.0, 7.0]])
    mask = torch.tensor([[True, True], [False, False]])
    assert masked_mean(values, mask).tolist() == [2.0, 0.0]
    assert masked_mean(values, mask, dim=None).item() == 2.0


def test_chunked_logps_match_full_logits_values_and_gradients():
    torch.manual_seed(0)
    hidden = torch.randn(3, 9, 6, requires_grad=True)
    head = torch.nn.Linear(6, 11, bias=False)
    labels = torch.randint(0, 11, (3, 9))
    labels[:, :4] = IGNORE_INDEX  # a prompt region: its chunks are skipped
    labels[2, 7:] = IGNORE_INDEX  # padding
    full, full_mask = token_logps(head(hidden), labels)
    (full * torch.arange(8.0)).sum().backward()
    expected_grads = (hidden.grad.clone(), head.weight.grad.clone())
    for chunk in (1, 3, 100):
        hidden.grad, head.weight.grad = None, None
        logps, mask = chunked_token_logps(hidden, head, labels, chunk)
        assert torch.equal(mask, full_mask)
        assert torch.allclose(logps, full, atol=1e-6)
        (logps * torch.arange(8.0)).sum().backward()
        assert torch.allclose(hidden.grad, expected_grads[0], atol=1e-6)
        assert torch.allclose(head.weight.grad, expected_grads[1], atol=1e-6)
