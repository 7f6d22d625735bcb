"""PPO and GRPO: learning on a bandit, exact resume, value head persistence."""

import pytest
import torch

from tests.bandit import BanditDataModule, bandit_success, favourite_text
from tests.helpers import cpu_trainer, lora_and_base_params
from web4rl.algorithms import GRPO, PPO
from web4rl.policy import LoraSettings, Policy


def _module(cls, tmp_path, **kwargs):
    policy = Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
    defaults = dict(lr=2e-2, warmup_ratio=0.0, epochs=2, minibatch_size=8, kl_coef=0.0,
                    adaptive_kl=False, adapter_dir=str(tmp_path / "adapter"))
    defaults.update(kwargs)
    return cls(policy=policy, **defaults)


@pytest.mark.parametrize("cls", [GRPO, PPO])
def test_online_rl_raises_bandit_reward(cls, tmp_path):
    """Reward 1 for answers not starting with the initial favourite token (~53% at
    temperature 0.1). A few dozen updates must lift the share on fresh samples (fixed seed)
    by at least 25 points; base weights stay."""
    torch.manual_seed(0)
    module = _module(cls, tmp_path)
    avoid = favourite_text(module.policy)
    before = bandit_success(module.policy, avoid)
    lora0, base0 = lora_and_base_params(module)
    dm = BanditDataModule(avoid, num_updates=20)
    trainer = cpu_trainer(tmp_path, max_epochs=1)
    trainer.fit(module, dm)
    after = bandit_success(module.policy, avoid)
    names = {"episode_return", "success_rate", "success_rate_simple", "episode_length", "kl",
             "entropy", "clip_fraction", "advantage_std", "rollout_seconds", "update_seconds",
             "grad_norm", "loss"}
    if cls is PPO:
        names |= {"value_loss", "explained_variance"}
    assert {f"train/{n}" for n in names} <= set(trainer.callback_metrics)
    assert after >= before + 0.25, (before, after, dm.rewards)
    lora1, base1 = lora_and_base_params(module)
    assert all(torch.equal(base0[k], base1[k]) for k in base0 if not k.startswith("value_head"))
    assert any(not torch.equal(lora0[k], lora1[k]) for k in lora0)
    if cls is PPO:
        assert (tmp_path / "adapter" / "value_head.pt").is_file()
        assert module.value_head.weight.abs().sum() > 0


def test_ppo_resume_mid_run_equals_uninterrupted(tmp_path):
    """4 PPO updates in one go vs 2 updates, a checkpoint, and a resumed run to 4: the LoRA
    weights, the value head and the KL coefficient are identical (adaptive KL on, so the
    controller state matters; minibatch order comes from the restored global RNG)."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    def run(root, max_steps=-1, ckpt=None, callbacks=()):
        torch.manual_seed(0)
        module = _module(PPO, root, kl_coef=0.05, adaptive_kl=True, kl_horizon=10)
        dm = BanditDataModule("zzz", num_updates=4, seed=7)
        trainer = cpu_trainer(root, max_epochs=1, max_steps=max_steps, callbacks=list(callbacks),
                              enable_checkpointing=bool(callbacks))
        trainer.fit(module, dm, ckpt_path=ckpt)
        return module

    full = run(tmp_path / "a")
    # 2 epochs x 2 minibatches = 4 optimizer steps per update: step 8 = after update 2.
    saver = ModelCheckpoint(dirpath=tmp_path / "ck", every_n_train_steps=8, save_top_k=-1)
    run(tmp_path / "b", max_steps=8, callbacks=[saver])  # interrupted after update 2
    ckpts = sorted((tmp_path / "ck").glob("*step=8*.ckpt"))
    assert ckpts, list((tmp_path / "ck").iterdir())
    resumed = run(tmp_path / "c", ckpt=str(ckpts[0]))
    a, b = dict(full.named_parameters()), dict(resumed.named_parameters())
    for name, p in a.items():
        if p.requires_grad:
            assert torch.equal(p, b[name]), name
    assert full.kl_ctl.value == resumed.kl_ctl.value != 0.05


def _two_bf16_mixed_updates(cls, tmp_path, accelerator: str) -> None:
    module = _module(cls, tmp_path)
    lora0, _ = lora_and_base_params(module)
    dm = BanditDataModule(favourite_text(module.policy), num_updates=2)
    cpu_trainer(tmp_path, accelerator=accelerator, precision="bf16-mixed",
                max_epochs=1).fit(module, dm)
    lora1, _ = lora_and_base_params(module)
    assert any(not torch.equal(lora0[k], lora1[k].to(lora0[k].device)) for k in lora0)
    if cls is PPO:
        assert module.value_head.weight.dtype == torch.float32


@pytest.mark.parametrize("cls", [GRPO, PPO])
def test_online_rl_bf16_mixed_on_cpu(cls, tmp_path):
    """Two updates under bf16-mixed on CPU, the precision of the smol_cpu configs (PPO's value
    head used to return bfloat16 under autocast into prepare()'s float32 buffer and crash)."""
    _two_bf16_mixed_updates(cls, tmp_path, "cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("cls", [GRPO, PPO])
def test_online_rl_bf16_mixed_on_gpu(cls, tmp_path):
    """Two updates on CUDA under bf16-mixed: rollouts, prepare and minibatch steps run on the
    device and the adapter changes."""
    _two_bf16_mixed_updates(cls, tmp_path, "gpu")
