"""Biome lint: real verdicts when installed, "unavailable" (never a pass) when not, and one
process for many snippets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from web4rl.judges.code import CodeSnippet
from web4rl.judges.judge import Judge, Sample
from web4rl.judges.lint import BiomeLinter, find_biome

HAVE_BIOME = find_biome() is not None


def test_missing_linter_is_unavailable_never_pass():
    res = BiomeLinter(binary="").lint([CodeSnippet("const a = 1;", "ts")])
    assert res[0].status == "unavailable" and res[0].passed is None
    assert "web4rl.judges.lint --install" in res[0].reason
    judge = Judge(use_linter=False)
    out = judge.score(Sample("Write a constant", "```ts\nexport const a = 1;\n```"))
    assert out.lint_status == "unavailable" and out.components["lint"] is None
    assert any("lint unavailable" in n for n in out.notes)


def test_crashing_linter_is_unavailable(tmp_path):
    fake = tmp_path / "biome"
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    res = BiomeLinter(binary=str(fake)).lint([CodeSnippet("x", "ts")])
    assert res[0].status == "unavailable" and "exited 3" in res[0].reason


def test_one_process_lints_many_snippets(tmp_path):
    """A fake biome records each invocation and reports one error for snippet s00001."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "biome"
    report = {
        "diagnostics": [
            {
                "severity": "error",
                "category": "lint/x",
                "message": "bad",
                "location": {"path": "s00001.ts", "start": {"line": 1, "column": 2}},
            }
        ]
    }
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\necho '{json.dumps(report)}'\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    snippets = [CodeSnippet(f"export const v{i} = {i};", "ts") for i in range(10)]
    res = BiomeLinter(binary=str(fake), chunk_size=512).lint(snippets)
    assert len(log.read_text().splitlines()) == 1  # one process for all ten
    assert [r.status for r in res] == ["pass", "fail"] + ["pass"] * 8
    assert res[1].errors == ("1:2 lint/x: bad",)
    BiomeLinter(binary=str(fake), chunk_size=4).lint(snippets)
    assert len(log.read_text().splitlines()) == 1 + 3  # ceil(10 / 4) chunks


@pytest.mark.skipif(
    not HAVE_BIOME, reason="Biome not installed (python -m web4rl.judges.lint --install)"
)
def test_real_biome_verdicts():
    res = BiomeLinter().lint(
        [
            CodeSnippet("export const addOne = (n: number): number => n + 1;\n", "ts"),
            CodeSnippet("export const eq = (a: number) => a == 1;\n", "ts"),
            CodeSnippet("export const f = (e: any) => e;\n", "ts"),
            CodeSnippet("const = 3;\n", "js"),
        ]
    )
    assert [r.status for r in res] == ["pass", "fail", "fail", "fail"]
    assert "noDoubleEquals" in res[1].errors[0]
    assert "noExplicitAny" in res[2].errors[0]


def test_env_override_pointing_nowhere_is_unavailable(monkeypatch):
    monkeypatch.setenv("WEB4RL_BIOME", os.path.join("/nonexistent", "biome"))
    assert find_biome() is None
    assert BiomeLinter().lint([CodeSnippet("x", "ts")])[0].status == "unavailable"


def test_cache_dir_respects_env(monkeypatch, tmp_path):
    from web4rl.judges.lint import cache_dir

    monkeypatch.setenv("WEB4RL_CACHE", str(tmp_path))
    assert cache_dir() == Path(tmp_path) / "biome"
