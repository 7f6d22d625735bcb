"""Annotators, sessions, the work queue and label submission (every write one transaction).

Isolation: every query that touches labels or assignments is keyed by the caller's
``annotator_id`` (taken from the session, never from the form), so an annotator can neither read
nor overwrite another annotator's labels.

Queue: an annotator holds at most one open assignment per mode (label / certify). ``next`` returns
it, or claims the first comparison in queue order that still needs a label from someone else:
overlap comparisons need two distinct annotators, the others one. A claim left unanswered for
``lease_s`` seconds may be taken over, so an annotator who walks away does not block a pair.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from web4rl.annotate.db import CHOICES, CONFIDENCES, TAGS, hash_token, now, transaction

MAX_JUSTIFICATION = 4000
LEASE_S = 3600.0
SESSION_TTL_S = 30 * 24 * 3600.0


class LabelError(ValueError):
    """A submitted label is invalid or may not be stored (message shown to the annotator)."""


def add_annotator(con: sqlite3.Connection, name: str) -> str:
    """Create an annotator and return their access token (shown once; only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 64 or any(ch in name for ch in "\n\r\t"):
        raise ValueError("annotator name must be 1-64 characters on one line")
    token = secrets.token_urlsafe(32)
    try:
        with transaction(con):
            con.execute(
                "INSERT INTO annotators (name, token_hash, created) VALUES (?,?,?)",
                (name, hash_token(token), now()),
            )
    except sqlite3.IntegrityError:
        raise ValueError(f"annotator {name!r} already exists") from None
    return token


def login(con: sqlite3.Connection, token: str) -> tuple[str, str] | None:
    """A new session ``(sid, csrf)`` for a valid token, else None."""
    row = con.execute(
        "SELECT id FROM annotators WHERE token_hash = ?", (hash_token(token.strip()),)
    ).fetchone()
    if row is None:
        return None
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction(con):
        con.execute(
            "INSERT INTO sessions (sid, annotator_id, csrf, created) VALUES (?,?,?,?)",
            (sid, row["id"], csrf, now()),
        )
    return sid, csrf


def session(con: sqlite3.Connection, sid: str | None) -> sqlite3.Row | None:
    """``(annotator_id, name, csrf)`` of a live session id (younger than SESSION_TTL_S), or None."""
    if not sid:
        return None
    return con.execute(
        "SELECT s.annotator_id, a.name, s.csrf FROM sessions s JOIN annotators a"
        " ON a.id = s.annotator_id WHERE s.sid = ? AND s.created > ?",
        (sid, now() - SESSION_TTL_S),
    ).fetchone()


def logout(con: sqlite3.Connection, sid: str) -> None:
    with transaction(con):
        con.execute("DELETE FROM sessions WHERE sid = ?", (sid,))


def _open_assignment(con: sqlite3.Connection, annotator_id: int, gold: bool) -> int | None:
    row = con.execute(
        "SELECT s.comparison_id FROM assignments s JOIN comparisons c ON c.id = s.comparison_id"
        " WHERE s.annotator_id = ? AND (c.gold IS NOT NULL) = ? AND NOT EXISTS ("
        "  SELECT 1 FROM labels l WHERE l.comparison_id = s.comparison_id"
        "  AND l.annotator_id = s.annotator_id)"
        " ORDER BY c.position LIMIT 1",
        (annotator_id, int(gold)),
    ).fetchone()
    return None if row is None else int(row[0])


def next_comparison(
    con: sqlite3.Connection, annotator_id: int, *, gold: bool = False, lease_s: float = LEASE_S
) -> int | None:
    """The comparison this annotator should label next (claimed for them), or None when done.

    ``gold=True`` walks the certification pairs: every annotator labels each of them once.
    """
    held = _open_assignment(con, annotator_id, gold)
    if held is not None:
        return held
    t = now()
    with transaction(con):
        held = _open_assignment(con, annotator_id, gold)  # again, under the write lock
        if held is not None:
            return held
        if gold:
            row = con.execute(
                "SELECT c.id FROM comparisons c WHERE c.gold IS NOT NULL AND NOT EXISTS ("
                " SELECT 1 FROM labels l WHERE l.comparison_id = c.id AND l.annotator_id = ?)"
                " ORDER BY c.position LIMIT 1",
                (annotator_id,),
            ).fetchone()
        else:
            # Claims of others older than the lease, with no label, are released first.
            con.execute(
                "DELETE FROM assignments WHERE assigned_at < ? AND annotator_id != ? AND NOT EXISTS ("
                " SELECT 1 FROM labels l WHERE l.comparison_id = assignments.comparison_id"
                " AND l.annotator_id = assignments.annotator_id)",
                (t - lease_s, annotator_id),
            )
            row = con.execute(
                "SELECT c.id FROM comparisons c WHERE c.gold IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM assignments s WHERE s.comparison_id = c.id"
                "  AND s.annotator_id = ?)"
                " AND (SELECT COUNT(*) FROM assignments s WHERE s.comparison_id = c.id)"
                "  < 1 + c.overlap"
                " ORDER BY c.position LIMIT 1",
                (annotator_id,),
            ).fetchone()
        if row is None:
            return None
        # Claimed while the page is built, so the claim time is when it was first shown: the
        # start of the time per comparison (a reload keeps the first time).
        con.execute(
            "INSERT INTO assignments (comparison_id, annotator_id, assigned_at, shown_at)"
            " VALUES (?,?,?,?)",
            (row[0], annotator_id, t, t),
        )
        return int(row[0])


@dataclass(frozen=True)
class LabelInput:
    """A label as submitted (validated by :func:`validate_label`)."""

    choice: str
    tags: tuple[str, ...]
    confidence: str
    justification: str
    client_seconds: float | None


def validate_label(form: dict[str, Any], *, require_justification: bool = True) -> LabelInput:
    """Check a submitted form; raises :class:`LabelError` with a message for the annotator."""
    choice = str(form.get("choice") or "")
    if choice not in CHOICES:
        raise LabelError("choose A, B or Tie")
    tags = tuple(dict.fromkeys(form.get("tags") or ()))
    bad = [t for t in tags if t not in TAGS]
    if bad:
        raise LabelError(f"unknown tag {bad[0][:40]!r}")
    confidence = str(form.get("confidence") or "")
    if confidence not in CONFIDENCES:
        raise LabelError("choose a confidence: high, medium or low")
    justification = str(form.get("justification") or "").strip()
    if require_justification and not justification:
        raise LabelError("write a short justification")
    if len(justification) > MAX_JUSTIFICATION:
        raise LabelError(f"justification is too long (at most {MAX_JUSTIFICATION} characters)")
    client = form.get("client_seconds")
    try:
        client_s = float(client) if client not in (None, "") else None
    except ValueError:
        client_s = None
    if client_s is not None and not 0.0 <= client_s < 86400.0:
        client_s = None
    return LabelInput(choice, tags, confidence, justification, client_s)


def submit_label(
    con: sqlite3.Connection, comparison_id: int, annotator_id: int, label: LabelInput
) -> int:
    """Store one label in one transaction; returns the label id.

    Raises LabelError when the comparison is not assigned to this annotator or is already
    labelled by them (a double submit stores nothing the second time).
    """
    t = now()
    with transaction(con):
        row = con.execute(
            "SELECT assigned_at, shown_at FROM assignments WHERE comparison_id = ? AND annotator_id = ?",
            (comparison_id, annotator_id),
        ).fetchone()
        if row is None:
            raise LabelError("this comparison is not assigned to you (it may have been reassigned)")
        started = row["shown_at"] if row["shown_at"] is not None else row["assigned_at"]
        try:
            cur = con.execute(
                "INSERT INTO labels (comparison_id, annotator_id, choice, tags, confidence,"
                " justification, seconds, client_seconds, created) VALUES (?,?,?,?,?,?,?,?,?)",
                (comparison_id, annotator_id, label.choice, json.dumps(list(label.tags)),
                 label.confidence, label.justification, max(0.0, t - started),
                 label.client_seconds, t),
            )
        except sqlite3.IntegrityError:
            raise LabelError("you already labelled this comparison") from None
        return int(cur.lastrowid)


def progress(con: sqlite3.Connection, annotator_id: int, *, gold: bool = False) -> dict[str, int]:
    """``done`` by this annotator, ``remaining`` labels the queue still needs (from anyone), and
    for certification ``total`` gold pairs."""
    done = con.execute(
        "SELECT COUNT(*) FROM labels l JOIN comparisons c ON c.id = l.comparison_id"
        " WHERE l.annotator_id = ? AND (c.gold IS NOT NULL) = ?",
        (annotator_id, int(gold)),
    ).fetchone()[0]
    if gold:
        total = con.execute("SELECT COUNT(*) FROM comparisons WHERE gold IS NOT NULL").fetchone()[0]
        return {"done": done, "total": total, "remaining": total - done}
    needed = con.execute(
        "SELECT COALESCE(SUM(1 + overlap), 0) FROM comparisons WHERE gold IS NULL"
    ).fetchone()[0]
    have = con.execute(
        "SELECT COUNT(*) FROM labels l JOIN comparisons c ON c.id = l.comparison_id"
        " WHERE c.gold IS NULL"
    ).fetchone()[0]
    return {"done": done, "total": needed, "remaining": max(0, needed - have)}


def comparison_view(con: sqlite3.Connection, comparison_id: int) -> dict[str, Any]:
    """Everything the page shows for one comparison (prompt, both candidates, hints)."""
    c = con.execute("SELECT * FROM comparisons WHERE id = ?", (comparison_id,)).fetchone()
    p = con.execute("SELECT * FROM prompts WHERE prompt_id = ?", (c["prompt_id"],)).fetchone()
    out: dict[str, Any] = {
        "id": c["id"], "prompt_id": c["prompt_id"], "category": p["category"],
        "prompt": json.loads(p["prompt"]),
        "task": None if p["task"] is None else json.loads(p["task"]),
    }
    for side, cid in (("a", c["cand_a"]), ("b", c["cand_b"])):
        r = con.execute("SELECT * FROM candidates WHERE id = ?", (cid,)).fetchone()
        out[side] = {
            "completion": r["completion"], "temperature": r["temperature"],
            "components": json.loads(r["components"]),
        }
    return out
