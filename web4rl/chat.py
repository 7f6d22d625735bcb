"""Chat rendering: the one place a prompt becomes the text the model continues.

Training (``web4rl.data``), sampling (``web4rl.policy``, later ``web4rl.generation``) and the
rollout engine all import from here, so a prompt is rendered identically wherever it is used.
This module needs no torch and no ``web4rl`` package: anything may import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Message = dict[str, str]
"""A chat message ``{"role": ..., "content": ...}``."""

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
"""Chat roles a message may have."""


def as_messages(prompt: str | Sequence[Message]) -> list[Message]:
    """A prompt as a message list: a plain string becomes one user message."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return list(prompt)


def render_prompt(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The prompt text up to where the assistant's answer starts.

    Uses the tokenizer's chat template with ``add_generation_prompt=True``; without a template,
    a plain ``"Role: content"`` line per message followed by ``"Assistant: "``.
    """
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=False
        )
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant: "


__all__ = ["ROLES", "Message", "as_messages", "render_prompt"]
