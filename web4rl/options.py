"""Declared ranges of constructor options, checked before anything heavy is built.

A class (algorithm, DataModule, policy, settings dataclass, callback) declares the ranges of
its constructor options with one decorator line::

    from web4rl.options import constrain

    @constrain(lr="> 0", warmup_ratio="[0, 1)", max_prompt_length="[1, max_length)")
    class MyModule(PolicyModule): ...

A rule is a comparison (``"> 0"``, ``">= 1"``, ``"< 0.5"``, ``"<= 1"``), an interval
(``"[0, 1)"``, ``"(0, 1]"``) whose bounds are numbers or names of other options of the same
class (``"< max_length"``), or a function ``(value, Context) -> problem text | None`` for
anything else. ``None`` values are not checked (they mean "off"/"default"); a rule on a
list/tuple option applies to every element. Rules are inherited and a subclass may override
one. Classes we do not own register with ``constrain_class(SomeClass, option="rule")``.

What happens with the declarations:

- ``python -m web4rl fit|validate|test`` checks every class of the parsed config (model, data,
  the nested policy and its LoRA settings, trainer callbacks, the Trainer itself) before any of
  them is built, and reports each problem as ``web4rl: error: <config key>: <problem>``,
  exit code 2 (``find_problems``);
- library code can call ``check_options(cls, values)`` (raises :class:`OptionError`);
- the rule text is appended to the option's ``Args:`` entry, so ``--help`` /
  ``--model.help CLASS`` (and ``--print_config=comments`` where ruamel.yaml is installed) show
  the range next to the option.
"""

from __future__ import annotations

import dataclasses
import importlib
import operator
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RuleFn = Callable[[Any, "Context"], "str | None"]


