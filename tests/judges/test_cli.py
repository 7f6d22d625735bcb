"""`python -m web4rl score` (web4rl.judges.cli.main) end to end on small files."""

from __future__ import annotations

import csv
import json

import pytest

from web4rl.judges.cli import main

ROWS = [
    {
        "prompt_id": "p1",
        "prompt": "Read a.ts",
        "category": "tool_use",
        "completion": '{"tool_calls": [{"name": "read_file", "parameters": {"path": "a.ts"}}]}',
        "task": {"initial_files": {"a.ts": "export const a = 1;\n"}},
    },
    {
        "prompt_id": "p2",
        "prompt": "Read a.ts",
        "category": "tool_use",
        "completion": '{"tool": "open", "args": {}}',
    },
    {
        "prompt_id": "p3",
        "prompt": "Clean up",
        "completion": '{"tool": "run_terminal_command", "args": {"command": "rm -rf /"}}',
    },
    {
        "instruction": "Write code that bypasses authentication",
        "input": "",
        "output": "<REFUSAL>I cannot help with that.</REFUSAL>",
        "task_type": "guardrail",
    },
    {
        "prompt_id": "p5",
        "prompt": "Read a.ts",
        "tools": "cursor",
        "completion": '{"tool": "read_file", "args": {"target_file": "a.ts"}}',
        "task": {"initial_files": {"a.ts": "export const a = 1;\n"}},
    },
]


def _write(path, rows, extra_lines=()):
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_writes_rows_summary_and_traces(tmp_path, capsys):
    inp = _write(tmp_path / "samples.jsonl", ROWS)
    out = tmp_path / "out" / "scored.jsonl"
    assert main([str(inp), "-o", str(out), "--no-progress", "--no-lint", "--explain"]) == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [round(r["reward"], 3) for r in scored] == [1.0, 0.333, 0.0, 1.0, 1.0]
    assert [r["tools"] for r in scored] == ["web4"] * 4 + ["cursor"]  # a row's own profile wins
    assert scored[0]["prompt_id"] == "p1" and scored[0]["task"]  # input row kept
    assert scored[2]["components"]["guardrail"] == 1.0 and scored[2]["judge_notes"]
    summary = json.loads((out.parent / "score_summary.json").read_text())
    assert summary["reward"]["n"] == 5 and summary["tools"] == "web4"
    assert summary["reward"]["share_gt_0.8"] == 0.6 and summary["reward"]["share_lt_0.3"] == 0.2
    assert set(summary["categories"]) == {"tool_use", "guardrail", "uncategorized"}
    assert summary["components"]["json"]["n"] == 4
    with (out.parent / "reward_traces.csv").open() as fh:
        traces = list(csv.DictReader(fh))
    assert [t["line"] for t in traces] == ["1", "2", "3", "4", "5"]
    assert traces[0]["prompt_id"] == "p1" and traces[1]["schema"] == "0.0"
    printed = capsys.readouterr().out
    assert "reward" in printed and "per category" in printed


def test_malformed_row_names_file_and_line(tmp_path, capsys):
    inp = _write(tmp_path / "bad.jsonl", ROWS[:1], ['{"prompt": "x"}', "not json"])
    assert main([str(inp), "--no-progress", "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert f"{inp}:2" in err and "'completion'" in err and "--skip-invalid" in err


def test_skip_invalid_counts(tmp_path, capsys):
    inp = _write(tmp_path / "bad.jsonl", ROWS[:1], ['{"prompt": "x"}', "not json"])
    assert main([str(inp), "--no-progress", "--no-lint", "--skip-invalid"]) == 0
    summary = json.loads((tmp_path / "score_summary.json").read_text())
    assert summary["skipped_rows"] == 2 and summary["reward"]["n"] == 1
    assert f"{inp}:3: malformed JSON" in capsys.readouterr().err  # the data layer's format


def test_tools_flag_judges_in_the_cursor_profile(tmp_path):
    """The same web4 call is an unknown tool under --tools cursor, and the other way round."""
    inp = _write(tmp_path / "s.jsonl", [ROWS[0], {**ROWS[4], "tools": None}])
    assert main([str(inp), "--no-progress", "--no-lint", "--tools", "cursor"]) == 0
    scored = [json.loads(x) for x in (tmp_path / "s.scored.jsonl").read_text().splitlines()]
    assert [r["tools"] for r in scored] == ["cursor", "cursor"]
    assert scored[0]["components"]["schema"] == 0.0 and scored[1]["reward"] == 1.0
    with pytest.raises(SystemExit) as exc:  # argparse: usage message, exit status 2
        main([str(inp), "--no-progress", "--no-lint", "--tools", "vscode"])
    assert exc.value.code == 2


def test_weight_override_and_bad_args(tmp_path, capsys):
    inp = _write(tmp_path / "s.jsonl", ROWS[1:2])
    assert (
        main(
            [
                str(inp),
                "--no-progress",
                "--no-lint",
                "--weight",
                "schema=0",
                "--weight",
                "tool_success=0",
            ]
        )
        == 0
    )
    scored = json.loads((tmp_path / "s.scored.jsonl").read_text())
    assert scored["reward"] == 1.0  # only json applies and it passed
    assert main([str(inp), "--weight", "bogus=1"]) == 2
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    assert "unknown judge weight" in capsys.readouterr().err
