"""The command line and the shipped configs."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from web4rl.cli import Web4CLI, main

ROOT = Path(__file__).resolve().parents[1]
# Trainer configs (pipeline_*.yaml chain them; tests/test_pipeline.py parses those).
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml") if not p.stem.startswith("pipeline_"))
# Online RL configs have their own schema checks (tests/test_rl_configs.py).
TRAIN_CONFIGS = [p for p in CONFIGS if not p.stem.startswith(("ppo_", "grpo_"))]


class ParseOnlyCLI(Web4CLI):
    """Parses and validates a config against the class signatures without building anything
    (the GPU configs name a 7B model that must not download in tests)."""

    def instantiate_classes(self) -> None:
        pass

    def _add_configure_optimizers_method_to_model(self, subcommand) -> None:
        pass

    def _run_subcommand(self, subcommand) -> None:
        pass


def test_every_hardware_and_algorithm_has_a_config():
    names = {p.stem for p in CONFIGS}
    for algorithm in ("sft", "orpo", "dpo", "rs_sft", "awr"):
        for hw in ("cpu", "m1max", "rtx4090", "a100", "ddp", "fsdp"):
            assert f"{algorithm}_{hw}" in names
    assert {"sft_smol_cpu", "orpo_smol_cpu", "dpo_smol_cpu", "rs_sft_smol_cpu", "awr_smol_cpu",
            "grpo_smol_cpu", "ppo_smol_cpu"} <= names


def test_configs_match_their_generator():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_configs.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("config", TRAIN_CONFIGS, ids=lambda p: p.stem)
def test_config_parses_against_signatures(config):
    cli = ParseOnlyCLI(args=["fit", "--config", str(config)], run=True)
    cfg = cli.config["fit"]
    hw = config.stem.rsplit("_", 1)[1]
    smol = config.stem.endswith("_smol_cpu")  # the real model on CPU (issue 13)
    policy = cfg.model.init_args.policy.init_args
    assert policy.lora.r == 16 and policy.lora.alpha == 32
    if hw == "cpu":
        assert policy.model_name == ("web4rl/smol" if smol else "web4rl/tiny")
        assert (cfg.trainer.max_steps > 0) == smol  # smol: a step budget, tiny: epochs
    else:
        assert cfg.model.init_args.lr in (5e-6, 2e-4, 3e-6)
        assert cfg.trainer.gradient_clip_val == 1.0
    if hw in ("rtx4090", "a100", "ddp", "fsdp"):
        assert cfg.trainer.precision == "bf16-mixed" and cfg.model.init_args.fused_adamw
    if hw == "m1max":
        assert cfg.trainer.accelerator == "mps" and cfg.trainer.precision == "16-mixed"
        assert policy.gradient_checkpointing
    if config.stem.startswith(("rs_sft_", "awr_")):  # Stage 2: DESIGN.md section 6 numbers
        assert cfg.data.init_args.mode == ("top1" if config.stem.startswith("rs_sft") else "weighted")
        assert cfg.trainer.max_epochs == 2 and cfg.model.init_args.warmup_ratio == 0.05
    batch = cfg.data.init_args.batch_size * cfg.trainer.accumulate_grad_batches
    expected = {"m1max": 16, "rtx4090": 16, "a100": 16, "cpu": 8, "ddp": 4, "fsdp": 4}[hw]
    assert batch == expected


def test_unknown_key_is_named(capsys):
    with pytest.raises(SystemExit):
        ParseOnlyCLI(args=["fit", "--config", str(ROOT / "configs/orpo_cpu.yaml"),
                           "--model.init_args.betta", "0.2"], run=True)
    assert "betta" in capsys.readouterr().err


def test_unknown_key_in_yaml_is_named(tmp_path, capsys):
    cfg = yaml.safe_load((ROOT / "configs/dpo_cpu.yaml").read_text())
    cfg["model"]["init_args"]["policy"]["init_args"]["lora"]["rank"] = 8
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    with pytest.raises(SystemExit):
        ParseOnlyCLI(args=["fit", "--config", str(bad)], run=True)
    assert "rank" in capsys.readouterr().err


def test_missing_config_file(capsys, tmp_path):
    assert main(["fit", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml does not exist" in capsys.readouterr().err


def test_print_config(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs/orpo_cpu.yaml"), "--print_config"])
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"] == "web4rl.algorithms.ORPO"
    assert printed["model"]["init_args"]["beta"] == 0.1


def test_help_lists_tools(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "fit" in out and "sim" in out and "score" in out
    assert "sample" in out and "pairs" in out


def test_cpu_fit_end_to_end(tmp_path, monkeypatch):
    """The quickstart command, cut to two steps: trains, checkpoints, writes the adapter."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    main(["fit", "--config", str(ROOT / "configs/orpo_cpu.yaml"), "--trainer.max_steps", "2",
          "--trainer.limit_val_batches", "2", "--data.init_args.batch_size", "2"])
    assert (tmp_path / "runs/orpo_cpu/adapter/adapter_model.safetensors").is_file()
    ckpt = tmp_path / "runs/orpo_cpu/checkpoints/last.ckpt"
    assert ckpt.is_file() and ckpt.stat().st_size < 5 * 2**20  # LoRA + optimizer, no base


def test_bad_data_is_reported_before_the_model_is_built(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "same", "rejected": "same"}\n{not json\n')
    monkeypatch.chdir(tmp_path)

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not be built when the data is bad")

    monkeypatch.setattr("web4rl.policy.Policy._load_base", staticmethod(no_model))
    code = main(["fit", "--config", str(ROOT / "configs/orpo_cpu.yaml"),
                 "--data.init_args.train_files", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "pairs.jsonl:1" in err and "pairs.jsonl:2" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs/orpo_cpu/adapter").exists()


def test_missing_adapter_is_a_clean_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["fit", "--config", str(ROOT / "configs/sft_cpu.yaml"),
                 "--model.init_args.policy.init_args.init_adapter", str(tmp_path / "SFT.lora")])
    assert code == 2
    assert "init_adapter: directory" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clean_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["test", "--config", str(ROOT / "configs/sft_cpu.yaml"),
                 "--ckpt_path", str(tmp_path / "nope.ckpt")])
    assert code == 2
    assert "nope.ckpt" in capsys.readouterr().err
