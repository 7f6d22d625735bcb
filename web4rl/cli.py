"""Command line: ``python -m web4rl fit|validate|test --config ...`` (LightningCLI) plus the
non-Trainer tools as subcommands (``sim``, ``score``) and ``configs`` (list shipped configs).

Models and data are chosen by ``class_path`` in YAML; constructor signatures are the schema, so
``--print_config`` shows every option and an unknown key is rejected with its name. ``--config``
takes a path or the bare name of a shipped config (``orpo_a100.yaml``, see
``web4rl.shipped_configs``). Every mistake in the input (config files, option names, types and
ranges, data files, adapters, checkpoints) ends in one ``web4rl: error: <key>: <problem>`` line
and exit code 2, before the model is loaded wherever the check needs no model.
"""

from __future__ import annotations

import importlib
import netrc
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

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


# ---------------------------------------------------------------------------- W&B
def _wandb_host() -> str:
    """Host W&B stores credentials under: WANDB_BASE_URL's (self-hosted servers), else the
    cloud's."""
    url = os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai"
    parsed = urlparse(url if "//" in url else f"https://{url}")
    return parsed.hostname or "api.wandb.ai"


def _has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    # `wandb login [--host URL]` writes the key to the netrc file (NETRC overrides ~/.netrc).
    path = os.environ.get("NETRC") or None
    try:
        return netrc.netrc(path).authenticators(_wandb_host()) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def configure_wandb_mode() -> None:
    """Log offline (to ./wandb, sync later with `wandb sync`) when no W&B credentials exist,
    so a run never blocks on a login prompt or fails without network. An explicit WANDB_MODE
    always wins."""
    if "WANDB_MODE" not in os.environ and not _has_wandb_credentials():
        os.environ["WANDB_MODE"] = "offline"
        print(f"web4rl: no W&B API key found for {_wandb_host()}; logging offline "
              "(WANDB_MODE=offline)", file=sys.stderr)


# ---------------------------------------------------------------------------- CPU threads
def _busy_cores(sample_seconds: float = 0.3) -> float | None:
    """Cores kept busy by other processes right now (Linux /proc/stat), else the 1-minute
    load average; None where neither exists."""
    def snapshot() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    first = snapshot()
    if first is not None:
        time.sleep(sample_seconds)
        second = snapshot()
        total, idle = second[0] - first[0], second[1] - first[1]
        if total > 0:
            return (os.cpu_count() or 1) * (1 - idle / total)
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def choose_cpu_threads(cores: int, busy: float | None, default: int) -> int:
    """Torch threads for a CPU run: the cores other processes leave free (at least one, at most
    torch's default). Two threads on a 2-core machine shared with one busy process run 5-9x
    slower than one thread (docs/benchmarks.md), so a busy machine gets fewer threads."""
    if busy is None:
        return default
    return max(1, min(default, cores - round(busy)))


def configure_cpu_threads() -> None:
    """Pick torch's thread count for a CPU run unless the user chose (OMP_NUM_THREADS)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    import torch

    default = torch.get_num_threads()
    busy = _busy_cores()
    threads = choose_cpu_threads(os.cpu_count() or 1, busy, default)
    if threads != default:
        torch.set_num_threads(threads)
    load = f", {busy:.1f} busy with other work" if busy is not None else ""
    print(f"web4rl: {threads} torch CPU thread(s) ({os.cpu_count()} cores{load}; "
          "OMP_NUM_THREADS=N chooses)", file=sys.stderr)


# ---------------------------------------------------------------------------- parser errors
_SKIP = re.compile(r"^(Does not validate against any of the Union subtypes|Subtypes: .*|Errors:|"
                   r"Given value type: .*|Expected a path but .* either not accessible or invalid)$")


def condense_parser_error(message: str) -> tuple[str, str] | None:
    """(config key, problem) from jsonargparse's nested error text, or None when its shape is
    not recognised (the raw text is then shown)."""
    if m := re.match(r"^unrecognized arguments: .*?--([\w.\[\]]+)", message.strip()):
        return m.group(1), "unknown option"
    key: list[str] = []
    class_path: str | None = None
    leaf = None
    for raw in message.splitlines():
        line = raw.strip()
        line = line[2:] if line.startswith("- ") else line
        if not line or _SKIP.match(line):
            continue
        if m := re.match(r'^Parser key "([^"]+)":?$', line):
            if class_path is not None and key:
                key.append(("." if _is_dataclass(class_path) else ".init_args.") + m.group(1))
            else:
                key.append(m.group(1))
            class_path = None
            continue
        if m := re.match(r"^Problem with given class_path '([^']+)':$", line):
            class_path = m.group(1)
            continue
        leaf = line
        break
    if not key or leaf is None:
        return None
    path = "".join(key)
    if m := re.match(r"^Option '([^']+)' is not accepted$", leaf):
        sep = "." if class_path and _is_dataclass(class_path) else ".init_args."
        return path + sep + m.group(1), f"unknown option (not a parameter of {class_path})"
    if m := re.match(r"^Expected a (.+?)\. Got value: (.*)$", leaf):
        return path, f"expected {_type_name(m.group(1))}, got {m.group(2)!r}"
    if m := re.match(r"^Expected a (.+)$", leaf):
        given = re.search(r"^\s*Given value: (.*)$", message, re.M)
        got = f", got {given.group(1)!r}" if given else ""
        return path, f"expected {_type_name(m.group(1))}{got}"
    if m := re.match(r"^module '([^']+)' has no attribute '([^']+)'$", leaf):
        return path, f"class_path {m.group(1)}.{m.group(2)} does not exist"
    return path, leaf


def _type_name(text: str) -> str:
    return re.sub(r"<class '(?:builtins\.)?([^']+)'>", r"\1", text)


def _is_dataclass(class_path: str) -> bool:
    import dataclasses

    from web4rl.options import import_class

    cls = import_class(class_path)
    return cls is not None and dataclasses.is_dataclass(cls)


class Web4Parser(LightningArgumentParser):
    """Reports parse errors as ``web4rl: error: <key>: <problem>`` instead of the usage text
    and jsonargparse's nested union report."""

    def error(self, message: str, ex: Exception | None = None):  # type: ignore[override]
        if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):
            return super().error(message, ex)
        condensed = condense_parser_error(message)
        text = f"{condensed[0]}: {condensed[1]}" if condensed else message.strip()
        if "arguments are required" in text:
            text += " (start from a shipped config, e.g. --config orpo_cpu.yaml; " \
                    "python -m web4rl configs lists them)"
        parser = getattr(ex, "subcommand_parser", None) or self
        prog = parser.prog.replace(" [options]", "")
        sys.stderr.write(f"web4rl: error: {text}\n"
                         f"(all options: {prog} --help; one class: --model.help CLASS_PATH)\n")
        self.exit(2)


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
        if _runs_on_cpu(trainer.get("accelerator")):
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


