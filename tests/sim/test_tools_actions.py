"""Tool catalog (both profiles), action parsing."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from web4rl.sim.actions import PARSE_ERROR_KINDS, parse_actions
from web4rl.sim.tools import (
    CURSOR,
    CURSOR_SCHEMAS,
    PROFILES,
    TOOL_NAMES,
    TOOL_SCHEMAS,
    WEB4_SCHEMAS,
    canonical_action,
    get_profile,
    tool_catalog_text,
    validate_args,
    with_defaults,
)

CURSOR_NAMES = tuple(CURSOR_SCHEMAS)
ALL_SCHEMAS = [(p, name, schema) for p in PROFILES.values() for name, schema in p.schemas.items()]


def test_default_profile_is_web4_with_the_real_datas_tools():
    """Names and arguments exactly as the Web4 team's sample rows write them."""
    assert get_profile().name == "web4" and TOOL_NAMES == tuple(WEB4_SCHEMAS)
    props = {name: set(s["properties"]) for name, s in TOOL_SCHEMAS.items()}
    assert props == {
        "read_file": {"path"},
        "create_new_file": {"path", "content"},
        "edit_existing_file": {"path", "changes"},
        "single_find_and_replace": {"file_path", "find", "replace"},
        "file_glob_search": {"pattern"},
        "ls": {"path"},
        "run_terminal_command": {"command", "working_directory"},
        "read_currently_open_file": set(),
        "view_diff": set(),
        "fetch_url_content": {"url"},
        "create_rule_block": {"rule", "name"},
        "evaluate_model": {"metrics", "threshold"},
    }
    # The real rows validate; the tool_neg rows' wrong arguments do not.
    good = [
        ("read_file", {"path": "src/components/Header.tsx"}),
        ("create_new_file", {"path": "src/Button.tsx", "content": "export {};"}),
        ("edit_existing_file", {"path": "a.ts", "changes": "Update imports"}),
        ("single_find_and_replace", {"file_path": "a.ts", "find": "var", "replace": "const"}),
        ("file_glob_search", {"pattern": "src/**/*.ts"}),
        ("ls", {"path": "."}),
        ("run_terminal_command", {"command": "npm install", "working_directory": "."}),
        ("read_currently_open_file", {}),
        ("view_diff", {}),
        ("fetch_url_content", {"url": "https://docs.example.com/api"}),
        ("create_rule_block", {"rule": "RULE: Use TypeScript for all new code"}),
        ("evaluate_model", {"metrics": ["accuracy", "safety"], "threshold": 0.95}),
    ]
    for tool, args in good:
        assert validate_args(tool, args) is None, (tool, args)
    bad = [
        ("read_file", {}),
        ("read_file", {"file_path": "file.txt"}),
        ("create_new_file", {"path": "file.txt"}),
        ("fetch_url_content", {"path": "file.txt"}),
        ("view_diff", {"path": "file.txt"}),
        ("create_rule_block", {"file_path": "file.txt"}),
        ("ls", {}),
        ("run_terminal_command", {"file_path": "x"}),
        ("evaluate_model", {"metrics": [], "threshold": 0.9}),
        ("evaluate_model", {"metrics": ["a"], "threshold": True}),
    ]
    for tool, args in bad:
        assert validate_args(tool, args) is not None, (tool, args)


def test_web4_catalog_text_asks_for_the_tool_calls_form():
    text = tool_catalog_text("web4")
    assert text.startswith('Tools (answer with JSON: {"tool_calls": [{"name": <tool>')
    for name in WEB4_SCHEMAS:
        assert text.count(f"- {name}(") == 1
    assert "working_directory?: string" in text and "view_diff()" in text
    with pytest.raises(ValueError, match="unknown tool profile"):
        tool_catalog_text("nope")


def test_catalog_names_in_issue_order():
    assert CURSOR_NAMES == (
        "read_file",
        "write",
        "search_replace",
        "grep",
        "glob_file_search",
        "codebase_search",
        "list_dir",
        "run_terminal_cmd",
    )
    assert tuple(get_profile("cursor").schemas) == CURSOR_NAMES


