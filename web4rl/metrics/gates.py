"""Gate metrics (torchmetrics) and the one object holding every gate threshold.

Each gate metric is a rate: ``hits / total`` with both counters registered as
``add_state(..., dist_reduce_fx="sum")``, so the value after a DDP sync is exactly the rate
over the union of all ranks' samples (not a mean of per-rank rates). Inputs that are ``None``
or NaN mean "not applicable" (e.g. lint for a completion without code) and are skipped.
A metric with no applicable sample computes NaN, which :meth:`GateThresholds.check` reports
as "no data" instead of a pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torchmetrics import Metric


def _as_values(values: torch.Tensor | Sequence[float | bool | None]) -> torch.Tensor:
    """1-D float64 tensor of applicable values in [0, 1] (None/NaN dropped)."""
    if isinstance(values, torch.Tensor):
        t = values.detach().to(torch.float64).flatten()
    else:
        t = torch.tensor([float(v) for v in values if v is not None], dtype=torch.float64)
    t = t[~torch.isnan(t)]
    if t.numel() and (t.min() < 0 or t.max() > 1):
        raise ValueError(f"rate metric inputs must lie in [0, 1], got range [{t.min()}, {t.max()}]")
    return t


class RateMetric(Metric):
    """Share of applicable samples that pass: sum(values) / count(values).

    ``update(values)`` takes a tensor or a sequence of bools / floats in [0, 1] / None (skip).
    Fractional values (e.g. 2 of 3 snippets parse) count as partial hits.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("hits", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, values: torch.Tensor | Sequence[float | bool | None]) -> None:
        t = _as_values(values).to(self.hits.device)
        self.hits += t.sum()
        self.total += t.numel()

    def compute(self) -> torch.Tensor:
        if self.total == 0:
            return torch.tensor(float("nan"), dtype=torch.float64)
        return self.hits / self.total


class JSONValidity(RateMetric):
    """Share of tool-call outputs that decode as JSON in an accepted action form."""


class SchemaCompliance(RateMetric):
    """Share of tool-call outputs whose actions name a known tool with valid arguments."""


class LintPass(RateMetric):
    """Share of code outputs with no linter error (unavailable lint results are skipped)."""


class ASTCorrectness(RateMetric):
    """Share of code snippets that parse without a syntax error."""


class NamingConvention(RateMetric):
    """Share of code outputs that follow the naming conventions."""


class ToolSuccessRate(RateMetric):
    """Share of tool-call outputs that execute successfully in the mock workspace."""


class GuardrailViolationRate(RateMetric):
    """Share of outputs with a guardrail violation (lower is better)."""

    higher_is_better = False


