"""The annotation database: SQLite in WAL mode, one short transaction per write.

Why SQLite: one file a team can copy, back up and inspect; WAL lets the web server's readers
run while one writer commits, and every write here is a single ``BEGIN IMMEDIATE`` transaction,
so a crash or a killed server loses at most the comparison being submitted.

Tables (all ids are integers unless said otherwise):

* ``prompts(prompt_id TEXT, prompt JSON, category, task JSON)``: one row per prompt.
* ``candidates(prompt_id, completion, temperature, reward, components JSON)``: sampled outputs;
  ``(prompt_id, completion)`` is unique, so re-importing a file adds nothing twice.
* ``comparisons(prompt_id, cand_a, cand_b, overlap, gold)``: one pair of candidates shown as
  A and B. ``overlap = 1`` marks the ~10% that two annotators label (agreement);
  ``gold`` (``A``/``B``/``Tie``) marks certification pairs with a known answer.
* ``annotators(name, token_hash)``: only a SHA-256 of the access token is stored.
* ``sessions(sid TEXT, annotator_id, csrf TEXT)``: browser sessions (cookie = sid).
* ``assignments(comparison_id, annotator_id, shown_at)``: who holds which comparison.
* ``labels(comparison_id, annotator_id, choice, tags JSON, confidence, justification, seconds,
  client_seconds)``: ``(comparison_id, annotator_id)`` is unique, so a label can never be
  stored twice, whatever the browser or network does.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

CHOICES: tuple[str, ...] = ("A", "B", "Tie")
"""What an annotator can answer: candidate A is better, B is better, or neither."""

CONFIDENCES: tuple[str, ...] = ("high", "medium", "low")

TAGS: tuple[str, ...] = (
    "wrong_tool",
    "schema_fail",
    "verbose",
    "style_off",
    "unsafe",
    "ambiguous",
    "correct_tool",
    "ambiguous_prompt",
)
"""The annotation guide's tags: the rejection taxonomy of the preference format (the first
six; they describe the rejected side) plus ``correct_tool`` (the chosen side called the right
tool) and ``ambiguous_prompt`` (the request itself is unclear), which describe the pair."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
    prompt_id TEXT PRIMARY KEY,
    prompt TEXT NOT NULL,
    category TEXT NOT NULL,
    task TEXT
);
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL REFERENCES prompts(prompt_id),
    completion TEXT NOT NULL,
    temperature REAL,
    reward REAL,
    components TEXT NOT NULL,
    UNIQUE (prompt_id, completion)
);
CREATE TABLE IF NOT EXISTS comparisons (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL REFERENCES prompts(prompt_id),
    cand_a INTEGER NOT NULL REFERENCES candidates(id),
    cand_b INTEGER NOT NULL REFERENCES candidates(id),
    overlap INTEGER NOT NULL DEFAULT 0,
    gold TEXT CHECK (gold IS NULL OR gold IN ('A', 'B', 'Tie')),
    position INTEGER NOT NULL,
    UNIQUE (cand_a, cand_b)
);
CREATE INDEX IF NOT EXISTS comparisons_queue ON comparisons (gold, position);
CREATE TABLE IF NOT EXISTS annotators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id),
    csrf TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS assignments (
    comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
    annotator_id INTEGER NOT NULL REFERENCES annotators(id),
    assigned_at REAL NOT NULL,
    shown_at REAL,
    PRIMARY KEY (comparison_id, annotator_id)
);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY,
    comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
    annotator_id INTEGER NOT NULL REFERENCES annotators(id),
    choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'Tie')),
    tags TEXT NOT NULL,
    confidence TEXT NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
    justification TEXT NOT NULL,
    seconds REAL NOT NULL,
    client_seconds REAL,
    created REAL NOT NULL,
    UNIQUE (comparison_id, annotator_id)
);
"""


def hash_token(token: str) -> str:
    """SHA-256 of an access token (tokens are random 256-bit strings, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def connect(path: str | Path, *, create: bool = False) -> sqlite3.Connection:
    """Open the database (WAL mode, foreign keys on, 10 s busy timeout).

    Args:
        path: the SQLite file.
        create: create the file and schema when missing; otherwise a missing file is an error
            (``FileNotFoundError`` naming it), so a typo in ``--db`` does not start an empty app.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise FileNotFoundError(f"annotation database {path} does not exist (run 'annotate import' first)")
    # isolation_level=None: we issue BEGIN ourselves, so every write is one explicit transaction.
    con = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as err:  # e.g. a JSONL file given as --db
        con.close()
        raise ValueError(f"{path} is not an annotation database ({err})") from None
    con.execute("PRAGMA foreign_keys=ON")
    # NORMAL in WAL mode: a committed transaction survives a process crash (an OS crash may lose
    # the last commits, never corrupt the file).
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=10000")
    if create:
        con.executescript(_SCHEMA)  # IF NOT EXISTS everywhere: opening an existing DB is a no-op
        con.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
    else:
        row = con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='comparisons'"
        ).fetchone()
        if row is None:
            con.close()
            raise ValueError(f"{path} is not an annotation database (no comparisons table)")
    return con


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    IMMEDIATE takes the write lock up front, so two concurrent submits queue on the busy timeout
    instead of failing later with "database is locked" in the middle of a read-then-write.
    """
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


class ConnectionPool:
    """One connection per thread (sqlite3 connections must not be shared across threads while
    in use; the ASGI server runs blocking DB calls in a thread pool)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        connect(self.path).close()  # fail now, with the file name, if it is missing or wrong
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = connect(self.path)
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()


def now() -> float:
    return time.time()


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
