"""EvalGates: gate metrics from generations during training; a critical gate triggers Rollback;
TrainingMonitor warns without stopping; export-adapter output loads with PEFT."""

import json
from types import SimpleNamespace

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import WandbLogger

from tests.helpers import cpu_trainer, sft_rows, write_jsonl
from web4rl.algorithms import SFT
from web4rl.callbacks import (
    EvalGates,
    GatedCheckpoint,
    Rollback,
    TrainingMonitor,
    fit_with_rollback,
)
from web4rl.callbacks.checkpoints import GATE_KEY, read_index
from web4rl.data import SFTDataModule
from web4rl.policy import LoraSettings, Policy

VALID = '{"tool": "read_file", "args": {"target_file": "src/app.ts"}}'


def eval_file(tmp_path, n=4):
    return str(write_jsonl(tmp_path / "eval.jsonl", [
        {"prompt": f"Read src/app{i}.ts", "category": "tool_use"} for i in range(n)]))


class StubGates(EvalGates):
    """Generation stub: valid tool calls, except invalid JSON at the steps in ``bad_steps``
    (each once)."""

    def __init__(self, *args, bad_steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.bad_steps = set(bad_steps)

    def generate(self, pl_module, prompts, seed):
        step = pl_module.trainer.global_step
        text = VALID
        if step in self.bad_steps:
            self.bad_steps.discard(step)
            text = '{"tool": "read_file", "args": '  # truncated: not JSON
        return [SimpleNamespace(text=text, completion_ids=torch.tensor([1, 2]),
                                logprobs=torch.tensor([-0.5, -0.5]), temperature=1.0)
                for _ in prompts]


def setup_run(tmp_path, gates, max_steps=6, extra=()):
    L.seed_everything(0)
    module = SFT(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)), lr=1e-2,
                 adapter_dir=str(tmp_path / "adapter"))
    data = SFTDataModule(train_files=str(write_jsonl(tmp_path / "sft.jsonl", sft_rows(16))),
                         batch_size=4, max_length=96, max_prompt_length=64)
    ckpt = GatedCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=2, save_top_k=-1,
                           filename="{step}")
    rollback = Rollback(max_rollbacks=2)
    trainer = cpu_trainer(tmp_path, max_steps=max_steps, limit_val_batches=0,
                          enable_checkpointing=True, callbacks=[gates, ckpt, rollback, *extra])
    return module, data, trainer, rollback


def test_invalid_json_from_the_generator_triggers_rollback(tmp_path):
    gates = StubGates(every_n_steps=2, eval_file=eval_file(tmp_path), bad_steps={4},
                      gates=["json_validity", "guardrail_violation_rate"])
    module, data, trainer, rollback = setup_run(tmp_path, gates)
    fit_with_rollback(trainer, module, data)
    assert len(rollback.events) == 1
    event = rollback.events[0]
    assert (event.step, event.restored_step) == (4, 2) and "JSON validity 0.0%" in event.reason
    assert trainer.global_step == 6  # continued after the restore
    index = {r["step"]: r for r in read_index(tmp_path / "ckpt").values()}
    assert index[2]["rollback_safe"] and index[6]["rollback_safe"]
    assert index[2]["gates"]["json_validity"] == 1.0 and index[2]["stage"] == "sft"
    ckpt = torch.load(tmp_path / "ckpt" / "step=2.ckpt", weights_only=True)
    assert ckpt[GATE_KEY]["rollback_safe"] is True
    assert trainer.callback_metrics["gate/json_validity"] == 1.0


def test_gate_values_are_judged_from_real_generations(tmp_path):
    """The real sampling path on the tiny model: values are rates in [0, 1] and are logged."""
    gates = EvalGates(every_n_steps=1, eval_file=eval_file(tmp_path), num_prompts=4,
                      max_new_tokens=8, safe_if="no_critical")
    module, data, trainer, _ = setup_run(tmp_path, gates, max_steps=1)
    trainer.fit(module, data)
    report = gates.latest
    assert report.step == 1 and 0.0 <= report.values["json_validity"] <= 1.0
    assert report.values["entropy"] > 0  # temperature-1 samples: -mean log p
    assert "gate/json_validity" in trainer.callback_metrics


