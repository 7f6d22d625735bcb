"""The one code-extension table: which file suffixes are which language.

Torch-free; the simulator (style reward, grep's ``type`` filter) and the judge (grammar
choice, lint file names) derive their views from :data:`EXTENSIONS`.
"""

from __future__ import annotations

#: Suffix -> (language, grammar of the JS/TS family or None). The language groups suffixes
#: for grep's ``type`` filter (ripgrep's types); the grammar is the tree-sitter parser the
#: judge uses. Every suffix here is style-checked by the simulator.
EXTENSIONS: dict[str, tuple[str, str | None]] = {
    ".ts": ("ts", "ts"),
    ".mts": ("ts", "ts"),
    ".cts": ("ts", "ts"),
    ".tsx": ("tsx", "tsx"),
    ".js": ("js", "js"),
    ".mjs": ("js", "js"),
    ".cjs": ("js", "js"),
    ".jsx": ("jsx", "jsx"),
    ".json": ("json", None),
    ".md": ("md", None),
    ".markdown": ("md", None),
    ".css": ("css", None),
    ".scss": ("css", None),
    ".sass": ("css", None),
    ".less": ("css", None),
    ".html": ("html", None),
    ".htm": ("html", None),
    ".py": ("py", None),
    ".yaml": ("yaml", None),
    ".yml": ("yaml", None),
}

#: Suffixes parsed as JS/TS, mapped to their grammar (the judge's code checks).
GRAMMARS: dict[str, str] = {s: g for s, (_, g) in EXTENSIONS.items() if g is not None}
#: Suffixes of JavaScript-family source (no `var`, the simulator's style rule).
JS_SUFFIXES: tuple[str, ...] = tuple(GRAMMARS)
#: Suffixes whose files the simulator style-checks (code and docs the project lints).
STYLE_SUFFIXES: tuple[str, ...] = tuple(
    s for s, (lang, _) in EXTENSIONS.items() if lang not in ("py", "yaml")
)
#: One file suffix per grammar (for writing a snippet to a temporary file to lint).
GRAMMAR_SUFFIX: dict[str, str] = {"ts": ".ts", "tsx": ".tsx", "js": ".js", "jsx": ".jsx"}


def grep_types() -> dict[str, tuple[str, ...]]:
    """ripgrep-style types for grep's ``type`` filter ('ts' also covers .tsx, 'js' .jsx)."""
    out: dict[str, list[str]] = {}
    for suffix, (lang, _) in EXTENSIONS.items():
        out.setdefault(lang, []).append(suffix)
    out["ts"] = out["ts"] + out["tsx"]
    out["js"] = out["js"] + out["jsx"]
    return {k: tuple(v) for k, v in out.items()}
