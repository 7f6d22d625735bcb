"""The one generation path (web4rl.generation): ids, behaviour log-probs, determinism, padding,
finish reasons, on a tiny model loaded from disk as real runs do."""

import pytest
import torch

from web4rl.generation import render_and_tokenize, sample_ids
from web4rl.policy import LoraSettings, Policy
from web4rl.tiny import build_tiny_model

PROMPTS = ["List the src folder", "Read package.json and tell me the version", "grep TODO"]


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    """Tiny base saved with save_pretrained and loaded back (eval mode, as from_pretrained
    returns it), with a non-zero LoRA update so the adapter matters."""
    base_dir = tmp_path_factory.mktemp("tiny_base")
    build_tiny_model(seed=0).save_pretrained(base_dir)
    Policy("web4rl/tiny").tokenizer.save_pretrained(base_dir)
    pol = Policy(str(base_dir), lora=LoraSettings(r=4, alpha=8, dropout=0.1))
    with torch.no_grad():
        for name, p in pol.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05, generator=torch.Generator().manual_seed(len(name)))
    return pol


def test_shape_and_order_n_times_temperatures(policy):
    out = policy.sample(PROMPTS, n=2, temperatures=(0.7, 1.2), max_new_tokens=5, batch_size=5)
    assert len(out) == len(PROMPTS) * 2 * 2
    assert [(c.prompt_index, c.sample_index, c.temperature) for c in out[:4]] == [
        (0, 0, 0.7), (0, 1, 0.7), (0, 2, 1.2), (0, 3, 1.2)]
    for c in out:
        assert c.completion_ids.dtype == torch.long and c.logprobs.dtype == torch.float32
        assert c.completion_ids.shape == c.logprobs.shape and 1 <= c.num_tokens <= 5
        assert (c.logprobs <= 0).all()
        assert c.finish_reason in ("stop", "length")
        assert c.text == policy.tokenizer.decode(c.completion_ids, skip_special_tokens=True)


def test_seeded_and_leaves_global_rng_alone(policy):
    state = torch.random.get_rng_state()
    a = policy.sample(PROMPTS, n=2, max_new_tokens=6, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())
    b = policy.sample(PROMPTS, n=2, max_new_tokens=6, seed=3)
    c = policy.sample(PROMPTS, n=2, max_new_tokens=6, seed=4)
    assert all(torch.equal(x.completion_ids, y.completion_ids) for x, y in zip(a, b, strict=True))
    assert any(not torch.equal(x.completion_ids, y.completion_ids) for x, y in zip(a, c, strict=True))


def test_behaviour_logprobs_equal_a_fresh_forward_pass(policy):
    """log softmax(logits / T)[token] from one teacher-forced pass over prompt + completion
    must equal what sampling recorded, for every generated token."""
    for temperature in (1.0, 0.7):
        for c in policy.sample(PROMPTS, n=1, temperatures=(temperature,), max_new_tokens=8, seed=1):
            ids = torch.cat([c.prompt_ids, c.completion_ids])[None]
            policy.model.eval()
            with torch.no_grad():
                logits = policy(ids, torch.ones_like(ids))[0, len(c.prompt_ids) - 1 : -1]
            fresh = torch.log_softmax(logits / temperature, -1).gather(-1, c.completion_ids[:, None])
            torch.testing.assert_close(fresh.squeeze(-1), c.logprobs, atol=1e-4, rtol=1e-4)


def test_padding_does_not_change_greedy_output(policy):
    """Left-padded rows (short prompts batched with long ones) decode as they do alone."""
    batched = policy.sample(PROMPTS, temperatures=(0.0,), max_new_tokens=8, batch_size=3)
    for i, prompt in enumerate(PROMPTS):
        alone = policy.sample([prompt], temperatures=(0.0,), max_new_tokens=8)[0]
        assert torch.equal(alone.completion_ids, batched[i].completion_ids)


def test_greedy_matches_transformers_generate(policy):
    ids = render_and_tokenize(policy.tokenizer, PROMPTS[:1])
    ours = sample_ids(policy.model, policy.tokenizer, ids, temperatures=(0.0,), max_new_tokens=8)[0]
    policy.model.eval()
    theirs = policy.model.generate(input_ids=torch.tensor(ids), do_sample=False, max_new_tokens=8,
                                   eos_token_id=policy.tokenizer.eos_token_id,
                                   pad_token_id=policy.tokenizer.pad_token_id)[0, len(ids[0]):]
    assert torch.equal(ours.completion_ids, theirs[: ours.num_tokens])


def test_finish_reasons_and_stop_token_included(policy):
    every_token = set(range(len(policy.tokenizer)))
    stopped = policy.sample(PROMPTS[:1], max_new_tokens=5, stop_ids=every_token)[0]
    assert stopped.finish_reason == "stop" and stopped.num_tokens == 1
    capped = policy.sample(PROMPTS[:1], max_new_tokens=3, stop_ids={-1})[0]
    assert capped.finish_reason == "length" and capped.num_tokens == 3


def test_restores_each_modules_mode(policy):
    policy.model.train()
    frozen = next(m for m in policy.model.modules() if m is not policy.model)
    frozen.training = False  # a submodule deliberately kept in eval mode
    policy.sample(PROMPTS[:1], max_new_tokens=2)
    assert policy.model.training and not frozen.training
    policy.model.train()


def test_continued_adapter_samples(policy, tmp_path):
    policy.save_adapter(tmp_path / "sft.lora")
    cont = Policy(policy.model_name, init_adapter=str(tmp_path / "sft.lora"))
    a = cont.sample(PROMPTS, temperatures=(0.0,), max_new_tokens=6)
    b = policy.sample(PROMPTS, temperatures=(0.0,), max_new_tokens=6)
    assert all(torch.equal(x.completion_ids, y.completion_ids) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("kwargs", [dict(n=0), dict(top_p=0.0), dict(temperatures=()),
                                    dict(temperatures=(-1.0,)), dict(batch_size=0)])
def test_bad_settings_are_clear_errors(policy, kwargs):
    with pytest.raises(ValueError, match="sampling:"):
        policy.sample(PROMPTS[:1], max_new_tokens=2, **kwargs)
