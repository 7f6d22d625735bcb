"""The built-in tiny model (web4rl/tiny): tokenizer, chat template, config, model building.

Everything runs offline (conftest sets HF_HUB_OFFLINE); no weights are downloaded or shipped.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from web4rl.tiny import (
    TINY_DIR,
    build_tiny_model,
    is_tiny,
    load_tiny_tokenizer,
    tiny_config,
)

ROOT = Path(__file__).resolve().parent.parent


def _load_script(name: str):
    """Import scripts/<name>.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tok():
    return load_tiny_tokenizer()


@pytest.fixture(scope="module")
def model():
    return build_tiny_model(seed=0).eval()


def test_shipped_files_present():
    for name in ("config.json", "generation_config.json", "tokenizer.json",
                 "tokenizer_config.json", "special_tokens_map.json"):
        assert (TINY_DIR / name).is_file(), name
    # No weights are shipped: the base is always built from config with a seed.
    assert not list(TINY_DIR.glob("*.safetensors")) and not list(TINY_DIR.glob("*.bin"))


def test_tokenizer_special_tokens(tok):
    assert tok.pad_token == "<|endoftext|>" and tok.pad_token_id == 0
    assert tok.convert_tokens_to_ids("<|im_start|>") == 1
    assert tok.eos_token == "<|im_end|>" and tok.eos_token_id == 2
    assert tok.bos_token is None
    assert 4000 <= len(tok) <= 8192
    # Special tokens inside text are single ids, never split into bytes.
    ids = tok("a<|im_end|>b", add_special_tokens=False)["input_ids"]
    assert 2 in ids
    # Plain encoding adds nothing (no bos/eos): the data pipeline concatenates pieces exactly.
    assert tok("hello", add_special_tokens=True)["input_ids"] == tok("hello", add_special_tokens=False)["input_ids"]


def test_chat_template_renders_chatml(tok):
    msgs = [{"role": "user", "content": "Open src/App.tsx."}]
    text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nOpen src/App.tsx.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    no_gen = tok.apply_chat_template(msgs, add_generation_prompt=False, tokenize=False)
    assert not no_gen.endswith("<|im_start|>assistant\n")

    convo = [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "List src."},
        {"role": "assistant", "content": '{"tool": "list_dir", "args": {"target_directory": "src"}}'},
    ]
    text = tok.apply_chat_template(convo, tokenize=False)
    assert text == (
        "<|im_start|>system\nUse the tools.<|im_end|>\n"
        "<|im_start|>user\nList src.<|im_end|>\n"
        '<|im_start|>assistant\n{"tool": "list_dir", "args": {"target_directory": "src"}}<|im_end|>\n'
    )


ROUND_TRIP_SAMPLES = [
    "", " ", "  leading and trailing  ", "tabs\tand\nnewlines\r\n",
    '{"tool": "read_file", "args": {"target_file": "src/components/UserCard.tsx"}}',
    "export const x: Record<string, number> = { a: 1 };",
    "Ünïcödé café 東京 Москва 🙂🚀 ✅ — «quotes»", "\x00\x01\x7f control chars",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral 😀" * 3, "1234567890 3.14159 -1e-5",
]


@pytest.mark.parametrize("text", ROUND_TRIP_SAMPLES)
def test_utf8_round_trip_samples(tok, text):
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert tok.unk_token_id is None or tok.unk_token_id not in ids


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_utf8_round_trip_property(text):
    """Byte-level BPE never loses a byte. Like Qwen2 the pipeline NFC-normalizes first
    (transformers 5 forces Qwen2Tokenizer's pipeline for model_type qwen2), so the round trip
    is exact for NFC text and yields the NFC form otherwise."""
    tok = _cached_tok()
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == unicodedata.normalize("NFC", text)


_TOK = None


def _cached_tok():
    """Hypothesis forbids function-scoped fixtures in @given tests; cache by hand."""
    global _TOK
    if _TOK is None:
        _TOK = load_tiny_tokenizer()
    return _TOK


