"""What a CLI run does around training: where its config goes, progress without a terminal,
CPU threads, W&B credentials, and which errors count as input errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from web4rl import cli, cli_runtime
from web4rl.cli import choose_cpu_threads, main

ROOT = Path(__file__).resolve().parents[1]


def test_each_run_keeps_its_own_config_and_prints_progress_lines(tmp_path, monkeypatch, capsys):
    """Two short runs: each config lands in the run's own directory (never a shared
    runs/config.yaml that the next run overwrites), and with stdout not a terminal (capsys)
    progress comes as plain lines."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    for max_steps in ("2", "1"):
        assert main(["fit", "--config", "orpo_cpu.yaml", "--trainer.max_steps", max_steps,
                     "--trainer.limit_val_batches", "1", "--trainer.val_check_interval", "1",
                     "--data.init_args.batch_size", "2"]) == 0
    assert not (tmp_path / "runs" / "config.yaml").exists()
    first = yaml.safe_load((tmp_path / "runs/orpo_cpu/version_0/config.yaml").read_text())
    second = yaml.safe_load((tmp_path / "runs/orpo_cpu/version_1/config.yaml").read_text())
    assert (first["trainer"]["max_steps"], second["trainer"]["max_steps"]) == (2, 1)
    out = capsys.readouterr().out
    assert "web4rl: training: 2 batches" in out
    assert "web4rl: validation done in" in out and "val/loss" in out
    assert "web4rl: training finished in" in out
    assert "\r" not in out  # no tqdm redraws in a log


def test_progress_bar_not_doubled_when_configured(tmp_path, monkeypatch):
    from lightning.pytorch.callbacks import TQDMProgressBar

    seen = {}

    def fake_instantiate(self, config, callbacks):
        seen["callbacks"] = list(config.get("callbacks") or []) + list(callbacks)
        raise SystemExit(0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.LightningCLI, "_instantiate_trainer", fake_instantiate)
    with pytest.raises(SystemExit):
        main(["fit", "--config", "orpo_cpu.yaml",
              "--trainer.callbacks+=lightning.pytorch.callbacks.TQDMProgressBar"])
    names = [type(c).__name__ for c in seen["callbacks"]]
    assert names.count("TQDMProgressBar") == 1 and "PlainProgressBar" not in names
    assert any(isinstance(c, TQDMProgressBar) for c in seen["callbacks"])


@pytest.mark.parametrize("cores, busy, default, expected", [
    (2, 0.05, 2, 2),   # idle 2-core machine: both cores
    (2, 0.9, 2, 1),    # one other busy process: one thread (2 would be 5-9x slower)
    (2, 6.0, 2, 1),    # heavily shared: never below one
    (16, 2.0, 8, 8),   # big idle machine: torch's own default stays the cap
    (8, None, 8, 8),   # no way to tell: torch's default
])
def test_thread_choice(cores, busy, default, expected):
    assert choose_cpu_threads(cores, busy, default) == expected


def test_explicit_thread_setting_wins(monkeypatch):
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = torch.get_num_threads()
    monkeypatch.setattr(cli_runtime, "_busy_cores", lambda: pytest.fail("must not be measured"))
    cli.configure_cpu_threads()
    assert torch.get_num_threads() == before


def _netrc(tmp_path, host):
    path = tmp_path / "netrc"
    path.write_text(f"machine {host}\n  login user\n  password secret-key\n")
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize("base_url, netrc_host, expected", [
    (None, "api.wandb.ai", True),
    ("https://wandb.example.com", "wandb.example.com", True),   # self-hosted, logged in
    ("https://wandb.example.com:8443", "wandb.example.com", True),
    ("https://wandb.example.com", "api.wandb.ai", False),   # cloud key only: not for this server
    (None, "wandb.example.com", False),
])
def test_wandb_credentials_respect_base_url_and_netrc(base_url, netrc_host, expected, tmp_path,
                                                       monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no stray ~/.netrc
    monkeypatch.setenv("NETRC", _netrc(tmp_path, netrc_host))
    if base_url:
        monkeypatch.setenv("WANDB_BASE_URL", base_url)
    else:
        monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    assert cli_runtime._has_wandb_credentials() is expected
    monkeypatch.delenv("WANDB_MODE", raising=False)
    cli.configure_wandb_mode()
    assert ("WANDB_MODE" in __import__("os").environ) is (not expected)


def test_failed_model_load_keeps_its_own_error(tmp_path, monkeypatch):
    """A model load that fails while handling a FileNotFoundError must surface its own error
    (and traceback), not be shortened to the inner FileNotFoundError as an 'input error'."""
    monkeypatch.chdir(tmp_path)

    def failing_load(*args, **kwargs):
        try:
            raise FileNotFoundError("config.json")
        except FileNotFoundError:
            raise OSError("cannot load the model: weights are corrupt") from None

    monkeypatch.setattr("web4rl.policy.Policy._load_base", staticmethod(failing_load))
    with pytest.raises(Exception) as info:
        main(["fit", "--config", "sft_cpu.yaml"])
    assert "weights are corrupt" in "".join(
        str(e) for e in (info.value, info.value.__cause__) if e is not None)
    assert not (tmp_path / "runs").exists()


def test_parser_wrapped_input_error_is_found():
    """Only causes the config parser attaches are followed."""
    from web4rl.policy import PolicyConfigError

    inner = PolicyConfigError("policy.lora.target_modules: x not found")
    try:
        try:
            raise inner
        except PolicyConfigError as e:
            raise RuntimeError("unrelated wrapper") from e
    except RuntimeError as outer:
        assert cli.find_input_error(outer) is None  # not raised by jsonargparse: not followed
    assert cli.find_input_error(inner) is inner