@pytest.mark.parametrize("profile,name,schema", ALL_SCHEMAS, ids=lambda v: getattr(v, "name", v))
def test_schemas_are_valid_closed_objects(profile, name, schema):
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    for prop in schema["properties"].values():
        assert "type" in prop and prop.get("description")


def test_argument_names_match_the_issue():
    props = {name: set(s["properties"]) for name, s in CURSOR_SCHEMAS.items()}
    assert props["read_file"] == {"target_file", "offset", "limit"}
    assert props["write"] == {"file_path", "contents"}
    assert props["search_replace"] == {"file_path", "old_string", "new_string"}
    assert props["grep"] == {"pattern", "path", "type", "output_mode", "-i"}
    assert props["glob_file_search"] == {"glob_pattern", "target_directory"}
    assert props["codebase_search"] == {"query", "target_directories"}
    assert props["list_dir"] == {"target_directory"}
    assert props["run_terminal_cmd"] == {"command", "is_background"}
    assert CURSOR_SCHEMAS["grep"]["properties"]["output_mode"]["enum"] == [
        "content",
        "files_with_matches",
        "count",
    ]


def test_catalog_text_lists_every_tool_once():
    text = tool_catalog_text("cursor")
    for name in CURSOR_NAMES:
        assert text.count(f"- {name}(") == 1
    assert "target_file: string" in text and "offset: integer = 1" in text


def test_validate_args_and_defaults():
    def check(tool, args):
        return validate_args(tool, args, "cursor")

    assert check("read_file", {"target_file": "a.ts"}) is None
    assert "offset" in check("read_file", {"target_file": "a.ts", "offset": 0})
    assert "unexpected" in check("grep", {"pattern": "x", "bogus": 1})
    assert "contents" in check("write", {"file_path": "a"})
    assert "unknown tool" in check("rm", {})
    assert check("grep", {"pattern": "x" * 5000}).startswith("grep: pattern:")
    full = with_defaults("grep", {"pattern": "x"})
    assert full == {"pattern": "x", "path": ".", "output_mode": "content", "-i": False}
    assert CURSOR.defaults("grep") == {"path": ".", "output_mode": "content", "-i": False}
    assert CURSOR.defaults("write") == {} and CURSOR.defaults("no_such_tool") == {}
    listed = CURSOR.defaults("codebase_search")["target_directories"]
    listed.append("src")  # a copy: the catalog's default stays empty
    assert CURSOR.defaults("codebase_search") == {"target_directories": []}
    assert canonical_action("grep", {"pattern": "x"}) == canonical_action(
        "grep", {"pattern": "x", "path": "."}
    )


NATIVE = '{"tool": "read_file", "args": {"target_file": "main.ts"}}'


@pytest.mark.parametrize(
    "text",
    [
        NATIVE,
        "```json\n" + NATIVE + "\n```",
        "```\n" + NATIVE + "\n```",
        "Let me read it.\n" + NATIVE,
        '{"tool_calls": [{"name": "read_file", "parameters": {"target_file": "main.ts"}}]}',
        '{"tool_calls": [{"function": {"name": "read_file", "arguments": "{\\"target_file\\": \\"main.ts\\"}"}}]}',
        "[" + NATIVE + "]",
    ],
)
def test_accepted_forms_normalize_to_the_same_action(text):
    result = parse_actions(text, tools="cursor")
    assert result.ok, result.error
    assert result.actions == [{"tool": "read_file", "args": {"target_file": "main.ts"}}]
    # The same text under web4 names a known tool with the cursor argument: a schema failure.
    web4 = parse_actions(text)
    assert web4.error.kind == "schema_fail" and web4.error.tool == "read_file"
    assert "unexpected argument 'target_file'" in web4.error.message
    web4 = parse_actions(text.replace("target_file", "path"))
    assert web4.ok and web4.actions == [{"tool": "read_file", "args": {"path": "main.ts"}}]


def test_real_row_form_with_several_calls():
    text = (
        '{\n  "tool_calls": [\n    {"name": "view_diff", "parameters": {}},\n'
        '    {"name": "ls", "parameters": {"path": "src"}}\n  ]\n}'
    )
    result = parse_actions(text, strict=True)
    assert result.ok and [a["tool"] for a in result.actions] == ["view_diff", "ls"]
    # A call without "parameters" is a call with no arguments.
    assert parse_actions('{"tool_calls": [{"name": "view_diff"}]}').ok


