"""Configs by bare name from any directory, the `configs` listing, and the packaged copy."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from web4rl.cli import InputError, main, resolve_config_args
from web4rl.shipped_configs import configs_dir, describe, resolve_config, shipped_configs

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_configs_are_the_repository_configs():
    assert configs_dir().resolve() == (ROOT / "configs").resolve()
    assert set(shipped_configs()) == {p.stem for p in (ROOT / "configs").glob("*.yaml")}


@pytest.mark.parametrize("value", ["orpo_a100.yaml", "orpo_a100", "configs/orpo_a100.yaml"])
def test_bare_name_resolves_from_another_directory(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config(value) == ROOT / "configs" / "orpo_a100.yaml"


def test_a_path_wins_over_a_shipped_name(tmp_path, monkeypatch):
    own = tmp_path / "orpo_a100.yaml"
    own.write_text("trainer: {}\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_config("orpo_a100.yaml") == Path("orpo_a100.yaml")
    assert resolve_config(str(own)) == own


def test_unknown_name_lists_the_closest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        resolve_config_args(["fit", "--config", "orpo_a10.yaml"])
    message = str(info.value)
    assert "orpo_a10.yaml does not exist" in message
    assert "closest shipped configs: orpo_a100" in message
    assert "python -m web4rl configs" in message


def test_resolved_path_is_printed_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = resolve_config_args(["fit", "--config", "dpo_cpu", "--config=sft_cpu.yaml"])
    assert argv == ["fit", "--config", str(ROOT / "configs/dpo_cpu.yaml"),
                    f"--config={ROOT / 'configs/sft_cpu.yaml'}"]
    err = capsys.readouterr().err
    assert err.count("dpo_cpu ->") == 1 and err.count("sft_cpu.yaml ->") == 1


def test_card_form_runs_from_another_directory_and_configs_compose(tmp_path, monkeypatch, capsys):
    """`fit --config orpo_a100.yaml` as the design card writes it, with a second file layered
    over it (later files override earlier ones)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "short.yaml").write_text("trainer:\n  max_epochs: 1\nmodel:\n  init_args:\n"
                                         "    beta: 0.25\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", "orpo_a100.yaml", "--config", "short.yaml", "--print_config"])
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"] == "web4rl.algorithms.ORPO"
    assert printed["model"]["init_args"]["beta"] == 0.25
    assert printed["trainer"]["max_epochs"] == 1
    assert printed["trainer"]["precision"] == "bf16-mixed"  # from orpo_a100.yaml
    assert not any(tmp_path.glob("runs"))


def test_configs_listing(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("  ")]
    assert len(lines) == len(shipped_configs())
    dpo_cpu = next(ln for ln in lines if ln.split()[0] == "dpo_cpu")
    for word in ("DPO", "cpu", "web4rl/tiny", "preference pairs"):
        assert word in dpo_cpu


def test_describe_reads_algorithm_hardware_model_and_purpose():
    row = describe(ROOT / "configs" / "sft_fsdp.yaml")
    assert row["algorithm"] == "SFT" and "LoraFSDPStrategy" in row["hardware"]
    assert row["model"].startswith("Qwen/") and "supervised fine-tuning" in row["purpose"]


def test_print_config_shows_every_option_and_help_shows_ranges(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--config", "dpo_cpu.yaml", "--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    init_args = printed["model"]["init_args"]
    for option in ("beta", "label_smoothing", "lr", "warmup_ratio", "min_lr_ratio", "betas"):
        assert option in init_args
    assert set(init_args["policy"]["init_args"]["lora"]) >= {"r", "alpha", "dropout"}
    with pytest.raises(SystemExit):
        main(["fit", "--model.help", "web4rl.algorithms.DPO"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "cDPO flip probability in [0, 0.5); 0 = plain DPO. Range: [0, 0.5)." in help_text
    assert "peak learning rate of AdamW. Range: >= 0." in help_text


def test_the_wheel_ships_the_repository_configs(tmp_path):
    """`pip install` users get configs/ as web4rl/configs/ (setup.py's build step), byte for
    byte, including any config added to configs/ later."""
    pytest.importorskip("setuptools")  # the build backend, used without build isolation
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("web4rl-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        packaged = {Path(n).name: zf.read(n) for n in zf.namelist()
                    if n.startswith("web4rl/configs/") and n.endswith(".yaml")}
    repository = {p.name: p.read_bytes() for p in (ROOT / "configs").glob("*.yaml")}
    assert packaged == repository


def test_print_config_with_comments_shows_the_ranges(capsys):
    """`--print_config=comments` (extra `comments`: ruamel.yaml) writes each option's help,
    range included, above it."""
    pytest.importorskip("ruamel.yaml")
    with pytest.raises(SystemExit):
        main(["fit", "--config", "dpo_cpu.yaml", "--print_config=comments"])
    out = capsys.readouterr().out
    assert "# cDPO flip probability in [0, 0.5); 0 = plain DPO. Range: [0, 0.5)." in out
    assert "Range: > 0." in out and "lr: 0.001" in out
