"""``SFTDataModule`` and ``PreferenceDataModule`` over :class:`RecordDataModule`.

A :class:`RecordDataModule` reads rows from JSONL files or an HF ``datasets`` source, checks them
into records, splits, filters and balances them, tokenizes and pads them into typed batches.
Subclasses set the row parser, the tokenizer function and the collator, and declare only their
own options (see :mod:`web4rl.data.base` for the pattern); their constructors are the ``data:``
section of the YAML configs. The life cycle:

1. :meth:`~RecordDataModule.validate` reads and checks every source, splits, filters and
   balances (no tokenizer: bad input fails here, before a model is loaded);
2. :meth:`~RecordDataModule.setup` calls it, then tokenizes every split with the tokenizer the
   model uses;
3. the dataloaders pad batches with :class:`~web4rl.data.tokenize.SFTCollator` or
   :class:`~web4rl.data.tokenize.PreferenceCollator`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader

from web4rl.data.base import (
    BaseDataModule,
    EpochShuffleSampler,
    ListDataset,
    load_tokenizer,
    sample_data_path,
)
from web4rl.data.io import MAX_ERRORS, iter_hf_rows, parse_rows, rows_from_files
from web4rl.data.records import (
    UNCATEGORIZED,
    DataValidationError,
    Location,
    PreferenceRecord,
    RowError,
    parse_preference_row,
    parse_sft_row,
    prompt_key,
)
from web4rl.data.splits import balance_indices, split_indices
from web4rl.data.tokenize import (
    PreferenceCollator,
    SFTCollator,
    TruncationStats,
    check_limits,
    pad_token_id,
    tokenize_preferences,
    tokenize_sft,
    warn_truncation,
)
from web4rl.options import constrain

SPLITS = ("train", "val", "test")


@constrain(max_length=">= 2", max_prompt_length="[1, max_length)", split_fractions="[0, 1]")
class RecordDataModule(BaseDataModule):
    """Rows from files or an HF dataset, checked into records, tokenized into typed batches.

    Subclasses set ``default_file`` (the sample file used when no source is given),
    ``parse_row``, ``tokenize_records`` and ``collator_class`` (or override ``_tokenize`` /
    ``_collator``); ``_filter`` and ``_train_order`` are hooks for selecting rows and
    resampling the train split. Pass options by keyword.

    Args:
        train_files: JSONL file or list of files with the training rows. ``None`` (and no
            ``hf_dataset``) uses the sample file this DataModule ships in
            ``web4rl/sample_data/`` (SFT: ``sft.jsonl``, preference pairs:
            ``preferences.jsonl``).
        val_files: JSONL file(s) for validation; when absent, carved out of the train rows.
        test_files: JSONL file(s) for testing; when absent, carved out of the train rows.
        hf_dataset: an HF ``datasets`` source instead of ``train_files``: a hub id, a builder
            such as ``json`` (with ``hf_data_files``), or a local dataset directory.
        hf_split: split of ``hf_dataset`` used for training.
        hf_val_split: split of ``hf_dataset`` used for validation (else carved from train).
        hf_test_split: split of ``hf_dataset`` used for testing (else carved from train).
        hf_data_files: ``data_files`` passed to ``datasets.load_dataset``.
        hf_config: dataset configuration name passed to ``datasets.load_dataset``.
        max_length: most tokens of prompt + completion (for a pair: of prompt + chosen and of
            prompt + rejected); longer completions are cut (counted and warned about).
        max_prompt_length: most prompt tokens; see ``overlong_prompt``.
        overlong_prompt: what to do with a prompt over ``max_prompt_length``: ``error`` (name
            the file and line), ``truncate`` (keep its last tokens) or ``skip`` (drop the row).
        split_fractions: (train, val, test) fractions used when val/test have no own source.
            Rows with the same prompt always land in the same split.
    """

    default_file: str = ""
    parse_row: Callable[[Any, Any], Any]
    """``(row, location) -> record | list[RowError]``."""
    tokenize_records: Callable[..., tuple[list[Any], TruncationStats]]
    """``(records, tokenizer, max_length, max_prompt_length, overlong_prompt) -> (items, stats)``."""
    collator_class: Callable[[int], Callable[[list[Any]], Any]]
    """``pad_token_id -> collate_fn``."""

    def __init__(
        self,
        train_files: str | list[str] | None = None,
        val_files: str | list[str] | None = None,
        test_files: str | list[str] | None = None,
        hf_dataset: str | None = None,
        hf_split: str = "train",
        hf_val_split: str | None = None,
        hf_test_split: str | None = None,
        hf_data_files: str | list[str] | None = None,
        hf_config: str | None = None,
        max_length: int = 4096,
        max_prompt_length: int = 2048,
        overlong_prompt: Literal["error", "truncate", "skip"] = "error",
        split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if hf_dataset is not None and train_files is not None:
            raise ValueError("give either train_files or hf_dataset, not both")
        check_limits(max_length, max_prompt_length, overlong_prompt)
        if len(split_fractions) != 3:
            raise ValueError(
                f"split_fractions needs three numbers (train, val, test), got {list(split_fractions)}"
            )
        self.train_files = train_files
        self.val_files = val_files
        self.test_files = test_files
        self.hf_dataset = hf_dataset
        self.hf_split = hf_split
        self.hf_val_split = hf_val_split
        self.hf_test_split = hf_test_split
        self.hf_data_files = hf_data_files
        self.hf_config = hf_config
        self.max_length = max_length
        self.max_prompt_length = max_prompt_length
        self.overlong_prompt = overlong_prompt
        self.split_fractions = tuple(float(f) for f in split_fractions)
        self.records: dict[str, list[Any]] | None = None
        """Validated records per split, filled by :meth:`validate`."""
        self.train_order: list[int] | None = None
        """Indices into ``records["train"]`` that make the train set (repeats when balanced)."""
        self.datasets: dict[str, ListDataset] = {}
        """Tokenized dataset per split, filled by :meth:`setup`."""
        self.truncation: dict[str, TruncationStats] = {}
        """What ``max_length`` / ``max_prompt_length`` did to each split."""

    # ------------------------------------------------------------------ reading + checking
    def _sources(self) -> dict[str, Any]:
        """Row iterator factory per split that has its own source (missing ones get carved)."""

        def files(f: str | list[str]) -> Callable[[], Any]:
            return lambda: rows_from_files(f)

        def hf(split: str) -> Callable[[], Any]:
            return lambda: iter_hf_rows(self.hf_dataset, split, self.hf_data_files, self.hf_config)

        out: dict[str, Any] = {}
        if self.hf_dataset is not None:
            out["train"] = hf(self.hf_split)
        else:
            out["train"] = files(
                self.train_files
                if self.train_files is not None
                else str(sample_data_path(self.default_file))
            )
        for split, given, hf_split in (
            ("val", self.val_files, self.hf_val_split),
            ("test", self.test_files, self.hf_test_split),
        ):
            if given is not None:
                out[split] = files(given)
            elif hf_split is not None and self.hf_dataset is not None:
                out[split] = hf(hf_split)
        return out

    def validate(self) -> dict[str, int]:
        """Read and check every source, then split, filter and balance; needs no tokenizer.

        Idempotent (results are cached). Returns the number of rows per split (the train count
        after balancing).

        Raises:
            DataValidationError: listing every bad row (file, line, field) across all sources,
                up to 20.
        """
        if self.records is None:
            records: dict[str, list[Any]] = {}
            errors: list[RowError] = []
            for split, rows in self._sources().items():
                try:
                    records[split] = parse_rows(
                        rows(), type(self).parse_row, MAX_ERRORS - len(errors)
                    )
                except DataValidationError as e:
                    errors.extend(e.errors)
                    if e.truncated or len(errors) >= MAX_ERRORS:
                        raise DataValidationError(errors[:MAX_ERRORS], truncated=True) from None
            if errors:
                raise DataValidationError(errors)
            self.records = self._split(records)
            self.records = self._filter(self.records)
            self.train_order = self._train_order(self.records["train"])
        return {
            s: (len(self.train_order) if s == "train" else len(self.records[s])) for s in SPLITS
        }

    def _split(self, records: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Carve val/test out of train (seeded, grouped by prompt) where they have no source."""
        missing = [s for s in ("val", "test") if s not in records]
        if not missing:
            return records
        f_train, f_val, f_test = self.split_fractions
        fractions = (
            f_train,
            f_val if "val" in missing else 0.0,
            f_test if "test" in missing else 0.0,
        )
        train = records["train"]
        if sum(fractions[1:]) == 0:
            return {"train": train, "val": records.get("val", []), "test": records.get("test", [])}
        try:
            idx = split_indices([prompt_key(r.prompt) for r in train], fractions, self.seed)
        except ValueError as e:
            where = train[0].location.file if train else "train data"
            raise DataValidationError([RowError(Location(where, 0), None, str(e))]) from None
        return {
            "train": [train[i] for i in idx.train],
            "val": records["val"] if "val" in records else [train[i] for i in idx.val],
            "test": records["test"] if "test" in records else [train[i] for i in idx.test],
        }

    def _filter(self, records: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Records to keep per split (after the split, before balancing)."""
        return records

    def _train_order(self, train: list[Any]) -> list[int]:
        """Indices into the train records, in order; repeats allowed (resampling)."""
        return list(range(len(train)))

    def _tokenize(self, records: list[Any], tokenizer: Any) -> tuple[list[Any], TruncationStats]:
        """Tokenized items (each with an ``index`` into ``records``) and what limits did."""
        return type(self).tokenize_records(
            records, tokenizer, self.max_length, self.max_prompt_length, self.overlong_prompt
        )

    def _collator(self, pad_id: int) -> Callable[[list[Any]], Any]:
        """The picklable callable that pads a list of tokenized items into a batch."""
        return type(self).collator_class(pad_id)

    # ------------------------------------------------------------------ tokenizer
    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use this tokenizer object (for library users); drops any tokenized data."""
        super().set_tokenizer(tokenizer)
        self.datasets = {}
        self.truncation = {}

    # ------------------------------------------------------------------ Lightning hooks
    def setup(self, stage: str | None = None) -> None:
        """Validate, then tokenize every split once (so over-long prompts anywhere fail early)."""
        self.validate()
        if self.datasets:
            return
        assert self.records is not None and self.train_order is not None
        tokenizer = self.resolve_tokenizer()
        errors: list[RowError] = []
        tokenized: dict[str, list[Any]] = {}
        for split in SPLITS:
            try:
                items, stats = self._tokenize(self.records[split], tokenizer)
            except DataValidationError as e:
                errors.extend(e.errors)
                continue
            tokenized[split] = items
            self.truncation[split] = stats
        if errors:
            self.truncation = {}
            raise DataValidationError(errors[:MAX_ERRORS], truncated=len(errors) > MAX_ERRORS)
        by_index = {item.index: item for item in tokenized["train"]}
        train = [by_index[i] for i in self.train_order if i in by_index]  # skipped rows drop out
        if not train:
            where = (
                self.records["train"][0].location.file if self.records["train"] else "train data"
            )
            msg = "no training rows left after skipping prompts over max_prompt_length"
            raise DataValidationError([RowError(Location(where, 0), None, msg)])
        self.datasets = {
            "train": ListDataset(train),
            "val": ListDataset(tokenized["val"]),
            "test": ListDataset(tokenized["test"]),
        }
        self.collator = self._collator(pad_token_id(tokenizer))
        for split, stats in self.truncation.items():
            _warn(split, stats)

    def _loader(self, split: str, shuffle: bool) -> DataLoader | list:
        if not self.datasets:
            raise RuntimeError(
                f"{type(self).__name__}.setup() must run before asking for dataloaders"
            )
        return self.make_loader(self.datasets[split], shuffle, self.collator)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader | list:
        return self._loader("test", shuffle=False)


@rank_zero_only
def _warn(split: str, stats: TruncationStats) -> None:
    warn_truncation(split, stats)


class SFTDataModule(RecordDataModule):
    """Supervised fine-tuning data: prompt/completion, chat messages, or Alpaca rows.

    Rows (JSONL, one object per line): ``{"prompt", "completion"}``, ``{"messages": [...]}``
    with the assistant's message last, or ``{"instruction", "input", "output"}``; optional
    ``"category"``. Batches are :class:`~web4rl.data.batches.SequenceBatch` with the loss mask
    on completion tokens only. It has no options of its own: they are those of
    :class:`RecordDataModule` and :class:`~web4rl.data.base.BaseDataModule`.
    """

    default_file = "sft.jsonl"
    parse_row = staticmethod(parse_sft_row)
    tokenize_records = staticmethod(tokenize_sft)
    collator_class = SFTCollator


class PreferenceDataModule(RecordDataModule):
    """Preference pairs for ORPO / DPO: prompt, chosen, rejected, category, rejected tags.

    Rows (JSONL, one object per line): ``{"prompt", "chosen", "rejected", "category"?,
    "rejected_tags"?, "source"?}``; ``prompt`` is a string or a list of chat messages; tags come
    from the taxonomy wrong_tool, schema_fail, verbose, style_off, unsafe, ambiguous. Batches are
    :class:`~web4rl.data.batches.PreferenceBatch`. The options below are its own; the rest are
    those of :class:`RecordDataModule` and :class:`~web4rl.data.base.BaseDataModule`.

    Args:
        balance_categories: resample the TRAIN split (seeded, same size) so every category is
            equally represented: small categories repeated, large ones undersampled.
        categories: keep only pairs of these categories (in every split); ``uncategorized``
            selects pairs without a category. ``None`` keeps all.
    """

    default_file = "preferences.jsonl"
    parse_row = staticmethod(parse_preference_row)
    tokenize_records = staticmethod(tokenize_preferences)
    collator_class = PreferenceCollator

    def __init__(
        self,
        *args: Any,
        balance_categories: bool = False,
        categories: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.balance_categories = balance_categories
        self.categories = list(categories) if categories is not None else None

    def _filter(
        self, records: dict[str, list[PreferenceRecord]]
    ) -> dict[str, list[PreferenceRecord]]:
        if self.categories is None:
            return records
        keep = set(self.categories)
        out = {
            s: [r for r in rs if (r.category or UNCATEGORIZED) in keep] for s, rs in records.items()
        }
        if not out["train"]:
            present = sorted({r.category or UNCATEGORIZED for r in records["train"]})
            where = records["train"][0].location.file if records["train"] else "train data"
            msg = f"categories filter {self.categories} keeps no training pairs; present: {present}"
            raise DataValidationError([RowError(Location(where, 0), "category", msg)])
        return out

    def _train_order(self, train: list[PreferenceRecord]) -> list[int]:
        if not self.balance_categories:
            return list(range(len(train)))
        return balance_indices([r.category or UNCATEGORIZED for r in train], self.seed)


__all__ = [
    # defined in web4rl.data.base; re-exported for code that imported them from here
    "BaseDataModule",
    "EpochShuffleSampler",
    "ListDataset",
    "load_tokenizer",
    "sample_data_path",
    "RecordDataModule",
    "SFTDataModule",
    "PreferenceDataModule",
]
