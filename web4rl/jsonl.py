"""The one JSONL reader: every JSONL file the project reads goes through :func:`iter_jsonl`.

Torch-free (the simulator, the judge and the data layer all use it). A bad line never raises:
it yields a :class:`RowError` whose text is the one error format, ``file:line: message`` (or
``file:line: field 'name': message``), so callers can report every problem at once or stop
at the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where a row came from, for error messages.

    Attributes:
        file: path of the JSONL file, or ``hf:<dataset>[<split>]`` for an HF ``datasets`` source.
        line: 1-based line number in the file (for HF sources: 1-based row number); 0 when the
            problem concerns the whole file.
        unit: ``"line"`` for files, ``"row"`` for HF datasets.
    """

    file: str
    line: int
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class RowError:
    """One problem with one field of one row.

    Attributes:
        location: file and line of the row.
        field: dotted field path (e.g. ``"messages[2].content"``), or ``None`` for the whole
            row/line (malformed JSON, bad bytes, empty file).
        message: what is wrong, in words.
    """

    location: Location
    field: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.location)
        if self.location.line and self.location.unit != "line":
            where = f"{self.location.file} {self.location.unit} {self.location.line}"
        return (
            f"{where}: field '{self.field}': {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )


Row = tuple[Location, Any]
"""A raw row with its location; the value is a parsed JSON value or a :class:`RowError`."""


def iter_jsonl(path: str | Path) -> Iterator[Row]:
    """Yield ``(location, value)`` for every non-blank line of a JSONL file.

    Lines that are not valid UTF-8 or not valid JSON yield a :class:`RowError` as the value
    instead of raising, so a caller can keep reading and report all problems at once. A missing
    or empty file yields one error with line 0.
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        yield Location(name, 0), RowError(Location(name, 0), None, "file not found")
        return
    except IsADirectoryError:
        yield (
            Location(name, 0),
            RowError(Location(name, 0), None, "is a directory, expected a JSONL file"),
        )
        return
    seen = False
    # Split on b"\n" ourselves (not str.splitlines) so line numbers match what editors show
    # even when a line holds \r, \x0b or U+2028 inside a JSON string.
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        loc = Location(name, number)
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = line_bytes[e.start : e.start + 1]
            field = _field_with_bad_bytes(line_bytes)
            msg = f"not valid UTF-8 (byte {e.start + 1} of the line is {bad!r}; re-save the file as UTF-8)"
            yield loc, RowError(loc, field, msg)
            seen = True
            continue
        if number == 1:
            line = line.removeprefix("\ufeff")  # tolerate a UTF-8 byte-order mark
        if not line.strip():
            continue  # blank lines (e.g. the trailing newline) carry no row
        seen = True
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            yield loc, RowError(loc, None, f"malformed JSON: {e.msg} at column {e.colno}")
            continue
        yield loc, value
    if not seen:
        yield Location(name, 0), RowError(Location(name, 0), None, "file is empty (no rows)")


def _field_with_bad_bytes(line_bytes: bytes) -> str | None:
    """Path of the first string field holding undecodable bytes, when the line is otherwise JSON.

    Decoding with ``surrogateescape`` maps each bad byte to a lone surrogate, so after parsing the
    JSON the offending field can be found and named in the error message.
    """
    try:
        value = json.loads(line_bytes.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None

    def find(v: Any, path: str) -> str | None:
        if isinstance(v, str):
            return path if any("\udc80" <= ch <= "\udcff" for ch in v) else None
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        for k, child in items:
            sub = f"{path}.{k}" if isinstance(k, str) else f"{path}[{k}]"
            if isinstance(k, str) and any("\udc80" <= ch <= "\udcff" for ch in k):
                return sub.lstrip(".")
            hit = find(child, sub)
            if hit is not None:
                return hit.lstrip(".")
        return None

    return find(value, "")


def iter_jsonl_text(text: str, name: str) -> Iterator[Row]:
    """:func:`iter_jsonl` over text already in memory (e.g. a package resource) named ``name``."""
    seen = False
    for number, line in enumerate(text.split("\n"), start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        seen = True
        loc = Location(name, number)
        try:
            yield loc, json.loads(line)
        except json.JSONDecodeError as e:
            yield loc, RowError(loc, None, f"malformed JSON: {e.msg} at column {e.colno}")
    if not seen:
        yield Location(name, 0), RowError(Location(name, 0), None, "file is empty (no rows)")


__all__ = ["Location", "Row", "RowError", "iter_jsonl", "iter_jsonl_text"]
