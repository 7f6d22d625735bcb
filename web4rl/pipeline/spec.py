"""The pipeline file (``configs/pipeline_<hw>.yaml``): what runs, in which order, judged how.

Example (the shape of ``configs/pipeline_cpu.yaml``)::

    run_dir: runs/pipeline_cpu          # every stage's config, logs, adapter and report
    model: web4rl/tiny                  # base model of every stage
    init_adapter: null                  # e.g. the Web4 SFT.lora to start Stage 0 from
    stages:
      - {name: sft,  stage: 0, config: sft_cpu.yaml, overrides: [--trainer.max_steps, "150"]}
      - {name: orpo, stage: 1, config: orpo_cpu.yaml}
      - {name: awr,  stage: 2, config: awr_cpu.yaml,
         sample: {prompts: null, limit: 64, n: 2, temperatures: [0.6, 1.0], max_new_tokens: 64}}
      - {name: grpo, stage: 3, config: grpo_cpu.yaml}
    evaluation: {limit: 32, tasks: 5, max_new_tokens: 64}
    exit: {gates: [guardrail_violation_rate], max_regression: 0.1}
    export: {format: gguf, type: q8_0}

Every key is checked on load; a mistake names the file and the key path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from web4rl.metrics import GateThresholds

STAGE_ALGORITHMS = {0: ("sft",), 1: ("orpo", "dpo"), 2: ("rs_sft", "awr"), 3: ("grpo", "ppo")}
# Names GateThresholds.check reports (DESIGN.md section 6).
GATE_NAMES = ("json_validity", "schema_compliance", "lint_pass", "ast_correctness", "naming",
              "guardrail_violation_rate", "distinct_unigram_ratio", "self_bleu", "token_kl",
              "length_ratio")


class PipelineSpecError(ValueError):
    """A pipeline file that cannot run (names the file and the key)."""


@dataclass(frozen=True)
class SampleSpec:
    """Stage 2 sampling from the previous stage's adapter (``python -m web4rl sample``).

    Attributes:
        prompts: JSONL of prompts (None: the shipped SFT data's train-split prompts).
        limit: first N distinct prompts.
        n: completions per prompt and temperature.
        temperatures: sampling temperatures.
        max_new_tokens: completion cap.
    """

    prompts: str | None = None
    limit: int | None = 64
    n: int = 4
    temperatures: tuple[float, ...] = (0.6, 0.8, 1.0, 1.2)
    max_new_tokens: int = 128


@dataclass(frozen=True)
class StageSpec:
    """One training stage: a ``fit`` run continuing the previous stage's adapter.

    Attributes:
        name: directory name under run_dir and the adapter's name in reports.
        stage: 0 (SFT), 1 (ORPO/DPO), 2 (RS-SFT/AWR), 3 (GRPO/PPO).
        config: a training config (shipped name like ``orpo_cpu.yaml`` or a path).
        overrides: extra ``--key value`` arguments for ``fit``.
        sample: Stage 2 only: how the training samples are drawn.
    """

    name: str
    stage: int
    config: str
    overrides: tuple[str, ...] = ()
    sample: SampleSpec | None = None

    @property
    def algorithm(self) -> str:
        stem = Path(self.config).stem
        return next((a for a in sorted(STAGE_ALGORITHMS[self.stage], key=len, reverse=True)
                     if stem.startswith(a + "_") or stem == a), stem.split("_")[0])


@dataclass(frozen=True)
class EvaluationSpec:
    """``python -m web4rl evaluate`` settings after every stage.

    Attributes:
        limit: evaluation prompts (first N of the shipped held-out set or ``eval_file``).
        tasks: held-out simulator tasks.
        max_new_tokens: completion cap.
        eval_file: own evaluation JSONL.
    """

    limit: int | None = 32
    tasks: int = 5
    max_new_tokens: int = 128
    eval_file: str | None = None


@dataclass(frozen=True)
class ExitSpec:
    """The seed's exit criteria: gates that must pass, and no regression vs the previous stage.

    Attributes:
        gates: gate names that must pass after each stage (DESIGN.md section 6 names).
        thresholds: overrides of :class:`~web4rl.metrics.GateThresholds` fields.
        max_regression: allowed drop of each compared value vs the previous stage.
        compare: values compared for regression (keys of the evaluation's values).
    """

    gates: tuple[str, ...] = ("json_validity", "schema_compliance", "guardrail_violation_rate")
    thresholds: dict[str, float] = field(default_factory=dict)
    max_regression: float = 0.05
    compare: tuple[str, ...] = ("json_validity", "reward_mean")


@dataclass(frozen=True)
class ExportSpec:
    """Stage 4 export of the selected adapter (``python -m web4rl adapters export``).

    Attributes:
        format: safetensors or gguf.
        type: GGUF tensor type (f32, f16, bf16, q8_0).
    """

    format: str = "gguf"
    type: str = "q8_0"


@dataclass(frozen=True)
class PipelineSpec:
    """The whole pipeline file (see the module docstring)."""

    run_dir: str
    stages: tuple[StageSpec, ...]
    model: str = "web4rl/tiny"
    init_adapter: str | None = None
    evaluation: EvaluationSpec = EvaluationSpec()
    exit: ExitSpec = ExitSpec()
    export: ExportSpec = ExportSpec()
    source: str = ""

    def thresholds(self) -> GateThresholds:
        return GateThresholds(**self.exit.thresholds)


def _build(cls, data: Any, where: str):
    """Instantiate dataclass ``cls`` from a mapping, naming ``where`` on any mistake."""
    if not isinstance(data, dict):
        raise PipelineSpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields) - {"source"})
    if unknown:
        raise PipelineSpecError(f"{where}.{unknown[0]}: unknown key (expected one of {', '.join(fields)})")
    kwargs = {}
    for key, value in data.items():
        nested = {"sample": SampleSpec, "evaluation": EvaluationSpec, "exit": ExitSpec,
                  "export": ExportSpec}.get(key)
        if nested is not None and value is not None:
            value = _build(nested, value, f"{where}.{key}")
        elif isinstance(value, list):
            value = tuple(str(v) if key == "overrides" else v for v in value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise PipelineSpecError(f"{where}: {err}") from None


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and check a pipeline file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineSpecError(f"pipeline file {path} does not exist") from None
    except yaml.YAMLError as err:
        raise PipelineSpecError(f"{path}: not valid YAML ({err})") from None
    raw_stages = (data or {}).get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise PipelineSpecError(f"{path}: stages: a non-empty list of stages is required")
    stages = tuple(_build(StageSpec, s, f"{path}: stages[{i}]") for i, s in enumerate(raw_stages))
    spec = _build(PipelineSpec, {**data, "stages": stages}, str(path))
    spec = dataclasses.replace(spec, source=str(path))
    names = [s.name for s in stages]
    for i, stage in enumerate(stages):
        where = f"{path}: stages[{i}]"
        if stage.stage not in STAGE_ALGORITHMS:
            raise PipelineSpecError(f"{where}.stage: {stage.stage} is not one of 0, 1, 2, 3")
        if stage.algorithm not in STAGE_ALGORITHMS[stage.stage]:
            raise PipelineSpecError(
                f"{where}.config: {stage.config} is a {stage.algorithm} config; stage {stage.stage} "
                f"runs {' or '.join(STAGE_ALGORITHMS[stage.stage])}")
        if (stage.stage == 2) != (stage.sample is not None):
            raise PipelineSpecError(f"{where}.sample: required for stage 2 and only there")
        if names.count(stage.name) > 1 or not stage.name.replace("_", "").isalnum():
            raise PipelineSpecError(f"{where}.name: {stage.name!r} must be unique and alphanumeric")
    unknown_gates = [g for g in spec.exit.gates if g not in GATE_NAMES]
    if unknown_gates:
        raise PipelineSpecError(f"{path}: exit.gates: {unknown_gates[0]!r} is not a gate "
                                f"(one of {', '.join(GATE_NAMES)})")
    try:
        spec.thresholds()
    except TypeError as err:
        raise PipelineSpecError(f"{path}: exit.thresholds: {err}") from None
    if spec.export.format not in ("gguf", "safetensors"):
        raise PipelineSpecError(f"{path}: export.format: {spec.export.format!r} is not gguf or safetensors")
    return spec
