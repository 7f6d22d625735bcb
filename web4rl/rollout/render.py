"""Chat rendering of tool-use episodes: ONE place that decides what the policy sees.

Rollouts (:mod:`web4rl.rollout.engine`) and the SFT warm-start export
(:mod:`web4rl.rollout.export`) both render through here, so an SFT adapter is trained on
exactly the conversation layout it later acts in:

    system:    SYSTEM_INSTRUCTIONS + the tool profile's catalog
    user:      the task (the simulator's first observation, without the catalog)
    assistant: one JSON action            <- policy tokens (the only trained tokens)
    tool:      the action's results       <- environment tokens (never trained)
    assistant: ...

Token ids are built incrementally: the opening (system + user + generation prompt) is
rendered with the chat template once; after each sampled turn, the template's text between
the end of an assistant message and the next generation prompt (the tool turn) is rendered
and appended. So the conversation's ids contain the *sampled* ids verbatim and the trained
tokens are exactly the ones that were sampled.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from web4rl.chat import render_prompt

SYSTEM_INSTRUCTIONS = (
    "You are a coding agent working in a sandboxed project workspace. Each turn, answer with "
    "exactly one JSON action and nothing else; you then see its result. Stop when the task "
    "is done."
)
_SENTINEL = "\u241fWEB4RL-END-OF-ASSISTANT\u241f"


def _accepts(fn: Any, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def profile_kwargs(fn: Any, tools: str) -> dict[str, str]:
    """``{"tools": tools}`` when the simulator callable takes a tool profile, else ``{}``
    (the simulator before tool profiles had one catalog; asking it for a profile other
    than the one it has is warned about once)."""
    for name in ("tools", "profile"):
        if _accepts(fn, name):
            return {name: tools}
    if tools != "cursor":
        warnings.warn(
            f"web4rl.rollout: this simulator has no tool profiles; using its only catalog "
            f"instead of {tools!r}", stacklevel=3)
    return {}


def catalog_text(tools: str) -> str:
    """The tool catalog text of profile ``tools`` (from the catalog's one home)."""
    from web4rl.sim.tools import tool_catalog_text

    return tool_catalog_text(**profile_kwargs(tool_catalog_text, tools))


def system_prompt(tools: str) -> str:
    return f"{SYSTEM_INSTRUCTIONS}\n\n{catalog_text(tools)}"


def opening_messages(tools: str, task_text: str, system: str | None = None) -> list[dict[str, str]]:
    """System + user messages that open an episode (``system`` overrides the default
    system prompt of profile ``tools``)."""
    return [{"role": "system", "content": system if system is not None else system_prompt(tools)},
            {"role": "user", "content": task_text}]


class TurnRenderer:
    """Token ids of the fixed parts of a conversation for one tokenizer.

    Args:
        tokenizer: a tokenizer with a chat template (the tiny model's and Qwen's have one).
        tool_role: role of environment turns ("tool"; "user" for templates without one).
    """

    def __init__(self, tokenizer: Any, tool_role: str = "tool") -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("web4rl.rollout: the tokenizer needs a chat template")
        self.tokenizer = tokenizer
        self.tool_role = tool_role

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def opening_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """Ids of the opening messages plus the assistant generation prompt."""
        return self.encode(render_prompt(self.tokenizer, messages))

    def tool_turn_text(self, content: str, stop_text: str | None) -> str:
        """Template text from the end of an assistant message's content to the next
        generation prompt, with the tool turn in between. ``stop_text``: the text of the stop
        token the sampled completion already ends with (dropped here so it is not doubled);
        None when the completion was cut by the length limit (the template closes it)."""
        msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                {"role": "assistant", "content": _SENTINEL},
                {"role": self.tool_role, "content": content}]
        text = self.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        delta = text[text.rindex(_SENTINEL) + len(_SENTINEL):]
        if stop_text and delta.startswith(stop_text):
            delta = delta[len(stop_text):]
        return delta

    def tool_turn_ids(self, content: str, stop_text: str | None) -> list[int]:
        return self.encode(self.tool_turn_text(content, stop_text))
