"""Import sampled candidates (and gold pairs) into the annotation database as comparisons.

Input rows are the sample rows of DESIGN.md section 5, as ``python -m web4rl sample`` writes
them: ``{"prompt_id", "prompt", "completion", "temperature", "task"?, "category"?}``; scored rows
(``python -m web4rl score``) add ``"reward"`` and ``"components"``. Rows without components are
scored here with :class:`web4rl.judges.Judge` so every candidate carries the judge's hints (JSON
valid, schema, unsafe). Each prompt's distinct candidates become all their pairs (identical
completions, up to surrounding whitespace, are dropped), shown in a seeded random A/B order so
position never correlates with temperature. A seeded ``overlap`` share of the comparisons is
marked for two annotators.

Gold rows for certification are preference rows ``{"prompt", "chosen", "rejected",
"category"?}``: the known answer is the side ``chosen`` lands on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web4rl.annotate.db import dumps, transaction
from web4rl.data.io import load_preference_records, parse_rows, rows_from_files
from web4rl.data.records import UNCATEGORIZED, Location, RowError

HINT_COMPONENTS = ("json", "schema", "guardrail", "refusal")
"""Judge components shown to the annotator as hints (never the reward itself)."""


@dataclass
class Candidate:
    prompt_id: str
    prompt: Any  # str or list of chat messages
    completion: str
    temperature: float | None
    category: str
    task: Any
    reward: float | None
    components: dict[str, Any] | None
    location: Location


@dataclass(frozen=True)
class ImportReport:
    rows: int
    prompts: int
    new_candidates: int
    duplicates_dropped: int
    new_comparisons: int
    overlap: int
    scored_here: int

    def __str__(self) -> str:
        return (
            f"{self.rows} rows, {self.prompts} prompts: {self.new_candidates} new candidates "
            f"({self.duplicates_dropped} duplicates dropped, {self.scored_here} scored by the judge "
            f"here), {self.new_comparisons} new comparisons ({self.overlap} for two annotators)"
        )


def _prompt_text(prompt: Any) -> str:
    """The prompt as one string, for the judge (messages joined by role)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def _check_prompt(value: Any, field: str, loc: Location, errors: list[RowError]) -> Any:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(
        isinstance(m, Mapping) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value
    ):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    errors.append(
        RowError(loc, field, "must be a non-empty string or a list of {role, content} messages")
    )
    return None


def parse_sample_row(row: Any, loc: Location) -> Candidate | list[RowError]:
    """Validate one sample/scored row; returns the candidate or every problem of the row."""
    if not isinstance(row, Mapping):
        return [RowError(loc, None, f"row must be a JSON object, got {type(row).__name__}")]
    errors: list[RowError] = []
    prompt = _check_prompt(row.get("prompt"), "prompt", loc, errors)
    completion = row.get("completion")
    if not isinstance(completion, str):
        errors.append(RowError(loc, "completion", "missing" if completion is None else "must be a string"))
    pid = row.get("prompt_id")
    if pid is None and prompt is not None:
        # Rows from other tools may lack ids: the prompt's own hash keeps its candidates together.
        pid = "p-" + hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()[:12]
    elif not isinstance(pid, str | int) or isinstance(pid, bool):
        errors.append(RowError(loc, "prompt_id", "must be a string or an integer"))
    temp = row.get("temperature")
    if temp is not None and (not isinstance(temp, int | float) or isinstance(temp, bool)):
        errors.append(RowError(loc, "temperature", "must be a number"))
    reward = row.get("reward")
    if reward is not None and (not isinstance(reward, int | float) or isinstance(reward, bool)):
        errors.append(RowError(loc, "reward", "must be a number"))
    comps = row.get("components")
    if comps is not None and not isinstance(comps, Mapping):
        errors.append(RowError(loc, "components", "must be an object {name: value}"))
    task = row.get("task")
    category = row.get("category")
    if category is None and isinstance(task, Mapping):
        category = task.get("category")
    if category is not None and not isinstance(category, str):
        errors.append(RowError(loc, "category", "must be a string"))
    if errors:
        return errors
    return Candidate(
        str(pid), prompt, completion, None if temp is None else float(temp),
        category or UNCATEGORIZED, task, None if reward is None else float(reward),
        dict(comps) if comps is not None else None, loc,
    )


