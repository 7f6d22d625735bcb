import pytest
import torch
from peft import PeftModel

from web4rl.policy import LoraSettings, Policy, PolicyConfigError, SamplingSettings
from web4rl.tiny import build_tiny_model


@pytest.fixture(scope="module")
def policy():
    return Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0))


def _ids(policy, text="Read src/App.tsx"):
    enc = policy.tokenizer(text, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def _bump_lora(policy, value=0.05):
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name and p.requires_grad:
                p.fill_(value)


def test_only_lora_weights_train(policy):
    trainable = [n for n, p in policy.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and ".default." in n for n in trainable)
    # all seven projections of every layer carry an adapter by default
    assert {n.split(".")[-4] for n in trainable} >= {"q_proj", "down_proj"}


def test_fresh_adapter_reference_is_the_base_model(policy):
    ids, mask = _ids(policy)
    base = build_tiny_model(seed=0).eval()
    _bump_lora(policy)
    policy.eval()
    with policy.reference():
        ref_logits = policy(ids, mask)
    assert torch.allclose(ref_logits, base(input_ids=ids, attention_mask=mask).logits, atol=1e-5)
    assert not torch.allclose(policy(ids, mask), ref_logits, atol=1e-4)


def test_continue_adapter_keeps_frozen_reference(policy, tmp_path):
    _bump_lora(policy, 0.03)
    policy.eval()
    ids, mask = _ids(policy)
    start_logits = policy(ids, mask).detach()
    policy.save_adapter(tmp_path / "sft.lora")

    cont = Policy("web4rl/tiny", init_adapter=str(tmp_path / "sft.lora")).eval()
    assert torch.allclose(cont(ids, mask), start_logits, atol=1e-5)
    flags_before = {n: p.requires_grad for n, p in cont.named_parameters()}
    _bump_lora(cont, 0.2)  # training moves the trainable copy...
    with cont.reference():
        ref = cont(ids, mask)
    assert torch.allclose(ref, start_logits, atol=1e-5)  # ...the reference stays put
    assert {n: p.requires_grad for n, p in cont.named_parameters()} == flags_before
    assert all(".default." in n for n, p in cont.named_parameters() if p.requires_grad)


def test_saved_adapter_loads_with_plain_peft(policy, tmp_path):
    _bump_lora(policy, 0.04)
    policy.eval()
    out = policy.save_adapter(tmp_path / "adapter")
    assert (out / "adapter_config.json").is_file()
    assert (out / "adapter_model.safetensors").is_file()
    assert not list(tmp_path.glob(".adapter.tmp-*"))
    loaded = PeftModel.from_pretrained(build_tiny_model(seed=0), str(out)).eval()
    ids, mask = _ids(policy)
    assert torch.allclose(loaded(input_ids=ids, attention_mask=mask).logits, policy(ids, mask),
                          atol=1e-5)


def test_missing_adapter_is_a_clear_error(tmp_path):
    with pytest.raises(PolicyConfigError, match="init_adapter: directory .*nope does not exist"):
        Policy("web4rl/tiny", init_adapter=str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolicyConfigError, match="no adapter_config.json"):
        Policy("web4rl/tiny", init_adapter=str(tmp_path / "empty"))


def test_generate_batches_n_per_prompt(policy):
    out = policy.generate(["List the src folder", "Read package.json", "grep TODO"], n=2,
                          sampling=SamplingSettings(max_new_tokens=6, batch_size=4), seed=0)
    assert len(out) == 3 and all(len(c) == 2 for c in out)
    assert all(isinstance(s, str) for c in out for s in c)
    again = policy.generate(["List the src folder"], n=2,
                            sampling=SamplingSettings(max_new_tokens=6, temperature=0))
    assert again[0][0] == again[0][1]  # greedy is deterministic


def test_reference_runs_in_eval_mode_and_restores_training(policy):
    policy.train()
    with policy.reference():
        assert not policy.model.training  # no dropout: reference log-probs are deterministic
    assert policy.model.training


def test_chunked_logits_give_the_same_log_probs(policy):
    chunked = Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0),
                     logits_chunk_size=3)
    chunked.load_state_dict(policy.state_dict())
    policy.eval(), chunked.eval()
    ids, mask = _ids(policy, "Read src/App.tsx and list the src folder please")
    labels = ids.clone()
    labels[:, :4] = -100
    full_logps, full_mask = policy.token_logps(ids, mask, labels)
    logps, chunk_mask = chunked.token_logps(ids, mask, labels)
    assert torch.equal(full_mask, chunk_mask)
    assert torch.allclose(full_logps, logps, atol=1e-5)
    with chunked.reference(), policy.reference():
        assert torch.allclose(policy.token_logps(ids, mask, labels)[0],
                              chunked.token_logps(ids, mask, labels)[0], atol=1e-5)
