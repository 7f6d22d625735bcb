"""``SFTDataModule`` and ``PreferenceDataModule``: files or HF datasets in, typed batches out.

Their ``__init__`` signatures and docstrings are the ``data:`` section of the YAML configs
(jsonargparse reads them). The life cycle:

1. :meth:`validate` reads and checks every source, splits, filters and balances (no tokenizer:
   bad input fails here, before a model is loaded);
2. :meth:`setup` calls it, then tokenizes every split with the tokenizer the model uses;
3. the dataloaders pad batches with :class:`~web4rl.data.tokenize.SFTCollator` or
   :class:`~web4rl.data.tokenize.PreferenceCollator`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader, Dataset, RandomSampler, SequentialSampler

from web4rl.data.io import MAX_ERRORS, iter_hf_rows, parse_rows, rows_from_files
from web4rl.data.records import (
    UNCATEGORIZED,
    DataValidationError,
    Location,
    PreferenceRecord,
    RowError,
    SFTRecord,
    parse_preference_row,
    parse_sft_row,
    prompt_key,
)
from web4rl.data.splits import balance_indices, split_indices
from web4rl.data.tokenize import (
    PreferenceCollator,
    SFTCollator,
    TruncationStats,
    pad_token_id,
    tokenize_preferences,
    tokenize_sft,
    warn_truncation,
)
from web4rl.options import constrain

SPLITS = ("train", "val", "test")


def sample_data_path(name: str) -> Path:
    """Path of a data file shipped inside the package (``web4rl/sample_data/<name>``)."""
    import web4rl

    return Path(web4rl.__file__).parent / "sample_data" / name


def load_tokenizer(name: str) -> Any:
    """Load a tokenizer by HF id or local path; ``web4rl/tiny`` names the built-in tiny one."""
    from web4rl.tiny import is_tiny, load_tiny_tokenizer

    if is_tiny(name):
        return load_tiny_tokenizer()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name, trust_remote_code=False)
    except Exception as e:  # noqa: BLE001 - report which name failed, not a hub traceback
        raise ValueError(f"cannot load tokenizer {name!r}: {type(e).__name__}: {e}") from e


class ListDataset(Dataset):
    """A map-style dataset over a list (Lightning can wrap it in a DistributedSampler)."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]


class EpochShuffleSampler(RandomSampler):
    """A random order that depends only on ``(seed, epoch)``.

    Lightning calls ``set_epoch`` at the start of every training epoch, so a run resumed from a
    checkpoint at epoch ``e`` replays exactly the order an uninterrupted run would have used
    (a plain shuffling DataLoader draws from one generator and cannot). Being a RandomSampler,
    Lightning replaces it with an (also epoch-seeded) DistributedSampler under DDP.
    """

    def __init__(self, data_source: Sized, seed: int) -> None:
        super().__init__(data_source)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        # Mix seed and epoch so (seed, epoch + 1) and (seed + 1, epoch) do not collide.
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**63)
        yield from torch.randperm(len(self.data_source), generator=g).tolist()


@constrain(batch_size=">= 1", num_workers=">= 0", max_length=">= 2",
           max_prompt_length="[1, max_length)", split_fractions="[0, 1]")
