"""Command line: ``python -m web4rl fit|validate|test --config ...`` (LightningCLI) plus the
non-Trainer tools as subcommands (``sim``, ``score``) and ``configs`` (list shipped configs).

Models and data are chosen by ``class_path`` in YAML; constructor signatures are the schema, so
``--print_config`` shows every option and an unknown key is rejected with its name. ``--config``
takes a path or the bare name of a shipped config (``orpo_a100.yaml``, see
``web4rl.shipped_configs``). Every mistake in the input (config files, option names, types and
ranges, data files, adapters, checkpoints) ends in one ``web4rl: error: <key>: <problem>`` line
and exit code 2, before the model is loaded wherever the check needs no model.

Layout: this module holds the subcommand table (``TOOL_COMMANDS``), the LightningCLI subclass
and ``main``; reading the user's input (config files, parser errors, input mistakes) is
:mod:`web4rl.cli_input`, the run's environment (W&B mode, CPU threads) :mod:`web4rl.cli_runtime`.
Their public names are importable from here too.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from typing import Any

from lightning.pytorch.cli import LightningCLI, SaveConfigCallback

# Input handling and the run environment live in their own modules; the names stay importable
# from web4rl.cli (tests and users import them from here).
from web4rl.cli_input import (  # noqa: F401
    InputError,
    Web4Parser,
    condense_parser_error,
    find_input_error,
    resolve_config_args,
)
from web4rl.cli_runtime import (  # noqa: F401
    choose_cpu_threads,
    configure_cpu_threads,
    configure_wandb_mode,
    runs_on_cpu,
)

# Subcommands that are not Trainer runs: name -> "module:function" taking argv, returning int.
TOOL_COMMANDS = {
    "sim": ("web4rl.sim.cli:main", "play, list, validate and replay simulator episodes"),
    "score": ("web4rl.judges.cli:main", "score sampled completions with the automated judge"),
    "sample": ("web4rl.sampling_cli:main", "sample completions from a policy/adapter (resumable, --score)"),
    "pairs": ("web4rl.pairs_cli:main", "RLAIF preference pairs (best vs worst) from scored samples"),
    "evaluate": ("web4rl.evaluation.cli:main", "generations, judge, gates and a report for adapters"),
    "export-adapter": ("web4rl.callbacks.checkpoints:export_main", "write a checkpoint's adapter as a PEFT directory"),
    "adapters": ("web4rl.adapters.cli:main", "merge, average, stack, export (safetensors/GGUF), model card"),
    "pipeline": ("web4rl.pipeline.cli:main", "Stage 0 -> 4 end to end with exit criteria (resumable)"),
    "annotate": ("web4rl.annotate.cli:main", "label preference pairs in a web app; kappa; export"),
}
# Subcommands of a tool that live outside the tool's package (the simulator may not import
# the rollout layer): (tool, subcommand) -> "module:function" taking the remaining argv.
TOOL_SUBCOMMANDS = {
    ("sim", "export-sft"): "web4rl.rollout.export:main",
}

# ckpt_path values Lightning resolves itself rather than reading a file.
_CKPT_KEYWORDS = {"last", "best", "hpc", "registry"}


# ---------------------------------------------------------------------------- config per run
def run_dir(trainer) -> str | None:
    """This run's own directory: the first versioned logger's (runs/<name>/version_N), else the
    W&B run's files directory."""
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger

    for logger in trainer.loggers:
        if isinstance(logger, CSVLogger | TensorBoardLogger):
            return logger.log_dir
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            return logger.experiment.dir
    return None