def test_list_of_actions_keeps_order():
    text = json.dumps([json.loads(NATIVE), {"tool": "list_dir", "args": {"target_directory": "."}}])
    assert [a["tool"] for a in parse_actions(text, tools="cursor").actions] == [
        "read_file",
        "list_dir",
    ]


@pytest.mark.parametrize(
    "text,kind,tool",
    [
        ("{not json", "invalid_json", None),
        ("", "invalid_json", None),
        ('{"tool": "delete_file", "args": {}}', "unknown_tool", None),
        ('{"tool": "write", "args": {"file_path": "a"}}', "schema_fail", "write"),
        ('{"tool": "read_file", "args": {"target_file": 3}}', "schema_fail", "read_file"),
        (
            '{"tool": "read_file", "args": {"target_file": "a"}, "extra": 1}',
            "schema_fail",
            "read_file",
        ),
        ('{"args": {}}', "schema_fail", None),
        ("[]", "schema_fail", None),
        ('{"tool_calls": []}', "schema_fail", None),
        ('"just a string"', "schema_fail", None),
    ],
)
def test_errors_have_a_kind_and_message(text, kind, tool):
    strict = text == '"just a string"'
    result = parse_actions(text, strict=strict, tools="cursor")
    assert not result.ok and result.actions == []
    assert result.error.kind == kind and result.error.message
    assert result.error.tool == tool


def test_strict_mode_rejects_prose():
    assert not parse_actions("Sure: " + NATIVE, strict=True).ok


def test_non_text_and_huge_inputs_do_not_raise():
    assert parse_actions(None).error.kind == "invalid_json"
    assert parse_actions("[" * 200_000).error.kind == "invalid_json"
    assert parse_actions("{" * 200_000).error.kind == "invalid_json"
    assert not parse_actions("x" * 3_000_000).ok


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises_on_random_text(text):
    result = parse_actions(text)
    assert result.ok or result.error.kind in PARSE_ERROR_KINDS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


PROFILE_TOOLS = [(p.name, t) for p in PROFILES.values() for t in p.schemas]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PROFILE_TOOLS + [("web4", "bogus"), ("cursor", "bogus")]), json_values)
def test_parse_never_raises_on_random_json_args(profile_tool, args):
    profile, tool = profile_tool
    for text in (
        json.dumps({"tool": tool, "args": args}),
        json.dumps({"tool_calls": [{"name": tool, "parameters": args}]}),
    ):
        result = parse_actions(text, tools=profile)
        if result.ok:  # a null argument object means "no arguments"
            assert validate_args(tool, {} if args is None else args, profile) is None
        else:
            assert result.error.kind in PARSE_ERROR_KINDS


VALIDATORS = {
    (p.name, name): Draft202012Validator(schema)
    for p in PROFILES.values()
    for name, schema in p.schemas.items()
}
ARG_NAMES = sorted({k for _, _, s in ALL_SCHEMAS for k in s["properties"]}) + ["zzz"]


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(PROFILE_TOOLS),
    st.dictionaries(
        st.sampled_from(ARG_NAMES),
        st.one_of(
            st.text(max_size=3),
            st.integers(-3, 3000),
            st.floats(-2, 2, allow_nan=False).filter(lambda f: f != int(f)),
            st.booleans(),
            st.none(),
            st.sampled_from(["content", "count", "ts", "x" * 1100]),
            st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
        ),
        max_size=4,
    ),
)
def test_fast_validator_agrees_with_jsonschema(profile_tool, args):
    """The hand-written validator accepts exactly what the JSON Schema accepts (non-integral
    floats only: 2.0 is stricter on purpose, see the next test)."""
    profile, tool = profile_tool
    ok = validate_args(tool, args, profile) is None
    assert ok == VALIDATORS[profile_tool].is_valid(args), (profile, tool, args)


def test_integral_floats_are_rejected():
    problem = validate_args("read_file", {"target_file": "a", "offset": 2.0}, "cursor")
    assert "must be an integer" in problem
    # A JSON number (evaluate_model's threshold) takes ints and floats alike.
    assert validate_args("evaluate_model", {"metrics": ["a"], "threshold": 1}) is None
