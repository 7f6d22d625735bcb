"""The judge's reward arithmetic: component weights and normalization to [0, 1].

Normalization (documented here because the reward's meaning depends on it):

    positive = sum_i w_i * c_i / sum_i w_i    over applicable positive components
               (1.0 when none applies and the completion is non-empty, 0.0 when empty)
    penalty  = sum_j |w_j| * p_j              over penalty components
               (verbosity counted in units, capped at ``max_verbosity_units``)
    reward   = clip(positive - penalty, 0, 1)

So weights of positive components are relative (a perfect output scores 1 whatever subset
applies), and a penalty weight is in reward units: a guardrail violation (2.0) always drives
the reward to 0, each extra step costs 0.1, an off-policy sequence up to 0.5. DESIGN.md
section 6 gives json, schema, tool success, lint, AST, guardrail, verbosity and off-policy
weights; the others are this module's additions, also configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

POSITIVE = (
    "json",
    "schema",
    "tool_success",
    "task_success",
    "lint",
    "ast",
    "naming",
    "types",
    "refusal",
)
PENALTIES = (
    "guardrail",
    "needless_refusal",
    "verbosity",
    "off_policy",
    "length_gaming",
    "prompt_copy",
    "tool_spam",
    "semantic_mismatch",
)


@dataclass(frozen=True)
class JudgeWeights:
    """Weights of the judge components (positive: credit, negative: penalty per unit).

    Attributes are named after the components (see the module docstring). Defaults for json,
    schema, tool_success, lint, ast, guardrail, verbosity and off_policy are DESIGN.md section 6;
    the rest are ours. ``max_verbosity_units`` caps the verbosity count.
    """

    json: float = 1.0
    schema: float = 1.0
    tool_success: float = 1.0
    task_success: float = 1.0
    lint: float = 1.0
    ast: float = 0.5
    naming: float = 0.5
    types: float = 0.5
    refusal: float = 1.0
    guardrail: float = -2.0
    needless_refusal: float = -0.5
    verbosity: float = -0.1
    off_policy: float = -0.5
    length_gaming: float = -0.3
    prompt_copy: float = -0.3
    tool_spam: float = -0.3
    semantic_mismatch: float = -0.5
    max_verbosity_units: int = 10

    def __post_init__(self) -> None:
        for name in POSITIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"judge weight {name} must be >= 0, got {getattr(self, name)}")
        for name in PENALTIES:
            if getattr(self, name) > 0:
                raise ValueError(f"judge weight {name} must be <= 0, got {getattr(self, name)}")


def normalize(
    comps: Mapping[str, float | None], w: JudgeWeights, nonempty: bool = True
) -> tuple[float, float, float]:
    """(reward, positive, penalty) as documented in the module docstring."""
    num = den = 0.0
    for name in POSITIVE:
        v = comps.get(name)
        if v is not None and getattr(w, name) > 0:
            num += getattr(w, name) * v
            den += getattr(w, name)
    positive = num / den if den > 0 else (1.0 if nonempty else 0.0)
    penalty = 0.0
    for name in PENALTIES:
        v = comps.get(name)
        if v is None:
            continue
        if name == "verbosity":
            v = min(v, w.max_verbosity_units)
        penalty += -getattr(w, name) * v
    return min(1.0, max(0.0, positive - penalty)), positive, penalty


def weights_from_dict(d: Mapping[str, float]) -> JudgeWeights:
    """Override default weights by name (unknown names are an error naming them)."""
    known = set(asdict(JudgeWeights()))
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown judge weight(s) {unknown}; known: {sorted(known)}")
    return JudgeWeights(**{**asdict(JudgeWeights()), **d})
