"""Packed preference pairs (web4rl.packing, Policy.pack_pairs): the prompt computed once,
several pairs per row, the head on completion positions only. Same maths as the plain
layout: the losses and every LoRA gradient must equal the plain path's."""

from __future__ import annotations

import pytest
import torch

from web4rl.algorithms import DPO, ORPO
from web4rl.data import PreferenceDataModule
from web4rl.packing import pack_pairs
from web4rl.policy import LoraSettings, Policy
from web4rl.sequence import IGNORE_INDEX


def _saved_then_loaded(tmp_path, attn: str) -> Policy:
    """The path users take: an adapter with non-zero LoRA B written to disk, then continued
    with init_adapter (the DPO reference is then the frozen copy of it)."""
    torch.manual_seed(0)
    first = Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
    for name, p in first.model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.05)
    first.save_adapter(tmp_path / "adapter")
    policy = Policy("web4rl/tiny", init_adapter=str(tmp_path / "adapter"),
                    attn_implementation=attn)
    # Move the trainable adapter away from the reference so the DPO loss is not ln 2.
    for name, p in policy.model.named_parameters():
        if "lora_B" in name and p.requires_grad:
            with torch.no_grad():
                p.add_(torch.randn_like(p) * 0.02)
    return policy


def _batch(policy: Policy, batch_size: int = 6):
    data = PreferenceDataModule(batch_size=batch_size, max_length=128, max_prompt_length=64,
                                overlong_prompt="truncate", split_fractions=(1.0, 0.0, 0.0))
    data.set_tokenizer(policy.tokenizer)
    data.setup("fit")
    return next(iter(data.train_dataloader()))


def _loss_and_grads(module, batch, packed: bool):
    module.policy.pack_pairs = packed
    module.policy.zero_grad(set_to_none=True)
    loss, metrics = module.compute_loss(batch)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in module.policy.named_parameters() if p.requires_grad}
    return loss.detach(), metrics, grads


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("algorithm", [DPO, ORPO])
def test_packed_pairs_equal_the_plain_layout(tmp_path, attn, algorithm):
    policy = _saved_then_loaded(tmp_path, attn)
    module = algorithm(policy=policy)
    batch = _batch(policy)
    plain_loss, plain_metrics, plain_grads = _loss_and_grads(module, batch, packed=False)
    packed_loss, packed_metrics, packed_grads = _loss_and_grads(module, batch, packed=True)
    if algorithm is DPO:
        assert abs(float(plain_loss) - 0.6931) > 1e-3  # the reference differs from the policy
    assert float(packed_loss) == pytest.approx(float(plain_loss), abs=1e-5)
    for key, value in plain_metrics.items():
        assert float(packed_metrics[key]) == pytest.approx(float(value), abs=1e-4), key
    assert plain_grads.keys() == packed_grads.keys() and len(plain_grads) > 0
    for name, grad in plain_grads.items():
        assert grad.abs().max() > 0, name
        torch.testing.assert_close(packed_grads[name], grad, atol=1e-6, rtol=1e-4, msg=name)


def _stacked(prompts, chosen, rejected, pad=0):
    """[2B, T] right-padded ids/mask/labels from token lists (the collator's layout)."""
    rows = [(p, c) for p, c in zip(prompts, chosen, strict=True)]
    rows += [(p, r) for p, r in zip(prompts, rejected, strict=True)]
    t = max(len(p) + len(c) for p, c in rows)
    ids = torch.full((len(rows), t), pad)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    labels = torch.full((len(rows), t), IGNORE_INDEX)
    for i, (p, c) in enumerate(rows):
        ids[i, :len(p) + len(c)] = torch.tensor(p + c)
        mask[i, :len(p) + len(c)] = 1
        labels[i, len(p):len(p) + len(c)] = torch.tensor(c)
    return ids, mask, labels


def test_layout_by_hand():
    """Two pairs: (prompt [5, 6], chosen [7], rejected [8, 9]) -> segment 5 6 7 8 9 with
    positions 0 1 2 2 3; (prompt [4], chosen [3, 3], rejected [2]) -> 4 3 3 2, positions
    0 1 2 1. Segment lengths 5 and 4, capacity 5: two rows. In the first segment token 8
    (rejected) sees 5, 6 and itself, not the chosen 7; its predictor is the prompt's last
    position (index 1), the predictor of 9 is 8 (index 3)."""
    ids, mask, labels = _stacked([[5, 6], [4]], [[7], [3, 3]], [[8, 9], [2]])
    packed = pack_pairs(ids, mask, labels, pad_id=0)
    assert packed is not None and packed.input_ids.tolist() == [[5, 6, 7, 8, 9], [4, 3, 3, 2, 0]]
    assert packed.position_ids.tolist() == [[0, 1, 2, 2, 3], [0, 1, 2, 1, 0]]
    allowed = packed.allowed[0, 0].int().tolist()
    assert allowed[3] == [1, 1, 0, 1, 0]  # rejected 8: prompt + itself, not chosen 7
    assert allowed[4] == [1, 1, 0, 1, 1]
    assert allowed[2] == [1, 1, 1, 0, 0]  # chosen 7: causal
    assert packed.allowed[1, 0, 4].int().tolist() == [0, 0, 0, 0, 1]  # padding: itself only
    # targets: pair 0 chosen 7 (from 1), rejected 8 (from 1), 9 (from 3); pair 1 (row 1,
    # flat offset 5) chosen 3 (from 5), 3 (from 6), rejected 2 (from 5)
    assert packed.source.tolist() == [1, 1, 3, 5, 6, 5]
    assert packed.target.tolist() == [7, 8, 9, 3, 3, 2]
    width = ids.shape[1] - 1  # 3
    # chosen rows 0, 1 and rejected rows 2, 3 of the plain shifted layout
    assert packed.out_index.tolist() == [0 * width + 1, 2 * width + 1, 2 * width + 2,
                                         1 * width + 0, 1 * width + 1, 3 * width + 0]
    assert packed.real_tokens == 9


def test_batches_without_a_shared_prompt_are_not_packed():
    ids, mask, labels = _stacked([[5, 6]], [[7]], [[8]])
    ids[1, 0] = 4  # the rejected row's prompt differs
    assert pack_pairs(ids, mask, labels, pad_id=0) is None
    ids, mask, labels = _stacked([[5, 6]], [[7]], [[8]])
    labels[0, 2] = IGNORE_INDEX  # a chosen row without any loss position
    assert pack_pairs(ids, mask, labels, pad_id=0) is None


def test_packed_pairs_with_chunked_head_and_checkpointing(tmp_path):
    """The GPU configs' settings: the head in checkpointed chunks (logits_chunk_size) and
    gradient checkpointing; packed ORPO still equals the plain layout."""
    torch.manual_seed(0)
    policy = Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0),
                    logits_chunk_size=7, gradient_checkpointing=True)
    for name, p in policy.model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.05)
    module = ORPO(policy=policy)
    batch = _batch(policy, batch_size=4)
    plain_loss, _, plain_grads = _loss_and_grads(module, batch, packed=False)
    packed_loss, _, packed_grads = _loss_and_grads(module, batch, packed=True)
    assert float(packed_loss) == pytest.approx(float(plain_loss), abs=1e-5)
    for name, grad in plain_grads.items():
        torch.testing.assert_close(packed_grads[name], grad, atol=1e-6, rtol=1e-4, msg=name)
