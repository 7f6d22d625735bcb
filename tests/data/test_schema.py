"""The ``data:`` config schema: every DataModule option reaches jsonargparse, documented.

DataModules declare only their own options and pass the rest on with ``*args, **kwargs``
(web4rl/data/base.py). jsonargparse follows that call; these tests prove it does, for every
DataModule the data packages define, so an option can never silently drop out of
``--print_config`` or lose its help text.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import lightning as L
import pytest
from jsonargparse import ArgumentParser

# Packages whose modules may define DataModules (a missing one, e.g. before it lands, is skipped).
DATA_PACKAGES = ("web4rl.data", "web4rl.rollout")


def _datamodules() -> list[type]:
    found: dict[str, type] = {}
    for package in DATA_PACKAGES:
        try:
            pkg = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            for name, obj in vars(importlib.import_module(info.name)).items():
                if (inspect.isclass(obj) and issubclass(obj, L.LightningDataModule)
                        and obj.__module__.startswith("web4rl.") and not name.startswith("_")):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


DATAMODULES = _datamodules()


def _declared_options(cls: type) -> list[str]:
    """Parameters of every __init__ in the chain, following ``**kwargs`` pass-through."""
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or not klass.__module__.startswith("web4rl."):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names += [p.name for p in params if p.name != "self"
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def test_the_shipped_datamodules_are_found():
    names = {cls.__name__ for cls in DATAMODULES}
    assert {"SFTDataModule", "PreferenceDataModule"} <= names


@pytest.mark.parametrize("cls", DATAMODULES, ids=lambda c: c.__name__)
def test_every_option_is_in_the_schema_with_help(cls):
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(cls, "data")
    actions = {a.dest.removeprefix("data."): a for a in parser._actions
               if a.dest.startswith("data.")}
    declared = _declared_options(cls)
    assert len(declared) == len(set(declared)), f"an option is declared twice: {declared}"
    missing = sorted(set(declared) - set(actions))
    assert not missing, f"{cls.__name__}: options jsonargparse does not see: {missing}"
    undocumented = sorted(n for n in declared if not (actions[n].help or "").strip())
    assert not undocumented, f"{cls.__name__}: options without an Args: docstring: {undocumented}"


def test_preference_options_parse_from_a_config_and_reach_the_instance():
    from web4rl.data import PreferenceDataModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(PreferenceDataModule, "data")
    cfg = parser.parse_args(["--data.batch_size=3", "--data.categories=[style]",
                             "--data.max_length=64", "--data.max_prompt_length=32"])
    dm = parser.instantiate_classes(cfg).data
    assert (dm.batch_size, dm.categories, dm.max_length, dm.max_prompt_length) == (
        3, ["style"], 64, 32)
    # save_hyperparameters (called once, in the base) records the options of the whole chain
    assert set(dm.hparams) == set(_declared_options(PreferenceDataModule))


def test_own_options_are_keyword_only_so_positions_keep_their_meaning():
    from web4rl.data import PreferenceDataModule

    dm = PreferenceDataModule("pairs.jsonl")  # the first positional stays train_files
    assert dm.train_files == "pairs.jsonl" and dm.categories is None

