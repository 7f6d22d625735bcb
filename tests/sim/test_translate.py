"""Canonical task actions and checks translated per tool profile (web4rl.sim.tools.translate)."""

import pytest

from web4rl.safety.shell_lex import tokenize
from web4rl.sim.tools.translate import (
    TranslationError,
    rule_path,
    shell_quote,
    translate_actions,
    translate_check,
)


def a(tool, **args):
    return {"tool": tool, "args": args}


def test_shell_quote_round_trips_through_the_lexer():
    for word in ["plain", "it's", "a b|c", "$(x)", "", "*.ts", 'say "hi"']:
        assert [t.text for t in tokenize(shell_quote(word))] == [word]


def test_web4_forms():
    files = ["src/a.ts"]
    got = translate_actions(
        [
            a("read_file", target_file="src/a.ts", offset=2),
            a("write", file_path="src/a.ts", contents="x\n"),  # exists: an edit
            a("write", file_path="src/b.ts", contents="y\n"),  # new: a creation
            a("write", file_path="./src/b.ts", contents="z\n"),  # now exists
            a("search_replace", file_path="src/a.ts", old_string="x", new_string="w"),
            a("grep", pattern="it's", path="src", output_mode="count", **{"-i": True}),
            a("grep", pattern="TODO"),
            a("glob_file_search", glob_pattern="*.tsx", target_directory="./src/"),
            a("codebase_search", query="Where is the API client?"),
            a("list_dir", target_directory="."),
            a("run_terminal_cmd", command="wc -l src/a.ts", is_background=True),
        ],
        "web4",
        files,
    )
    assert got == [
        a("read_file", path="src/a.ts"),
        a("edit_existing_file", path="src/a.ts", changes="x\n"),
        a("create_new_file", path="src/b.ts", content="y\n"),
        a("edit_existing_file", path="./src/b.ts", changes="z\n"),
        a("single_find_and_replace", file_path="src/a.ts", find="x", replace="w"),
        a("run_terminal_command", command="grep -rciE 'it'\\''s' src"),
        a("run_terminal_command", command="grep -rnE TODO"),
        a("file_glob_search", pattern="src/**/*.tsx"),
        a("run_terminal_command", command="grep -rliE 'where|is|the|api|client'"),
        a("ls", path="."),
        a("run_terminal_command", command="wc -l src/a.ts"),
    ]
    with pytest.raises(TranslationError, match="type"):
        translate_actions([a("grep", pattern="x", type="ts")], "web4")


def test_cursor_forms_of_web4_only_tools():
    got = translate_actions(
        [a("read_currently_open_file"), a("create_rule_block", rule="Use const", name="const")],
        "cursor",
        open_file="src/a.ts",
    )
    assert got == [
        a("read_file", target_file="src/a.ts"),
        a("write", file_path=".continue/rules/const.md", contents="# const\n\nUse const\n"),
    ]
    for tool, args in [("view_diff", {}), ("fetch_url_content", {"url": "https://x.dev"})]:
        with pytest.raises(TranslationError, match="no counterpart"):
            translate_actions([a(tool, **args)], "cursor")
    with pytest.raises(TranslationError, match="open_file"):
        translate_actions([a("read_currently_open_file")], "cursor")


def test_checks_follow_the_tools():
    check = {"type": "tool_called_with", "tool": "read_file", "args": {"target_file": "a.ts"}}
    assert translate_check(check, "web4") == {**check, "args": {"path": "a.ts"}}
    assert translate_check(check, "cursor") == check
    out = {"type": "output_contains", "tool": "grep", "text": "a.ts:2"}
    assert translate_check(out, "web4")["tool"] == "run_terminal_command"
    with pytest.raises(TranslationError):
        translate_check({"type": "tool_called", "tool": "view_diff"}, "cursor")
    assert rule_path("RULE: Use TypeScript for all new code") == (
        ".continue/rules/use-typescript-for-all-new-code.md"
    )