def _runs_on_cpu(accelerator: Any) -> bool:
    if accelerator == "cpu":
        return True
    if accelerator not in (None, "auto"):
        return False
    import torch

    return not (torch.cuda.is_available() or torch.backends.mps.is_available())


# ---------------------------------------------------------------------------- errors
class InputError(ValueError):
    """A mistake in what the user gave (reported as one line, exit code 2)."""


def _input_errors() -> tuple[type[BaseException], ...]:
    from web4rl.data import DataValidationError
    from web4rl.models import ModelSourceError
    from web4rl.options import OptionError
    from web4rl.policy import PolicyConfigError

    return (InputError, OptionError, DataValidationError, PolicyConfigError, ModelSourceError,
            FileExistsError)


def _raised_by_parser(err: BaseException) -> bool:
    """True when ``err`` was raised inside jsonargparse, i.e. the config parser wrapping an
    error of a constructor it called."""
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__", "").startswith("jsonargparse")


def find_input_error(err: BaseException) -> BaseException | None:
    """The input mistake ``err`` reports, or None. Follows only the causes the config parser
    attaches (``raise ... from``) to a constructor's error, never an unrelated ``__context__``:
    a failed model load must show its own error, not some FileNotFoundError inside it."""
    kinds = _input_errors()
    current: BaseException | None = err
    while current is not None:
        if isinstance(current, kinds):
            return current
        if not _raised_by_parser(current):
            return None
        current = current.__cause__
    return None


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


def resolve_config_args(argv: list[str]) -> list[str]:
    """Replace each ``--config``/``-c`` value by a readable YAML file (a path as given, or a
    shipped config by bare name, printed once), checking that it parses as a mapping.

    Raises:
        InputError: an unknown name (with the closest shipped names) or a file that is not a
            YAML mapping (with its line).
    """
    import yaml

    from web4rl.shipped_configs import resolve_config

    out = list(argv)
    for i, arg in enumerate(argv):
        if arg in {"-c", "--config"} and i + 1 < len(argv):
            j, value = i + 1, argv[i + 1]
        elif arg.startswith("--config="):
            j, value = i, arg.split("=", 1)[1]
        else:
            continue
        try:
            path = resolve_config(value)
        except FileNotFoundError as err:
            raise InputError(str(err)) from None
        if path.is_dir():
            raise InputError(f"config file {value} is a directory")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise InputError(f"{value}: not UTF-8 text ({err.reason} at byte {err.start})") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err)
            raise InputError(f"{value}{where}: not valid YAML ({problem})") from None
        if not isinstance(data, dict):
            raise InputError(f"{value}: expected a mapping of options (trainer:, model:, data:), "
                             f"got {type(data).__name__}")
        if str(path) != value:
            print(f"web4rl: config {value} -> {path}", file=sys.stderr)
            resolved = str(path)
            out[j] = resolved if j != i else f"--config={resolved}"
    return out


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
