"""EvalGates: sample the evaluation prompts with the current adapter every N optimizer steps
and at each checkpoint, judge them, and log the gate metrics (DESIGN.md section 6).

Under DDP the K prompts are split across ranks (rank r takes prompts r, r + W, ...); the gate
metrics are torchmetrics with sum/cat states, so the synced values equal one process judging
all K. Generation goes through :meth:`Policy.sample` (the one sampling path) with a seed that
depends only on the step, so it never touches the global RNG (exact resume stays exact).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from lightning.pytorch import Callback
from lightning.pytorch.utilities import rank_zero_info

from web4rl.metrics import GateThresholds
from web4rl.options import constrain


@dataclass
class GateReport:
    """One evaluation: values, verdicts and whether it makes a checkpoint rollback-safe."""

    step: int
    values: dict[str, float]
    passed: bool
    critical: bool
    rollback_safe: bool
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)


@constrain(every_n_steps=">= 1", num_prompts=">= 1", temperature=">= 0", max_new_tokens=">= 1",
           batch_size=">= 1", log_samples=">= 0")
class EvalGates(Callback):
    """Evaluation gates during training.

    Args:
        every_n_steps: evaluate every this many optimizer steps (0: only at checkpoints).
        num_prompts: K prompts per evaluation (the first K of the set; split across ranks).
        eval_file: evaluation JSONL (see web4rl.evaluation.evalset); None = the shipped set
            (the held-out test split of the sample SFT data).
        temperature: sampling temperature; 1.0 also gives the entropy estimate ``gate/entropy``.
        max_new_tokens: completion length cap.
        batch_size: rows per generation batch.
        seed: base sampling seed (the evaluation at step s uses seed + s).
        thresholds: gate bounds (DESIGN.md section 6).
        safe_if: what makes a checkpoint rollback-safe: ``all_passed`` (every gate with data
            passed), ``no_critical`` (no critical bound crossed) or ``finite`` (gates are only
            logged; a finite training loss suffices, e.g. a tiny model that cannot pass them).
        gates: names of the gates that count for pass/safe (None: all with data).
        use_linter: run Biome for the lint gate (slower; off by default during training).
        log_samples: rows of the W&B samples table (0: none).
        stage: pipeline stage recorded with checkpoints (None: the module's class name).
        eval_at_start: also evaluate the starting adapter when a fresh fit starts (step 0): the
            baseline TrainingMonitor compares against, and Rollback ignores a critical signal
            the starting adapter already shows (there is nothing better to roll back to).
    """

    def __init__(
        self,
        every_n_steps: int = 50,
        num_prompts: int = 32,
        eval_file: str | None = None,
        temperature: float = 1.0,
        max_new_tokens: int = 128,
        batch_size: int = 8,
        seed: int = 1234,
        thresholds: GateThresholds | None = None,
        safe_if: Literal["all_passed", "no_critical", "finite"] = "all_passed",
        gates: list[str] | None = None,
        use_linter: bool = False,
        log_samples: int = 8,
        stage: str | None = None,
        eval_at_start: bool = True,
    ) -> None:
        if every_n_steps < 0 or num_prompts < 1:
            raise ValueError("EvalGates: need every_n_steps >= 0 and num_prompts >= 1")
        self.every_n_steps = every_n_steps
        self.num_prompts = num_prompts
        self.eval_file = eval_file
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.seed = seed
        self.thresholds = thresholds or GateThresholds()
        self.safe_if = safe_if
        self.gates = gates
        self.use_linter = use_linter
        self.log_samples = log_samples
        self.stage = stage
        self.eval_at_start = eval_at_start
        self.latest: GateReport | None = None
        self.history: list[GateReport] = []
        self._prompts = None
        self._judge = None

    # ------------------------------------------------------------------ pieces (overridable)
    def prompts(self):
        if self._prompts is None:
            from web4rl.evaluation.evalset import default_eval_prompts, load_eval_prompts

            rows = load_eval_prompts(self.eval_file) if self.eval_file else default_eval_prompts()
            self._prompts = rows[: self.num_prompts]
        return self._prompts

    def generate(self, pl_module, prompts, seed: int):
        """Completions of this rank's prompts (tests override this with a stub)."""
        from lightning.pytorch.strategies import FSDPStrategy

        from web4rl.evaluation.core import generate

        def run():
            return generate(pl_module.policy, prompts, temperature=self.temperature,
                            max_new_tokens=self.max_new_tokens, batch_size=self.batch_size,
                            seed=seed)

        strategy = pl_module.trainer.strategy
        if isinstance(strategy, FSDPStrategy):  # sampling needs whole weights on each rank
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

            with FSDP.summon_full_params(strategy.model, writeback=False):
                return run()
        return run()

    def judge(self):
        if self._judge is None:
            from web4rl.judges import Judge

            self._judge = Judge(use_linter=self.use_linter)
        return self._judge

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, trainer, pl_module) -> GateReport:
        """Run one evaluation at the current step (every rank must call it under DDP)."""
        from web4rl.evaluation.core import GateAccumulator, judge_generations

        start = time.perf_counter()
        step = trainer.global_step
        prompts = self.prompts()[trainer.global_rank :: trainer.world_size]
        completions = self.generate(pl_module, prompts, self.seed + step) if prompts else []
        gens = judge_generations(self.judge(), prompts, completions)
        acc = GateAccumulator()
        acc.update(gens)
        values = acc.compute()  # synced across ranks
        report = self._verdict(step, values)
        report.seconds = time.perf_counter() - start
        report.samples = [
            {"prompt_id": g.prompt_id, "category": g.category, "completion": g.text,
             "reward": g.reward} for g in gens[: self.log_samples]
        ]
        self.latest = report
        self.history.append(report)
        self._log(trainer, pl_module, report)
        return report

    def _verdict(self, step: int, values: dict[str, float]) -> GateReport:
        with_data = {k: v for k, v in values.items() if not math.isnan(v)}
        if self.gates is not None:
            with_data = {k: v for k, v in with_data.items() if k in self.gates}
        results = self.thresholds.check(with_data)
        failed = [r.name for r in results if not r.passed]
        passed = not failed
        critical = any(r.critical for r in results)
        safe = {"all_passed": passed, "no_critical": not critical, "finite": True}[self.safe_if]
        return GateReport(step, values, passed, critical, safe, failed)

    def _log(self, trainer, pl_module, report: GateReport) -> None:
        metrics = {f"gate/{k}": v for k, v in report.values.items() if not math.isnan(v)}
        metrics["gate/passed"] = float(report.passed)
        metrics["gate/seconds"] = report.seconds
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=report.step)
        # Also visible to other callbacks (Rollback, TrainingMonitor) and the progress bar.
        for k, v in metrics.items():
            trainer.callback_metrics[k] = torch.tensor(v)
        rank_zero_info(f"web4rl gates @ step {report.step}: "
                       + ("pass" if report.passed else "FAIL " + ", ".join(report.failed))
                       + f" ({report.seconds:.1f}s)")
        if self.log_samples and trainer.is_global_zero:
            from lightning.pytorch.loggers import WandbLogger

            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    cols = ["step", "prompt_id", "category", "completion", "reward"]
                    rows = [[report.step] + [s[c] for c in cols[1:]] for s in report.samples]
                    logger.log_table("gate/samples", columns=cols, data=rows, step=report.step)

    # ------------------------------------------------------------------ hooks
    def on_train_start(self, trainer, pl_module) -> None:
        if self.eval_at_start and trainer.global_step == 0 and not self.history:
            self.evaluate(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if (self.every_n_steps and step > 0 and step % self.every_n_steps == 0
                and (self.latest is None or self.latest.step != step)):
            self.evaluate(trainer, pl_module)

    def checkpoint_record(self, trainer) -> dict[str, Any]:
        """Gate record for a checkpoint at the current step (evaluates first when needed)."""
        if self.latest is None or self.latest.step != trainer.global_step:
            self.evaluate(trainer, trainer.lightning_module)
        r = self.latest
        return {"step": r.step, "stage": self.stage or type(trainer.lightning_module).__name__.lower(),
                "rollback_safe": r.rollback_safe, "passed": r.passed, "critical": r.critical,
                "failed": r.failed, "gates": {k: v for k, v in r.values.items()
                                              if not math.isnan(v)}, "reasons": []}
