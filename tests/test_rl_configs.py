"""The PPO / GRPO configs: every one parses against the signatures; the cpu ones build."""

import pytest

from tests.test_cli import CONFIGS, ParseOnlyCLI
from web4rl.algorithms import GRPO, PPO
from web4rl.cli import Web4CLI
from web4rl.rollout import RolloutDataModule

RL_CONFIGS = [p for p in CONFIGS if p.stem.startswith(("ppo_", "grpo_"))]


def test_all_hardware_targets_have_rl_configs():
    names = {p.stem for p in RL_CONFIGS}
    assert names == {f"{a}_{h}" for a in ("ppo", "grpo")
                     for h in ("cpu", "smol_cpu", "m1max", "rtx4090", "a100", "ddp", "fsdp")}


@pytest.mark.parametrize("config", RL_CONFIGS, ids=lambda p: p.stem)
def test_rl_config_parses_with_design_numbers(config):
    cfg = ParseOnlyCLI(args=["fit", "--config", str(config)], run=True).config["fit"]
    model, data = cfg.model.init_args, cfg.data.init_args
    engine = data.engine.init_args
    assert cfg.trainer.gradient_clip_val is None and model.max_grad_norm == 1.0  # manual opt.
    smol = config.stem.endswith("_smol_cpu")  # SmolLM2 on 2 cores: 2 tasks x 4 per update
    assert data.episodes_per_update == (8 if smol else 16)
    assert model.clip == 0.2 and model.kl_coef == 0.05
    assert model.kl_target == 0.1 and engine.tools == "web4"
    if config.stem.startswith("ppo"):
        assert (model.epochs, model.minibatch_size, model.vf_coef, model.entropy_coef) == (
            4, 4, 0.5, 0.01)
        assert (model.gamma, model.lam, data.group_size) == (0.99, 0.95, 1)
    else:
        assert data.group_size == 4 and model.aggregation == "seq-mean-token-mean"
    if config.stem.endswith("_cpu"):
        assert model.policy.init_args.model_name == ("web4rl/smol" if smol else "web4rl/tiny")
    else:
        assert model.lr == 1e-6 and engine.max_turns == 20


@pytest.mark.parametrize("name,cls", [("ppo_cpu", PPO), ("grpo_cpu", GRPO)])
def test_cpu_rl_config_builds(name, cls):
    config = next(p for p in RL_CONFIGS if p.stem == name)
    cli = Web4CLI(args=["--config", str(config), "--trainer.logger", "false"], run=False)
    assert isinstance(cli.model, cls) and isinstance(cli.datamodule, RolloutDataModule)
    assert cli.datamodule.heldout and cli.datamodule.engine.max_turns == 6
