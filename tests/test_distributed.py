"""FSDP wrap decisions on CPU (Lightning's FSDP needs GPUs to run; the policy is plain Python)."""

import pytest

from web4rl.distributed import LoraFSDPStrategy, LoraWrapPolicy, decoder_layer_names
from web4rl.policy import LoraSettings, Policy


@pytest.fixture(scope="module")
def policy():
    return Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8))


def test_decoder_layers_and_lora_leaves_are_wrapped(policy):
    strategy = LoraFSDPStrategy(activation_checkpointing=True)
    names = strategy.resolve_layer_names(policy)
    assert names == {"Qwen2DecoderLayer"} == decoder_layer_names(policy)
    wrapped = [m for m in policy.modules() if strategy.wrap_policy.should_wrap(m)]
    layers = [m for m in wrapped if type(m).__name__ == "Qwen2DecoderLayer"]
    lora_leaves = [m for m in wrapped if type(m).__name__ != "Qwen2DecoderLayer"]
    n_layers = policy.model.config.num_hidden_layers
    assert len(layers) == n_layers
    # A and B per projection, 7 projections per layer; frozen base leaves are never units.
    assert len(lora_leaves) == 2 * 7 * n_layers
    assert all(p.requires_grad for m in lora_leaves for p in m.parameters())
    assert strategy.kwargs["use_orig_params"] is True
    assert strategy._checkpoint_policy(layers[0], recurse=False, nonwrapped_numel=0)


def test_explicit_layer_names_and_missing_layers():
    import torch

    policy_fn = LoraWrapPolicy(["Linear"])
    assert policy_fn(torch.nn.Linear(2, 2).requires_grad_(False), recurse=False, nonwrapped_numel=0)
    assert not policy_fn(torch.nn.ReLU(), recurse=False, nonwrapped_numel=0)
    strategy = LoraFSDPStrategy(layer_class_names=[])
    with pytest.raises(ValueError, match="layer_class_names"):
        strategy.resolve_layer_names(torch.nn.Linear(2, 2))


def test_fsdp_load_checkpoint_names_missing_trainable_tensors(policy, tmp_path):
    """LoraFSDPStrategy checks a checkpoint's trainable keys itself (Lightning's FSDP loader
    removes state_dict before on_load_checkpoint), for full files and sharded directories."""
    import torch
    import torch.distributed.checkpoint as dcp

    from web4rl.policy import trainable_state_names

    strategy = LoraFSDPStrategy()
    strategy.model = policy  # the names are what matters here; no process group needed
    trainable = sorted(trainable_state_names(policy))
    state = {k: v for k, v in policy.state_dict().items() if k in trainable[1:]}
    torch.save({"state_dict": state}, tmp_path / "full.ckpt")
    with pytest.raises(KeyError, match=f"lacks 1 trainable tensors \\(first: {trainable[0]}"):
        strategy.load_checkpoint(tmp_path / "full.ckpt")
    sharded = tmp_path / "sharded.ckpt"
    dcp.save({"model": state}, checkpoint_id=sharded)
    torch.save({}, sharded / "meta.pt")
    with pytest.raises(KeyError, match=f"lacks 1 trainable tensors \\(first: {trainable[0]}"):
        strategy.load_checkpoint(sharded)
