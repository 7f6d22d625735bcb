"""torchmetrics for the evaluation gates and for distribution shift against a baseline.

Gate metrics (rates, DDP-summed): JSONValidity, SchemaCompliance, LintPass, ASTCorrectness,
NamingConvention, ToolSuccessRate, GuardrailViolationRate, PlanMinimality; thresholds in
GateThresholds. Shift: DistinctN, SelfBLEU, TokenKL, MeanLengthRatio.
"""

from web4rl.metrics.gates import (
    ASTCorrectness,
    GateResult,
    GateSummary,
    GateThresholds,
    GuardrailViolationRate,
    JSONValidity,
    LintPass,
    NamingConvention,
    PlanMinimality,
    RateMetric,
    SchemaCompliance,
    ToolSuccessRate,
    gate_metrics,
    update_gate_metrics,
)
from web4rl.metrics.shift import DistinctN, MeanLengthRatio, SelfBLEU, TokenKL

__all__ = [
    "ASTCorrectness",
    "DistinctN",
    "GateResult",
    "GateSummary",
    "GateThresholds",
    "GuardrailViolationRate",
    "JSONValidity",
    "LintPass",
    "MeanLengthRatio",
    "NamingConvention",
    "PlanMinimality",
    "RateMetric",
    "SchemaCompliance",
    "SelfBLEU",
    "TokenKL",
    "ToolSuccessRate",
    "gate_metrics",
    "update_gate_metrics",
]