class RunConfigSaver(SaveConfigCallback):
    """Saves the full config as ``config.yaml`` in this run's own directory, so no run
    overwrites another's (Lightning's default writes to the first logger's save_dir, which
    every run shares). Without a per-run logger directory: ``<default_root_dir>/config-<time>.yaml``."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        directory = run_dir(trainer) if trainer.is_global_zero else None
        directory = trainer.strategy.broadcast(directory)
        if directory is not None:
            path = Path(directory) / self.config_filename
        else:
            path = Path(trainer.default_root_dir) / f"config-{time.strftime('%Y%m%d-%H%M%S')}.yaml"
        if trainer.is_global_zero:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.parser.save(self.config, str(path), skip_none=False, overwrite=self.overwrite,
                             multifile=self.multifile)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)


# ---------------------------------------------------------------------------- ranges we register
def _register_lightning_rules() -> None:
    from lightning.pytorch import Trainer
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from web4rl.options import constrain_class

    constrain_class(Trainer, accumulate_grad_batches=">= 1", gradient_clip_val=">= 0",
                    max_epochs=">= -1", min_epochs=">= 0", max_steps=">= -1", min_steps=">= 0",
                    log_every_n_steps=">= 1", check_val_every_n_epoch=">= 1",
                    num_sanity_val_steps=">= -1", limit_train_batches=">= 0",
                    limit_val_batches=">= 0", limit_test_batches=">= 0", num_nodes=">= 1")
    constrain_class(ModelCheckpoint, save_top_k=">= -1", every_n_train_steps=">= 0",
                    every_n_epochs=">= 0")
    constrain_class(EarlyStopping, patience=">= 0", min_delta=">= 0")


class Web4CLI(LightningCLI):
    """LightningCLI with web4rl defaults: any PolicyModule / LightningDataModule by class_path."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subclass_mode_model", True)
        kwargs.setdefault("subclass_mode_data", True)
        kwargs.setdefault("save_config_callback", RunConfigSaver)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("parser_kwargs", {"prog": "python -m web4rl"})
        kwargs.setdefault("parser_class", Web4Parser)
        _register_lightning_rules()
        super().__init__(*args, **kwargs)

    def _parse_ckpt_path(self) -> None:
        # Lightning reads the checkpoint's hyper-parameters here; a file that is not a
        # checkpoint must be an input error naming it, not a pickle traceback.
        try:
            super()._parse_ckpt_path()
        except Exception as err:  # noqa: BLE001 - re-raised as an input error with the path
            path = self.config[self.config.subcommand].get("ckpt_path")
            raise InputError(f"ckpt_path: {path} is not a readable Lightning checkpoint "
                             f"({type(err).__name__}: {err})") from None

    def before_instantiate_classes(self) -> None:
        """Check option ranges, the checkpoint path and the data files before anything is built:
        a typo in a number or a bad row in a 7B run should cost seconds, not a model load."""
        from web4rl.options import OptionError, find_problems

        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        tree = config.as_dict()
        problems = []
        for section in ("model", "data"):
            problems += find_problems(tree.get(section), section, self.subcommand)
        trainer = tree.get("trainer") or {}
        from lightning.pytorch import Trainer

        problems += find_problems(trainer, "trainer", self.subcommand, cls=Trainer)
        ckpt = tree.get("ckpt_path")
        if ckpt and ckpt not in _CKPT_KEYWORDS and "://" not in ckpt and not ckpt.startswith(
            "registry:"
        ) and not Path(ckpt).is_file():
            problems.append(("ckpt_path", f"file {ckpt} does not exist"))
        if problems:
            raise OptionError(problems)
        if runs_on_cpu(trainer.get("accelerator")):
            configure_cpu_threads()
        data = config.get("data")
        if data is None or not getattr(data, "class_path", None):
            return
        module_name, _, cls_name = data.class_path.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        if not callable(getattr(cls, "validate", None)):
            return
        from web4rl.data import DataValidationError

        try:
            cls(**dict(data.init_args or {})).validate()
        except DataValidationError:
            raise
        except (ValueError, TypeError) as err:  # the constructor's own checks of the options
            raise InputError(f"data.init_args: {err}") from None

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list) -> Any:
        from lightning.pytorch.callbacks import ProgressBar

        from web4rl.callbacks.progress import PlainProgressBar

        configured = list(config.get("callbacks") or []) + list(callbacks)
        if (not sys.stdout.isatty() and config.get("enable_progress_bar") is not False
                and not any(isinstance(c, ProgressBar) for c in configured)):
            # A tqdm bar redraws one line with carriage returns: in a log file or CI output it
            # shows nothing until the epoch ends. Print plain periodic lines instead.
            callbacks = [*callbacks, PlainProgressBar()]
        return super()._instantiate_trainer(config, callbacks)

    def fit(self, model, datamodule=None, ckpt_path=None, **kwargs) -> None:
        """``trainer.fit`` plus the restores a Rollback callback asks for."""
        from web4rl.callbacks.rollback import fit_with_rollback

        fit_with_rollback(self.trainer, model, datamodule=datamodule, ckpt_path=ckpt_path,
                          **kwargs)


# ---------------------------------------------------------------------------- main
def _run_tool(name: str, argv: list[str]) -> int:
    return _run_target(TOOL_COMMANDS[name][0], argv, name)


def _run_target(target: str, argv: list[str], name: str) -> int:
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        print(f"web4rl {name}: not available in this installation ({err})", file=sys.stderr)
        return 2
    return int(getattr(module, func_name)(argv) or 0)


def _usage() -> str:
    tools = "\n".join(f"  {n:<15} {help_}" for n, (_, help_) in TOOL_COMMANDS.items())
    return (
        "usage: python -m web4rl {fit,validate,test} --config CONFIG [--key value ...]\n"
        "       python -m web4rl configs\n"
        "       python -m web4rl TOOL [args ...]\n\n"
        "CONFIG is a YAML path or the name of a shipped config (orpo_a100.yaml); several\n"
        "--config flags compose, later ones override earlier ones.\n\n"
        "Trainer commands (LightningCLI; add --help or --print_config):\n"
        "  fit       train a model\n  validate  run the validation loop\n"
        "  test      run the test loop\n"
        "  configs   list the shipped configs\n\nTools:\n" + tools + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if tuple(argv[:2]) in TOOL_SUBCOMMANDS:
        return _run_target(TOOL_SUBCOMMANDS[tuple(argv[:2])], argv[2:], " ".join(argv[:2]))
    if argv[0] in TOOL_COMMANDS:
        return _run_tool(argv[0], argv[1:])
    if argv[0] == "configs":
        from web4rl.shipped_configs import listing

        print(listing(), end="")
        return 0
    try:
        argv = resolve_config_args(argv)
    except InputError as err:
        print(f"web4rl: error: {err}", file=sys.stderr)
        return 2
    if from_command_line:
        sys.argv[1:] = argv  # LightningCLI reads sys.argv itself (passing it too makes it warn)
    configure_wandb_mode()
    from web4rl.callbacks.rollback import RollbackLimitReached

    try:
        Web4CLI(args=None if from_command_line else argv)
    except RollbackLimitReached as err:
        print(str(err), file=sys.stderr)  # checkpoints and the best safe adapter are kept
        return 1
    except Exception as err:
        # Input mistakes get one line each, not a traceback; nothing was written. Anything
        # else (a failed model download, a bug) keeps its full traceback.
        cause = find_input_error(err)
        if cause is None:
            raise
        for line in str(cause).splitlines() or [type(cause).__name__]:
            # One problem per line; indented lines continue the problem above them.
            print(line if line.startswith(" ") else f"web4rl: error: {line}", file=sys.stderr)
        return 2
    return 0