class _TextDataModule(L.LightningDataModule):
    """Shared machinery; subclasses set the parser, tokenizer function, collator and defaults."""

    default_file: str = ""
    parse_row: Callable[[Any, Any], Any]

    def _init_common(
        self,
        train_files: str | list[str] | None,
        val_files: str | list[str] | None,
        test_files: str | list[str] | None,
        hf_dataset: str | None,
        hf_split: str,
        hf_val_split: str | None,
        hf_test_split: str | None,
        hf_data_files: str | list[str] | None,
        hf_config: str | None,
        tokenizer: str | None,
        batch_size: int,
        num_workers: int,
        max_length: int,
        max_prompt_length: int,
        overlong_prompt: str,
        seed: int,
        split_fractions: Sequence[float],
    ) -> None:
        if hf_dataset is not None and train_files is not None:
            raise ValueError("give either train_files or hf_dataset, not both")
        if batch_size < 1 or num_workers < 0:
            raise ValueError(
                f"need batch_size >= 1 and num_workers >= 0, got {batch_size}, {num_workers}"
            )
        if max_prompt_length < 1 or max_length <= max_prompt_length:
            raise ValueError(
                f"need 1 <= max_prompt_length < max_length, got max_prompt_length={max_prompt_length}, max_length={max_length}"
            )
        if overlong_prompt not in ("error", "truncate", "skip"):
            raise ValueError(
                f"overlong_prompt must be 'error', 'truncate' or 'skip', got {overlong_prompt!r}"
            )
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
        self.tokenizer_name = tokenizer
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.max_length = max_length
        self.max_prompt_length = max_prompt_length
        self.overlong_prompt = overlong_prompt
        self.seed = seed
        self.split_fractions = tuple(float(f) for f in split_fractions)
        self._tokenizer: Any = None
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
        return records

    def _train_order(self, train: list[Any]) -> list[int]:
        return list(range(len(train)))

    # ------------------------------------------------------------------ tokenizer
    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use this tokenizer object (for library users); drops any tokenized data."""
        self._tokenizer = tokenizer
        self.datasets = {}
        self.truncation = {}

    def resolve_tokenizer(self) -> Any:
        """The tokenizer: ``set_tokenizer``'s, else ``tokenizer`` by name, else the model's."""
        if self._tokenizer is None:
            if self.tokenizer_name is not None:
                self._tokenizer = load_tokenizer(self.tokenizer_name)
            else:
                trainer = self.trainer
                module = getattr(trainer, "lightning_module", None) if trainer is not None else None
                tok = getattr(getattr(module, "policy", None), "tokenizer", None)
                if tok is None:
                    raise ValueError(
                        f"{type(self).__name__} has no tokenizer: pass tokenizer=<name or path>, call "
                        "set_tokenizer(tok), or attach it to a Trainer whose LightningModule has policy.tokenizer"
                    )
                self._tokenizer = tok
        return self._tokenizer

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
        ds = self.datasets[split]
        if len(ds) == 0:
            return []  # Lightning treats an empty list as "no dataloader" and skips the loop
        return DataLoader(
            ds,
            batch_size=self.batch_size,
            sampler=EpochShuffleSampler(ds, self.seed) if shuffle else SequentialSampler(ds),
            num_workers=self.num_workers,
            collate_fn=self.collator,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader | list:
        return self._loader("test", shuffle=False)


@rank_zero_only
def _warn(split: str, stats: TruncationStats) -> None:
    warn_truncation(split, stats)


class SFTDataModule(_TextDataModule):
    """Supervised fine-tuning data: prompt/completion, chat messages, or Alpaca rows.

    Rows (JSONL, one object per line): ``{"prompt", "completion"}``, ``{"messages": [...]}``
    with the assistant's message last, or ``{"instruction", "input", "output"}``; optional
    ``"category"``. Batches are :class:`~web4rl.data.batches.SequenceBatch` with the loss mask
    on completion tokens only.

    Args:
        train_files: JSONL file or list of files with the training rows. ``None`` (and no
            ``hf_dataset``) uses the package's sample data ``web4rl/sample_data/sft.jsonl``.
        val_files: JSONL file(s) for validation; when absent, carved out of the train rows.
        test_files: JSONL file(s) for testing; when absent, carved out of the train rows.
        hf_dataset: an HF ``datasets`` source instead of ``train_files``: a hub id, a builder
            such as ``json`` (with ``hf_data_files``), or a local dataset directory.
        hf_split: split of ``hf_dataset`` used for training.
        hf_val_split: split of ``hf_dataset`` used for validation (else carved from train).
        hf_test_split: split of ``hf_dataset`` used for testing (else carved from train).
        hf_data_files: ``data_files`` passed to ``datasets.load_dataset``.
        hf_config: dataset configuration name passed to ``datasets.load_dataset``.
        tokenizer: tokenizer name or path (``web4rl/tiny`` for the built-in one). ``None`` uses
            the tokenizer of the Trainer's model (``lightning_module.policy.tokenizer``).
        batch_size: rows per batch (per device).
        num_workers: DataLoader worker processes (0 = load in the main process).
        max_length: most tokens of prompt + completion; longer completions are cut (counted and
            warned about).
        max_prompt_length: most prompt tokens; see ``overlong_prompt``.
        overlong_prompt: what to do with a prompt over ``max_prompt_length``: ``error`` (name
            the file and line), ``truncate`` (keep its last tokens) or ``skip`` (drop the row).
        seed: seed of the train/val/test split and of the train shuffle.
        split_fractions: (train, val, test) fractions used when val/test have no own source.
            Rows with the same prompt always land in the same split.
    """

    default_file = "sft.jsonl"
    parse_row = staticmethod(parse_sft_row)

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
        tokenizer: str | None = None,
        batch_size: int = 4,
        num_workers: int = 0,
        max_length: int = 4096,
        max_prompt_length: int = 2048,
        overlong_prompt: Literal["error", "truncate", "skip"] = "error",
        seed: int = 0,
        split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self._init_common(
            train_files, val_files, test_files, hf_dataset, hf_split, hf_val_split, hf_test_split,
            hf_data_files, hf_config, tokenizer, batch_size, num_workers, max_length,
            max_prompt_length, overlong_prompt, seed, split_fractions,
        )  # fmt: skip

    def _tokenize(
        self, records: list[SFTRecord], tokenizer: Any
    ) -> tuple[list[Any], TruncationStats]:
        return tokenize_sft(
            records, tokenizer, self.max_length, self.max_prompt_length, self.overlong_prompt
        )

    def _collator(self, pad_id: int) -> SFTCollator:
        return SFTCollator(pad_id)


class PreferenceDataModule(_TextDataModule):
    """Preference pairs for ORPO / DPO: prompt, chosen, rejected, category, rejected tags.

    Rows (JSONL, one object per line): ``{"prompt", "chosen", "rejected", "category"?,
    "rejected_tags"?, "source"?}``; ``prompt`` is a string or a list of chat messages; tags come
    from the taxonomy wrong_tool, schema_fail, verbose, style_off, unsafe, ambiguous. Batches are
    :class:`~web4rl.data.batches.PreferenceBatch`.

    Args:
        train_files: JSONL file or list of files with the training pairs. ``None`` (and no
            ``hf_dataset``) uses the package's sample data ``web4rl/sample_data/preferences.jsonl``.
        val_files: JSONL file(s) for validation; when absent, carved out of the train rows.
        test_files: JSONL file(s) for testing; when absent, carved out of the train rows.
        hf_dataset: an HF ``datasets`` source instead of ``train_files``: a hub id, a builder
            such as ``json`` (with ``hf_data_files``), or a local dataset directory.
        hf_split: split of ``hf_dataset`` used for training.
        hf_val_split: split of ``hf_dataset`` used for validation (else carved from train).
        hf_test_split: split of ``hf_dataset`` used for testing (else carved from train).
        hf_data_files: ``data_files`` passed to ``datasets.load_dataset``.
        hf_config: dataset configuration name passed to ``datasets.load_dataset``.
        tokenizer: tokenizer name or path (``web4rl/tiny`` for the built-in one). ``None`` uses
            the tokenizer of the Trainer's model (``lightning_module.policy.tokenizer``).
        batch_size: pairs per batch (per device).
        num_workers: DataLoader worker processes (0 = load in the main process).
        max_length: most tokens of prompt + chosen (and of prompt + rejected); longer
            completions are cut (counted and warned about).
        max_prompt_length: most prompt tokens; see ``overlong_prompt``.
        overlong_prompt: what to do with a prompt over ``max_prompt_length``: ``error`` (name
            the file and line), ``truncate`` (keep its last tokens) or ``skip`` (drop the pair).
        seed: seed of the split, of category balancing and of the train shuffle.
        split_fractions: (train, val, test) fractions used when val/test have no own source.
            Pairs with the same prompt always land in the same split.
        balance_categories: resample the TRAIN split (seeded, same size) so every category is
            equally represented: small categories repeated, large ones undersampled.
        categories: keep only pairs of these categories (in every split); ``uncategorized``
            selects pairs without a category. ``None`` keeps all.
    """

    default_file = "preferences.jsonl"
    parse_row = staticmethod(parse_preference_row)

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
        tokenizer: str | None = None,
        batch_size: int = 4,
        num_workers: int = 0,
        max_length: int = 4096,
        max_prompt_length: int = 2048,
        overlong_prompt: Literal["error", "truncate", "skip"] = "error",
        seed: int = 0,
        split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        balance_categories: bool = False,
        categories: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self._init_common(
            train_files, val_files, test_files, hf_dataset, hf_split, hf_val_split, hf_test_split,
            hf_data_files, hf_config, tokenizer, batch_size, num_workers, max_length,
            max_prompt_length, overlong_prompt, seed, split_fractions,
        )  # fmt: skip
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

    def _tokenize(
        self, records: list[PreferenceRecord], tokenizer: Any
    ) -> tuple[list[Any], TruncationStats]:
        return tokenize_preferences(
            records, tokenizer, self.max_length, self.max_prompt_length, self.overlong_prompt
        )

    def _collator(self, pad_id: int) -> PreferenceCollator:
        return PreferenceCollator(pad_id)


__all__ = [
    "EpochShuffleSampler",
    "SFTDataModule",
    "PreferenceDataModule",
    "ListDataset",
    "load_tokenizer",
    "sample_data_path",
]
