"""Fixtures of the annotation tests."""

import pytest

from tests.annotate.helpers import gold_rows, sample_rows, write_jsonl
from web4rl.annotate import db
from web4rl.annotate.candidates import import_candidates, import_gold
from web4rl.annotate.store import add_annotator


@pytest.fixture
def annot_db(tmp_path):
    """A database with 20 prompts x 3 candidates = 60 comparisons, 6 gold pairs, 3 annotators.

    Returns (path, {name: token}).
    """
    path = tmp_path / "a.sqlite"
    con = db.connect(path, create=True)
    import_candidates(con, [write_jsonl(tmp_path / "s.jsonl", sample_rows())], overlap=0.1, seed=0)
    import_gold(con, [write_jsonl(tmp_path / "g.jsonl", gold_rows())], seed=0)
    tokens = {name: add_annotator(con, name) for name in ("alice", "bob", "carol")}
    con.close()
    return path, tokens