def test_training_monitor_warns_and_never_stops(tmp_path, caplog):
    monitor = TrainingMonitor(grad_norm_max=0.0, plateau_steps=None)
    gates = StubGates(every_n_steps=2, eval_file=eval_file(tmp_path))
    module, data, trainer, _ = setup_run(tmp_path, gates, max_steps=3, extra=[monitor])
    with caplog.at_level("WARNING", logger="web4rl.monitor"):
        fit_with_rollback(trainer, module, data)
    assert trainer.global_step == 3 and monitor.count == 3
    assert {s for _, s, _ in monitor.fired} == {"grad_norm"}
    assert "grad norm" in caplog.text


def test_export_adapter_loads_with_peft(tmp_path):
    from peft import PeftModel

    from web4rl.cli import main
    from web4rl.tiny import build_tiny_model

    gates = StubGates(every_n_steps=0, eval_file=eval_file(tmp_path))
    module, data, trainer, _ = setup_run(tmp_path, gates, max_steps=2)
    fit_with_rollback(trainer, module, data)
    out = tmp_path / "exported"
    assert main(["export-adapter", "--ckpt", str(tmp_path / "ckpt" / "step=2.ckpt"),
                 "-o", str(out)]) == 0
    loaded = PeftModel.from_pretrained(build_tiny_model(seed=0), str(out))
    mine = {n: p for n, p in module.policy.model.named_parameters() if "lora_" in n}
    theirs = dict(loaded.named_parameters())
    assert mine and all(torch.equal(p, theirs[n]) for n, p in mine.items())
    # best adapter out (no monitor score: the newest safe checkpoint, here the final step)
    best = PeftModel.from_pretrained(build_tiny_model(seed=0), str(tmp_path / "adapter"))
    assert all(torch.equal(p, dict(best.named_parameters())[n]) for n, p in mine.items())
    # bad input: exit 2, a message, nothing written
    assert main(["export-adapter", "--ckpt", str(tmp_path / "nope.ckpt"), "-o",
                 str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4


@pytest.mark.parametrize("bad", ["{not json", '{"prompt": 3}'])
def test_bad_eval_file_names_file_and_line(tmp_path, bad, capsys):
    from web4rl.evaluation.evalset import EvalSetError, load_eval_prompts

    path = tmp_path / "e.jsonl"
    path.write_text('{"prompt": "ok"}\n' + bad + "\n")
    with pytest.raises(EvalSetError, match=r"e.jsonl:2"):
        load_eval_prompts(path)


def test_a_signal_the_starting_adapter_already_shows_does_not_roll_back(tmp_path):
    gates = StubGates(every_n_steps=2, eval_file=eval_file(tmp_path), bad_steps={0, 4})
    module, data, trainer, rollback = setup_run(tmp_path, gates)
    fit_with_rollback(trainer, module, data)
    assert gates.history[0].step == 0 and gates.history[0].values["json_validity"] == 0.0
    assert rollback.ignored == {"json"} and rollback.events == []
    assert trainer.global_step == 6


class TableRecorder(WandbLogger):
    """A WandbLogger that records tables instead of starting a W&B run."""

    def __init__(self, save_dir):
        super().__init__(save_dir=str(save_dir), offline=True)
        self.tables = []

    def log_table(self, key, columns=None, data=None, dataframe=None, step=None):
        self.tables.append((key, columns, data, step))

    def log_metrics(self, metrics, step=None):
        pass

    def log_hyperparams(self, params, *args, **kwargs):
        pass

    def after_save_checkpoint(self, checkpoint_callback):
        pass

    def finalize(self, status):
        pass


def test_samples_table_goes_to_wandb(tmp_path):
    gates = StubGates(every_n_steps=1, eval_file=eval_file(tmp_path), log_samples=2,
                      eval_at_start=False)
    recorder = TableRecorder(tmp_path)
    report = gates._verdict(7, {"json_validity": 1.0})
    report.samples = [{"prompt_id": "a", "category": "tool_use", "completion": VALID,
                       "reward": 1.0}]
    gates._log(SimpleNamespace(loggers=[recorder], callback_metrics={}, is_global_zero=True),
               None, report)
    key, columns, data, step = recorder.tables[-1]
    assert key == "gate/samples" and step == 7
    assert columns == ["step", "prompt_id", "category", "completion", "reward"]
    assert data == [[7, "a", "tool_use", VALID, 1.0]]
