"""What the user gave the CLI: config files, parser errors and input mistakes.

Every mistake in the input ends in one ``web4rl: error: <key>: <problem>`` line and exit
code 2 (see :mod:`web4rl.cli`, which re-exports these names):

- :func:`resolve_config_args`: ``--config`` values to readable YAML mappings (bare names of
  shipped configs included);
- :class:`Web4Parser`: jsonargparse's nested errors condensed to the config key and problem;
- :func:`find_input_error`: whether an exception a run raised is an input mistake
  (:class:`InputError` and the library's own validation errors) or a real failure.
"""

from __future__ import annotations

import os
import re
import sys

from lightning.pytorch.cli import LightningArgumentParser


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



# ---------------------------------------------------------------------------- config files
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
