"""Row parsing and validation: every bad input names its file, line and field."""

from __future__ import annotations

import json

import pytest

from web4rl.data import (
    DataValidationError,
    Location,
    load_preference_records,
    load_sft_records,
    parse_sft_row,
)


def _errors(excinfo: pytest.ExceptionInfo[DataValidationError]) -> list[tuple[int, str | None]]:
    return [(e.location.line, e.field) for e in excinfo.value.errors]


# ----------------------------------------------------------------------------- SFT row forms


def test_sft_three_row_forms(write_jsonl):
    path = write_jsonl(
        "sft.jsonl",
        [
            {"prompt": "Say hi", "completion": "hi", "category": "style"},
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Say hi"},
                    {"role": "assistant", "content": "hi"},
                ]
            },
            {"instruction": "Say hi", "input": "to Bob", "output": "hi Bob"},
            {"instruction": "Say hi", "input": "", "output": "hi"},
            {"instruction": "Say hi", "output": "hi"},  # "input" may be absent
            {"prompt": [{"role": "user", "content": "Say hi"}], "completion": "hi"},
        ],
    )
    recs = load_sft_records(path)
    assert [r.prompt for r in recs] == [
        ({"role": "user", "content": "Say hi"},),
        ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}),
        ({"role": "user", "content": "Say hi\n\nto Bob"},),
        ({"role": "user", "content": "Say hi"},),
        ({"role": "user", "content": "Say hi"},),
        ({"role": "user", "content": "Say hi"},),
    ]
    assert [r.completion for r in recs] == ["hi", "hi", "hi Bob", "hi", "hi", "hi"]
    assert recs[0].category == "style" and recs[1].category is None
    assert [r.location.line for r in recs] == [1, 2, 3, 4, 5, 6]
    assert recs[2].location.file == str(path)


def test_blank_lines_skipped_and_numbering_kept(write_jsonl):
    path = write_jsonl("sft.jsonl", ["", json.dumps({"prompt": "a", "completion": "b"}), "   "])
    (rec,) = load_sft_records(path)
    assert rec.location.line == 2


def test_null_fields_count_as_absent():
    """HF datasets fill missing columns with None; the row kind must still be recognized."""
    row = {
        "prompt": None,
        "completion": None,
        "instruction": "Do it",
        "input": None,
        "output": "ok",
    }
    rec = parse_sft_row(row, Location("f", 1))
    assert rec.prompt == ({"role": "user", "content": "Do it"},) and rec.completion == "ok"


