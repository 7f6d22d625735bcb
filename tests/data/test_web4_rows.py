"""The Web4 team's row conventions in the data layer: Alpaca task_type, annotation tags."""

from web4rl.data.records import (
    ALPACA_CATEGORIES,
    Location,
    PreferenceRecord,
    parse_preference_row,
    parse_sft_row,
)

LOC = Location("rows.jsonl", 1)


def test_alpaca_task_type_gives_the_category():
    row = {"task_type": "tool_neg", "instruction": "Show me the diff", "input": "", "output": "{}"}
    assert parse_sft_row(row, LOC).category == "tool_use"
    assert parse_sft_row({**row, "task_type": "style_refactor"}, LOC).category == "style"
    assert parse_sft_row({**row, "task_type": "custom"}, LOC).category == "custom"
    assert parse_sft_row({**row, "category": "guardrail"}, LOC).category == "guardrail"
    assert set(ALPACA_CATEGORIES) == {
        "tool_call",
        "tool_neg",
        "eval",
        "style_core",
        "style_refactor",
        "guardrail",
    }


def test_annotation_guide_tags_are_accepted():
    row = {
        "prompt": "Read a.ts",
        "chosen": "good",
        "rejected": "bad",
        "rejected_tags": ["ambiguous_prompt", "correct_tool", "verbose"],
    }
    rec = parse_preference_row(row, LOC)
    assert isinstance(rec, PreferenceRecord)
    assert rec.rejected_tags == ("ambiguous", "verbose") and rec.annotation_tags == ("correct_tool",)
    errors = parse_preference_row({**row, "rejected_tags": ["nonsense"]}, LOC)
    assert "unknown tag 'nonsense'" in str(errors[0]) and "correct_tool" in str(errors[0])