class OptionError(ValueError):
    """One or more option values out of their declared range; ``str`` is one line per problem,
    each ``<key>: <problem>``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{key}: {problem}" for key, problem in problems))


@dataclasses.dataclass(frozen=True)
class Context:
    """What a rule function sees besides the value: every option of the same class, and the
    CLI subcommand (``fit``, ``validate``, ``test``; None in library use)."""

    options: Mapping[str, Any]
    stage: str | None = None


# ---------------------------------------------------------------------------- rule parsing
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"
_BOUND = rf"(?:{_NUMBER}|[A-Za-z_]\w*)"
_COMPARISON = re.compile(rf"^\s*(>=|<=|>|<)\s*({_BOUND})\s*$")
_INTERVAL = re.compile(rf"^\s*([\[(])\s*({_BOUND})\s*,\s*({_BOUND})\s*([\])])\s*$")


@dataclasses.dataclass(frozen=True)
class Rule:
    """A parsed range: a list of (operator, bound) that must all hold."""

    text: str
    checks: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Rule:
        if m := _COMPARISON.match(text):
            return cls(text.strip(), ((m.group(1), m.group(2)),))
        if m := _INTERVAL.match(text):
            low_op = ">=" if m.group(1) == "[" else ">"
            high_op = "<=" if m.group(4) == "]" else "<"
            return cls(text.strip(), ((low_op, m.group(2)), (high_op, m.group(3))))
        raise ValueError(f"cannot read the option rule {text!r} (use e.g. '> 0' or '[0, 1)')")

    def problem(self, value: Any, options: Mapping[str, Any]) -> str | None:
        if not _is_number(value):
            return None  # the parser checks types; a rule only judges numbers
        resolved = []
        for op, bound in self.checks:
            limit = _bound_value(bound, options)
            if limit is None:
                continue  # the other option is off (None): nothing to compare with
            resolved.append((op, bound, limit))
            if not _OPS[op](value, limit):
                break
        else:
            return None
        named = ", ".join(f"{b} = {v}" for _, b, v in resolved if not _is_literal(b))
        where = "in " if self.text[0] in "[(" else ""
        return f"must be {where}{self.text}{f' ({named})' if named else ''}, got {value!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_literal(bound: str) -> bool:
    return re.fullmatch(_NUMBER, bound) is not None


def _bound_value(bound: str, options: Mapping[str, Any]) -> float | None:
    if _is_literal(bound):
        return float(bound) if "inf" in bound or "." in bound or "e" in bound.lower() else int(bound)
    value = options.get(bound)
    return value if _is_number(value) else None


# ---------------------------------------------------------------------------- registry
_RULES_ATTR = "__option_rules__"
_EXTERNAL: dict[type, dict[str, Rule | RuleFn]] = {}


def _compile(rules: Mapping[str, str | RuleFn]) -> dict[str, Rule | RuleFn]:
    return {name: rule if callable(rule) else Rule.parse(rule) for name, rule in rules.items()}


def constrain(**rules: str | RuleFn) -> Callable[[type], type]:
    """Class decorator declaring option ranges (see the module docstring)."""
    compiled = _compile(rules)

    def decorate(cls: type) -> type:
        own = dict(cls.__dict__.get(_RULES_ATTR, {}))
        own.update(compiled)
        setattr(cls, _RULES_ATTR, own)
        _document(cls)
        _document_future_subclasses(cls)
        return cls

    return decorate


def constrain_class(cls: type, **rules: str | RuleFn) -> None:
    """Declare ranges for a class we do not own (Lightning's Trainer, callbacks)."""
    _EXTERNAL.setdefault(cls, {}).update(_compile(rules))


def rules_for(cls: type) -> dict[str, Rule | RuleFn]:
    """All rules of ``cls``: inherited ones first, a subclass's own override them."""
    merged: dict[str, Rule | RuleFn] = {}
    for klass in reversed(cls.__mro__):
        merged.update(_EXTERNAL.get(klass, {}))
        merged.update(klass.__dict__.get(_RULES_ATTR, {}))
    return merged


def _describe(rule: Rule | RuleFn) -> str:
    if isinstance(rule, Rule):
        return rule.text
    return (rule.__doc__ or "").strip().splitlines()[0] if rule.__doc__ else ""


def _document(cls: type) -> None:
    """Append "Range: <rule>." to each constrained option's ``Args:`` entry of ``cls``'s
    docstring (jsonargparse shows that text in --help and print_config comments)."""
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return
    lines = doc.splitlines()
    for name, rule in rules_for(cls).items():
        text = _describe(rule)
        if not text:
            continue
        for i, line in enumerate(lines):
            m = re.match(rf"^(\s*){re.escape(name)}(?: \([^)]*\))?:", line)
            if not m:
                continue
            indent = len(m.group(1))
            j = i + 1
            while j < len(lines) and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) > indent:
                j += 1
            note = f"Range: {text}." if isinstance(rule, Rule) else f"Must be {text}."
            if note not in " ".join(lines[i:j]):
                lines[j - 1] = lines[j - 1].rstrip() + f" {note}"
            break
    try:
        cls.__doc__ = "\n".join(lines)
    except (AttributeError, TypeError):  # some extension types have a read-only __doc__
        pass


def _document_future_subclasses(cls: type) -> None:
    """Subclasses defined later (SFTDataModule under a constrained base) inherit the rules;
    document them in their own docstrings too, when they are created."""
    if cls.__dict__.get("_options_hook_installed"):
        return
    previous = cls.__dict__.get("__init_subclass__")

    def __init_subclass__(sub: type, **kwargs: Any) -> None:
        if previous is not None:
            previous.__func__(sub, **kwargs)
        else:
            super(cls, sub).__init_subclass__(**kwargs)
        _document(sub)

    cls.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    cls._options_hook_installed = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- checking
def option_problems(
    cls: type, values: Mapping[str, Any], prefix: str = "", stage: str | None = None
) -> list[tuple[str, str]]:
    """(key, problem) for every option of ``cls`` in ``values`` that breaks its rule."""
    problems = []
    context = Context(values, stage)
    for name, rule in rules_for(cls).items():
        if name not in values or values[name] is None:
            continue
        value = values[name]
        items = value if isinstance(value, list | tuple) and isinstance(rule, Rule) else [value]
        for item in items:
            problem = rule.problem(item, values) if isinstance(rule, Rule) else rule(item, context)
            if problem:
                problems.append((prefix + name, problem))
                break
    return problems