# ----------------------------------------------------------------------------- bad SFT input


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"prompt": "", "completion": "x"}, "prompt", "empty"),
        ({"prompt": "  \n", "completion": "x"}, "prompt", "empty"),
        ({"prompt": "p", "completion": ""}, "completion", "empty"),
        ({"prompt": "p"}, "completion", "missing"),
        ({"prompt": 3, "completion": "x"}, "prompt", "must be a string, got number"),
        ({"prompt": "p", "completion": ["x"]}, "completion", "got list"),
        ({"prompt": "p", "completion": "x", "category": 1}, "category", "must be a string"),
        ({"instruction": "i", "input": "", "output": ""}, "output", "empty"),
        ({"instruction": "", "output": "o"}, "instruction", "empty"),
        ({"output": "o"}, "instruction", "missing"),
        ({"instruction": "i", "input": 5, "output": "o"}, "input", "must be a string"),
        ({"messages": "hi"}, "messages", "must be a list"),
        ({"messages": []}, "messages", "empty"),
        ({"messages": [{"role": "user", "content": "q"}]}, "messages[0].role", "assistant"),
        ({"messages": [{"role": "assistant", "content": "a"}]}, "messages", "at least one prompt"),
        (
            {"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]},
            "messages",
            "prompt is empty",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]},
            "messages[1].content",
            "completion is empty",
        ),
        (
            {
                "messages": [
                    {"role": "robot", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            "messages[0].role",
            "unknown role 'robot'",
        ),
        (
            {"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]},
            "messages[0].content",
            "missing",
        ),
        ({"messages": ["q", {"role": "assistant", "content": "a"}]}, "messages[0]", "object"),
        ({"text": "hello"}, None, "row has none of"),
        (
            {"prompt": [{"role": "assistant", "content": "a"}], "completion": "c"},
            "prompt[0].role",
            "must not be",
        ),
    ],
)
def test_sft_bad_field_names_file_line_field(write_jsonl, row, field, words):
    good = {"prompt": "p", "completion": "c"}
    path = write_jsonl("bad.jsonl", [good, good, row])
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    (err,) = excinfo.value.errors
    assert (err.location.file, err.location.line, err.field) == (str(path), 3, field)
    assert words in err.message
    msg = str(excinfo.value)
    assert f"{path}:3" in msg and words in msg
    if field:
        assert f"field '{field}'" in msg


def test_malformed_json_and_non_object(write_jsonl):
    path = write_jsonl(
        "bad.jsonl", ['{"prompt": "p", "completion": "c"}', '{"prompt": "p", ', "[1, 2]"]
    )
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    assert _errors(excinfo) == [(2, None), (3, None)]
    assert "malformed JSON" in excinfo.value.errors[0].message
    assert "must be a JSON object, got list" in excinfo.value.errors[1].message


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b'{"prompt": "p", "completion": "c"}\n{"prompt": "caf\xe9", "completion": "c"}\n'
    )
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    (err,) = excinfo.value.errors
    assert (err.location.line, err.field) == (2, "prompt")
    assert "not valid UTF-8" in err.message and "byte 16" in err.message
    assert f"{path}:2: field 'prompt': not valid UTF-8" in str(excinfo.value)


def test_non_utf8_bytes_in_broken_json_still_reported(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"messages": [{"role": "user", "content": "\xff\n')
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    (err,) = excinfo.value.errors
    assert (err.location.line, err.field) == (1, None) and "not valid UTF-8" in err.message


def test_utf8_bom_and_crlf_tolerated(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"prompt": "p", "completion": "c"}\r\n{"prompt": "q", "completion": "d"}\r\n'
    )
    assert [r.completion for r in load_sft_records(path)] == ["c", "d"]


def test_empty_and_missing_file(tmp_path, write_jsonl):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"empty\.jsonl: file is empty"):
        load_sft_records(empty)
    with pytest.raises(DataValidationError, match=r"nope\.jsonl: file not found"):
        load_sft_records(tmp_path / "nope.jsonl")


def test_errors_from_several_files_are_collected_together(write_jsonl):
    a = write_jsonl("a.jsonl", [{"prompt": "", "completion": "c"}])
    b = write_jsonl("b.jsonl", [{"prompt": "p", "completion": "c"}, {"prompt": "p"}])
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records([a, b])
    assert [(e.location.file, e.location.line, e.field) for e in excinfo.value.errors] == [
        (str(a), 1, "prompt"),
        (str(b), 2, "completion"),
    ]
    assert "2 problems" in str(excinfo.value)


def test_error_collection_stops_at_limit(write_jsonl):
    path = write_jsonl("bad.jsonl", ["{oops"] * 50)
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    assert len(excinfo.value.errors) == 20 and excinfo.value.truncated
    assert "stopped after 20" in str(excinfo.value)


def test_several_problems_in_one_row_all_reported(write_jsonl):
    path = write_jsonl("bad.jsonl", [{"prompt": "", "completion": 3, "category": []}])
    with pytest.raises(DataValidationError) as excinfo:
        load_sft_records(path)
    assert sorted(f for _, f in _errors(excinfo)) == ["category", "completion", "prompt"]


# ----------------------------------------------------------------------------- preferences


def test_preference_rows(write_jsonl, pref_row):
    chat = pref_row(
        2, prompt=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    )
    path = write_jsonl(
        "p.jsonl", [pref_row(1), chat, {"prompt": "q", "chosen": "a", "rejected": "b"}]
    )
    recs = load_preference_records(path)
    assert recs[0].prompt == ({"role": "user", "content": "Read file number 1"},)
    assert recs[0].rejected_tags == ("verbose",) and recs[0].source == "synthetic"
    assert recs[0].category == "tool_use"
    assert [m["role"] for m in recs[1].prompt] == ["system", "user"]
    assert recs[2].category is None and recs[2].rejected_tags == () and recs[2].source is None


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"chosen": "same", "rejected": "same"}, "rejected", "identical to chosen"),
        ({"chosen": "same", "rejected": " same\n"}, "rejected", "identical to chosen"),
        ({"rejected_tags": ["verbose", "too_long"]}, "rejected_tags[1]", "unknown tag 'too_long'"),
        ({"rejected_tags": "verbose"}, "rejected_tags", "must be a list"),
        ({"rejected_tags": [1]}, "rejected_tags[0]", "must be a string"),
        ({"prompt": ""}, "prompt", "empty"),
        ({"prompt": None}, "prompt", "missing"),
        ({"chosen": ""}, "chosen", "empty"),
        ({"rejected": None}, "rejected", "missing"),
        ({"rejected": {"text": "x"}}, "rejected", "got object"),
        ({"category": 7}, "category", "must be a string"),
        ({"source": True}, "source", "got boolean"),
        ({"prompt": [{"role": "assistant", "content": "a"}]}, "prompt[0].role", "must not be"),
        ({"prompt": [{"role": "user", "content": ""}]}, "prompt", "empty"),
    ],
)
def test_preference_bad_field(write_jsonl, pref_row, overrides, field, words):
    path = write_jsonl("bad.jsonl", [pref_row(0), pref_row(1, **overrides)])
    with pytest.raises(DataValidationError) as excinfo:
        load_preference_records(path)
    (err,) = excinfo.value.errors
    assert (err.location.file, err.location.line, err.field) == (str(path), 2, field)
    assert words in err.message
    assert f"{path}:2: field '{field}'" in str(excinfo.value)


def test_unknown_category_is_accepted(write_jsonl, pref_row):
    """Users' own data has its own categories; only the tag taxonomy is closed."""
    (rec,) = load_preference_records(write_jsonl("p.jsonl", [pref_row(0, category="eval")]))
    assert rec.category == "eval"
