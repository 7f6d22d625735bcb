"""Rendering of untrusted output, the tool-profile coupling, stats figures, the CLI end to end."""

import json

import pytest

from tests.annotate.helpers import gold_rows, sample_rows, write_jsonl
from web4rl.annotate import db, render, store
from web4rl.annotate.stats import compute_stats, format_stats
from web4rl.cli import main as web4rl_main


def test_code_is_highlighted_and_escaped():
    seg = render.segments('Here:\n```ts\nconst s = "<script>x</script>";\n```\n<b>bold?</b>')
    kinds = [p["kind"] for p in seg["parts"]]
    assert kinds == ["prose", "code", "prose"]
    html = str(seg["parts"][1]["html"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert seg["parts"][2]["text"] == "\n<b>bold?</b>"  # plain text; the template escapes it


def test_tool_calls_checked_and_pretty_printed():
    # Cursor-style calls: valid under the `cursor` profile, and under a catalog without
    # profiles (today's one tool set).
    ok = render.segments(json.dumps([{"tool": "read_file", "args": {"target_file": "a.ts"}},
                                     {"tool": "list_dir", "args": {"target_directory": "src"}}]),
                         profile="cursor")
    assert ok["tool"].ok and [c["tool"] for c in ok["calls"]] == ["read_file", "list_dir"]
    assert "target_file" in str(ok["calls"][0]["args_html"])
    bad = render.segments('{"tool": "read_file", "args": {"nope": 1}}', profile="cursor")
    assert not bad["tool"].ok and "schema_fail" in bad["tool"].error
    assert bad["parts"][0]["kind"] == "code"  # the invalid call still shown, pretty-printed
    assert render.segments("just prose")["tool"] is None


@pytest.mark.parametrize("kw", ["profile", "tools"])
def test_profile_is_passed_when_the_catalog_has_profiles(monkeypatch, kw):
    """Catalogs with profiles take it as a keyword of parse_actions (``tools=`` or
    ``profile=``); the app passes its profile through."""
    from web4rl.sim.actions import ParseResult

    seen = {}
    if kw == "tools":
        def parse_actions(text, *, strict=False, tools=None):
            seen["profile"] = tools
            return ParseResult(actions=[{"tool": "ls", "args": {"path": "."}}])
    else:
        def parse_actions(text, *, strict=False, profile="web4"):
            seen["profile"] = profile
            return ParseResult(actions=[{"tool": "ls", "args": {"path": "."}}])

    monkeypatch.setattr(render._actions, "parse_actions", parse_actions)
    check = render.check_tool_calls('{"tool": "ls", "args": {"path": "."}}', profile="cursor")
    assert seen == {"profile": "cursor"} and check.ok and check.profile == "cursor"


def test_catalog_without_profiles_falls_back_to_its_one_tool_set(monkeypatch):
    from web4rl.sim.actions import ParseResult

    monkeypatch.setattr(render._actions, "parse_actions",
                        lambda text, *, strict=False: ParseResult(actions=[{"tool": "x", "args": {}}]))
    check = render.check_tool_calls('{"tool": "x"}', profile="web4")
    assert check.ok and check.profile == "default"


def test_stats_pair_kappa_rates_and_warnings(tmp_path):
    """alice and bob label the same 4 comparisons: alice A A B Tie, bob A B B Tie.
    p_o = 3/4; marginals alice A2 B1 T1, bob A1 B2 T1: p_e = (2*1 + 1*2 + 1*1)/16 = 5/16;
    kappa = (12/16 - 5/16) / (11/16) = 7/11 = 0.636 -> 'ok' (between 0.6 and 0.7).
    Tie rate 2/8 = 25% > 15% and bob's low confidence 2/4 = 50% > 20% are warned about."""
    con = db.connect(tmp_path / "a.sqlite", create=True)
    from web4rl.annotate.candidates import import_candidates

    import_candidates(con, [write_jsonl(tmp_path / "s.jsonl", sample_rows(1, with_xss=False))])
    con.execute("UPDATE comparisons SET overlap = 1")
    for name in ("alice", "bob"):
        store.add_annotator(con, name)
    ids = {r["name"]: r["id"] for r in con.execute("SELECT id, name FROM annotators")}
    cids = [r[0] for r in con.execute("SELECT id FROM comparisons ORDER BY position LIMIT 4")]
    answers = {"alice": ["A", "A", "B", "Tie"], "bob": ["A", "B", "B", "Tie"]}
    for name, choices in answers.items():
        for i, (cid, ch) in enumerate(zip(cids, choices, strict=True)):
            con.execute("INSERT INTO assignments VALUES (?,?,0,NULL)", (cid, ids[name]))
            conf = "low" if name == "bob" and i < 2 else "high"
            store.submit_label(con, cid, ids[name], store.LabelInput(ch, ("verbose",), conf, "x", None))
    st = compute_stats(con)
    (pair,) = st.pairs
    assert (pair.a, pair.b, pair.n) == ("alice", "bob", 4)
    assert pair.kappa == pytest.approx(7 / 11) and pair.verdict == "ok"
    assert st.tie_rate == pytest.approx(0.25) and st.low_confidence == pytest.approx(0.25)
    assert st.tags == {"verbose": 8}
    assert sum(v["labels"] for v in st.categories.values()) == 8
    text = format_stats(st)
    assert "tie rate 25% > 15% overall" in text and "bob: low-confidence share 50% > 20%" in text
    assert "low-confidence share 25% > 20% overall" in text
    assert json.loads(st.to_json())["pairs"][0]["verdict"] == "ok"


def test_cli_end_to_end(tmp_path, capsys):
    dbp = str(tmp_path / "a.sqlite")
    samples = write_jsonl(tmp_path / "s.jsonl", sample_rows(2))
    gold = write_jsonl(tmp_path / "g.jsonl", gold_rows(4))
    assert web4rl_main(["annotate", "import", str(samples), "--gold", str(gold), "--db", dbp]) == 0
    out = capsys.readouterr().out
    assert "24 new comparisons" in out and "4 new gold comparisons" in out
    assert web4rl_main(["annotate", "add-annotator", "alice", "--db", dbp]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 40
    assert web4rl_main(["annotate", "add-annotator", "alice", "--db", dbp]) == 2
    assert "already exists" in capsys.readouterr().err
    con = db.connect(dbp)
    aid = con.execute("SELECT id FROM annotators").fetchone()[0]
    for _ in range(3):
        cid = store.next_comparison(con, aid)
        store.submit_label(con, cid, aid, store.LabelInput("B", (), "high", "x", None))
    assert web4rl_main(["annotate", "stats", "--db", dbp, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"] == 3
    out_file = tmp_path / "out" / "pairs.jsonl"
    assert web4rl_main(["annotate", "export", "--db", dbp, "-o", str(out_file)]) == 0
    assert "3 pairs" in capsys.readouterr().out
    assert len(out_file.read_text().splitlines()) == 3
    assert (tmp_path / "out" / "pairs.train.jsonl").is_file()


def test_task_context_resolves_builtin_ids_and_inline_tasks():
    from web4rl.sim.tasks import load_builtin_tasks

    task = load_builtin_tasks()[0]
    ctx = render.task_context(task.id)
    assert ctx["id"] == task.id and ctx["initial_files"] == dict(task.initial_files)
    assert render.task_context({"initial_files": {"a.ts": "x"}})["initial_files"] == {"a.ts": "x"}
    assert render.task_context("no/such-task") is None and render.task_context(None) is None


def test_app_and_stats_load_without_the_training_stack():
    """`python -m web4rl.annotate.cli serve|stats|add-annotator` starts in about a second:
    the app, the store and the stats never import torch, Lightning or transformers."""
    import subprocess
    import sys

    code = ("import sys, web4rl.annotate.app, web4rl.annotate.cli, web4rl.annotate.stats; "
            "print(sorted(m for m in ('torch', 'lightning', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
