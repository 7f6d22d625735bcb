"""Naming conventions of generated TypeScript / TSX / JavaScript, read off the syntax tree.

* PascalCase: classes, interfaces, type aliases, enums, and components (a top-level function
  or function-valued constant whose body renders JSX);
* camelCase: every other function, variable and plain parameter; module-level ``const`` may
  also be UPPER_SNAKE_CASE (constants); leading ``_``/``$`` are ignored;
* parameters are typed (:func:`check_types`: no untyped parameters, no explicit ``any``);
* file names keep the user's style: when the prompt (or the task's files) names a file, a
  written file with the same stem must spell it the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from web4rl.judges.syntax import CodeSnippet, language_for_path, parse

_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_PASCAL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_JSX_TYPES = frozenset({"jsx_element", "jsx_self_closing_element", "jsx_fragment"})
_FUNC_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_TYPE_DECLS = {
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}


@dataclass(frozen=True)
class NamingResult:
    """Outcome of the naming-convention check of one snippet.

    Attributes:
        ok: True when no violation was found.
        checked: number of names inspected.
        violations: "line: kind `name` should be Style" messages.
    """

    ok: bool
    checked: int
    violations: tuple[str, ...] = ()


def _contains_jsx(node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in _JSX_TYPES:
            return True
        stack.extend(n.children)
    return False


def _strip(name: str) -> str:
    return name.lstrip("_$")


def _iter_names(root) -> Iterable[tuple[str, str, int, tuple[str, ...]]]:
    """Yield (name, kind, line, allowed styles) for every declaration we have a rule for."""
    stack = [(root, 0)]  # (node, depth in function nesting)
    while stack:
        node, depth = stack.pop()
        t = node.type
        line = node.start_point[0] + 1
        if t in _TYPE_DECLS:
            name = node.child_by_field_name("name")
            if name is not None:
                yield name.text.decode(), _TYPE_DECLS[t], line, ("PascalCase",)
        elif t in ("function_declaration", "generator_function_declaration"):
            name = node.child_by_field_name("name")
            if name is not None:
                yield name.text.decode(), *_function_rule(node, depth, line)
        elif t == "variable_declarator":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name is not None and name.type == "identifier":
                if value is not None and (value.type in _FUNC_VALUES or _wraps_component(value)):
                    yield name.text.decode(), *_function_rule(value, depth, line)
                else:
                    is_const = node.parent is not None and node.parent.children[0].type == "const"
                    styles: tuple[str, ...] = ("camelCase",)
                    if is_const:
                        styles = ("camelCase", "UPPER_SNAKE_CASE")
                    # Module-level constant objects may also be PascalCase (`const Colors = {..}`,
                    # enums-as-objects), which is common and allowed.
                    if is_const and depth == 0:
                        styles = (*styles, "PascalCase")
                    yield name.text.decode(), "variable", line, styles
        elif t in ("required_parameter", "optional_parameter"):
            pat = node.child_by_field_name("pattern")
            if pat is not None and pat.type == "identifier":
                yield pat.text.decode(), "parameter", line, ("camelCase",)
        elif t == "formal_parameters":
            for c in node.named_children:
                if c.type == "identifier":  # plain JS parameters
                    yield c.text.decode(), "parameter", c.start_point[0] + 1, ("camelCase",)
        inner = depth + (
            1
            if t in _FUNC_VALUES or t.endswith("function_declaration") or t == "method_definition"
            else 0
        )
        stack.extend((c, inner) for c in reversed(node.children))


def _wraps_component(value) -> bool:
    """`memo(() => <div/>)`, `forwardRef(...)`: a call whose arguments render JSX."""
    return value.type == "call_expression" and _contains_jsx(value)


def _function_rule(fn_node, depth: int, line: int) -> tuple[str, int, tuple[str, ...]]:
    # A top-level function rendering JSX is a component; nested render helpers may be either.
    if _contains_jsx(fn_node):
        if depth == 0:
            return "component", line, ("PascalCase",)
        return "function", line, ("camelCase", "PascalCase")
    return "function", line, ("camelCase",)


_STYLE_RE = {"camelCase": _CAMEL, "PascalCase": _PASCAL, "UPPER_SNAKE_CASE": _UPPER_SNAKE}


def check_naming(snippet: CodeSnippet) -> NamingResult:
    """Check declaration names against the conventions in the module docstring."""
    tree, _ = parse(snippet)
    checked = 0
    bad: list[str] = []
    for name, kind, line, styles in _iter_names(tree.root_node):
        core = _strip(name)
        if not core:
            continue
        checked += 1
        # A single letter (`i`, `T`) fits every convention.
        if len(core) == 1 or any(_STYLE_RE[s].match(core) for s in styles):
            continue
        bad.append(f"line {line}: {kind} `{name}` should be {' or '.join(styles)}")
    return NamingResult(not bad, checked, tuple(bad))


def _untyped_params(fn) -> list:
    """Parameter nodes of a function without a type annotation or a default value."""
    single = fn.child_by_field_name("parameter")  # `x => x`
    if single is not None:
        return [single]
    params = fn.child_by_field_name("parameters")
    out = []
    for p in params.named_children if params is not None else ():
        if p.type in ("required_parameter", "optional_parameter"):
            if p.child_by_field_name("type") is None and p.child_by_field_name("value") is None:
                out.append(p)
    return out


def check_types(snippet: CodeSnippet) -> NamingResult | None:
    """TypeScript convention: parameters of named functions are typed (no implicit `any`).

    Checked: function declarations, methods, and function-valued variables without their own
    type annotation (`const f: Handler = (e) => ..` is typed by the variable). Callbacks
    passed as arguments are contextually typed and not checked; a default value gives the
    type. Returns None for JavaScript (nothing to check).
    """
    tree, lang = parse(snippet)
    if lang in ("js", "jsx"):
        return None
    checked = 0
    bad: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        fn, name = None, None
        if node.type in (
            "function_declaration",
            "generator_function_declaration",
            "method_definition",
        ):
            fn, name = node, node.child_by_field_name("name")
        elif node.type == "variable_declarator" and node.child_by_field_name("type") is None:
            value = node.child_by_field_name("value")
            if value is not None and value.type in _FUNC_VALUES:
                fn, name = value, node.child_by_field_name("name")
        if fn is None:
            continue
        checked += 1
        label = name.text.decode() if name is not None else "function"
        for p in _untyped_params(fn):
            bad.append(
                f"line {p.start_point[0] + 1}: parameter `{p.text.decode()[:40]}` of "
                f"`{label}` has no type"
            )
    return NamingResult(not bad, checked, tuple(bad))


# --------------------------------------------------------------------------- file names

_FILE_RE = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:tsx?|jsx?|mjs|cjs|mts|cts|css|json|md))\b"
)


def file_name_style(stem: str) -> str:
    """Classify a file stem: PascalCase, camelCase, kebab-case, snake_case or other."""
    if "-" in stem and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", stem):
        return "kebab-case"
    if "_" in stem and re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", stem):
        return "snake_case"
    if _PASCAL.match(stem):
        return "PascalCase"
    if _CAMEL.match(stem):
        return "camelCase"
    return "other"


def _norm_stem(name: str) -> str:
    stem = PurePosixPath(name).name.split(".")[0]
    return re.sub(r"[-_]", "", stem).lower()


# Library names that look like file names ("our Next.js storefront").
_LIBRARY_NAMES = frozenset(
    "next.js node.js vue.js nuxt.js express.js react.js three.js d3.js chart.js ember.js "
    "backbone.js angular.js solid.js alpine.js p5.js moment.js day.js video.js leaflet.js "
    "highlight.js nest.js deno.js".split()
)


def file_names_in(text: str) -> list[str]:
    """File names (with extension) mentioned in free text, in order of appearance
    (library names such as Next.js excluded)."""
    return [f for f in _FILE_RE.findall(text) if f.lower() not in _LIBRARY_NAMES]


def check_file_names(
    written_paths: Sequence[str],
    prompt: str,
    existing_paths: Iterable[str] = (),
) -> tuple[str, ...]:
    """Violations where a written file does not keep the user's file-name style.

    A written path whose stem matches (ignoring case, `-` and `_`) a file named in the prompt or
    an existing workspace file must use exactly the same base name. Otherwise, when the new
    file's directory already holds JS/TS files, its stem must follow their dominant style.
    """
    named = file_names_in(prompt) + list(existing_paths)
    by_stem: dict[str, str] = {}
    for n in named:
        by_stem.setdefault(_norm_stem(n), PurePosixPath(n).name)
    out: list[str] = []
    existing = [p for p in existing_paths if language_for_path(p)]
    for path in written_paths:
        base = PurePosixPath(path).name
        want = by_stem.get(_norm_stem(base))
        if want is not None:
            if want.split(".")[0] != base.split(".")[0]:
                out.append(f"file `{path}` should be named like `{want}` as the user wrote it")
            continue
        if language_for_path(path) is None:
            continue
        parent = str(PurePosixPath(path).parent)
        siblings = [
            file_name_style(PurePosixPath(p).name.split(".")[0])
            for p in existing
            if str(PurePosixPath(p).parent) == parent
        ]
        if siblings:
            dominant, _ = Counter(siblings).most_common(1)[0]
            mine = file_name_style(base.split(".")[0])
            if dominant != "other" and mine != dominant:
                out.append(f"file `{path}` is {mine} but its directory uses {dominant}")
    return tuple(out)
