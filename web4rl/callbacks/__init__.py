"""Lightning callbacks: cross-cutting work that is not part of any one algorithm."""

from web4rl.callbacks.checkpoints import GatedCheckpoint, export_adapter
from web4rl.callbacks.gates import EvalGates, GateReport
from web4rl.callbacks.hardware import MatmulPrecision
from web4rl.callbacks.monitor import TrainingMonitor
from web4rl.callbacks.progress import PlainProgressBar
from web4rl.callbacks.rollback import Rollback, RollbackLimitReached, fit_with_rollback
from web4rl.callbacks.throughput import TokenThroughput, count_tokens

__all__ = [
    "EvalGates",
    "GateReport",
    "GatedCheckpoint",
    "MatmulPrecision",
    "PlainProgressBar",
    "Rollback",
    "RollbackLimitReached",
    "TokenThroughput",
    "TrainingMonitor",
    "count_tokens",
    "export_adapter",
    "fit_with_rollback",
]
