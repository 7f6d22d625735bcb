"""The one generation path: batched sampling with a KV cache that returns token ids,
behaviour log-probs and finish reasons (DESIGN.md section 3).

Every stage that makes the policy act uses :func:`sample_ids` (or :func:`sample`, which renders
chat prompts first): Stage 1 annotation candidates, Stage 2 samples, Stage 3 rollouts and the
evaluation gates. Text-only helpers (``Policy.generate``) are thin wrappers over it.

Decoding is a plain loop over the model's own forward with a KV cache, not
``transformers.generate``, because we need three things ``generate`` does not give together:

- **behaviour log-probs** of each sampled token under the distribution it was drawn from,
  ``log softmax(logits / T)[token]`` before top-p truncation (T = 1 for greedy rows), i.e.
  exactly what a fresh forward pass at the same temperature gives (PPO/GRPO ratios);
- **a private ``torch.Generator``**: results are deterministic under ``seed`` and the global
  RNG is neither read nor reset, so sampling inside a training step does not perturb dropout
  masks or data order (exact resume);
- **per-row temperatures**: prompts x temperatures x n share one batch.

Rows are left-padded; ``position_ids`` are counted from each row's first real token, so a
padded row produces the same tokens as the same row alone (tested against an unpadded run).
The completion includes the stop token when ``finish_reason == "stop"`` (the model must
learn to end its turn); after a row stops it receives padding that is never returned.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from web4rl.chat import render_prompt

FinishReason = Literal["stop", "length"]
PromptInput = str | list[dict]


@dataclass(frozen=True)
class Completion:
    """One sampled completion.

    Attributes:
        prompt_index: index of its prompt in the list passed to :func:`sample_ids`.
        sample_index: 0 .. len(temperatures) * n - 1 within its prompt (temperature-major).
        temperature: sampling temperature (0 = greedy).
        prompt_ids: [P] prompt token ids, unpadded (int64, CPU).
        completion_ids: [L] sampled token ids, ending with the stop token when
            ``finish_reason == "stop"`` (int64, CPU).
        logprobs: [L] float32 behaviour log-probs of ``completion_ids``:
            ``log softmax(logits / T)`` at the sampled token (T = 1 when greedy), before
            top-p truncation (CPU).
        finish_reason: "stop" (a stop token was sampled) or "length" (``max_new_tokens``).
        text: decoded completion without special tokens.
    """

    prompt_index: int
    sample_index: int
    temperature: float
    prompt_ids: torch.Tensor
    completion_ids: torch.Tensor
    logprobs: torch.Tensor
    finish_reason: FinishReason
    text: str

    @property
    def num_tokens(self) -> int:
        return int(self.completion_ids.numel())


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Run the block with every submodule in eval mode, then give each module back its own
    previous mode (a single top-level ``train(flag)`` would flip frozen parts too)."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


def stop_token_ids(tokenizer, model: nn.Module | None = None) -> set[int]:
    """Token ids that end a turn: the tokenizer's eos plus the model's generation-config eos
    ids (Qwen2.5-Instruct stops on both ``<|im_end|>`` and ``<|endoftext|>``)."""
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen_config = getattr(model, "generation_config", None) if model is not None else None
    eos = getattr(gen_config, "eos_token_id", None)
    if isinstance(eos, int):
        ids.add(eos)
    elif eos:
        ids.update(int(i) for i in eos)
    return ids


def _top_p_filter(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Zero the tail of each row of probs [B, V] outside the smallest set with mass >= top_p
    (the most likely token always stays)."""
    if top_p >= 1.0:
        return probs
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    sorted_probs = sorted_probs.masked_fill(mass_before >= top_p, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


def _forward_arg_names(model: nn.Module) -> tuple[str, str | None]:
    """Names of the KV-cache and logits-to-keep arguments of the causal LM's forward:
    transformers 5 renamed ``past_key_values`` to ``cache`` and 4.50 ``num_logits_to_keep``
    to ``logits_to_keep``."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    cache_arg = "cache" if "cache" in params else "past_key_values"
    keep_arg = next((k for k in ("logits_to_keep", "num_logits_to_keep") if k in params), None)
    return cache_arg, keep_arg


def _cache_of(output) -> object:
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


@torch.no_grad()
def _decode_batch(
    model: nn.Module,
    prompt_ids: Sequence[list[int]],
    temperatures: torch.Tensor,
    *,
    max_new_tokens: int,
    top_p: float,
    stop_ids: set[int],
    pad_id: int,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Decode one left-padded batch. Returns tokens [B, N] (pad after a stop), logprobs
    [B, N] (0 after a stop) and lengths [B] (tokens generated, stop token included)."""
    batch = len(prompt_ids)
    width = max(len(p) for p in prompt_ids)
    input_ids = torch.full((batch, width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((batch, width), dtype=torch.long)
    for row, ids in enumerate(prompt_ids):
        input_ids[row, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, width - len(ids):] = 1
    input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    temps = temperatures.to(device=device, dtype=torch.float32)
    greedy = temps <= 0
    scale = torch.where(greedy, torch.ones_like(temps), temps)[:, None]  # [B, 1]
    stop = torch.tensor(sorted(stop_ids), dtype=torch.long, device=device)

    cache_arg, keep_arg = _forward_arg_names(model)
    extra = {keep_arg: 1} if keep_arg else {}  # the prompt's last position only, not [B, T, V]
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                use_cache=True, **extra)
    past, logits = _cache_of(out), out.logits[:, -1, :]
    tokens, logps = [], []
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    next_pos = position_ids[:, -1:] + 1  # [B, 1]
    for _ in range(max_new_tokens):
        logp = torch.log_softmax(logits.float() / scale, dim=-1)  # [B, V]
        sampled = torch.multinomial(_top_p_filter(logp.exp(), top_p), 1, generator=generator)
        token = torch.where(greedy[:, None], logp.argmax(-1, keepdim=True), sampled)  # [B, 1]
        token = token.masked_fill(finished[:, None], pad_id)
        token_logp = logp.gather(-1, token).squeeze(-1).masked_fill(finished, 0.0)
        tokens.append(token.squeeze(-1))
        logps.append(token_logp)
        lengths += (~finished).long()
        finished |= torch.isin(token.squeeze(-1), stop)
        if bool(finished.all()):
            break
        attention_mask = torch.cat([attention_mask, torch.ones_like(token)], dim=-1)
        out = model(input_ids=token, attention_mask=attention_mask, position_ids=next_pos,
                    use_cache=True, **{cache_arg: past})
        past, logits = _cache_of(out), out.logits[:, -1, :]
        next_pos = next_pos + 1
    if not tokens:  # max_new_tokens == 0
        empty = torch.zeros((batch, 0), device=device)
        return empty.long(), empty, lengths
    return torch.stack(tokens, 1), torch.stack(logps, 1), lengths


def sample_ids(
    model: nn.Module,
    tokenizer,
    prompt_ids: Sequence[Sequence[int]],
    *,
    n: int = 1,
    temperatures: Sequence[float] = (1.0,),
    max_new_tokens: int = 256,
    top_p: float = 1.0,
    batch_size: int = 8,
    seed: int = 0,
    stop_ids: set[int] | None = None,
    progress=None,
) -> list[Completion]:
    """Sample ``n`` completions per prompt at each temperature from token-id prompts.

    Args:
        model: a causal LM (the PeftModel of a :class:`~web4rl.policy.Policy`); put in eval
            mode for the call, each module's mode restored afterwards.
        tokenizer: decodes completions; its pad id pads rows.
        prompt_ids: one token-id list per prompt (already rendered with the chat template).
        n: completions per prompt and temperature.
        temperatures: one pass of ``n`` per value; 0 = greedy.
        max_new_tokens: cap on generated tokens per completion (>= 0).
        top_p: nucleus mass in (0, 1].
        batch_size: rows (prompt x temperature x sample) per forward batch.
        seed: seeds a private generator; same seed, inputs and batch_size -> same completions.
        stop_ids: token ids that end a completion (default: :func:`stop_token_ids`).
        progress: optional callable(num_rows_done) called after each batch.

    Returns:
        ``len(prompt_ids) * len(temperatures) * n`` completions ordered by prompt, then
        temperature, then sample.
    """
    if n < 1 or batch_size < 1 or max_new_tokens < 0 or not 0 < top_p <= 1:
        raise ValueError(
            f"sampling: need n >= 1, batch_size >= 1, max_new_tokens >= 0, 0 < top_p <= 1 "
            f"(got n={n}, batch_size={batch_size}, max_new_tokens={max_new_tokens}, top_p={top_p})"
        )
    if not temperatures or any(t < 0 for t in temperatures):
        raise ValueError(f"sampling: temperatures must be a non-empty list of values >= 0, got {temperatures}")
    if any(len(p) == 0 for p in prompt_ids):
        raise ValueError("sampling: every prompt needs at least one token")
    stop_ids = stop_ids if stop_ids is not None else stop_token_ids(tokenizer, model)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(stop_ids))
    rows = [
        (p, s, t)
        for p in range(len(prompt_ids))
        for s, t in enumerate(t for t in temperatures for _ in range(n))
    ]
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    results: list[Completion] = []
    with eval_mode(model):
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            prompts = [list(prompt_ids[p]) for p, _, _ in chunk]
            tokens, logps, lengths = _decode_batch(
                model, prompts, torch.tensor([t for _, _, t in chunk]),
                max_new_tokens=max_new_tokens, top_p=top_p, stop_ids=stop_ids, pad_id=pad_id,
                generator=generator, device=device,
            )
            tokens, logps, lengths = tokens.cpu(), logps.cpu(), lengths.cpu()
            for row, (p, s, t) in enumerate(chunk):
                ids = tokens[row, : lengths[row]]
                stopped = ids.numel() > 0 and int(ids[-1]) in stop_ids
                results.append(Completion(
                    prompt_index=p, sample_index=s, temperature=float(t),
                    prompt_ids=torch.tensor(prompts[row], dtype=torch.long),
                    completion_ids=ids.clone(), logprobs=logps[row, : lengths[row]].clone(),
                    finish_reason="stop" if stopped else "length",
                    text=tokenizer.decode(ids, skip_special_tokens=True),
                ))
            if progress is not None:
                progress(len(chunk))
    return results


def render_and_tokenize(tokenizer, prompts: Sequence[PromptInput]) -> list[list[int]]:
    """Chat-render prompts (a string is one user turn; a list is a message list) with the
    generation prompt appended, exactly as the data modules render training prompts, and
    tokenize them without special tokens (the template already holds them)."""
    out = []
    for prompt in prompts:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        out.append(tokenizer(render_prompt(tokenizer, messages), add_special_tokens=False)["input_ids"])
    return out


def sample(policy, prompts: Sequence[PromptInput], **kwargs) -> list[Completion]:
    """:func:`sample_ids` on chat prompts with a :class:`~web4rl.policy.Policy`'s model and
    tokenizer (keyword arguments as there)."""
    return sample_ids(policy.model, policy.tokenizer,
                      render_and_tokenize(policy.tokenizer, prompts), **kwargs)
