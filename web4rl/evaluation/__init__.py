"""Evaluation: the evaluation set, generations through the one sampling path, judge, gate and
distribution-shift values, held-out task success, ``eval.json`` + markdown report.

``python -m web4rl evaluate`` (web4rl.evaluation.cli); the EvalGates callback reuses
:mod:`web4rl.evaluation.core` during training.
"""

from web4rl.evaluation.core import BaselineStats, GateAccumulator, Generated
from web4rl.evaluation.evalset import (
    EvalPrompt,
    EvalSetError,
    default_eval_prompts,
    heldout_tasks,
    load_eval_prompts,
)

__all__ = [
    "BaselineStats",
    "EvalPrompt",
    "EvalSetError",
    "GateAccumulator",
    "Generated",
    "default_eval_prompts",
    "heldout_tasks",
    "load_eval_prompts",
]
