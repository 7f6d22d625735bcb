"""Code in a completion: extraction (fences, raw code, write actions) and syntax checks.

Syntax is decided by a real parser (tree-sitter grammars from PyPI), never by regexes;
:func:`parse` gives the syntax tree the naming checks (:mod:`web4rl.judges.naming`) read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from web4rl.filetypes import GRAMMARS

#: File extensions we check, mapped to the grammar that parses them.
CODE_EXTENSIONS: dict[str, str] = GRAMMARS  # the one code-extension table (web4rl.filetypes)
_FENCE_LANGS = {
    "ts": "ts",
    "typescript": "ts",
    "tsx": "tsx",
    "js": "js",
    "javascript": "js",
    "jsx": "jsx",
    "react": "tsx",
    "mjs": "js",
}
_FENCE_RE = re.compile(r"```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
# Statements that only occur in JS/TS source; used to decide whether an unfenced completion is
# code (the seed's style rows are raw code) rather than prose.
_CODE_START_RE = re.compile(
    r"^\s*(?:import\s|export\s|const\s|let\s|var\s|function[\s*]|class\s|interface\s|type\s+\w+\s*=|"
    r"enum\s|async\s+function|//|/\*|'use |\"use )",
    re.M,
)


@dataclass(frozen=True)
class CodeSnippet:
    """One piece of generated code to check.

    Attributes:
        text: the source code.
        language: "ts", "tsx", "js" or "jsx"; None means unknown (parsed as TSX, then TS).
        path: the file path it is written to when it came from a tool call, else None.
        origin: "action" (a write in a tool call), "fence" (a markdown code block) or "raw".
    """

    text: str
    language: str | None = None
    path: str | None = None
    origin: str = "raw"


def language_for_path(path: str) -> str | None:
    """Grammar name for a file path, or None when it is not JS/TS."""
    return CODE_EXTENSIONS.get(PurePosixPath(path).suffix.lower())


def _looks_like_json(text: str) -> bool:
    s = text.strip()
    if not s.startswith(("{", "[")):
        return False
    try:
        json.loads(s)
    except ValueError:
        return False
    return True


def extract_code_snippets(
    completion: str,
    actions: Sequence[Mapping[str, object]] | None = None,
    code_arg_names: Sequence[str] = ("contents", "content", "code"),
    path_arg_names: Sequence[str] = ("file_path", "path"),
) -> list[CodeSnippet]:
    """Collect the JS/TS code a completion contains.

    Sources, in order: whole-file contents in tool calls that target a JS/TS path (the judge
    itself reads written files back from the mock workspace instead, which also covers
    search_replace edits); fenced markdown blocks tagged with a JS/TS language (or untagged but starting
    like code); and, when neither exists and the whole completion is not JSON, the completion
    itself if it starts like JS/TS source.
    """
    out: list[CodeSnippet] = []
    for act in actions or ():
        args = act.get("args")
        if not isinstance(args, Mapping):
            continue
        path = next((args[k] for k in path_arg_names if isinstance(args.get(k), str)), None)
        lang = language_for_path(path) if path is not None else None
        if lang is None:
            continue
        for name in code_arg_names:
            val = args.get(name)
            if isinstance(val, str) and val.strip():
                out.append(CodeSnippet(val, lang, path, "action"))
    for m in _FENCE_RE.finditer(completion):
        tag, body = m.group(1).lower(), m.group(2)
        if tag in _FENCE_LANGS:
            out.append(CodeSnippet(body, _FENCE_LANGS[tag], None, "fence"))
        elif not tag and _CODE_START_RE.search(body) and not _looks_like_json(body):
            out.append(CodeSnippet(body, None, None, "fence"))
    if not out and "```" not in completion and not actions and not _looks_like_json(completion):
        first = completion.lstrip().splitlines()[0] if completion.strip() else ""
        if _CODE_START_RE.match(first):
            out.append(CodeSnippet(completion, None, None, "raw"))
    return out


# --------------------------------------------------------------------------- parsing


@cache
def _parser(language: str):
    """A cached tree-sitter parser for one grammar (import is lazy: the extra is optional)."""
    try:
        import tree_sitter as ts
    except ImportError as e:  # pragma: no cover - exercised only without the `code` extra
        raise RuntimeError(
            "tree-sitter is not installed: pip install 'web4rl[code]' (tree-sitter, "
            "tree-sitter-typescript, tree-sitter-javascript)"
        ) from e
    if language in ("ts", "tsx"):
        import tree_sitter_typescript as tst

        lang = tst.language_tsx() if language == "tsx" else tst.language_typescript()
    elif language in ("js", "jsx"):
        import tree_sitter_javascript as tsj

        lang = tsj.language()
    else:
        raise ValueError(f"unknown code language {language!r}")
    return ts.Parser(ts.Language(lang))


@dataclass(frozen=True)
class SyntaxResult:
    """Outcome of parsing one snippet.

    Attributes:
        ok: True when the tree has no ERROR or MISSING node.
        language: the grammar that produced the verdict.
        errors: "line:col: message" for up to 5 error nodes (1-based positions).
    """

    ok: bool
    language: str
    errors: tuple[str, ...] = ()


def _error_nodes(node, out: list, limit: int = 5) -> None:
    if len(out) >= limit:
        return
    if node.type == "ERROR" or node.is_missing:
        out.append(node)
        return
    if node.has_error:
        for c in node.children:
            _error_nodes(c, out, limit)


def parse(snippet: CodeSnippet):
    """Parse a snippet; returns (tree, language). Unknown language: TSX, falling back to TS
    (TSX rejects `<T>expr` casts that plain TS accepts)."""
    candidates = [snippet.language] if snippet.language else ["tsx", "ts"]
    best = None
    for lang in candidates:
        tree = _parser(lang).parse(snippet.text.encode("utf-8"))
        if not tree.root_node.has_error:
            return tree, lang
        if best is None:
            best = (tree, lang)
    return best


def check_syntax(snippet: CodeSnippet) -> SyntaxResult:
    """Parse with tree-sitter and report whether the code is syntactically valid."""
    tree, lang = parse(snippet)
    if not tree.root_node.has_error:
        return SyntaxResult(True, lang)
    nodes: list = []
    _error_nodes(tree.root_node, nodes)
    msgs = tuple(
        f"{n.start_point[0] + 1}:{n.start_point[1] + 1}: "
        + (f"missing {n.type}" if n.is_missing else "syntax error")
        for n in nodes
    )
    return SyntaxResult(False, lang, msgs)
