"""The YAML configs shipped with the package, found by bare name (``orpo_a100.yaml`` or
``orpo_a100``) from any working directory.

Where they live: the repository's ``configs/`` is the one source (written by
``scripts/make_configs.py``). A built wheel carries a copy as package data in
``web4rl/configs/`` (``setup.py`` copies every file of ``configs/`` at build time); a source
checkout or editable install reads ``configs/`` next to the package directly.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent


class ConfigNotFound(FileNotFoundError):
    """A ``--config`` value that is neither a file nor the name of a shipped config."""


def configs_dir() -> Path:
    """``web4rl/configs`` in an installed wheel, else ``<repository>/configs``."""
    packaged = PACKAGE_DIR / "configs"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / "configs"


def shipped_configs() -> dict[str, Path]:
    """Name (file stem) -> path of every shipped config, sorted by name."""
    directory = configs_dir()
    if not directory.is_dir():
        return {}
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


def resolve_config(value: str) -> Path:
    """A path when ``value`` is an existing file, else the shipped config of that name.

    Raises:
        ConfigNotFound: naming the closest shipped configs.
    """
    path = Path(value).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise ConfigNotFound(f"config file {value} is a directory")
    shipped = shipped_configs()
    name = path.name[: -len(path.suffix)] if path.suffix in (".yaml", ".yml") else path.name
    # A bare name only: "configs/orpo_a100.yaml" also finds the shipped file when run elsewhere.
    if name in shipped and (path.parent == Path(".") or path.parent.name == "configs"):
        return shipped[name]
    close = difflib.get_close_matches(name, list(shipped), n=3, cutoff=0.5)
    hint = f"; closest shipped configs: {', '.join(close)}" if close else ""
    raise ConfigNotFound(
        f"config file {value} does not exist and is not a shipped config{hint} "
        "(python -m web4rl configs lists them all)"
    )


def describe(path: Path) -> dict[str, str]:
    """Algorithm, hardware, model and purpose of a config, from its content and header."""
    text = path.read_text(encoding="utf-8")
    header = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        data = {}
    purpose = next((h.split(":", 1)[-1].strip() for h in header[:1]), "")
    if "stages" in data:  # a pipeline file (python -m web4rl pipeline --config NAME)
        stages = " > ".join(str(s.get("name")) for s in data.get("stages") or [])
        return {"name": path.stem, "algorithm": "pipeline", "hardware": stages,
                "model": str(data.get("model", "?")), "purpose": purpose}
    model = data.get("model") or {}
    algorithm = str(model.get("class_path", "?")).rpartition(".")[2]
    policy = ((model.get("init_args") or {}).get("policy") or {}).get("init_args") or {}
    trainer = data.get("trainer") or {}
    strategy = trainer.get("strategy")
    if isinstance(strategy, dict):
        strategy = strategy.get("class_path", "").rpartition(".")[2]
    hardware = " ".join(
        str(v) for v in (trainer.get("accelerator"), strategy, trainer.get("precision")) if v
    )
    purpose = header[0].split(":", 1)[-1].strip() if header else ""
    return {"name": path.stem, "algorithm": algorithm, "hardware": hardware,
            "model": str(policy.get("model_name", "?")), "purpose": purpose}


def listing() -> str:
    """One line per shipped config (``python -m web4rl configs``)."""
    shipped = shipped_configs()
    if not shipped:
        return "no shipped configs found (expected them in web4rl/configs or configs/)\n"
    rows = [describe(p) for p in shipped.values()]
    width = {k: max(len(r[k]) for r in rows) for k in ("name", "algorithm", "hardware", "model")}
    lines = [f"Shipped configs ({configs_dir()}); run one with "
             "python -m web4rl fit --config NAME.yaml:"]
    for r in rows:
        lines.append(f"  {r['name']:<{width['name']}}  {r['algorithm']:<{width['algorithm']}}  "
                     f"{r['hardware']:<{width['hardware']}}  {r['model']:<{width['model']}}  "
                     f"{r['purpose']}")
    return "\n".join(lines) + "\n"
