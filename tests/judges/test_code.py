"""Code checks: extraction, tree-sitter syntax, naming and typing conventions, file names."""

from __future__ import annotations

import pytest

from web4rl.judges.code import (
    CodeSnippet,
    check_file_names,
    check_naming,
    check_syntax,
    check_types,
    extract_code_snippets,
    file_name_style,
)


def test_extract_fenced_raw_and_action_code():
    text = "Here:\n```tsx\nexport const A = () => <div />;\n```\n```python\nprint(1)\n```"
    (sn,) = extract_code_snippets(text)
    assert sn.language == "tsx" and sn.origin == "fence"
    raw = extract_code_snippets("import React from 'react';\nexport const B = 1;\n")
    assert [s.origin for s in raw] == ["raw"]
    assert extract_code_snippets("Just prose about code.") == []
    assert extract_code_snippets('{"tool": "read_file", "args": {}}') == []
    acts = [{"tool": "write", "args": {"file_path": "src/a.ts", "contents": "export const a = 1;"}}]
    (a,) = extract_code_snippets("", acts)
    assert (a.path, a.language, a.origin) == ("src/a.ts", "ts", "action")


@pytest.mark.parametrize(
    ("code", "lang", "ok"),
    [
        ("export const A = () => <div>{1}</div>;", "tsx", True),
        ("const x: number = 1;", "ts", True),
        ("const = 3;", "js", False),
        ("function f( {", None, False),
        ("const y = <T,>(v: T) => v;", None, True),
    ],
)
def test_syntax(code, lang, ok):
    res = check_syntax(CodeSnippet(code, lang))
    assert res.ok is ok
    if not ok:
        assert res.errors and res.errors[0][0].isdigit()  # "line:col: ..."


def test_naming_conventions():
    code = (
        "export const button = () => <button />;\n"  # component must be PascalCase
        "export function Do_it(user_name: string) { const MAX = 1; let my_var = 2; return MAX; }\n"
        "interface fooBar { x: number }\n"
        "export const API_URL = 'x';\n"  # module constant: UPPER_SNAKE allowed
        "function App() { const renderItem = (x: number) => <li>{x}</li>; return <ul />; }\n"
    )
    res = check_naming(CodeSnippet(code, "tsx"))
    bad = "\n".join(res.violations)
    for name in ("button", "Do_it", "user_name", "my_var", "fooBar"):
        assert f"`{name}`" in bad
    for name in ("API_URL", "MAX", "renderItem", "App"):
        assert f"`{name}`" not in bad
    assert check_naming(CodeSnippet("export class UserService {}\ntype Props = {};", "ts")).ok


def test_types_convention():
    res = check_types(CodeSnippet("export function f(a, b: number, c = 1) { return a; }", "ts"))
    assert not res.ok and len(res.violations) == 1 and "`a`" in res.violations[0]
    # A typed variable types its function; callbacks are contextually typed.
    ok = "const h: Handler = (e) => e;\nexport const g = (xs: number[]) => xs.map((x) => x);"
    assert check_types(CodeSnippet(ok, "ts")).ok
    assert check_types(CodeSnippet("function f(a) { return a; }", "js")) is None


def test_file_names_keep_user_style():
    assert file_name_style("button-group") == "kebab-case"
    assert file_name_style("ButtonGroup") == "PascalCase"
    assert file_name_style("useThing") == "camelCase"
    bad = check_file_names(["src/ButtonGroup.tsx"], "create button-group.tsx")
    assert bad and "button-group.tsx" in bad[0]
    assert check_file_names(["src/button-group.tsx"], "create button-group.tsx") == ()
    siblings = ["src/components/NavBar.tsx", "src/components/Footer.tsx"]
    assert check_file_names(["src/components/side-bar.tsx"], "add a sidebar", siblings)
    assert check_file_names(["src/components/SideBar.tsx"], "add a sidebar", siblings) == ()
