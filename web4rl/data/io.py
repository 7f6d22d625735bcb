"""Reading rows from JSONL files and HF ``datasets`` sources, and validating them into records.

Everything here is tokenizer-free: it only reads and checks, so bad input is reported before a
model or tokenizer is loaded. Problems are collected (up to ``max_errors``) and raised together
as one :class:`~web4rl.data.records.DataValidationError`.
"""

from __future__ import annotations

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
from web4rl.jsonl import Row, iter_jsonl

R = TypeVar("R")

MAX_ERRORS = 20
"""Default number of problems collected before validation stops and reports."""


def as_file_list(files: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """Normalize one path or a list of paths to a list of :class:`Path`."""
    if files is None:
        return []
    if isinstance(files, str | Path):
        return [Path(files)]
    return [Path(f) for f in files]


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