def read_candidates(files: list[str | Path], max_errors: int = 20) -> list[Candidate]:
    """Read and validate sample rows from JSONL files; raises DataValidationError (file, line,
    field) listing every problem found, before anything is written."""
    return parse_rows(rows_from_files([str(f) for f in files]), parse_sample_row, max_errors)


def add_judge_hints(cands: list[Candidate], judge: Any = None) -> int:
    """Score candidates that carry no components with the judge (one batch); returns how many."""
    todo = [c for c in cands if c.components is None]
    if not todo:
        return 0
    from web4rl.judges import Judge, Sample

    judge = judge or Judge(use_linter=False)  # hints need json/schema/guardrail, not Biome
    samples = []
    for c in todo:
        row = {"prompt": _prompt_text(c.prompt), "completion": c.completion, "category": c.category}
        if c.task is not None:
            row["task"] = c.task
        try:
            samples.append(Sample.from_row(row, where=str(c.location)))
        except ValueError:
            # A task the judge cannot read must not block annotation: score without it.
            row.pop("task", None)
            samples.append(Sample.from_row(row, where=str(c.location)))
    for c, result in zip(todo, judge.score_batch(samples), strict=True):
        c.components = dict(result.components)
        c.reward = result.reward if c.reward is None else c.reward
    return len(todo)


def _next_position(con: sqlite3.Connection) -> int:
    return int(con.execute("SELECT COALESCE(MAX(position), 0) FROM comparisons").fetchone()[0])


def import_candidates(
    con: sqlite3.Connection,
    files: list[str | Path],
    *,
    overlap: float = 0.1,
    seed: int = 0,
    max_pairs_per_prompt: int | None = None,
    judge: Any = None,
) -> ImportReport:
    """Import sample rows as comparisons, in one transaction (all or nothing).

    Args:
        con: an open annotation database.
        files: JSONL files of sample or scored rows.
        overlap: share of the new comparisons labelled by two annotators (agreement).
        seed: seed of the A/B order, the queue order, the overlap and the pair draw.
        max_pairs_per_prompt: at most this many comparisons per prompt (a seeded draw among
            its pairs, counting comparisons already stored); ``None`` keeps every pair.
        judge: the judge used for rows without components (default: Judge without Biome).
    """
    if not 0.0 <= overlap <= 1.0:
        raise ValueError(f"overlap must be in [0, 1], got {overlap}")
    if max_pairs_per_prompt is not None and max_pairs_per_prompt < 1:
        raise ValueError(f"max_pairs_per_prompt must be >= 1, got {max_pairs_per_prompt}")
    parsed = read_candidates(files)
    # Identical completions of one prompt (up to surrounding whitespace; empty ones too) are
    # dropped before scoring, so the judge never scores a duplicate.
    cands: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for c in parsed:
        key = (c.prompt_id, c.completion.strip())
        if key[1] and key not in seen:
            seen.add(key)
            cands.append(c)
    dupes = len(parsed) - len(cands)
    scored = add_judge_hints(cands, judge)
    rng = random.Random(seed)
    new_cands = 0
    new_pairs: list[tuple[str, int, int]] = []
    with transaction(con):
        by_prompt: dict[str, list[Candidate]] = {}
        for c in cands:
            by_prompt.setdefault(c.prompt_id, []).append(c)
        for pid, group in by_prompt.items():
            first = group[0]
            con.execute(
                "INSERT OR IGNORE INTO prompts (prompt_id, prompt, category, task) VALUES (?,?,?,?)",
                (pid, dumps(first.prompt), first.category,
                 None if first.task is None else dumps(first.task)),
            )
            for c in group:
                cur = con.execute(
                    "INSERT OR IGNORE INTO candidates (prompt_id, completion, temperature, reward, components)"
                    " VALUES (?,?,?,?,?)",
                    (pid, c.completion, c.temperature, c.reward, dumps(c.components or {})),
                )
                new_cands += cur.rowcount
            # Pairs over every stored distinct candidate of the prompt (earlier imports too).
            rows = con.execute(
                "SELECT id, completion FROM candidates WHERE prompt_id = ? ORDER BY id", (pid,)
            ).fetchall()
            distinct: dict[str, int] = {}
            for r in rows:
                distinct.setdefault(r["completion"].strip(), r["id"])
            have = con.execute(
                "SELECT COUNT(*) FROM comparisons WHERE prompt_id = ?", (pid,)
            ).fetchone()[0]
            fresh = []
            for x, y in itertools.combinations(sorted(distinct.values()), 2):
                exists = con.execute(
                    "SELECT 1 FROM comparisons WHERE (cand_a=? AND cand_b=?) OR (cand_a=? AND cand_b=?)",
                    (x, y, y, x),
                ).fetchone()
                if exists is None:
                    fresh.append((pid, *((x, y) if rng.random() < 0.5 else (y, x))))
            if max_pairs_per_prompt is not None:
                # 5 candidates make 10 pairs; a cap keeps labelling cost per prompt bounded.
                room = max(0, max_pairs_per_prompt - have)
                if len(fresh) > room:
                    fresh = rng.sample(fresh, room)
            new_pairs.extend(fresh)
        rng.shuffle(new_pairs)  # queue order: prompts interleaved, not one prompt's pairs in a row
        n_overlap = round(overlap * len(new_pairs))
        overlap_idx = set(rng.sample(range(len(new_pairs)), n_overlap))
        start = _next_position(con)
        for i, (pid, a, b) in enumerate(new_pairs):
            con.execute(
                "INSERT INTO comparisons (prompt_id, cand_a, cand_b, overlap, gold, position)"
                " VALUES (?,?,?,?,NULL,?)",
                (pid, a, b, int(i in overlap_idx), start + i + 1),
            )
    return ImportReport(
        rows=len(parsed), prompts=len({c.prompt_id for c in parsed}), new_candidates=new_cands,
        duplicates_dropped=dupes, new_comparisons=len(new_pairs), overlap=n_overlap,
        scored_here=scored,
    )