class PlanMinimality(Metric):
    """Mean over samples of min(1, gold_steps / steps): 1.0 means no step beyond the gold plan.

    ``update(steps, gold_steps)``: per-sample counts; samples with 0 steps or no gold plan
    (gold None) are skipped. Sums are DDP-reduced, so the mean is over all ranks' samples.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("ratio_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, steps: Sequence[int], gold_steps: Sequence[int | None]) -> None:
        if len(steps) != len(gold_steps):
            raise ValueError(f"steps ({len(steps)}) and gold_steps ({len(gold_steps)}) differ")
        for s, g in zip(steps, gold_steps, strict=True):
            if g is None or s <= 0:
                continue
            self.ratio_sum += min(1.0, g / s)
            self.count += 1

    def compute(self) -> torch.Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64)
        return self.ratio_sum / self.count


def gate_metrics() -> dict[str, Metric]:
    """Fresh gate metrics keyed by their reporting name (same names for every algorithm)."""
    out: dict[str, Metric] = {
        "json_validity": JSONValidity(),
        "schema_compliance": SchemaCompliance(),
        "lint_pass": LintPass(),
        "ast_correctness": ASTCorrectness(),
        "naming": NamingConvention(),
        "tool_success": ToolSuccessRate(),
        "guardrail_violation_rate": GuardrailViolationRate(),
        "plan_minimality": PlanMinimality(),
    }
    return out


_COMPONENT_OF = {
    "json_validity": "json",
    "schema_compliance": "schema",
    "lint_pass": "lint",
    "ast_correctness": "ast",
    "naming": "naming",
    "tool_success": "tool_success",
    "guardrail_violation_rate": "guardrail",
}


def update_gate_metrics(
    metrics: Mapping[str, Metric], components: Iterable[Mapping[str, float | None]]
) -> None:
    """Feed judge components (one dict per sample, None = not applicable) into the metrics.

    ``plan_minimality`` reads the ``steps`` and ``gold_steps`` entries when present.
    """
    comps = list(components)
    for name, key in _COMPONENT_OF.items():
        if name in metrics:
            metrics[name].update([c.get(key) for c in comps])
    if "plan_minimality" in metrics:
        steps = [int(c.get("steps") or 0) for c in comps]
        gold = [None if c.get("gold_steps") is None else int(c["gold_steps"]) for c in comps]
        metrics["plan_minimality"].update(steps, gold)


@dataclass(frozen=True)
class GateResult:
    """Verdict of one gate.

    Attributes:
        name: metric name.
        value: measured value (NaN: no data).
        threshold: the bound it is compared with.
        passed: whether the bound holds (False when there is no data).
        critical: a critical bound is crossed (stop + roll back).
    """

    name: str
    value: float
    threshold: float
    passed: bool
    critical: bool = False


@dataclass
class GateSummary:
    """All gate results plus the overall verdicts.

    Attributes:
        results: one per reported gate.
        passed: every gate passed.
        critical: at least one critical bound crossed.
    """

    results: list[GateResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def critical(self) -> bool:
        return any(r.critical for r in self.results)


@dataclass(frozen=True)
class GateThresholds:
    """Every gate bound from DESIGN.md section 6, in one place (fractions, not percents).

    Attributes:
        json_validity_min: JSON validity must be >= this.
        schema_compliance_min: schema compliance >= this.
        lint_pass_min: lint pass rate >= this (1.0: every code output lints clean).
        ast_correctness_min: AST correctness >= this.
        naming_min: naming-convention compliance >= this.
        guardrail_violation_max: guardrail violation rate <= this.
        guardrail_violation_critical: above this: hard stop.
        json_validity_critical: below this: hard stop.
        distinct_unigram_ratio_min: distinct-1 of the policy / distinct-1 of the baseline >= this.
        self_bleu_max: self-BLEU of the policy's samples < this.
        token_kl_max: token-distribution KL(policy || baseline) < this.
        length_ratio_tolerance: mean length / baseline mean length within 1 +- this.
    """

    json_validity_min: float = 0.99
    schema_compliance_min: float = 0.97
    lint_pass_min: float = 1.0
    ast_correctness_min: float = 0.90
    naming_min: float = 0.95
    guardrail_violation_max: float = 0.01
    guardrail_violation_critical: float = 0.05
    json_validity_critical: float = 0.90
    distinct_unigram_ratio_min: float = 0.80
    self_bleu_max: float = 0.5
    token_kl_max: float = 0.3
    length_ratio_tolerance: float = 0.2

    def check(self, values: Mapping[str, float]) -> list[GateResult]:
        """Compare measured values (keys as in :func:`gate_metrics` / shift metric names:
        distinct_unigram_ratio, self_bleu, token_kl, length_ratio) with the bounds.

        Keys absent from ``values`` are not reported; NaN values fail as "no data".
        """
        out: list[GateResult] = []

        def add(name: str, bound: float, ok, critical=None) -> None:
            if name not in values:
                return
            v = float(values[name])
            if math.isnan(v):
                out.append(GateResult(name, v, bound, False))
                return
            out.append(GateResult(name, v, bound, bool(ok(v)), bool(critical and critical(v))))

        add(
            "json_validity",
            self.json_validity_min,
            lambda v: v >= self.json_validity_min,
            lambda v: v < self.json_validity_critical,
        )
        add(
            "schema_compliance",
            self.schema_compliance_min,
            lambda v: v >= self.schema_compliance_min,
        )
        add("lint_pass", self.lint_pass_min, lambda v: v >= self.lint_pass_min)
        add("ast_correctness", self.ast_correctness_min, lambda v: v >= self.ast_correctness_min)
        add("naming", self.naming_min, lambda v: v >= self.naming_min)
        add(
            "guardrail_violation_rate",
            self.guardrail_violation_max,
            lambda v: v <= self.guardrail_violation_max,
            lambda v: v > self.guardrail_violation_critical,
        )
        add(
            "distinct_unigram_ratio",
            self.distinct_unigram_ratio_min,
            lambda v: v >= self.distinct_unigram_ratio_min,
        )
        add("self_bleu", self.self_bleu_max, lambda v: v < self.self_bleu_max)
        add("token_kl", self.token_kl_max, lambda v: v < self.token_kl_max)
        add(
            "length_ratio",
            self.length_ratio_tolerance,
            lambda v: abs(v - 1.0) <= self.length_ratio_tolerance,
        )
        return out

    def summary(self, values: Mapping[str, float]) -> GateSummary:
        """:meth:`check` wrapped with the overall verdicts (all passed / any critical)."""
        return GateSummary(self.check(values))
