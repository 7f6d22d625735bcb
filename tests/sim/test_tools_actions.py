"""Tool catalog, action parsing."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from web4rl.sim.actions import PARSE_ERROR_KINDS, parse_actions
from web4rl.sim.tools import (
    TOOL_NAMES,
    TOOL_SCHEMAS,
    canonical_action,
    tool_catalog_text,
    validate_args,
    with_defaults,
)


def test_catalog_names_in_issue_order():
    assert TOOL_NAMES == (
        "read_file",
        "write",
        "search_replace",
        "grep",
        "glob_file_search",
        "codebase_search",
        "list_dir",
        "run_terminal_cmd",
    )
    assert tuple(TOOL_SCHEMAS) == TOOL_NAMES


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_schemas_are_valid_closed_objects(name):
    schema = TOOL_SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    for prop in schema["properties"].values():
        assert "type" in prop and prop.get("description")


def test_argument_names_match_the_issue():
    props = {name: set(s["properties"]) for name, s in TOOL_SCHEMAS.items()}
    assert props["read_file"] == {"target_file", "offset", "limit"}
    assert props["write"] == {"file_path", "contents"}
    assert props["search_replace"] == {"file_path", "old_string", "new_string"}
    assert props["grep"] == {"pattern", "path", "type", "output_mode", "-i"}
    assert props["glob_file_search"] == {"glob_pattern", "target_directory"}
    assert props["codebase_search"] == {"query", "target_directories"}
    assert props["list_dir"] == {"target_directory"}
    assert props["run_terminal_cmd"] == {"command", "is_background"}
    assert TOOL_SCHEMAS["grep"]["properties"]["output_mode"]["enum"] == [
        "content",
        "files_with_matches",
        "count",
    ]


def test_catalog_text_lists_every_tool_once():
    text = tool_catalog_text()
    for name in TOOL_NAMES:
        assert text.count(f"- {name}(") == 1
    assert "target_file: string" in text and "offset: integer = 1" in text


def test_validate_args_and_defaults():
    assert validate_args("read_file", {"target_file": "a.ts"}) is None
    assert "offset" in validate_args("read_file", {"target_file": "a.ts", "offset": 0})
    assert "unexpected" in validate_args("grep", {"pattern": "x", "bogus": 1})
    assert "contents" in validate_args("write", {"file_path": "a"})
    assert "unknown tool" in validate_args("rm", {})
    assert validate_args("grep", {"pattern": "x" * 5000}).startswith("grep: pattern:")
    full = with_defaults("grep", {"pattern": "x"})
    assert full == {"pattern": "x", "path": ".", "output_mode": "content", "-i": False}
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
    result = parse_actions(text)
    assert result.ok, result.error
    assert result.actions == [{"tool": "read_file", "args": {"target_file": "main.ts"}}]


def test_list_of_actions_keeps_order():
    text = json.dumps([json.loads(NATIVE), {"tool": "list_dir", "args": {"target_directory": "."}}])
    assert [a["tool"] for a in parse_actions(text).actions] == ["read_file", "list_dir"]


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
    result = parse_actions(text, strict=True) if text == '"just a string"' else parse_actions(text)
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


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TOOL_NAMES + ("bogus",)), json_values)
def test_parse_never_raises_on_random_json_args(tool, args):
    result = parse_actions(json.dumps({"tool": tool, "args": args}))
    if result.ok:
        assert validate_args(tool, args) is None
    else:
        assert result.error.kind in PARSE_ERROR_KINDS


VALIDATORS = {name: Draft202012Validator(schema) for name, schema in TOOL_SCHEMAS.items()}


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(TOOL_NAMES),
    st.dictionaries(
        st.sampled_from(
            sorted({k for s in TOOL_SCHEMAS.values() for k in s["properties"]}) + ["zzz"]
        ),
        st.one_of(
            st.text(max_size=3),
            st.integers(-3, 3000),
            st.booleans(),
            st.none(),
            st.sampled_from(["content", "count", "ts", "x" * 1100]),
            st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
        ),
        max_size=4,
    ),
)
def test_fast_validator_agrees_with_jsonschema(tool, args):
    """The hand-written validator accepts exactly what the JSON Schema accepts (no floats here)."""
    assert (validate_args(tool, args) is None) == VALIDATORS[tool].is_valid(args)


def test_integral_floats_are_rejected():
    assert "must be an integer" in validate_args("read_file", {"target_file": "a", "offset": 2.0})