def import_gold(con: sqlite3.Connection, files: list[str | Path], *, seed: int = 0) -> int:
    """Import certification pairs (preference rows; ``chosen`` is the known answer).

    The chosen side is put at A or B at random (seeded), so a rater who always presses "A"
    does not pass. Returns the number of new gold comparisons.
    """
    records = load_preference_records([str(f) for f in files])
    rng = random.Random(seed)
    added = 0
    with transaction(con):
        start = _next_position(con)
        for rec in records:
            prompt = [dict(m) for m in rec.prompt]
            if len(prompt) == 1 and prompt[0]["role"] == "user":
                prompt = prompt[0]["content"]
            pid = "gold-" + hashlib.sha256(dumps(prompt).encode()).hexdigest()[:12]
            con.execute(
                "INSERT OR IGNORE INTO prompts (prompt_id, prompt, category, task) VALUES (?,?,?,NULL)",
                (pid, dumps(prompt), rec.category or UNCATEGORIZED),
            )
            ids = []
            for text in (rec.chosen, rec.rejected):
                con.execute(
                    "INSERT OR IGNORE INTO candidates (prompt_id, completion, temperature, reward, components)"
                    " VALUES (?,?,NULL,NULL,'{}')",
                    (pid, text),
                )
                ids.append(con.execute(
                    "SELECT id FROM candidates WHERE prompt_id=? AND completion=?", (pid, text)
                ).fetchone()[0])
            chosen_first = rng.random() < 0.5
            a, b = ids if chosen_first else ids[::-1]
            cur = con.execute(
                "INSERT OR IGNORE INTO comparisons (prompt_id, cand_a, cand_b, overlap, gold, position)"
                " VALUES (?,?,?,0,?,?)",
                (pid, a, b, "A" if chosen_first else "B", start + added + 1),
            )
            added += cur.rowcount
    return added
