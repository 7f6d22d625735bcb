"""Import of candidates and gold pairs; the queue (overlap, isolation, no double labels)."""

import json

import pytest

from tests.annotate.helpers import XSS, round_robin, sample_rows, write_jsonl
from web4rl.annotate import db, store
from web4rl.annotate.candidates import import_candidates
from web4rl.cli import main as web4rl_main

BROKEN = '{"tool": "read_file", "args": {"target_file": "src/a.ts"'
LABEL = store.LabelInput("A", ("verbose",), "high", "A reads the file.", 3.0)


def test_import_pairs_dedupe_overlap_and_reimport(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", sample_rows())
    con = db.connect(tmp_path / "a.sqlite", create=True)
    rep = import_candidates(con, [path], overlap=0.1, seed=0)
    # 20 prompts x 4 rows, one exact duplicate each; 3 distinct -> 3 pairs per prompt.
    assert (rep.rows, rep.prompts, rep.new_candidates, rep.duplicates_dropped) == (80, 20, 60, 20)
    assert rep.new_comparisons == 60 and rep.overlap == 6 and rep.scored_here == 0
    n_overlap = con.execute("SELECT SUM(overlap) FROM comparisons").fetchone()[0]
    assert n_overlap == 6
    # No comparison pairs a candidate with itself or with an identical text.
    same = con.execute(
        "SELECT COUNT(*) FROM comparisons c JOIN candidates a ON a.id = c.cand_a"
        " JOIN candidates b ON b.id = c.cand_b WHERE trim(a.completion) = trim(b.completion)"
    ).fetchone()[0]
    assert same == 0
    # A/B order is randomized: the lower id is not always A.
    firsts = [r[0] < r[1] for r in con.execute("SELECT cand_a, cand_b FROM comparisons")]
    assert 0 < sum(firsts) < len(firsts)
    again = import_candidates(con, [path], overlap=0.1, seed=0)
    assert again.new_candidates == 0 and again.new_comparisons == 0


def test_rows_without_components_get_judge_hints(tmp_path):
    rows = [
        {"prompt_id": "x", "prompt": "Read src/a.ts", "completion": json.dumps(
            {"tool": "read_file", "args": {"target_file": "src/a.ts"}}), "temperature": 0.7},
        {"prompt_id": "x", "prompt": "Read src/a.ts", "completion": BROKEN, "temperature": 0.9},
    ]
    con = db.connect(tmp_path / "a.sqlite", create=True)
    rep = import_candidates(con, [write_jsonl(tmp_path / "s.jsonl", rows)])
    assert rep.scored_here == 2
    comps = {r["completion"]: json.loads(r["components"]) for r in con.execute(
        "SELECT completion, components FROM candidates")}
    assert comps[BROKEN]["json"] == 0  # a truncated call is not valid JSON
    assert comps[rows[0]["completion"]]["json"] == 1


def test_cli_import_bad_row_names_file_line_field(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt_id": "a", "prompt": "hi", "completion": "x"}\n{"prompt": 3, "completion": "y"}\n')
    dbp = tmp_path / "a.sqlite"
    assert web4rl_main(["annotate", "import", str(bad), "--db", str(dbp)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: field 'prompt'" in err and "Traceback" not in err
    # All or nothing: the good first row was not stored either.
    assert db.connect(dbp).execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 0
    assert web4rl_main(["annotate", "stats", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert web4rl_main(["annotate", "stats", "--db", str(bad)]) == 2  # a JSONL file as --db
    assert f"{bad} is not an annotation database" in capsys.readouterr().err


def test_overlap_comparisons_get_two_distinct_annotators_others_one(annot_db):
    path, _ = annot_db
    con = db.connect(path)
    ids = [r[0] for r in con.execute("SELECT id FROM annotators ORDER BY id")]
    done: dict[int, list[int]] = {}
    for aid, cid in round_robin(con):
        store.submit_label(con, cid, aid, LABEL)
        done.setdefault(cid, []).append(aid)
    overlap = {r[0]: r[1] for r in con.execute("SELECT id, overlap FROM comparisons WHERE gold IS NULL")}
    assert set(done) == set(overlap)
    for cid, who in done.items():
        assert len(who) == len(set(who)) == 1 + overlap[cid]
    assert store.progress(con, ids[0])["remaining"] == 0


def test_isolation_and_no_double_labels(annot_db):
    path, _ = annot_db
    con = db.connect(path)
    alice, bob = (r[0] for r in con.execute("SELECT id FROM annotators ORDER BY id LIMIT 2"))
    cid = store.next_comparison(con, alice)
    assert store.next_comparison(con, alice) == cid  # the open assignment is kept
    with pytest.raises(store.LabelError, match="not assigned to you"):
        store.submit_label(con, cid, bob, LABEL)  # bob cannot label alice's comparison
    store.submit_label(con, cid, alice, LABEL)
    with pytest.raises(store.LabelError, match="already labelled"):
        store.submit_label(con, cid, alice, LABEL)
    assert con.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 1


def test_abandoned_claim_is_released_after_the_lease(annot_db):
    path, _ = annot_db
    con = db.connect(path)
    alice, bob = (r[0] for r in con.execute("SELECT id FROM annotators ORDER BY id LIMIT 2"))
    con.execute("UPDATE comparisons SET overlap = 0")
    cid = store.next_comparison(con, alice)
    assert store.next_comparison(con, bob) != cid
    con.execute("DELETE FROM assignments WHERE annotator_id = ?", (bob,))
    con.execute("UPDATE assignments SET assigned_at = assigned_at - 7200")
    assert store.next_comparison(con, bob, lease_s=3600) == cid


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"choice": "C", "confidence": "high", "justification": "x"}, "choose A, B or Tie"),
        ({"choice": "A", "confidence": "sure", "justification": "x"}, "confidence"),
        ({"choice": "A", "confidence": "high", "justification": " "}, "justification"),
        ({"choice": "A", "confidence": "high", "justification": "x", "tags": ["evil"]}, "unknown tag"),
    ],
)
def test_validate_label_rejects_bad_forms(form, message):
    with pytest.raises(store.LabelError, match=message):
        store.validate_label(form)


def test_xss_candidate_stored_verbatim(annot_db):
    con = db.connect(annot_db[0])
    assert con.execute("SELECT COUNT(*) FROM candidates WHERE completion = ?", (XSS,)).fetchone()[0] == 1


def test_max_pairs_per_prompt_caps_comparisons(tmp_path):
    """5 distinct candidates make C(5,2) = 10 pairs; a cap of 4 keeps a seeded 4 of them,
    and a re-import with more candidates adds none beyond the cap."""
    rows = [{"prompt_id": "p", "prompt": "q", "completion": f"answer {k}", "components": {}}
            for k in range(5)]
    con = db.connect(tmp_path / "a.sqlite", create=True)
    assert import_candidates(con, [write_jsonl(tmp_path / "a.jsonl", rows)]).new_comparisons == 10
    con2 = db.connect(tmp_path / "b.sqlite", create=True)
    path = write_jsonl(tmp_path / "b.jsonl", rows)
    assert import_candidates(con2, [path], max_pairs_per_prompt=4).new_comparisons == 4
    more = rows + [{"prompt_id": "p", "prompt": "q", "completion": "answer 5", "components": {}}]
    rep = import_candidates(con2, [write_jsonl(tmp_path / "c.jsonl", more)], max_pairs_per_prompt=4)
    assert rep.new_candidates == 1 and rep.new_comparisons == 0
