"""TrainingMonitor signals on a fake trainer (no model): gate regression vs the first gate
evaluation, plateau, validation loss rising while training loss falls, perplexity bounds."""

from types import SimpleNamespace

import torch

from web4rl.callbacks import TrainingMonitor


def fake_trainer(step, metrics, gate_values=None, gate_step=None):
    gates = SimpleNamespace(latest=SimpleNamespace(step=gate_step, values=gate_values or {}))
    return SimpleNamespace(global_step=step, is_global_zero=True, loggers=[],
                           sanity_checking=False, callbacks=[gates] if gate_values else [],
                           callback_metrics={k: torch.tensor(v) for k, v in metrics.items()})


def test_gate_regression_against_the_first_evaluation():
    mon = TrainingMonitor()
    mon.on_train_batch_end(fake_trainer(0, {}, {"json_validity": 1.0,
                                                "guardrail_violation_rate": 0.0}, 0), None,
                           None, None, 0)
    # json 1.0 -> 0.96 is a 4% drop (fine); guardrail 0 -> 0.06 is 6 points (warn)
    mon.on_train_batch_end(fake_trainer(50, {}, {"json_validity": 0.96,
                                                 "guardrail_violation_rate": 0.06}, 50), None,
                           None, None, 0)
    assert [s for _, s, _ in mon.fired] == ["gate_regression/guardrail_violation_rate"]
    mon.on_train_batch_end(fake_trainer(100, {}, {"json_validity": 0.90,
                                                  "guardrail_violation_rate": 0.0}, 100), None,
                           None, None, 0)
    assert mon.fired[-1][1] == "gate_regression/json_validity" and mon.count == 2


def test_plateau_overfitting_and_perplexity():
    mon = TrainingMonitor(plateau_steps=100, ppl_max=20.0, ppl_min=2.0)
    mon.on_validation_end(fake_trainer(10, {"val/loss": 1.0, "train/loss": 1.2,
                                            "val/ppl": 30.0}), None)
    assert [s for _, s, _ in mon.fired] == ["perplexity"]
    mon.on_validation_end(fake_trainer(60, {"val/loss": 1.1, "train/loss": 1.0,
                                            "val/ppl": 3.0}), None)
    assert mon.fired[-1][1] == "overfitting"
    mon.on_validation_end(fake_trainer(120, {"val/loss": 1.05, "train/loss": 1.1}), None)
    assert mon.fired[-1][1] == "plateau" and mon.count == 3
    mon.on_validation_end(fake_trainer(130, {"val/loss": 1.05, "train/loss": 1.2}), None)
    assert mon.count == 3  # one plateau warning per best value, not one per validation
