"""What every web4rl DataModule shares: :class:`BaseDataModule` and its loading helpers.

The config schema of a DataModule is its constructor (LightningCLI / jsonargparse read the
signature and the ``Args:`` docstring). A subclass declares ONLY its own options and passes the
rest on with ``*args, **kwargs`` to ``super().__init__``; jsonargparse follows that call, so
``--print_config`` and ``--data.help`` list the inherited options with the help written once,
in the class that declares them. Pattern for a new DataModule::

    class MyDataModule(RecordDataModule):
        \"\"\"One line on the rows and batches.

        Args:
            my_option: what it does.
        \"\"\"

        def __init__(self, *args: Any, my_option: float = 0.5, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.my_option = my_option

Own options are keyword-only (after ``*args``), so a positional call can never bind a value to
the wrong option. ``save_hyperparameters`` runs once, here, and records the options of every
class in the chain. Keep each class docstring Google style with no line starting with a reST
role such as ``:class:``: the docstring parser then guesses reST and the help texts vanish
(``tests/data/test_schema.py`` catches it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, SequentialSampler

from web4rl.options import constrain


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


@constrain(batch_size=">= 1", num_workers=">= 0")
class BaseDataModule(L.LightningDataModule):
    """Options and plumbing every web4rl DataModule shares: tokenizer, batching, seed.

    Args:
        tokenizer: tokenizer name or path (``web4rl/tiny`` for the built-in one). ``None`` uses
            the tokenizer of the Trainer's model (``lightning_module.policy.tokenizer``).
        batch_size: examples per batch (per device): rows for SFT, pairs for preferences.
        num_workers: DataLoader worker processes (0 = load in the main process).
        seed: seed of everything random in the data: the train/val/test split, any resampling
            of the train split (e.g. category balancing) and the train shuffle.
    """

    def __init__(
        self,
        tokenizer: str | None = None,
        batch_size: int = 4,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        # Records the options of every subclass __init__ in the call chain too.
        self.save_hyperparameters()
        if batch_size < 1 or num_workers < 0:
            raise ValueError(
                f"need batch_size >= 1 and num_workers >= 0, got {batch_size}, {num_workers}"
            )
        self.tokenizer_name = tokenizer
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self._tokenizer: Any = None

    # ------------------------------------------------------------------ tokenizer
    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use this tokenizer object (for library users); subclasses drop derived data."""
        self._tokenizer = tokenizer

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

    # ------------------------------------------------------------------ loaders
    def make_loader(
        self, dataset: ListDataset, shuffle: bool, collate_fn: Callable[[list[Any]], Any]
    ) -> DataLoader | list:
        """A DataLoader with this module's batch size and workers; ``[]`` for an empty dataset.

        ``shuffle`` uses :class:`EpochShuffleSampler` (seeded by ``seed`` and the epoch, so a
        resumed run replays the same order).
        """
        if len(dataset) == 0:
            return []  # Lightning treats an empty list as "no dataloader" and skips the loop
        sampler = EpochShuffleSampler(dataset, self.seed) if shuffle else SequentialSampler(dataset)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate_fn,
            persistent_workers=self.num_workers > 0,
        )


__all__ = [
    "BaseDataModule",
    "EpochShuffleSampler",
    "ListDataset",
    "load_tokenizer",
    "sample_data_path",
]
