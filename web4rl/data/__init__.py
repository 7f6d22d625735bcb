"""Data layer: records + validation, JSONL / HF datasets IO, tokenization, DataModules.

Library use::

    from web4rl.data import PreferenceDataModule
    dm = PreferenceDataModule(train_files="pairs.jsonl", tokenizer="web4rl/tiny")
    dm.validate()   # reads and checks the files; raises DataValidationError naming file:line
"""

from web4rl.chat import render_prompt
from web4rl.data.base import BaseDataModule, load_tokenizer, sample_data_path
from web4rl.data.batches import PreferenceBatch, SequenceBatch
from web4rl.data.io import (
    iter_hf_rows,
    iter_jsonl,
    load_preference_records,
    load_sft_records,
    parse_rows,
)
from web4rl.data.modules import PreferenceDataModule, RecordDataModule, SFTDataModule
from web4rl.data.records import (
    CATEGORIES,
    REJECTED_TAGS,
    DataValidationError,
    Location,
    PreferenceRecord,
    RowError,
    SFTRecord,
    parse_preference_row,
    parse_sft_row,
)
from web4rl.data.splits import SplitIndices, balance_indices, split_indices
from web4rl.data.tokenize import (
    PreferenceCollator,
    SFTCollator,
    TokenizedPair,
    TokenizedSFT,
    TruncationStats,
    tokenize_preferences,
    tokenize_sft,
)
from web4rl.sequence import IGNORE_INDEX

__all__ = [
    "BaseDataModule",
    "CATEGORIES",
    "IGNORE_INDEX",
    "REJECTED_TAGS",
    "DataValidationError",
    "Location",
    "PreferenceBatch",
    "PreferenceCollator",
    "PreferenceDataModule",
    "PreferenceRecord",
    "RecordDataModule",
    "RowError",
    "SFTCollator",
    "SFTDataModule",
    "SFTRecord",
    "SequenceBatch",
    "SplitIndices",
    "TokenizedPair",
    "TokenizedSFT",
    "TruncationStats",
    "balance_indices",
    "iter_hf_rows",
    "iter_jsonl",
    "load_preference_records",
    "load_sft_records",
    "load_tokenizer",
    "parse_preference_row",
    "parse_rows",
    "parse_sft_row",
    "render_prompt",
    "sample_data_path",
    "split_indices",
    "tokenize_preferences",
    "tokenize_sft",
]
