"""Stage 4 adapter tools: merge, average, stack, GGUF/safetensors export, model card."""

import json

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from web4rl.adapters import AdapterError, average, merge, stack
from web4rl.adapters.cli import main as adapters_main
from web4rl.policy import LoraSettings, Policy
from web4rl.tiny import build_tiny_model, load_tiny_tokenizer

TARGETS = ["q_proj", "v_proj"]


def _adapter(tmp_path, name, value_seed, r=2, targets=TARGETS):
    """A saved adapter whose LoRA A and B are random (non-zero delta)."""
    policy = Policy("web4rl/tiny", lora=LoraSettings(r=r, alpha=2 * r, dropout=0.0,
                                                     target_modules=list(targets)))
    gen = torch.Generator().manual_seed(value_seed)
    with torch.no_grad():
        for param_name, p in policy.model.named_parameters():
            if "lora_" in param_name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return policy.save_adapter(tmp_path / name), policy


def _delta(model_dir_or_peft, layer=0, proj="q_proj"):
    """delta_W = scaling * B @ A of one projection of a PEFT model (its active adapter)."""
    module = dict(model_dir_or_peft.named_modules())[f"base_model.model.model.layers.{layer}.self_attn.{proj}"]
    name = module.active_adapters[0]
    return module.get_delta_weight(name)


def _ids(text="Read src/App.tsx please"):
    return load_tiny_tokenizer()(text, return_tensors="pt")["input_ids"]


def _peft(adapter_dir):
    return PeftModel.from_pretrained(build_tiny_model(seed=0), str(adapter_dir)).eval()


def test_merge_logits_equal_base_plus_adapter(tmp_path):
    adapter, policy = _adapter(tmp_path, "a", 1)
    out = merge(adapter, tmp_path / "merged", base="web4rl/tiny")
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    policy.model.eval()
    ids = _ids()
    torch.testing.assert_close(merged(input_ids=ids).logits,
                               policy(ids, torch.ones_like(ids)), atol=1e-5, rtol=1e-5)


def test_average_cat_is_the_exact_weighted_sum_of_deltas(tmp_path):
    a, _ = _adapter(tmp_path, "a", 1)
    b, _ = _adapter(tmp_path, "b", 2, r=4)  # different ranks are fine for cat
    out = average([a, b], tmp_path / "avg", weights=[0.3, 0.7], base="web4rl/tiny")
    combined = _peft(out)
    for proj in TARGETS:
        expected = 0.3 * _delta(_peft(a), proj=proj) + 0.7 * _delta(_peft(b), proj=proj)
        torch.testing.assert_close(_delta(combined, proj=proj), expected, atol=1e-6, rtol=1e-5)
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 6


def test_stack_equals_applying_adapters_in_sequence(tmp_path):
    a, _ = _adapter(tmp_path, "a", 1)
    b, _ = _adapter(tmp_path, "b", 2)
    out = stack([a, b], tmp_path / "stacked", base="web4rl/tiny", merged=True)
    stacked = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    # sequence: merge a into the base, then apply b on top of that merged base
    first = _peft(a).merge_and_unload()
    second = PeftModel.from_pretrained(first, str(b)).eval()
    ids = _ids()
    torch.testing.assert_close(stacked(input_ids=ids).logits, second(input_ids=ids).logits,
                               atol=1e-5, rtol=1e-5)


def test_mismatches_are_refused_with_the_reason(tmp_path):
    a, _ = _adapter(tmp_path, "a", 1)
    other_targets, _ = _adapter(tmp_path, "c", 3, targets=["k_proj"])
    with pytest.raises(AdapterError, match="different modules"):
        average([a, other_targets], tmp_path / "x", base="web4rl/tiny")
    rank4, _ = _adapter(tmp_path, "d", 4, r=4)
    with pytest.raises(AdapterError, match="'linear' needs equal ranks"):
        average([a, rank4], tmp_path / "x", method="linear", base="web4rl/tiny")
    config = json.loads((rank4 / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "Qwen/Qwen2.5-Coder-7B"
    (rank4 / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(AdapterError, match="different bases"):
        average([a, rank4], tmp_path / "x")
    with pytest.raises(AdapterError, match="not a PEFT adapter"):
        merge(tmp_path, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_gguf_round_trip_from_the_cli(tmp_path, capsys):
    pytest.importorskip("gguf")
    adapter, policy = _adapter(tmp_path, "a", 1)
    for kind in ("f32", "q8_0"):
        code = adapters_main(["export", str(adapter), "--format", "gguf", "--type", kind,
                              "--base", "web4rl/tiny", "-o", str(tmp_path / f"m-{kind}.gguf")])
        assert code == 0 and "verified" in capsys.readouterr().out
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="m-f32.gguf",
                                                    dtype=torch.float32).eval()
    policy.model.eval()
    ids = _ids()
    torch.testing.assert_close(reloaded(input_ids=ids).logits, policy(ids, torch.ones_like(ids)),
                               atol=1e-4, rtol=1e-4)


def test_gguf_llama_rotary_permutation_round_trips(tmp_path):
    """Llama q/k rows are permuted for llama.cpp; transformers' loader undoes it exactly."""
    pytest.importorskip("gguf")
    from web4rl.adapters.gguf_export import export_gguf

    tokenizer = load_tiny_tokenizer()
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=1,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)).eval()
    export_gguf(model, tokenizer, tmp_path / "l.gguf", "f32")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="l.gguf", dtype=torch.float32)
    ids = _ids()
    torch.testing.assert_close(reloaded.eval()(input_ids=ids).logits, model(input_ids=ids).logits)


def test_card_has_metadata_lineage_and_gates(tmp_path):
    adapter, _ = _adapter(tmp_path, "a", 1)
    data = tmp_path / "pairs.jsonl"
    data.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    (tmp_path / "lineage.json").write_text(json.dumps(
        [{"stage": 1, "algorithm": "DPO", "config": "dpo_cpu.yaml", "adapter": "dpo", "data": [str(data)]}]))
    (tmp_path / "eval.json").write_text(json.dumps(
        {"gates": {"json_validity": {"value": 0.995, "threshold": 0.99, "passed": True}}}))
    card = tmp_path / "README.md"
    assert adapters_main(["card", str(adapter), "-o", str(card), "--lineage", str(tmp_path / "lineage.json"),
                          "--eval-report", str(tmp_path / "eval.json")]) == 0
    text = card.read_text()
    assert text.startswith("---\nbase_model: ") and "library_name: peft" in text
    assert "- \"dpo\"" in text and "pairs.jsonl" in text
    assert "| json_validity | 0.9950 | 0.99 | yes |" in text


def test_card_title_names_the_run_when_the_directory_name_is_generic(tmp_path):
    from web4rl.adapters.card import card_title
    assert card_title(tmp_path / "orpo_cpu" / "adapter") == "orpo_cpu/adapter"
    assert card_title(tmp_path / "runs" / "Final") == "runs/Final"
    assert card_title(tmp_path / "web4-sft-v3") == "web4-sft-v3"


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert adapters_main(["merge", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "not a PEFT adapter directory" in err and "Traceback" not in err
