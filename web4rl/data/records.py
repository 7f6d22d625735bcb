"""Validated data records and the row parsers that build them.

A *row* is one JSON object as it appears in a JSONL line or an HF ``datasets`` row. Parsing a row
either yields a record or a list of :class:`RowError` s, each naming the file, the line and the
field that is wrong, so that :class:`DataValidationError` can report every problem of a file at
once instead of one deep traceback at a time.

Accepted rows (DESIGN.md section 5):

* SFT: ``{"prompt", "completion"}`` (``prompt`` a string or a list of chat messages) | ``{"messages": [{role, content}, ...]}`` whose last message
  is the assistant's (the completion) | Alpaca ``{"instruction", "input", "output"}``; optional
  ``"category"``. An Alpaca row's ``task_type`` (the Web4 team's files) gives its category
  when ``category`` is absent (:data:`ALPACA_CATEGORIES`; other task types are kept as named).
* Preference: ``{"prompt", "chosen", "rejected", "category"?, "rejected_tags"?, "source"?}``;
  ``prompt`` is a string or a list of chat messages.

Fields explicitly set to ``null`` count as absent: HF ``datasets`` fills columns a row lacks
with ``None`` when rows of different shapes share one file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web4rl.chat import ROLES, Message, as_messages
from web4rl.jsonl import Location, RowError

CATEGORIES: tuple[str, ...] = ("tool_use", "style", "multi_step", "guardrail")
"""The categories the pipeline's own data uses. Other names are accepted (users' data differ)."""

REJECTED_TAGS: tuple[str, ...] = (
    "wrong_tool",
    "schema_fail",
    "verbose",
    "style_off",
    "unsafe",
    "ambiguous",
)
"""The failure taxonomy of a rejected completion; any other tag is a validation error."""

TAG_ALIASES: dict[str, str] = {"ambiguous_prompt": "ambiguous"}
"""Annotation-guide spellings of rejected tags, mapped to the taxonomy."""

ANNOTATION_TAGS: tuple[str, ...] = ("correct_tool",)
"""Annotation-guide tags that describe the pair rather than a failure of the rejected side;
accepted in ``rejected_tags`` and stored in :attr:`PreferenceRecord.annotation_tags`."""

ALPACA_CATEGORIES: dict[str, str] = {
    "tool_call": "tool_use",
    "tool_neg": "tool_use",
    "eval": "tool_use",
    "style_core": "style",
    "style_refactor": "style",
    "guardrail": "guardrail",
}
"""Alpaca ``task_type`` (the Web4 team's SFT files) -> category (DESIGN.md section 5)."""

UNCATEGORIZED = "uncategorized"
"""Category name used in batches and balancing for rows without a ``category``."""


class DataValidationError(ValueError):
    """Raised when input data is invalid; ``errors`` lists every problem found (up to a limit).

    The message has one line per problem, ``file:line: field 'name': what is wrong``.
    """

    def __init__(self, errors: list[RowError], truncated: bool = False) -> None:
        self.errors = list(errors)
        self.truncated = truncated
        n = len(self.errors)
        head = f"invalid data: {n}{'+' if truncated else ''} problem{'s' if n != 1 else ''}"
        lines = [head, *(f"  {e}" for e in self.errors)]
        if truncated:
            lines.append(f"  (stopped after {n} problems; fix these and run again)")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class SFTRecord:
    """A validated supervised example.

    Attributes:
        prompt: chat messages before the completion (at least one, the last not the assistant's).
        completion: the target assistant text (non-empty).
        category: optional category name.
        location: where the row came from.
    """

    prompt: tuple[Message, ...]
    completion: str
    category: str | None
    location: Location


@dataclass(frozen=True)
class PreferenceRecord:
    """A validated preference pair.

    Attributes:
        prompt: chat messages (a plain-string prompt becomes one user message).
        chosen: the preferred completion (non-empty).
        rejected: the dispreferred completion (non-empty, differs from ``chosen``).
        category: optional category name.
        rejected_tags: failure tags of the rejected side, each in :data:`REJECTED_TAGS`.
        source: optional provenance of the pair (e.g. ``"human"``, ``"rlaif"``), the row's
            ``"source"`` field.
        location: where the row came from.
        annotation_tags: annotation-guide tags about the pair (:data:`ANNOTATION_TAGS`).
    """

    prompt: tuple[Message, ...]
    chosen: str
    rejected: str
    category: str | None
    rejected_tags: tuple[str, ...]
    source: str | None
    location: Location
    annotation_tags: tuple[str, ...] = ()


def prompt_key(prompt: tuple[Message, ...]) -> str:
    """A string identifying a prompt, used to keep rows with the same prompt in one split."""
    return "\x1e".join(f"{m['role']}\x1f{m['content']}" for m in prompt)


# --------------------------------------------------------------------------- field helpers


class _Fields:
    """Collects the errors of one row while its fields are read."""

    def __init__(self, row: Mapping[str, Any], location: Location) -> None:
        self.row = row
        self.location = location
        self.errors: list[RowError] = []

    def error(self, field: str | None, message: str) -> None:
        self.errors.append(RowError(self.location, field, message))

    def has(self, name: str) -> bool:
        return self.row.get(name) is not None

    def text(self, name: str, *, required: bool = True, allow_empty: bool = False) -> str | None:
        """The string field ``name``; records an error when missing, mistyped or blank."""
        value = self.row.get(name)
        if value is None:
            if required:
                self.error(name, "missing")
            return None
        if not isinstance(value, str):
            self.error(name, f"must be a string, got {_type_name(value)}")
            return None
        if not allow_empty and not value.strip():
            self.error(name, "is empty")
            return None
        return value

    def messages(self, name: str) -> list[Message] | None:
        """The chat-message list ``name``; each message needs a known role and string content."""
        value = self.row.get(name)
        if value is None:
            self.error(name, "missing")
            return None
        if not isinstance(value, list):
            self.error(name, f"must be a list of messages, got {_type_name(value)}")
            return None
        if not value:
            self.error(name, "is empty")
            return None
        out: list[Message] = []
        ok = True
        for i, msg in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(msg, Mapping):
                self.error(where, f"must be an object with role and content, got {_type_name(msg)}")
                ok = False
                continue
            role, content = msg.get("role"), msg.get("content")
            if not isinstance(role, str):
                self.error(
                    f"{where}.role",
                    "missing" if role is None else f"must be a string, got {_type_name(role)}",
                )
                ok = False
            elif role not in ROLES:
                self.error(
                    f"{where}.role", f"unknown role {role!r} (expected one of {', '.join(ROLES)})"
                )
                ok = False
            if not isinstance(content, str):
                self.error(
                    f"{where}.content",
                    "missing"
                    if content is None
                    else f"must be a string, got {_type_name(content)}",
                )
                ok = False
            if ok:
                out.append({"role": role, "content": content})
        return out if ok else None


def _type_name(value: Any) -> str:
    """JSON-flavoured type name for error messages."""
    return {
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _blank(messages: list[Message]) -> bool:
    return not any(m["content"].strip() for m in messages)


def _prompt(f: _Fields) -> list[Message] | None:
    """The ``prompt`` field: a string (one user message) or a list of chat messages."""
    if not isinstance(f.row.get("prompt"), list):
        text = f.text("prompt")
        return as_messages(text) if text is not None else None
    prompt = f.messages("prompt")
    if prompt is None:
        return None
    if prompt[-1]["role"] == "assistant":
        f.error(
            f"prompt[{len(prompt) - 1}].role", "the last prompt message must not be the assistant's"
        )
        return None
    if _blank(prompt):
        f.error("prompt", "is empty")
        return None
    return prompt


def _category(f: _Fields) -> str | None:
    return f.text("category", required=False)


# --------------------------------------------------------------------------- row parsers


def parse_sft_row(row: Any, location: Location) -> SFTRecord | list[RowError]:
    """Parse one SFT row (prompt/completion, messages or Alpaca) into an :class:`SFTRecord`.

    Returns the record, or the list of every problem found in the row.
    """
    if not isinstance(row, Mapping):
        return [RowError(location, None, f"row must be a JSON object, got {_type_name(row)}")]
    f = _Fields(row, location)
    prompt: list[Message] | None = None
    completion: str | None = None
    if f.has("messages"):
        msgs = f.messages("messages")
        if msgs is not None:
            if msgs[-1]["role"] != "assistant":
                f.error(
                    f"messages[{len(msgs) - 1}].role",
                    "the last message must be the assistant's (it is the completion)",
                )
            elif len(msgs) < 2:
                f.error("messages", "needs at least one prompt message before the assistant's")
            else:
                prompt, last = msgs[:-1], msgs[-1]
                if _blank(prompt):
                    f.error("messages", "prompt is empty (all messages before the last are blank)")
                    prompt = None
                if not last["content"].strip():
                    f.error(f"messages[{len(msgs) - 1}].content", "completion is empty")
                else:
                    completion = last["content"]
    elif f.has("prompt"):
        prompt = _prompt(f)
        completion = f.text("completion")
    elif f.has("instruction") or f.has("output"):
        instruction = f.text("instruction")
        extra = f.text("input", required=False, allow_empty=True)
        completion = f.text("output")
        if instruction is not None:
            content = f"{instruction}\n\n{extra}" if extra and extra.strip() else instruction
            prompt = as_messages(content)
    else:
        keys = ", ".join(sorted(map(str, row))) or "none"
        f.error(
            None,
            "row has none of: prompt+completion, messages, instruction+output (Alpaca); keys: "
            + keys,
        )
    category = _category(f)
    if category is None and not f.has("category") and f.has("instruction"):
        task_type = f.text("task_type", required=False)
        if task_type is not None:
            category = ALPACA_CATEGORIES.get(task_type, task_type)
    if f.errors or prompt is None or completion is None:
        return f.errors
    return SFTRecord(tuple(prompt), completion, category, location)


def parse_preference_row(row: Any, location: Location) -> PreferenceRecord | list[RowError]:
    """Parse one preference row into a :class:`PreferenceRecord`.

    Returns the record, or the list of every problem found in the row.
    """
    if not isinstance(row, Mapping):
        return [RowError(location, None, f"row must be a JSON object, got {_type_name(row)}")]
    f = _Fields(row, location)
    prompt = _prompt(f)
    chosen = f.text("chosen")
    rejected = f.text("rejected")
    if chosen is not None and rejected is not None and chosen.strip() == rejected.strip():
        f.error("rejected", "is identical to chosen")
    category = _category(f)
    source = f.text("source", required=False)
    tags: list[str] = []
    notes: list[str] = []
    raw_tags = row.get("rejected_tags")
    if raw_tags is not None:
        if not isinstance(raw_tags, list):
            f.error("rejected_tags", f"must be a list of strings, got {_type_name(raw_tags)}")
        else:
            for i, tag in enumerate(raw_tags):
                if not isinstance(tag, str):
                    f.error(f"rejected_tags[{i}]", f"must be a string, got {_type_name(tag)}")
                elif tag in ANNOTATION_TAGS:
                    notes.append(tag)
                elif TAG_ALIASES.get(tag, tag) not in REJECTED_TAGS:
                    known = (*REJECTED_TAGS, *TAG_ALIASES, *ANNOTATION_TAGS)
                    f.error(
                        f"rejected_tags[{i}]",
                        f"unknown tag {tag!r} (expected one of {', '.join(known)})",
                    )
                else:
                    tags.append(TAG_ALIASES.get(tag, tag))
    if f.errors or prompt is None or chosen is None or rejected is None:
        return f.errors
    return PreferenceRecord(
        tuple(prompt),
        chosen,
        rejected,
        category,
        tuple(dict.fromkeys(tags)),
        source,
        location,
        tuple(dict.fromkeys(notes)),
    )
