"""Reading rows from JSONL files and HF ``datasets`` sources, and validating them into records.

Everything here is tokenizer-free: it only reads and checks, so bad input is reported before a
model or tokenizer is loaded. Problems are collected (up to ``max_errors``) and raised together
as one :class:`~web4rl.data.records.DataValidationError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from web4rl.data.records import (
    DataValidationError,
    Location,
    PreferenceRecord,
    RowError,
    SFTRecord,
    parse_preference_row,
    parse_sft_row,
)

R = TypeVar("R")

MAX_ERRORS = 20
"""Default number of problems collected before validation stops and reports."""

Row = tuple[Location, Any]
"""A raw row with its location; the value is a parsed JSON value or a :class:`RowError`."""


def as_file_list(files: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """Normalize one path or a list of paths to a list of :class:`Path`."""
    if files is None:
        return []
    if isinstance(files, str | Path):
        return [Path(files)]
    return [Path(f) for f in files]


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


def iter_hf_rows(
    name: str,
    split: str = "train",
    data_files: str | Sequence[str] | None = None,
    config_name: str | None = None,
) -> Iterator[Row]:
    """Yield ``(location, row)`` for every row of an HF ``datasets`` source.

    ``name`` is a hub id, a builder such as ``"json"`` (with ``data_files``), a directory written
    by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``, or a local dataset directory.
    Loading failures become one :class:`RowError` rather than a deep traceback.
    """
    import datasets  # heavy import; only needed for HF sources

    label = f"hf:{name}[{split}]"
    try:
        path = Path(name)
        if path.is_dir() and (
            (path / "state.json").exists() or (path / "dataset_dict.json").exists()
        ):
            ds = datasets.load_from_disk(str(path))
            if isinstance(ds, datasets.DatasetDict):
                if split not in ds:
                    raise KeyError(f"split {split!r} not found; available: {', '.join(ds)}")
                ds = ds[split]
        else:
            files = list(data_files) if isinstance(data_files, list | tuple) else data_files
            ds = datasets.load_dataset(name, config_name, split=split, data_files=files)
    except Exception as e:  # noqa: BLE001 - any loader failure is reported as a data error
        loc = Location(label, 0, "row")
        yield loc, RowError(loc, None, f"cannot load dataset: {type(e).__name__}: {e}")
        return
    if len(ds) == 0:
        loc = Location(label, 0, "row")
        yield loc, RowError(loc, None, "dataset split is empty (no rows)")
        return
    for i, row in enumerate(ds):
        yield Location(label, i + 1, "row"), row


def parse_rows(
    rows: Iterable[Row],
    parse: Callable[[Any, Location], R | list[RowError]],
    max_errors: int = MAX_ERRORS,
) -> list[R]:
    """Parse every row with ``parse``; raise one :class:`DataValidationError` listing all problems.

    Reading stops once ``max_errors`` problems are collected, so a wholly wrong file (e.g. a
    preference file given as SFT data) reports quickly.
    """
    records: list[R] = []
    errors: list[RowError] = []
    for loc, value in rows:
        if isinstance(value, RowError):
            errors.append(value)
        else:
            result = parse(value, loc)
            if isinstance(result, list):
                errors.extend(result)
            else:
                records.append(result)
        if len(errors) >= max_errors:
            raise DataValidationError(errors[:max_errors], truncated=True)
    if errors:
        raise DataValidationError(errors)
    return records


def rows_from_files(files: str | Path | Sequence[str | Path]) -> Iterator[Row]:
    """Rows of several JSONL files in order (see :func:`iter_jsonl`)."""
    paths = as_file_list(files)
    if not paths:
        raise ValueError("no data files given")
    for path in paths:
        yield from iter_jsonl(path)


def load_sft_records(
    files: str | Path | Sequence[str | Path], max_errors: int = MAX_ERRORS
) -> list[SFTRecord]:
    """Read and validate SFT rows from one or more JSONL files."""
    return parse_rows(rows_from_files(files), parse_sft_row, max_errors)


def load_preference_records(
    files: str | Path | Sequence[str | Path], max_errors: int = MAX_ERRORS
) -> list[PreferenceRecord]:
    """Read and validate preference rows from one or more JSONL files."""
    return parse_rows(rows_from_files(files), parse_preference_row, max_errors)
