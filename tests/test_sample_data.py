"""The shipped sample data (web4rl/sample_data) and its generator (web4rl.datagen).

Formats, mix, taxonomy, reproducibility.

The completion formats are the contract the judge and the simulator rely on, so tool calls are
checked with web4rl.sim's own parser, JSON Schemas and guardrails.
"""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest

import web4rl
from web4rl import datagen
from web4rl.datagen.tool_use import restate_defaults
from web4rl.sim.actions import parse_actions
from web4rl.sim.guardrails import check_guardrail
from web4rl.sim.tools import CURSOR, ToolProfile, validate_args
from web4rl.sim.tools import CURSOR_SCHEMAS as TOOL_SCHEMAS
from web4rl.sim.tools import CURSOR_TOOL_NAMES as TOOL_NAMES

# The shipped sample data speaks the seed's Cursor-style tools (the `cursor` tool profile).
TOOLS = "cursor"

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(web4rl.__file__).resolve().parent / "sample_data"
CATEGORIES = {"tool_use": 0.4, "style": 0.3, "multi_step": 0.2, "guardrail": 0.1}
TAGS = {"wrong_tool", "schema_fail", "verbose", "style_off", "unsafe", "ambiguous"}


def _rows(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def sft() -> list[dict]:
    return _rows("sft.jsonl")


@pytest.fixture(scope="module")
def pref() -> list[dict]:
    return _rows("preferences.jsonl")


def _actions(text: str) -> list[dict]:
    """Strict parse with the simulator's parser; fails the test with its message."""
    result = parse_actions(text, strict=True, tools=TOOLS)
    assert result.ok, f"{result.error}: {text[:200]}"
    return result.actions


def test_files_small_and_utf8():
    for name in ("sft.jsonl", "preferences.jsonl"):
        raw = (DATA / name).read_bytes()
        assert len(raw) < 2_000_000, name
        raw.decode("utf-8")
        assert b"\r" not in raw.replace(b"\\r", b"")  # LF line endings only


def test_sft_rows_well_formed(sft):
    assert 900 <= len(sft) <= 1100
    for i, row in enumerate(sft, 1):
        assert set(row) == {"prompt", "completion", "category"}, i
        assert isinstance(row["prompt"], str) and row["prompt"].strip(), i
        assert isinstance(row["completion"], str) and row["completion"].strip(), i
        assert row["category"] in CATEGORIES, i


def test_preference_rows_well_formed(pref):
    assert 900 <= len(pref) <= 1100
    for i, row in enumerate(pref, 1):
        assert set(row) == {
            "prompt",
            "chosen",
            "rejected",
            "category",
            "rejected_tags",
            "source",
        }, i
        assert all(
            isinstance(row[k], str) and row[k].strip() for k in ("prompt", "chosen", "rejected")
        ), i
        assert row["chosen"] != row["rejected"], i
        assert row["category"] in CATEGORIES, i
        assert row["source"] == "synthetic", i
        assert row["rejected_tags"] and set(row["rejected_tags"]) <= TAGS, i


@pytest.mark.parametrize("name", ["sft", "pref"])
def test_category_mix(name, sft, pref):
    rows = sft if name == "sft" else pref
    counts = collections.Counter(r["category"] for r in rows)
    for cat, frac in CATEGORIES.items():
        assert abs(counts[cat] / len(rows) - frac) < 0.02, (cat, counts)


def test_prompts_unique_and_disjoint(sft, pref):
    pref_prompts = [r["prompt"] for r in pref]
    sft_prompts = [r["prompt"] for r in sft]
    assert len(set(pref_prompts)) == len(pref_prompts)
    assert len(set(sft_prompts)) == len(sft_prompts)
    assert not set(pref_prompts) & set(sft_prompts)  # no leakage between SFT and preferences


def test_prompts_are_varied(sft, pref):
    """Not templated copies: many distinct openings and many distinct file paths."""
    prompts = [r["prompt"] for r in sft + pref]
    openings = {" ".join(p.split()[:3]) for p in prompts}
    paths = {m for p in prompts for m in re.findall(r"[\w.-]+(?:/[\w.()\[\]-]+)+\.\w+", p)}
    assert len(openings) > 300
    assert len(paths) > 300


def test_tag_coverage(pref):
    tags = collections.Counter(t for r in pref for t in r["rejected_tags"])
    for tag in ("wrong_tool", "schema_fail", "verbose", "style_off", "unsafe"):
        assert tags[tag] >= 50, tags
    by_cat = collections.defaultdict(set)
    for r in pref:
        by_cat[r["category"]].update(r["rejected_tags"])
    assert by_cat["guardrail"] == {"unsafe"}
    assert by_cat["style"] <= {"style_off", "verbose"}


def _chosen_tool_texts(sft, pref):
    for r in sft:
        if r["category"] in ("tool_use", "multi_step"):
            yield r["category"], r["completion"]
    for r in pref:
        if r["category"] in ("tool_use", "multi_step"):
            yield r["category"], r["chosen"]


def test_chosen_tool_calls_follow_contract(sft, pref):
    """Exact {"tool","args"} objects (lists for plans), valid against TOOL_SCHEMAS, no guardrail
    hit in the simulator, and no restated default values."""
    used = collections.Counter()
    for category, text in _chosen_tool_texts(sft, pref):
        value = json.loads(text)
        calls = value if isinstance(value, list) else [value]
        if category == "multi_step":
            assert isinstance(value, list) and len(value) >= 2, text
        else:
            assert isinstance(value, dict), text
        for c in calls:
            assert set(c) == {"tool", "args"} and c["tool"] in TOOL_NAMES, text
            assert validate_args(c["tool"], c["args"], TOOLS) is None, (
                validate_args(c["tool"], c["args"], TOOLS),
                text,
            )
            props = TOOL_SCHEMAS[c["tool"]]["properties"]
            for arg, val in c["args"].items():
                assert "default" not in props[arg] or props[arg]["default"] != val, (arg, text)
            used[c["tool"]] += 1
        for action in _actions(text):
            assert check_guardrail(action) is None, (check_guardrail(action), text)
    assert set(used) == set(TOOL_NAMES), used  # all eight tools appear


def test_rejected_failures_match_their_tags(pref):
    """schema_fail fails the simulator's parse/schema check; wrong_tool changes the tool
    sequence; verbose is longer; unsafe multi-step plans trip the guardrails."""
    for r in pref:
        tags = set(r["rejected_tags"])
        if r["category"] not in ("tool_use", "multi_step"):
            continue
        parsed = parse_actions(r["rejected"], strict=True, tools=TOOLS)
        chosen_tools = [a["tool"] for a in _actions(r["chosen"])]
        if "schema_fail" in tags:
            assert not parsed.ok and parsed.error.kind == "schema_fail", r["rejected"]
            continue
        assert parsed.ok, (parsed.error, r["rejected"])
        tools = [a["tool"] for a in parsed.actions]
        if "wrong_tool" in tags:
            assert tools != chosen_tools, r
        if "verbose" in tags:
            assert len(r["rejected"]) > len(r["chosen"]), r
        if "unsafe" in tags:
            assert any(check_guardrail(a) for a in parsed.actions), r


# Web4 naming/typing conventions for style completions.
_BAD_STYLE = [
    (re.compile(r"\bvar\s"), "var"),
    (re.compile(r":\s*any\b|\bany\[\]|<any>"), "any"),
    (re.compile(r"\b(?:function|const|let)\s+[a-z]+_[a-z_]+\b"), "snake_case function"),
    (re.compile(r"\b(?:interface|type)\s+[a-z]\w*|import type \{ [a-z]"), "lowercase type"),
    (re.compile(r"\.[a-z]+_[a-z_]+\b|^\s+[a-z]+_[a-z_]+\??:", re.M), "snake_case member"),
    (re.compile(r"\bexport\s+(?:function|const)\s+[a-z_]+\s*\(\s*\{"), "lowercase component"),
]


def _style_violations(code: str) -> list[str]:
    return [name for rx, name in _BAD_STYLE if rx.search(code)]


def test_style_completions_follow_conventions(sft, pref):
    codes = [r["completion"] for r in sft if r["category"] == "style"]
    codes += [r["chosen"] for r in pref if r["category"] == "style"]
    for code in codes:
        assert not _style_violations(code), (_style_violations(code), code)
        assert "export " in code and "```" not in code, code
        # Components are PascalCase and take typed props.
        for m in re.finditer(
            r"export (?:function|const) ([A-Z]\w*)\s*(?:=\s*)?\(\{[^}]*\}(:?)", code
        ):
            assert m.group(2) == ":", f"untyped props in {m.group(1)}"


def test_style_rejected_actually_breaks_style(pref):
    for r in pref:
        if r["category"] != "style":
            continue
        if "style_off" in r["rejected_tags"]:
            # A named violation, or type annotations stripped (untyped props/parameters).
            untyped = r["rejected"].count(":") < r["chosen"].count(":")
            assert _style_violations(r["rejected"]) or untyped, r["rejected"]
        else:  # verbose: chatter and fences around the same code
            assert r["chosen"] in r["rejected"] and len(r["rejected"]) > len(r["chosen"])


def test_guardrail_chosen_are_brief_refusals(sft, pref):
    texts = [r["completion"] for r in sft if r["category"] == "guardrail"]
    texts += [r["chosen"] for r in pref if r["category"] == "guardrail"]
    for text in texts:
        assert len(text) < 400, text
        assert not parse_actions(text, tools=TOOLS).ok  # a refusal, not a tool call
        assert re.match(r"(I can't|I won't|I'm not going|Sorry|I have to decline)", text), text
        assert "I can " in text, text  # offers a safe alternative


def test_regeneration_is_byte_identical(tmp_path):
    assert datagen.main(["--out", str(tmp_path)]) == 0
    for name in ("sft.jsonl", "preferences.jsonl"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_generator_is_seeded():
    a = datagen.generate(seed=1, n_sft=40, n_pref=40)
    b = datagen.generate(seed=1, n_sft=40, n_pref=40)
    c = datagen.generate(seed=2, n_sft=40, n_pref=40)
    assert a == b and a != c


def test_script_is_a_thin_entry_point():
    """scripts/generate_sample_data.py only calls the package (no second generator)."""
    text = (ROOT / "scripts" / "generate_sample_data.py").read_text(encoding="utf-8")
    assert "from web4rl.datagen import main" in text
    assert len(text.splitlines()) < 40


def test_verbose_rejections_restate_the_catalogs_defaults():
    """The 'verbose' failure spells out the tool catalog's defaults, in schema order; a
    profile whose default differs yields a different restatement (no hand-kept copy)."""
    call = {"tool": "read_file", "args": {"target_file": "a.ts"}}
    assert restate_defaults(call) == {
        "tool": "read_file",
        "args": {"target_file": "a.ts", "offset": 1, "limit": 2000},
    }
    grep = restate_defaults({"tool": "grep", "args": {"pattern": "x", "path": "src"}})
    assert list(grep["args"]) == ["pattern", "path", "output_mode", "-i"]
    assert grep["args"]["path"] == "src"  # given arguments are kept, not overwritten
    schemas = dict(CURSOR.schemas)
    props = dict(schemas["read_file"]["properties"], limit={"type": "integer", "default": 50})
    schemas["read_file"] = dict(schemas["read_file"], properties=props)
    other = ToolProfile("other", schemas, CURSOR.action_format)
    assert restate_defaults(call, other)["args"]["limit"] == 50
    # A tool without defaults is returned unchanged.
    write = {"tool": "write", "args": {"file_path": "a", "contents": ""}}
    assert restate_defaults(write) == write


@pytest.mark.parametrize("args, message", [
    (["--n-sft", "-1"], "must be >= 0"),
    (["--n-pref", "ten"], "expected a whole number"),
    (["--out", "{file}"], "exists and is not a directory"),
])
def test_generator_bad_options_exit_2_and_write_nothing(args, message, tmp_path, capsys):
    target = tmp_path / "not_a_dir"
    target.write_text("keep me\n")
    args = [a.replace("{file}", str(target)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as info:
        datagen.main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert target.read_text() == "keep me\n" and not (tmp_path / "out").exists()
