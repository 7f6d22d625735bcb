"""Command line: ``python -m web4rl fit|validate|test --config ...`` (LightningCLI) plus the
non-Trainer tools as subcommands (``sim``, ``score``).

Models and data are chosen by ``class_path`` in YAML; constructor signatures are the schema, so
``--print_config`` shows every option and an unknown key is rejected with its name.
"""

from __future__ import annotations

import importlib
import netrc
import os
import sys
from pathlib import Path

from lightning.pytorch.cli import LightningCLI

# Subcommands that are not Trainer runs: name -> "module:function" taking argv, returning int.
TOOL_COMMANDS = {
    "sim": ("web4rl.sim.cli:main", "play, list, validate and replay simulator episodes"),
    "score": ("web4rl.judges.cli:main", "score sampled completions with the automated judge"),
    "adapters": ("web4rl.adapters.cli:main", "merge, average, stack, export (safetensors/GGUF), model card"),
    "pipeline": ("web4rl.pipeline.cli:main", "Stage 0 -> 4 end to end with exit criteria (resumable)"),
}


def _has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def configure_wandb_mode() -> None:
    """Log offline (to ./wandb, sync later with `wandb sync`) when no W&B credentials exist,
    so a run never blocks on a login prompt or fails without network. An explicit WANDB_MODE
    always wins."""
    if "WANDB_MODE" not in os.environ and not _has_wandb_credentials():
        os.environ["WANDB_MODE"] = "offline"
        print("web4rl: no W&B API key found; logging offline (WANDB_MODE=offline)", file=sys.stderr)


class Web4CLI(LightningCLI):
    """LightningCLI with web4rl defaults: any PolicyModule / LightningDataModule by class_path."""

    def before_instantiate_classes(self) -> None:
        """Read and check the data files before the model is built: a bad row in a 7B run
        should cost seconds, not a model load."""
        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        data = config.get("data")
        if data is None or not getattr(data, "class_path", None):
            return
        module_name, _, cls_name = data.class_path.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        if callable(getattr(cls, "validate", None)):
            cls(**dict(data.init_args or {})).validate()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subclass_mode_model", True)
        kwargs.setdefault("subclass_mode_data", True)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("parser_kwargs", {"prog": "python -m web4rl"})
        super().__init__(*args, **kwargs)


def _run_tool(name: str, argv: list[str]) -> int:
    target, _ = TOOL_COMMANDS[name]
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        print(f"web4rl {name}: not available in this installation ({err})", file=sys.stderr)
        return 2
    return int(getattr(module, func_name)(argv) or 0)


def _usage() -> str:
    tools = "\n".join(f"  {n:<9} {help_}" for n, (_, help_) in TOOL_COMMANDS.items())
    return (
        "usage: python -m web4rl {fit,validate,test} --config CONFIG.yaml [--key value ...]\n"
        "       python -m web4rl TOOL [args ...]\n\n"
        "Trainer commands (LightningCLI; add --help or --print_config):\n"
        "  fit       train a model\n  validate  run the validation loop\n"
        "  test      run the test loop\n\nTools:\n" + tools + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if argv[0] in TOOL_COMMANDS:
        return _run_tool(argv[0], argv[1:])
    for i, arg in enumerate(argv):  # name the config file in errors before parsing
        if arg in {"-c", "--config"} and i + 1 < len(argv) and not Path(argv[i + 1]).is_file():
            print(f"web4rl: config file {argv[i + 1]} does not exist", file=sys.stderr)
            return 2
    configure_wandb_mode()
    from web4rl.data import DataValidationError
    from web4rl.policy import PolicyConfigError

    input_errors = (DataValidationError, PolicyConfigError, FileExistsError, FileNotFoundError)
    try:
        # From the shell LightningCLI reads sys.argv itself (passing it too makes it warn).
        Web4CLI(args=None if from_command_line else argv)
    except Exception as err:
        # Input mistakes get their own message, not a traceback (jsonargparse wraps errors
        # raised while building classes, so look down the cause chain). Nothing was written.
        cause: BaseException | None = err
        while cause is not None and not isinstance(cause, input_errors):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        print(f"web4rl: error: {cause}", file=sys.stderr)
        return 2
    return 0
