"""Real models (loaded from disk) train in train mode: gradient checkpointing recomputes,
LoRA dropout is on, and the reference pass stays deterministic (issue 17, item 1).

``from_pretrained`` returns a model in eval mode, and loading a frozen adapter puts the whole
PeftModel in eval mode; the tiny model built from its config does not, so every test here
loads the tiny model back from a ``save_pretrained`` directory, as a real run does.
"""

from __future__ import annotations

import lightning as L
import pytest
import torch

from tests.helpers import cpu_trainer, preference_rows, sft_rows, write_jsonl
from web4rl.algorithms import DPO, ORPO, SFT
from web4rl.data import PreferenceDataModule, SFTDataModule
from web4rl.generation import eval_mode
from web4rl.policy import LoraSettings, Policy
from web4rl.tiny import build_tiny_model, load_tiny_tokenizer


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The tiny base model and tokenizer written with save_pretrained (a 'real' model dir)."""
    path = tmp_path_factory.mktemp("tiny_pretrained")
    build_tiny_model(seed=0).save_pretrained(path)
    load_tiny_tokenizer().save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def adapter_dir(model_dir, tmp_path_factory):
    """A trained-looking adapter (lora_B != 0) saved in PEFT format, for init_adapter."""
    policy = Policy(model_dir, lora=LoraSettings(r=4, alpha=8, dropout=0.5))
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.05)
    return str(policy.save_adapter(tmp_path_factory.mktemp("adapters") / "sft.lora"))


class ModeProbe(L.Callback):
    """Records, during every training step, what the decoder layers and LoRA dropouts did.

    - ``forward_calls`` / ``backward_calls``: attention calls in the step's forward and in its
      backward (non-zero only when checkpointing recomputes the layer during backward; hooks sit
      on ``self_attn`` because transformers checkpoints the layer's ``forward``, not its call);
    - ``layer_modes``: ``training`` of every decoder layer on the gradient (policy) pass;
    - ``dropout_active``: LoRA dropout of the trainable adapter changed its input (grad pass);
    - ``reference_dropout_modes``: ``training`` of every LoRA dropout on no-grad passes.
    """

    def __init__(self) -> None:
        self.phase = None
        self.forward_calls: list[int] = []
        self.backward_calls: list[int] = []
        self.layer_modes: list[bool] = []
        self.dropout_active: list[bool] = []
        self.reference_dropout_modes: list[bool] = []
        self.handles = []

    def on_train_start(self, trainer, pl_module):
        model = pl_module.policy.model
        for name, module in model.named_modules():
            if type(module).__name__ == "Qwen2DecoderLayer":
                self.handles.append(module.register_forward_pre_hook(self._layer_pre))
                self.handles.append(module.self_attn.register_forward_pre_hook(self._attention))
            if "lora_dropout" in name and isinstance(module, torch.nn.Dropout):
                self.handles.append(module.register_forward_hook(self._dropout))

    def _attention(self, module, args):
        if self.phase == "forward" and torch.is_grad_enabled():
            self.forward_calls[-1] += 1
        elif self.phase == "backward":
            self.backward_calls[-1] += 1

    def _layer_pre(self, module, args):
        if self.phase == "forward" and torch.is_grad_enabled():
            self.layer_modes.append(module.training)

    def _dropout(self, module, args, output):
        if self.phase != "forward":
            return
        if torch.is_grad_enabled():
            self.dropout_active.append(module.training and not torch.equal(args[0], output))
        else:
            self.reference_dropout_modes.append(module.training)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.phase = "forward"
        self.forward_calls.append(0)
        self.backward_calls.append(0)

    def on_before_backward(self, trainer, pl_module, loss):
        self.phase = "backward"

    def on_after_backward(self, trainer, pl_module):
        self.phase = None

    def on_train_end(self, trainer, pl_module):
        for handle in self.handles:
            handle.remove()


class LeavesEvalMode(L.Callback):
    """Puts the policy in eval mode after every step, as a careless sampler or scorer would."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        pl_module.policy.eval()


def _data(kind, tmp_path):
    if kind == "sft":
        return SFTDataModule(train_files=str(write_jsonl(tmp_path / "sft.jsonl", sft_rows(8))),
                             batch_size=4, max_length=96, max_prompt_length=64)
    return PreferenceDataModule(
        train_files=str(write_jsonl(tmp_path / "pairs.jsonl", preference_rows(8))),
        batch_size=4, max_length=96, max_prompt_length=64)


@pytest.mark.parametrize("cls,kind,use_adapter", [
    (SFT, "sft", False), (DPO, "pref", False), (DPO, "pref", True), (ORPO, "pref", True),
])
def test_model_loaded_from_disk_trains_in_train_mode(cls, kind, use_adapter, model_dir,
                                                     adapter_dir, tmp_path):
    torch.manual_seed(0)
    policy = Policy(model_dir, lora=LoraSettings(r=4, alpha=8, dropout=0.5),
                    init_adapter=adapter_dir if use_adapter else None,
                    gradient_checkpointing=True)
    probe = ModeProbe()
    trainer = cpu_trainer(tmp_path, max_steps=2, limit_val_batches=1, callbacks=[probe, LeavesEvalMode()])
    # DPO: the per-step reference pass is what this test watches (not the precomputed table)
    extra = {"precompute_reference": False} if cls is DPO else {}
    trainer.fit(cls(policy=policy, lr=1e-3, warmup_ratio=0.0, **extra), _data(kind, tmp_path))

    n_layers = policy.model.config.num_hidden_layers
    assert len(probe.forward_calls) == 2
    # Checkpointing recomputes every decoder layer during backward (once per layer call).
    assert probe.backward_calls == probe.forward_calls
    assert all(calls >= n_layers for calls in probe.forward_calls)
    assert probe.layer_modes and all(probe.layer_modes)
    assert probe.dropout_active and all(probe.dropout_active)
    if cls is DPO and use_adapter:  # the frozen reference adapter runs without dropout
        assert probe.reference_dropout_modes and not any(probe.reference_dropout_modes)

    # After training: the reference pass is deterministic and every module keeps train mode.
    policy.train()
    ids = policy.tokenizer("Read src/App.tsx and grep TODO", return_tensors="pt")
    with policy.reference():
        first = policy(ids["input_ids"], ids["attention_mask"])
        second = policy(ids["input_ids"], ids["attention_mask"])
    assert torch.equal(first, second)
    assert all(m.training for m in policy.modules())


def test_reference_restores_each_modules_own_mode(model_dir, adapter_dir):
    """A frozen base kept in eval with a training adapter (or any mix) survives reference()."""
    for init_adapter in (None, adapter_dir):
        policy = Policy(model_dir, lora=LoraSettings(r=4, alpha=8, dropout=0.5),
                        init_adapter=init_adapter)
        policy.train()
        policy.model.get_base_model().model.layers[1].eval()
        before = {name: m.training for name, m in policy.named_modules()}
        assert not all(before.values()) and any(before.values())
        with policy.reference():
            assert not any(m.training for m in policy.modules())
        assert {name: m.training for name, m in policy.named_modules()} == before
        with policy.eval_mode():
            assert not any(m.training for m in policy.modules())
        assert {name: m.training for name, m in policy.named_modules()} == before


def test_eval_mode_restores_each_mode_after_an_error():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)).train()
    net[0].eval()
    with pytest.raises(RuntimeError), eval_mode(net):
        assert not any(m.training for m in net.modules())
        raise RuntimeError("boom")
    assert [m.training for m in net.modules()] == [True, False, True]


def test_policy_from_disk_starts_in_train_mode(model_dir, adapter_dir):
    """from_pretrained and load_adapter leave eval mode; the Policy starts in train mode like
    any nn.Module (and like the tiny model built from config), so Lightning finds no module in
    eval mode at the start of training."""
    for init_adapter in (None, adapter_dir):
        policy = Policy(model_dir, lora=LoraSettings(r=4, alpha=8), init_adapter=init_adapter)
        assert all(m.training for m in policy.modules())
