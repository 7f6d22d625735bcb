"""Write a merged Qwen2 / Llama model as a GGUF file (llama.cpp, Ollama, LM Studio, and
transformers' ``gguf_file=`` loader), with its tokenizer and chat template inside.

Tensor names come from the ``gguf`` package's own HF -> GGUF name map, metadata keys from its
constants, so the file reads back with the same code llama.cpp's converter targets. Llama
checkpoints store q/k projections with rotary halves de-interleaved (HF layout); GGUF expects
llama.cpp's interleaved layout, so q_proj / k_proj rows are permuted (transformers undoes the
same permutation when it loads a llama GGUF). Qwen2 needs no permutation.

Types: ``f32``, ``f16``, ``bf16`` (every tensor), or ``q8_0`` (2-D weight matrices in 8-bit
blocks of 32; norms and other 1-D tensors stay f32, as llama.cpp does).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SUPPORTED_ARCHITECTURES = ("qwen2", "llama")
GGUF_TYPES = ("f32", "f16", "bf16", "q8_0")


class GGUFExportError(ValueError):
    """A model or setting this exporter cannot write."""


def _require_gguf():
    try:
        import gguf
    except ImportError:
        raise GGUFExportError(
            "GGUF export needs the 'gguf' package: pip install 'web4rl[gguf]'"
        ) from None
    return gguf


def _permute_rotary(weight: np.ndarray, n_head: int) -> np.ndarray:
    """HF llama q/k rows [n_head * 2 * half, in] -> llama.cpp's interleaved rotary order."""
    rows = weight.shape[0]
    return (weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def _tensor_data(gguf, array: np.ndarray, kind: str):
    """(data, raw_dtype) for GGUFWriter.add_tensor in the requested type."""
    qtype = gguf.GGMLQuantizationType
    if kind == "q8_0" and array.ndim == 2 and array.shape[-1] % 32 == 0:
        return gguf.quants.quantize(array.astype(np.float32), qtype.Q8_0), qtype.Q8_0
    if kind == "f16" and array.ndim >= 2:
        return array.astype(np.float16), None
    if kind == "bf16" and array.ndim >= 2:
        return gguf.quants.quantize(array.astype(np.float32), qtype.BF16), qtype.BF16
    return array.astype(np.float32), None


def _add_tokenizer(gguf, writer, tokenizer) -> None:
    """Byte-level BPE vocabulary, merges, special ids and chat template (the 'gpt2' model of
    llama.cpp, which both Qwen2 and SmolLM2 tokenizers are)."""
    import json

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    model = state["model"]
    if model.get("type") != "BPE":
        raise GGUFExportError(f"tokenizer model {model.get('type')!r}: only byte-level BPE is supported")
    vocab = dict(model["vocab"])
    for added in state.get("added_tokens", []):
        vocab[added["content"]] = added["id"]
    size = max(vocab.values()) + 1
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [gguf.TokenType.UNUSED] * size
    special = {a["id"] for a in state.get("added_tokens", []) if a.get("special")}
    for text, idx in vocab.items():
        tokens[idx] = text
        types[idx] = gguf.TokenType.CONTROL if idx in special else gguf.TokenType.NORMAL
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    if tokenizer.eos_token_id is not None:
        writer.add_eos_token_id(tokenizer.eos_token_id)
    if tokenizer.bos_token_id is not None:
        writer.add_bos_token_id(tokenizer.bos_token_id)
    if tokenizer.pad_token_id is not None:
        writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
    if getattr(tokenizer, "chat_template", None):
        writer.add_chat_template(tokenizer.chat_template)


def export_gguf(model, tokenizer, path: str | os.PathLike, kind: str = "f16",
                name: str = "web4rl") -> Path:
    """Write ``model`` (a merged ``Qwen2ForCausalLM`` / ``LlamaForCausalLM``) and its
    tokenizer to ``path`` as GGUF of type ``kind``. Written to a temporary file and renamed."""
    gguf = _require_gguf()
    if kind not in GGUF_TYPES:
        raise GGUFExportError(f"GGUF type {kind!r} is not one of {', '.join(GGUF_TYPES)}")
    config = model.config
    arch = config.model_type
    if arch not in SUPPORTED_ARCHITECTURES:
        raise GGUFExportError(
            f"GGUF export supports {', '.join(SUPPORTED_ARCHITECTURES)} models, not {arch!r}")
    arch_id = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    name_map = gguf.get_tensor_name_map(arch_id, config.num_hidden_layers)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    writer = gguf.GGUFWriter(str(tmp), arch)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    rope_theta = getattr(config, "rope_theta", None) or (getattr(config, "rope_parameters", None) or {}).get("rope_theta", 10000.0)
    writer.add_rope_freq_base(float(rope_theta))
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                          "bf16": gguf.LlamaFileType.MOSTLY_BF16,
                          "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[kind])
    _add_tokenizer(gguf, writer, tokenizer)

    state = model.state_dict()
    tied = getattr(config, "tie_word_embeddings", False)
    for hf_name, tensor in state.items():
        if tied and hf_name == "lm_head.weight":
            continue  # GGUF without output.weight means tied embeddings
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise GGUFExportError(f"no GGUF name for tensor {hf_name!r} ({arch})")
        array = tensor.detach().float().cpu().numpy()
        if arch == "llama" and hf_name.endswith("q_proj.weight"):
            array = _permute_rotary(array, config.num_attention_heads)
        elif arch == "llama" and hf_name.endswith("k_proj.weight"):
            array = _permute_rotary(array, config.num_key_value_heads)
        data, raw_dtype = _tensor_data(gguf, array, kind)
        if raw_dtype is None:
            writer.add_tensor(gguf_name, data)
        else:
            writer.add_tensor(gguf_name, data, raw_shape=data.shape, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return path