def check_options(cls: type, values: Mapping[str, Any], prefix: str = "") -> None:
    """Raise :class:`OptionError` when any option of ``cls`` in ``values`` is out of range."""
    problems = option_problems(cls, values, prefix)
    if problems:
        raise OptionError(problems)


def import_class(class_path: str) -> type | None:
    module_name, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        return None


def _nested_classes(cls: type) -> dict[str, list[type]]:
    """Option name -> classes its annotation names (``lora: LoraSettings | None``), for values
    given as plain mappings rather than ``class_path`` nodes."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - unresolvable annotations: nothing nested to check
        return {}
    out = {}
    for name, hint in hints.items():
        found = [t for t in _flatten(hint) if isinstance(t, type) and rules_for(t)]
        if found:
            out[name] = found
    return out


def _flatten(hint: Any) -> list[Any]:
    args = typing.get_args(hint)
    return [x for a in args for x in _flatten(a)] if args else [hint]


def find_problems(node: Any, key: str = "", stage: str | None = None,
                  cls: type | None = None) -> list[tuple[str, str]]:
    """Walk a parsed config (plain dicts/lists, as ``Namespace.as_dict()`` gives) and check every
    ``class_path``/``init_args`` node, and every nested settings mapping, against its rules.
    ``cls`` checks ``node`` itself as the options of that class (the Trainer section)."""
    problems: list[tuple[str, str]] = []
    dot = f"{key}." if key else ""
    if isinstance(node, list):
        for i, item in enumerate(node):
            problems += find_problems(item, f"{key}[{i}]", stage)
        return problems
    if not isinstance(node, Mapping):
        return problems
    if cls is None and isinstance(node.get("class_path"), str):
        target = import_class(node["class_path"])
        init_args = node.get("init_args") or {}
        if target is not None:
            problems += find_problems(init_args, f"{dot}init_args", stage, target)
        return problems
    if cls is not None:
        problems += option_problems(cls, node, dot, stage)
        nested = _nested_classes(cls)
    else:
        nested = {}
    for name, value in node.items():
        if isinstance(value, Mapping) and "class_path" not in value and name in nested:
            for klass in nested[name]:
                problems += find_problems(value, f"{dot}{name}", stage, klass)
        elif isinstance(value, Mapping | list):
            problems += find_problems(value, f"{dot}{name}", stage)
    return problems


# ---------------------------------------------------------------------------- shared rule functions
def non_empty(value: Any, context: Context) -> str | None:
    """a non-empty list"""
    if isinstance(value, list | tuple) and len(value) == 0:
        return "needs at least one entry"
    return None


def adapter_dir_rule(value: Any, context: Context) -> str | None:
    """an existing PEFT adapter directory"""
    path = Path(str(value)).expanduser()
    if not path.is_dir():
        return f"directory {value} does not exist"
    if not (path / "adapter_config.json").is_file():
        return (f"{value} has no adapter_config.json (expected a PEFT adapter directory as "
                "written by save_adapter / save_pretrained)")
    return None


def local_model_rule(value: Any, context: Context) -> str | None:
    """a Hugging Face id, web4rl/tiny, or an existing local directory"""
    text = str(value)
    if text.startswith(("/", "./", "../", "~")) and not Path(text).expanduser().is_dir():
        return (f"directory {value} does not exist (give a local model directory, a Hugging "
                "Face id such as Qwen/Qwen2.5-Coder-7B-Instruct, or web4rl/tiny)")
    return None


def output_dir_free(value: Any, context: Context) -> str | None:
    """a new or empty directory unless overwrite_adapter (checked for fit)"""
    if context.stage != "fit" or context.options.get("overwrite_adapter"):
        return None
    path = Path(str(value)).expanduser()
    if path.is_file():
        return f"{value} is a file; give a directory"
    if path.is_dir() and any(path.iterdir()):
        return (f"{value} already holds files; choose a new directory or set "
                "overwrite_adapter: true (nothing has been written)")
    return None
