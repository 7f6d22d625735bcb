"""The shared LoRA policy every algorithm holds (DESIGN.md section 3).

One ``Policy`` object owns the tokenizer, the frozen base model and the trainable LoRA adapter.
It gives the *reference* policy without a second copy of the model:

- training a fresh adapter on the base: the reference is the base, i.e. the adapter disabled;
- continuing an existing adapter (``init_adapter``): the adapter is loaded twice, once as the
  trainable ``default`` and once as a frozen ``reference``; the reference pass switches to it.

``with policy.reference():`` hides which of the two applies.

Size: about 400 lines, one class. ``Policy`` is the one object every algorithm, sampler and
callback holds (loading, adapters, reference switching, the log-prob paths); its settings
dataclasses and adapter checks are the part that can move out (a ``policy_config`` module)
if it grows further.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from web4rl.chat import render_prompt  # the function; Policy.render_prompt below wraps it
from web4rl.generation import Completion, eval_mode, sample
from web4rl.models import (
    ModelSourceError,
    Quantization,
    is_smol,
    load_gguf,
    quantization_config,
    resolve_smol,
)
from web4rl.options import adapter_dir_rule, constrain, local_model_rule, non_empty
from web4rl.packing import pack_pairs, scatter_logps
from web4rl.sequence import IGNORE_INDEX, chunked_token_logps, token_logps

TRAINABLE_ADAPTER = "default"
REFERENCE_ADAPTER = "reference"
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
DType = Literal["auto", "float32", "bfloat16", "float16"]


WRAPPER_PREFIXES = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")


def strip_wrapper_prefixes(name: str) -> str:
    """Parameter name without FSDP / activation-checkpointing wrapper segments, i.e. the name
    the unwrapped module (and its state_dict) uses."""
    for prefix in WRAPPER_PREFIXES:
        name = name.replace(prefix, "")
    return name


def trainable_state_names(module: nn.Module) -> set[str]:
    """State-dict keys of ``module``'s trainable parameters. Parameter names under FSDP carry
    wrapper segments; state-dict keys never do."""
    return {strip_wrapper_prefixes(n) for n, p in module.named_parameters() if p.requires_grad}


def require_trainable_keys(trainable: set[str], keys) -> None:
    """Raise a clear KeyError when a checkpoint (its state-dict ``keys``) lacks trainable
    tensors of the model being restored."""
    missing = sorted(trainable - set(keys))
    if missing:
        raise KeyError(
            f"checkpoint lacks {len(missing)} trainable tensors (first: {missing[0]}); "
            "was it written for another adapter configuration?"
        )


def _rows_logps(head, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log softmax(head(hidden))[target] per row, as the picked logit minus the logsumexp
    (no [N, V] log-softmax tensor). hidden [N, H], target [N] -> [N] float32."""
    logits = head(hidden).float()  # [N, V]
    return logits.gather(1, target.unsqueeze(1)).squeeze(1) - torch.logsumexp(logits, dim=-1)


class PolicyConfigError(ValueError):
    """A policy setting that cannot work (missing adapter directory, bad dtype, ...)."""


