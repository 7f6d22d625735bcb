"""CPU smoke tests: every algorithm trains the LoRA weights and leaves the base untouched."""

import math

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, lora_and_base_params, preference_rows, sft_rows, write_jsonl
from web4rl.algorithms import DPO, ORPO, SFT
from web4rl.data import PreferenceDataModule, SFTDataModule
from web4rl.policy import LoraSettings, Policy


def make_policy():
    return Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8, dropout=0.0))


def make_data(kind, tmp_path, **kwargs):
    if kind == "sft":
        return SFTDataModule(train_files=str(write_jsonl(tmp_path / "sft.jsonl", sft_rows())),
                             batch_size=4, max_length=128, max_prompt_length=64, **kwargs)
    return PreferenceDataModule(
        train_files=str(write_jsonl(tmp_path / "pairs.jsonl", preference_rows())),
        batch_size=4, max_length=128, max_prompt_length=64, **kwargs)


@pytest.mark.parametrize("cls,kind,extra", [
    (SFT, "sft", {}), (ORPO, "pref", {"beta": 0.1}),
    (DPO, "pref", {"beta": 0.1, "precompute_reference": False}), (DPO, "pref", {}),
])
def test_algorithm_trains_lora_only(cls, kind, extra, tmp_path):
    torch.manual_seed(0)
    module = cls(policy=make_policy(), lr=1e-2, warmup_ratio=0.0, **extra)
    lora_before, base_before = lora_and_base_params(module)
    trainer = cpu_trainer(tmp_path, max_epochs=1, limit_train_batches=3, limit_val_batches=1)
    trainer.fit(module, make_data(kind, tmp_path))
    lora_after, base_after = lora_and_base_params(module)
    assert any(not torch.equal(lora_before[k], lora_after[k]) for k in lora_before)
    assert all(torch.equal(base_before[k], base_after[k]) for k in base_before)
    metrics = module.trainer.callback_metrics
    assert torch.isfinite(metrics["train/loss"]) and "val/loss" in metrics
    assert "train/grad_norm" in metrics and "train/lr" in metrics


def test_dpo_starts_at_ln2(tmp_path):
    """A fresh adapter has lora_B = 0, so policy = reference and the first loss is ln 2."""
    module = DPO(policy=make_policy())
    dm = make_data("pref", tmp_path)
    dm.set_tokenizer(module.policy.tokenizer)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    loss, metrics = module.compute_loss(batch)
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-6)
    assert metrics["reward_margin"].item() == pytest.approx(0.0, abs=1e-6)


def test_precomputed_reference_matches_online(tmp_path):
    module = DPO(policy=make_policy(), precompute_reference=True)
    trainer = cpu_trainer(tmp_path, max_steps=1, limit_val_batches=1)
    dm = make_data("pref", tmp_path)
    trainer.fit(module, dm)
    batch = next(iter(dm.train_dataloader()))
    module._reference_cache.clear()
    rng = torch.get_rng_state()
    module._precompute(("train",))  # the extra pass must leave the RNG streams untouched
    cached = module._reference_cache["train"][1][batch.index]
    assert torch.equal(rng, torch.get_rng_state())
    module._reference_cache.clear()
    with module.policy.reference():
        chosen, rejected = module._pair_logps(batch)
    assert torch.allclose(cached, torch.stack([chosen, rejected], 1), atol=1e-5)


class StopAfterFirstEpoch(L.Callback):
    """Interrupts a 2-epoch run after epoch 1, as a crash or preemption would."""

    def on_train_epoch_end(self, trainer, pl_module):
        trainer.should_stop = True


def test_checkpoint_holds_only_trainable_weights_and_resumes_exactly(tmp_path):
    """Two epochs straight == the same run interrupted after epoch one and resumed from its
    checkpoint (optimizer state, LR schedule position, epoch-seeded shuffle, RNG streams)."""

    def run(callbacks=(), ckpt_path=None, save=None):
        torch.manual_seed(0)
        module = ORPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)), lr=1e-2)
        trainer = cpu_trainer(tmp_path, max_epochs=2, limit_val_batches=0,
                              callbacks=list(callbacks))
        trainer.fit(module, make_data("pref", tmp_path), ckpt_path=ckpt_path)
        if save:
            trainer.save_checkpoint(save)
        return lora_and_base_params(module)[0]

    straight = run()
    run(callbacks=[StopAfterFirstEpoch()], save=tmp_path / "half.ckpt")
    state = torch.load(tmp_path / "half.ckpt", weights_only=True)["state_dict"]
    assert state and all("lora_" in k for k in state)
    resumed = run(ckpt_path=str(tmp_path / "half.ckpt"))
    assert all(torch.allclose(straight[k], resumed[k], atol=1e-6) for k in straight)


def test_adapter_dir_is_written_atomically_and_never_clobbered(tmp_path):
    out = tmp_path / "adapter"
    module = SFT(policy=make_policy(), adapter_dir=str(out))
    cpu_trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(module, make_data("sft", tmp_path))
    assert (out / "adapter_model.safetensors").is_file()
    before = (out / "adapter_model.safetensors").read_bytes()
    again = SFT(policy=make_policy(), adapter_dir=str(out))
    with pytest.raises(FileExistsError, match="already holds files"):
        cpu_trainer(tmp_path, max_steps=1).fit(again, make_data("sft", tmp_path))
    assert (out / "adapter_model.safetensors").read_bytes() == before
    # validate/test with the same config must still run after a finished fit
    cpu_trainer(tmp_path, limit_val_batches=1).validate(again, make_data("sft", tmp_path))
