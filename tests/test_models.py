"""Base-model sources: GGUF bases, the web4rl/smol alias, k-bit quantization options."""

import importlib.util

import pytest
import torch

import web4rl.models as models
from web4rl.policy import LoraSettings, Policy, PolicyConfigError
from web4rl.tiny import build_tiny_model, load_tiny_tokenizer

gguf = pytest.importorskip("gguf")


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    """The tiny model written as an f32 GGUF file (by web4rl's own exporter)."""
    from web4rl.adapters.gguf_export import export_gguf

    directory = tmp_path_factory.mktemp("gguf")
    export_gguf(build_tiny_model(seed=0).eval(), load_tiny_tokenizer(), directory / "tiny.gguf", "f32")
    return directory


def _logits(model, text="Read src/App.tsx"):
    ids = load_tiny_tokenizer()(text, return_tensors="pt")["input_ids"]
    return model(input_ids=ids, attention_mask=torch.ones_like(ids))


def test_policy_loads_a_gguf_base_with_its_tokenizer(tiny_gguf):
    policy = Policy(str(tiny_gguf), gguf_file="tiny.gguf", lora=LoraSettings(r=2, alpha=4))
    assert policy.tokenizer("Read src/App.tsx")["input_ids"] == \
        load_tiny_tokenizer()("Read src/App.tsx")["input_ids"]
    assert policy.tokenizer.chat_template and policy.tokenizer.eos_token == "<|im_end|>"
    policy.model.eval()
    with policy.reference():
        torch.testing.assert_close(_logits(policy), _logits(build_tiny_model(seed=0).eval()).logits)
    assert any(p.requires_grad for p in policy.parameters())


def test_unsupported_gguf_is_one_clear_error(tmp_path):
    writer = gguf.GGUFWriter(str(tmp_path / "odd.gguf"), "nonexistent-arch")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(PolicyConfigError, match=r"gguf_file: cannot load .*odd\.gguf"):
        Policy(str(tmp_path), gguf_file="odd.gguf")
    with pytest.raises(PolicyConfigError, match="gguf_file: .*missing.gguf does not exist"):
        Policy(str(tmp_path), gguf_file="missing.gguf")


def test_smol_alias_dequantizes_once_into_the_cache(tiny_gguf, tmp_path, monkeypatch):
    """The alias resolves to the package's GGUF, writes a plain safetensors copy on first use
    and reads that copy afterwards (the package is faked with the tiny GGUF)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / models.SMOL_GGUF).write_bytes((tiny_gguf / "tiny.gguf").read_bytes())
    monkeypatch.setattr(models, "smol_gguf_path", lambda: tmp_path / "pkg" / models.SMOL_GGUF)
    monkeypatch.setenv("WEB4RL_CACHE", str(tmp_path / "cache"))
    first = Policy("web4rl/smol", lora=LoraSettings(r=2, alpha=4))
    copy = tmp_path / "cache" / "smollm2-135m-instruct"
    assert (copy / "model.safetensors").is_file() and (copy / "tokenizer.json").is_file()
    stamp = (copy / "model.safetensors").stat().st_mtime_ns
    second = Policy("web4rl/smol", lora=LoraSettings(r=2, alpha=4))
    assert (copy / "model.safetensors").stat().st_mtime_ns == stamp  # not rewritten
    first.model.eval(), second.model.eval()
    torch.testing.assert_close(_logits(first), _logits(second))


def test_smol_without_the_extra_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == models.SMOL_PACKAGE else real(name, *a))
    with pytest.raises(PolicyConfigError, match=r"pip install 'web4rl\[smol\]'"):
        Policy("web4rl/smol")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the off-CUDA error")
@pytest.mark.parametrize("quantization", ["nf4", "int8"])
def test_quantization_off_cuda_is_a_clear_error(quantization):
    with pytest.raises(PolicyConfigError, match=f"quantization: {quantization} needs a CUDA GPU"):
        Policy("web4rl/tiny", quantization=quantization)


def test_unknown_quantization_is_rejected():
    with pytest.raises(PolicyConfigError, match="'fp4' is not one of none, nf4, int8"):
        Policy("web4rl/tiny", quantization="fp4")