def test_raw_tokenizers_and_transformers_agree(tok):
    """The shipped tokenizer.json pipeline equals what AutoTokenizer builds from it."""
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(TINY_DIR / "tokenizer.json"))
    for text in ROUND_TRIP_SAMPLES + ["e\u0301 decomposed", "<|im_start|>user\nhi<|im_end|>"]:
        assert raw.encode(text).ids == tok(text, add_special_tokens=False)["input_ids"], text


def test_is_tiny():
    assert is_tiny("web4rl/tiny") and is_tiny("web4rl/tiny/")
    assert is_tiny(TINY_DIR) and is_tiny(str(TINY_DIR))
    assert not is_tiny("Qwen/Qwen2.5-Coder-7B-Instruct")
    assert not is_tiny("/definitely/not/here")
    assert not is_tiny(TINY_DIR.parent)


def test_config_matches_tokenizer(tok):
    cfg = tiny_config()
    assert cfg.model_type == "qwen2"
    assert cfg.architectures == ["Qwen2ForCausalLM"]
    assert cfg.vocab_size % 64 == 0 and len(tok) <= cfg.vocab_size < len(tok) + 64
    assert cfg.eos_token_id == tok.eos_token_id and cfg.pad_token_id == tok.pad_token_id
    assert cfg.tie_word_embeddings
    assert cfg.num_key_value_heads < cfg.num_attention_heads  # grouped-query attention, like Qwen2
    assert cfg.max_position_embeddings == 4096
    gen = json.loads((TINY_DIR / "generation_config.json").read_text())
    assert gen["eos_token_id"] == tok.eos_token_id


def test_model_builds_deterministically():
    state_before = torch.random.get_rng_state()
    a = build_tiny_model(seed=0).state_dict()
    # The caller's RNG stream is untouched.
    assert torch.equal(state_before, torch.random.get_rng_state())
    b = build_tiny_model(seed=0).state_dict()
    c = build_tiny_model(seed=1).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].dtype.is_floating_point)


def test_model_dtype():
    m = build_tiny_model(seed=0, dtype=torch.bfloat16)
    assert {p.dtype for p in m.parameters()} == {torch.bfloat16}
    ref = build_tiny_model(seed=0)
    name, p = next(iter(ref.named_parameters()))
    torch.testing.assert_close(dict(m.named_parameters())[name].float(), p, atol=1e-2, rtol=1e-2)


def test_forward_shapes_and_loss(tok, model):
    texts = ["<|im_start|>user\nList src.<|im_end|>\n", "short"]
    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model(**batch, labels=batch["input_ids"])
    b, t = batch["input_ids"].shape
    assert out.logits.shape == (b, t, model.config.vocab_size)
    assert torch.isfinite(out.loss)
    # An untrained model is near uniform: loss ~ ln(vocab).
    assert abs(out.loss.item() - torch.log(torch.tensor(float(model.config.vocab_size))).item()) < 1.0


def test_generate_stops_within_budget(tok, model):
    prompt = tok.apply_chat_template([{"role": "user", "content": "Open src/App.tsx."}],
                                     add_generation_prompt=True, tokenize=False)
    batch = tok([prompt], return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=8, do_sample=False,
                             pad_token_id=tok.pad_token_id)
    assert out.shape[0] == 1 and batch["input_ids"].shape[1] < out.shape[1] <= batch["input_ids"].shape[1] + 8


def test_lora_attaches_to_all_projections():
    """The policy's default LoRA targets exist in the tiny model."""
    from peft import LoraConfig, get_peft_model

    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    m = get_peft_model(build_tiny_model(seed=0), LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {t for t in targets if any(f".{t}." in n for n in trainable)} == set(targets)


def test_build_script_reproduces_shipped_files(tmp_path):
    """scripts/build_tiny.py on the shipped sample data gives the shipped files byte for byte."""
    build = _load_script("build_tiny")
    assert build.main(["--out", str(tmp_path)]) == 0
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                 "config.json", "generation_config.json"):
        assert (tmp_path / name).read_bytes() == (TINY_DIR / name).read_bytes(), name