@constrain(r=">= 1", alpha="> 0", dropout="[0, 1)", target_modules=non_empty)
@dataclass
class LoraSettings:
    """LoRA hyper-parameters for a new adapter (ignored when continuing ``init_adapter``).

    Args:
        r: rank of the low-rank update.
        alpha: scaling numerator; the update is scaled by alpha / r.
        dropout: dropout on the LoRA branch input.
        target_modules: names of the linear layers that get an adapter.
        bias: which biases train ("none", "all", "lora_only").
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_TARGET_MODULES))
    bias: Literal["none", "all", "lora_only"] = "none"


@constrain(max_new_tokens=">= 1", temperature=">= 0", top_p="(0, 1]", batch_size=">= 1")
@dataclass
class SamplingSettings:
    """How completions are sampled (Stage 1 candidates, Stage 2 samples, RL rollouts).

    Args:
        max_new_tokens: completion length cap.
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling mass.
        batch_size: prompts per generate() call.
    """

    max_new_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 8


def _resolve_dtype(dtype: DType) -> torch.dtype | str:
    if dtype == "auto":
        return "auto"
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise PolicyConfigError(
            f"policy.dtype: {dtype!r} is not one of auto, float32, bfloat16, float16"
        ) from None


def _check_adapter_dir(path: str) -> Path:
    adapter_dir = Path(path).expanduser()
    if not adapter_dir.is_dir():
        raise PolicyConfigError(f"policy.init_adapter: directory {adapter_dir} does not exist")
    if not (adapter_dir / "adapter_config.json").is_file():
        raise PolicyConfigError(
            f"policy.init_adapter: {adapter_dir} has no adapter_config.json "
            "(expected a PEFT adapter directory as written by save_adapter / save_pretrained)"
        )
    return adapter_dir


@constrain(model_name=local_model_rule, init_adapter=adapter_dir_rule, logits_chunk_size=">= 1")
class Policy(nn.Module):
    """A causal LM with a trainable LoRA adapter, its tokenizer and a reference view.

    Args:
        model_name: Hugging Face model id, local model directory, or ``web4rl/tiny`` (the
            built-in offline model: built from config with ``seed``, no download).
        lora: LoRA settings for a new adapter.
        init_adapter: directory of an existing PEFT adapter (e.g. the Web4 ``SFT.lora``) to
            continue training; the starting adapter then also serves as the frozen reference.
        dtype: weight dtype of the base model ("auto" keeps the checkpoint's).
        attn_implementation: "eager", "sdpa" or "flash_attention_2"; None lets transformers pick.
        gradient_checkpointing: trade compute for activation memory (M1 Max, long contexts).
        seed: initialisation seed for the built-in tiny model (ignored for pretrained models).
        tokenizer_name: tokenizer id/path when it differs from ``model_name``.
        logits_chunk_size: compute completion log-probs from the output head this many
            positions at a time (checkpointed) instead of materialising all [B, T, V] logits;
            None = one full forward. Use it for large vocabularies at long context (a 7B Qwen
            at 4096 tokens needs ~40 GB for full fp32 logits of 8 pairs).
        gguf_file: a GGUF checkpoint inside ``model_name`` (a directory): loaded dequantized
            to ``dtype``, tokenizer from the same file (needs ``pip install 'web4rl[gguf]'``).
        quantization: "nf4" or "int8" loads the base in 4/8 bits with bitsandbytes on CUDA
            (QLoRA; compute dtype bf16); "none" everywhere else.
        pack_pairs: compute each preference pair (ORPO, DPO) as one packed segment, prompt once,
            chosen and rejected both attending to it, several pairs per row, the output head
            only on completion positions (``web4rl.packing``). Same losses and gradients as
            two padded rows per pair, fewer tokens through the model. Applies with the
            ``sdpa`` and ``eager`` attention kernels (not flash_attention_2, which takes no
            custom mask); otherwise, and for batches without one shared prompt per pair, the
            plain layout runs.
    """

    def __init__(
        self,
        model_name: str = "web4rl/tiny",
        lora: LoraSettings | None = None,
        init_adapter: str | None = None,
        dtype: DType = "float32",
        attn_implementation: str | None = None,
        gradient_checkpointing: bool = False,
        seed: int = 0,
        tokenizer_name: str | None = None,
        logits_chunk_size: int | None = None,
        gguf_file: str | None = None,
        quantization: Quantization = "none",
        pack_pairs: bool = True,
    ) -> None:
        super().__init__()
        self.pack_pairs = pack_pairs
        if logits_chunk_size is not None and logits_chunk_size < 1:
            raise PolicyConfigError(f"policy.logits_chunk_size: must be >= 1, got {logits_chunk_size}")
        self.logits_chunk_size = logits_chunk_size
        # Fail fast on cheap checks before loading (possibly) gigabytes of weights.
        adapter_dir = _check_adapter_dir(init_adapter) if init_adapter else None
        torch_dtype = _resolve_dtype(dtype)
        self.model_name = model_name
        self.lora = lora or LoraSettings()
        self.init_adapter = str(adapter_dir) if adapter_dir else None
        try:
            quant_config = quantization_config(
                quantization, "cuda" if torch.cuda.is_available() else "cpu")
            if gguf_file:
                base, self.tokenizer = load_gguf(model_name, gguf_file, torch_dtype)
                if tokenizer_name:
                    self.tokenizer = self._load_tokenizer(tokenizer_name)
                if self.tokenizer.pad_token is None:
                    self.tokenizer.pad_token = self.tokenizer.eos_token
            else:
                self.tokenizer = self._load_tokenizer(tokenizer_name or model_name)
                base = self._load_base(model_name, torch_dtype, attn_implementation, seed,
                                       quant_config)
        except ModelSourceError as err:
            raise PolicyConfigError(str(err)) from None
        if quant_config is not None:
            from peft import prepare_model_for_kbit_training

            base = prepare_model_for_kbit_training(
                base, use_gradient_checkpointing=gradient_checkpointing,
                gradient_checkpointing_kwargs={"use_reentrant": False})
        if gradient_checkpointing:
            # Non-reentrant checkpointing works with frozen inputs (no enable_input_require_grads).
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            base.config.use_cache = False
        self.model = self._attach_adapter(base, adapter_dir)
        # from_pretrained returns the base in eval mode and load_adapter(is_trainable=False)
        # puts the whole PeftModel in eval mode; HF gradient checkpointing and LoRA dropout
        # only act in train mode. Start in train mode, as every nn.Module (and the tiny model
        # built from config) does; PolicyModule re-asserts it before every training step.
        self.train()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _load_tokenizer(name: str):
        from web4rl.tiny import is_tiny, load_tiny_tokenizer

        if is_tiny(name):
            tokenizer = load_tiny_tokenizer()
        else:
            if is_smol(name):
                name = str(resolve_smol())
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=False)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    @staticmethod
    def _load_base(name: str, torch_dtype, attn_implementation: str | None, seed: int,
                   quant_config=None) -> nn.Module:
        from web4rl.tiny import build_tiny_model, is_tiny

        if is_tiny(name):
            dtype = torch.float32 if torch_dtype == "auto" else torch_dtype
            return build_tiny_model(seed=seed, dtype=dtype, attn_implementation=attn_implementation)
        from transformers import AutoModelForCausalLM

        if is_smol(name):
            name = str(resolve_smol())
        kwargs = {"dtype": torch_dtype, "trust_remote_code": False}
        if quant_config is not None:
            # k-bit weights are placed on this process's GPU at load time (DDP: LOCAL_RANK)
            kwargs.update(quantization_config=quant_config, dtype=torch.bfloat16,
                          device_map={"": int(os.environ.get("LOCAL_RANK", 0))})
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        return AutoModelForCausalLM.from_pretrained(name, **kwargs)

    def _attach_adapter(self, base: nn.Module, adapter_dir: Path | None) -> nn.Module:
        from peft import LoraConfig, PeftModel, get_peft_model

        for p in base.parameters():
            p.requires_grad_(False)
        if adapter_dir is None:
            names = [n for n, _ in base.named_modules()]
            missing = [t for t in self.lora.target_modules
                       if not any(n == t or n.endswith("." + t) for n in names)]
            if missing:  # peft's own error names neither the option nor what the model has
                linear = sorted({n.rpartition(".")[2] for n, m in base.named_modules()
                                 if isinstance(m, nn.Linear)})
                raise PolicyConfigError(
                    f"policy.lora.target_modules: {', '.join(missing)} not found in "
                    f"{self.model_name}; its linear layers are {', '.join(linear)}"
                )
            config = LoraConfig(
                r=self.lora.r,
                lora_alpha=self.lora.alpha,
                lora_dropout=self.lora.dropout,
                target_modules=list(self.lora.target_modules),
                bias=self.lora.bias,
                task_type="CAUSAL_LM",
            )
            return get_peft_model(base, config, adapter_name=TRAINABLE_ADAPTER)
        model = PeftModel.from_pretrained(
            base, str(adapter_dir), adapter_name=TRAINABLE_ADAPTER, is_trainable=True
        )
        model.load_adapter(str(adapter_dir), adapter_name=REFERENCE_ADAPTER, is_trainable=False)
        model.set_adapter(TRAINABLE_ADAPTER)
        return model

    # ------------------------------------------------------------------ views
    @property
    def has_reference_adapter(self) -> bool:
        return self.init_adapter is not None

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @contextlib.contextmanager
    def eval_mode(self) -> Iterator[None]:
        """Run the block with every module in eval mode (no dropout), then give each module
        back its own previous mode (``web4rl.generation.eval_mode``, the one home of this
        rule). For reference passes, sampling and scoring inside a training run."""
        with eval_mode(self):
            yield

    @contextlib.contextmanager
    def reference(self) -> Iterator[None]:
        """Run the block as the reference policy, under no_grad, then restore the trainable one.

        Fresh adapter: the adapter is disabled (reference = base model). Continued adapter: the
        frozen copy of the starting adapter is activated. Either way no second model exists.
        The reference runs in eval mode (no dropout), so its log-probs are deterministic;
        afterwards every module is back in its own previous mode.
        """
        with self.eval_mode(), torch.no_grad():
            if not self.has_reference_adapter:
                with self.model.disable_adapter():
                    yield
                return
            # set_adapter flips requires_grad flags; remember and restore them exactly.
            flags = [(p, p.requires_grad) for p in self.model.parameters()]
            self.model.set_adapter(REFERENCE_ADAPTER, inference_mode=True)
            try:
                yield
            finally:
                self.model.set_adapter(TRAINABLE_ADAPTER)
                for p, flag in flags:
                    p.requires_grad_(flag)

    # ------------------------------------------------------------------ compute
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits [B, T, V] for right-padded input_ids/attention_mask [B, T]."""
        return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    def token_logps(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token completion log-probs [B, T-1] and their mask [B, T-1] (see
        ``web4rl.sequence.token_logps``); chunked over positions when ``logits_chunk_size``."""
        if self.logits_chunk_size is None:
            return token_logps(self(input_ids, attention_mask), labels)
        causal_lm = self._causal_lm()  # LoRA layers sit inside it: adapters apply
        hidden = causal_lm.model(input_ids=input_ids, attention_mask=attention_mask,
                                 use_cache=False).last_hidden_state
        return chunked_token_logps(hidden, causal_lm.get_output_embeddings(), labels,
                                   self.logits_chunk_size)

    def _causal_lm(self) -> nn.Module:
        """The HF causal LM inside the PEFT wrapper (its LoRA layers still apply), checked to
        post-process nothing after the output head (softcapping or scale would need it)."""
        causal_lm = self.model.get_base_model()
        if getattr(causal_lm.config, "final_logit_softcapping", None) or getattr(
            causal_lm.config, "logit_scale", None
        ):
            raise PolicyConfigError(
                "policy.logits_chunk_size / pack_pairs: this model post-processes its logits "
                "(softcapping/scale); use logits_chunk_size: null and pack_pairs: false"
            )
        return causal_lm

    def _packable(self) -> bool:
        if not self.pack_pairs:
            return False
        causal_lm = self.model.get_base_model()
        return (getattr(causal_lm.config, "_attn_implementation", None) in ("sdpa", "eager")
                and not getattr(causal_lm.config, "final_logit_softcapping", None)
                and not getattr(causal_lm.config, "logit_scale", None))

    def pair_token_logps(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``token_logps`` of a stacked preference batch (rows 0..B-1 chosen, B..2B-1 rejected
        of the same prompts, [2B, T]), via the packed layout when ``pack_pairs`` applies.

        Returns logps [2B, T-1] (0 where masked) and mask [2B, T-1], exactly as
        ``token_logps`` would on the same tensors (up to float summation order)."""
        packed = None
        if self._packable():
            pad_id = self.tokenizer.pad_token_id
            packed = pack_pairs(input_ids, attention_mask, labels,
                                0 if pad_id is None else int(pad_id))
        if packed is None:
            return self.token_logps(input_ids, attention_mask, labels)
        device = input_ids.device
        causal_lm = self._causal_lm()
        allowed = packed.allowed.to(device)
        if causal_lm.config._attn_implementation == "eager":  # eager adds the mask to scores
            dtype = next(causal_lm.parameters()).dtype
            allowed = torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(
                ~allowed, torch.finfo(dtype).min)
        hidden = causal_lm.model(
            input_ids=packed.input_ids.to(device), attention_mask=allowed,
            position_ids=packed.position_ids.to(device), use_cache=False,
        ).last_hidden_state  # [R, L, H]
        picked = hidden.reshape(-1, hidden.shape[-1])[packed.source.to(device)]  # [N, H]
        target = packed.target.to(device)
        head = causal_lm.get_output_embeddings()
        if self.logits_chunk_size is None:
            values = _rows_logps(head, picked, target)
        else:  # at most one chunk of [chunk, V] logits alive, in forward and backward
            values = torch.cat([
                checkpoint(_rows_logps, head, picked[i:i + self.logits_chunk_size],
                           target[i:i + self.logits_chunk_size], use_reentrant=False)
                for i in range(0, picked.shape[0], self.logits_chunk_size)])
        logps = scatter_logps(values, packed, device)
        return logps, labels[:, 1:] != IGNORE_INDEX

    # ------------------------------------------------------------------ sampling
    def render_prompt(self, prompt: str | list[dict]) -> str:
        """Chat-template a user prompt (or a message list) with the generation prompt appended,
        exactly as the data modules render training prompts."""
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        return render_prompt(self.tokenizer, messages)

    def sample(self, prompts: Sequence[str | list[dict]], **kwargs) -> list[Completion]:
        """Sample completions with token ids, behaviour log-probs and finish reasons: the one
        generation path (:func:`web4rl.generation.sample`; keyword arguments as there)."""
        return sample(self, prompts, **kwargs)

    def generate(
        self,
        prompts: Sequence[str | list[dict]],
        n: int = 1,
        sampling: SamplingSettings | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        """Sample ``n`` completion texts per prompt. Returns [len(prompts)][n]. A thin wrapper
        over :meth:`sample`; ``seed=None`` draws the sampling seed from the global RNG."""
        sampling = sampling or SamplingSettings()
        if seed is None:
            seed = int(torch.randint(0, 2**62, ()).item())
        completions = self.sample(
            prompts, n=n, temperatures=(sampling.temperature,), max_new_tokens=sampling.max_new_tokens,
            top_p=sampling.top_p, batch_size=sampling.batch_size, seed=seed,
        )
        return [[c.text for c in completions[i * n : (i + 1) * n]] for i in range(len(prompts))]

    # ------------------------------------------------------------------ persistence
    def lora_state_dict(self) -> dict[str, torch.Tensor]:
        """LoRA tensors keyed as ``PeftModel.state_dict()`` names them, with FSDP / activation
        checkpointing wrapper prefixes removed (call inside FSDP.summon_full_params)."""
        return {
            strip_wrapper_prefixes(name): param.detach().cpu().clone()
            for name, param in self.model.named_parameters()
            if "lora_" in name
        }

    def save_adapter(
        self, directory: str | os.PathLike, state_dict: dict[str, torch.Tensor] | None = None
    ) -> Path:
        """Write the trainable adapter in PEFT format (adapter_config.json +
        adapter_model.safetensors) plus the tokenizer, so ``PeftModel.from_pretrained`` and
        ``init_adapter`` both load it. ``state_dict`` overrides the live weights (FSDP gathers). Written to a temporary sibling, then renamed into place, so
        an interrupted save never leaves a half-written adapter."""
        from web4rl.atomic import atomic_directory

        target = Path(directory)
        extra = {"state_dict": state_dict} if state_dict is not None else {}
        with atomic_directory(target) as tmp:
            self.model.save_pretrained(
                str(tmp), selected_adapters=[TRAINABLE_ADAPTER], safe_serialization=True, **extra
            )
            self.tokenizer.save_pretrained(str(tmp))
        return target
