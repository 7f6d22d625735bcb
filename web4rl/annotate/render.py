"""Turn untrusted model output into display segments: prose, highlighted code, checked tool calls.

Nothing here builds HTML from model text by hand: prose stays plain text (the template escapes
it), and code goes through Pygments, whose HTML formatter escapes every token. The only HTML
that reaches the page unescaped is Pygments' output.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer, TextLexer, get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

from web4rl.sim import actions as _actions

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_FORMATTER = HtmlFormatter(nowrap=False, cssclass="hl")


@dataclass
class ToolCheck:
    """The tool calls found in a completion, checked against the active profile.

    Attributes:
        profile: the profile the calls were checked against (``default`` when the catalog has
            no profiles yet).
        ok: every call names a catalog tool with valid arguments.
        actions: normalized ``{"tool", "args"}`` calls (empty when not ok).
        error: why the calls are not valid (``kind: message``), else None.
    """

    profile: str
    ok: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def check_tool_calls(text: str, profile: str = "web4") -> ToolCheck:
    """Parse and check tool calls with the catalog of ``web4rl.sim``, under ``profile``.

    The one place the annotation app meets the tool catalog. Catalogs with profiles take the
    profile as a keyword of ``parse_actions``; a catalog from before profiles has one tool set,
    which is then used as is (and reported as ``default``).
    """
    params = inspect.signature(_actions.parse_actions).parameters
    for kw in ("profile", "tools"):
        if kw in params:
            result = _actions.parse_actions(text, **{kw: profile})
            break
    else:
        profile = "default"
        result = _actions.parse_actions(text)
    if result.ok:
        return ToolCheck(profile, True, list(result.actions))
    return ToolCheck(profile, False, [], f"{result.error.kind}: {result.error.message}")


@cache
def _builtin_tasks() -> dict[str, dict[str, Any]]:
    from web4rl.sim.tasks import load_builtin_tasks

    return {t.id: t.to_dict() for t in load_builtin_tasks()}


def task_context(task: Any) -> dict[str, Any] | None:
    """The task a sample row names (a task object, or a built-in task id) for the context panel:
    ``{"id", "description", "initial_files"}``; None when there is no (known) task."""
    if isinstance(task, str):
        task = _builtin_tasks().get(task)
    if not isinstance(task, dict):
        return None
    files = task.get("initial_files")
    return {
        "id": task.get("id"),
        "description": task.get("description"),
        "initial_files": files if isinstance(files, dict) else {},
    }


def _lexer(lang: str | None = None, filename: str | None = None):
    try:
        if lang:
            return get_lexer_by_name(lang)
        if filename:
            return get_lexer_for_filename(filename)
    except ClassNotFound:
        pass
    return TextLexer()


def highlight_code(code: str, lang: str | None = None, filename: str | None = None) -> Markup:
    """Pygments HTML for ``code`` (escaped by Pygments), safe to insert into the page."""
    return Markup(highlight(code, _lexer(lang, filename), _FORMATTER))


@cache
def pygments_css() -> str:
    return _FORMATTER.get_style_defs(".hl")


def _unfence(text: str) -> str:
    """The body of a ``` / ```json fence around the whole text, else the text (stripped)."""
    stripped = text.strip()
    m = _FENCE.fullmatch(stripped) if stripped.startswith("```") else None
    if m and m.group(1).lower() in ("", "json"):
        return m.group(2).strip()
    return stripped


def _looks_like_call(text: str) -> bool:
    """Whether the text is meant as tool calls (a JSON object/list with a tool name in it)."""
    body = _unfence(text)
    return body[:1] in "{[" and bool(re.search(r'"(tool|tool_calls|name|function)"\s*:', body))


def segments(text: str, profile: str = "web4") -> dict[str, Any]:
    """Display parts of one completion.

    Returns ``{"tool": ToolCheck | None, "calls": [...], "parts": [...]}`` where each call is
    ``{"tool", "args_html", "code": [(arg, html)]}`` and each part ``{"kind": "prose", "text"}``
    or ``{"kind": "code", "lang", "html"}``.
    """
    out: dict[str, Any] = {"tool": None, "calls": [], "parts": []}
    if _looks_like_call(text):
        check = check_tool_calls(text, profile)
        out["tool"] = check
        for a in check.actions:
            # Multi-line string arguments (file contents, patches) are shown as code, by file type.
            code = [
                (k, highlight_code(v, filename=str(a["args"].get("path") or a["args"].get("file_path") or a["args"].get("target_file") or "")))
                for k, v in a["args"].items()
                if isinstance(v, str) and "\n" in v
            ]
            shown = {k: ("<see below>" if isinstance(v, str) and "\n" in v else v) for k, v in a["args"].items()}
            out["calls"].append({
                "tool": a["tool"],
                "args_html": highlight_code(json.dumps(shown, indent=2, ensure_ascii=False), "json"),
                "code": code,
            })
        if check.ok:
            return out
        try:  # an invalid call that is still JSON: show it pretty-printed
            value = json.loads(_unfence(text))
        except ValueError:
            pass
        else:
            pretty = json.dumps(value, indent=2, ensure_ascii=False)
            out["parts"].append({"kind": "code", "lang": "json", "html": highlight_code(pretty, "json")})
            return out
    pos = 0
    for m in _FENCE.finditer(text):
        if m.start() > pos:
            out["parts"].append({"kind": "prose", "text": text[pos : m.start()]})
        lang = m.group(1).lower() or None
        body = m.group(2)
        html = highlight_code(body, lang) if lang else Markup(highlight(body, _guess_lexer(body), _FORMATTER))
        out["parts"].append({"kind": "code", "lang": lang or "", "html": html})
        pos = m.end()
    if pos < len(text):
        out["parts"].append({"kind": "prose", "text": text[pos:]})
    return out


def _guess_lexer(body: str):
    stripped = body.strip()
    if stripped[:1] in "{[":
        try:
            json.loads(stripped)
            return JsonLexer()
        except ValueError:
            pass
    return TextLexer()
