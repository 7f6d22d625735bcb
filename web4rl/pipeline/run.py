"""``python -m web4rl pipeline --config configs/pipeline_cpu.yaml``: Stage 0 to 4 end to end.

Each stage is the same command a user would type (``fit``, ``sample --score``, ``evaluate``,
``adapters export``/``card``), run as a subprocess in its own directory
``<run_dir>/<stage name>/`` so its relative outputs (``runs/...`` checkpoints and logs) stay
there; the command line and full output are kept in ``command.txt`` / ``log.txt``. A stage's
adapter continues the previous stage's (``init_adapter``).

After every training stage the adapter is evaluated (held-out prompts + simulator tasks) and
the exit criteria are checked: the configured gates pass, and no compared value drops more than
``max_regression`` below the previous stage's. A failing stage stops the pipeline with the
stage, the reason and the rollback candidate (the last stage that passed); earlier outputs
are kept. A finished stage writes ``done.json``; a rerun skips it (resumable). Stage 4
compares every stage in one evaluation, selects the best passing adapter (highest mean judge
reward), exports it and writes its model card; ``report.md`` / ``pipeline.json`` hold one row
per stage.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from web4rl.pipeline.spec import PipelineSpec, StageSpec

PY = [sys.executable, "-m", "web4rl"]


class StageFailed(RuntimeError):
    """A stage command failed or a stage missed its exit criteria."""


@dataclass
class StageResult:
    name: str
    stage: int
    algorithm: str
    adapter: str | None
    values: dict
    gates: dict
    passed: bool
    reason: str
    seconds: float
    skipped: bool = False

    def row(self) -> dict:
        return dict(self.__dict__)


def _run(cmd: list[str], workdir: Path, log_name: str) -> float:
    """Run one command in ``workdir``, output to ``log_name``; raise StageFailed on failure."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{log_name}.command.txt").write_text(shlex.join(cmd) + "\n")
    print(f"$ (cd {workdir} && {shlex.join(cmd)})", flush=True)
    start = time.perf_counter()
    with (workdir / f"{log_name}.log").open("w") as log:
        code = subprocess.call(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        tail = (workdir / f"{log_name}.log").read_text(errors="replace").strip().splitlines()[-5:]
        raise StageFailed(f"`{shlex.join(cmd[2:4])} ...` exited {code} (see "
                          f"{workdir / (log_name + '.log')}): " + " | ".join(tail))
    return time.perf_counter() - start


def _fmt(value, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "-"


def _algorithm_available(algorithm: str) -> bool:
    import web4rl.algorithms as algorithms

    class_names = {"sft": "SFT", "orpo": "ORPO", "dpo": "DPO", "rs_sft": "RSSFT", "awr": "AWR",
                   "ppo": "PPO", "grpo": "GRPO"}
    return hasattr(algorithms, class_names.get(algorithm, "?"))


class Pipeline:
    """Runs a :class:`PipelineSpec`; ``run()`` returns every stage's result."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.run_dir = Path(spec.run_dir).resolve()

    # ------------------------------------------------------------------ stage commands
    def _config_path(self, name: str) -> str:
        from web4rl.shipped_configs import resolve_config

        return str(resolve_config(name).resolve())

    def _prompts_file(self, stage: StageSpec, workdir: Path) -> Path:
        """Stage 2 prompts: the given file, or the shipped SFT data's train-split prompts
        (the same split the SFT stage trained on; the evaluation set is held out)."""
        if stage.sample.prompts:
            return Path(stage.sample.prompts).resolve()
        from web4rl.data import SFTDataModule

        data = SFTDataModule(seed=42)
        data.validate()
        seen, rows = set(), []
        for record in data.records["train"]:
            key = json.dumps(record.prompt)
            if key not in seen:
                seen.add(key)
                prompt = record.prompt[0]["content"] if len(record.prompt) == 1 else list(record.prompt)
                rows.append({"prompt": prompt, "category": record.category})
        path = workdir / "prompts.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    def _train(self, stage: StageSpec, previous: str | None, workdir: Path) -> str:
        workdir.mkdir(parents=True, exist_ok=True)
        adapter = workdir / "adapter"
        cmd = [*PY, "fit", "--config", self._config_path(stage.config),
               "--model.init_args.policy.init_args.model_name", self.spec.model,
               "--model.init_args.adapter_dir", str(adapter),
               "--model.init_args.overwrite_adapter", "true"]
        if previous:
            cmd += ["--model.init_args.policy.init_args.init_adapter", previous]
        if stage.sample is not None:
            sample = stage.sample
            scored = workdir / "scored.jsonl"
            sample_cmd = [*PY, "sample", str(self._prompts_file(stage, workdir)), "-o", str(scored),
                          "--model", self.spec.model, "-n", str(sample.n), "--temperatures",
                          *[str(t) for t in sample.temperatures], "--max-new-tokens",
                          str(sample.max_new_tokens), "--score", "--no-lint", "--no-progress"]
            if sample.limit:
                sample_cmd += ["--limit", str(sample.limit)]
            if previous:
                sample_cmd += ["--adapter", previous]
            _run(sample_cmd, workdir, "sample")
            cmd += ["--data.init_args.train_files", str(scored)]
        _run(cmd + list(stage.overrides), workdir, "fit")
        if not (adapter / "adapter_config.json").is_file():
            raise StageFailed(f"fit finished but wrote no adapter at {adapter}")
        return str(adapter)

    def _evaluate(self, adapters: dict[str, str], workdir: Path, baseline: str | None) -> dict:
        ev = self.spec.evaluation
        cmd = [*PY, "evaluate", "--model", self.spec.model, "-o", str(workdir),
               "--tasks", str(ev.tasks), "--max-new-tokens", str(ev.max_new_tokens)]
        for name, path in adapters.items():
            cmd += ["--adapter", f"{name}={path}"]
        if baseline:
            cmd += ["--baseline", baseline]
        if ev.limit:
            cmd += ["--limit", str(ev.limit)]
        if ev.eval_file:
            cmd += ["--eval-file", str(Path(ev.eval_file).resolve())]
        _run(cmd, workdir, "evaluate")
        return json.loads((workdir / "eval.json").read_text())

    # ------------------------------------------------------------------ exit criteria
    def _judge_stage(self, values: dict, previous: StageResult | None) -> tuple[dict, bool, str]:
        results = {r.name: r for r in self.spec.thresholds().check(values)}
        gates = {name: {"value": r.value, "threshold": r.threshold, "passed": r.passed}
                 for name, r in results.items()}
        reasons = []
        for gate in self.spec.exit.gates:
            if gate not in results:
                reasons.append(f"gate {gate}: not measured")
            elif not results[gate].passed:
                reasons.append(f"gate {gate}: {results[gate].value:.4f} vs threshold "
                               f"{results[gate].threshold}")
        if previous is not None and previous.values:
            for key in self.spec.exit.compare:
                now, before = values.get(key), previous.values.get(key)
                if isinstance(now, (int, float)) and isinstance(before, (int, float)) and \
                        now < before - self.spec.exit.max_regression:
                    reasons.append(f"{key} regressed {before:.4f} -> {now:.4f} "
                                   f"(allowed drop {self.spec.exit.max_regression})")
        return gates, not reasons, "; ".join(reasons) or "exit criteria met"

    # ------------------------------------------------------------------ driver
    def run(self) -> list[StageResult]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.spec.source, self.run_dir / "pipeline.yaml")
        results: list[StageResult] = []
        adapter = self.spec.init_adapter
        previous: StageResult | None = None
        for stage in self.spec.stages:
            workdir = self.run_dir / stage.name
            done = workdir / "done.json"
            if done.is_file():
                result = StageResult(**{**json.loads(done.read_text()), "skipped": True})
                print(f"stage {stage.stage} {stage.name}: done earlier, skipped", flush=True)
            elif not _algorithm_available(stage.algorithm):
                result = StageResult(stage.name, stage.stage, stage.algorithm, None, {}, {}, False,
                                     f"{stage.algorithm} is not built in this version of web4rl", 0.0)
                results.append(result)
                self._write_report(results, stopped=result)
                raise StageFailed(f"stage {stage.stage} {stage.name}: {result.reason}")
            else:
                start = time.perf_counter()
                try:
                    trained = self._train(stage, adapter, workdir)
                    report = self._evaluate({stage.name: trained}, workdir / "eval", None)
                except StageFailed as err:
                    result = StageResult(stage.name, stage.stage, stage.algorithm, None, {}, {},
                                         False, str(err), time.perf_counter() - start)
                    results.append(result)
                    self._write_report(results, stopped=result)
                    raise StageFailed(f"stage {stage.stage} {stage.name}: {err}") from None
                values = report["adapters"][stage.name]["values"]
                gates, passed, reason = self._judge_stage(values, previous)
                result = StageResult(stage.name, stage.stage, stage.algorithm, trained, values,
                                     gates, passed, reason, time.perf_counter() - start)
                if passed:  # only a stage that met its exit criteria counts as finished
                    done.write_text(json.dumps(result.row() | {"skipped": False}, default=float))
            results.append(result)
            if not result.passed:
                self._write_report(results, stopped=result)
                candidate = previous.adapter if previous else self.spec.init_adapter
                raise StageFailed(f"stage {stage.stage} {stage.name} missed its exit criteria: "
                                  f"{result.reason}; rollback candidate: {candidate or 'the base model'}")
            adapter, previous = result.adapter, result
        self._stage4(results)
        return results

    def _stage4(self, results: list[StageResult]) -> None:
        """Compare every stage in one evaluation, select the best passing adapter, export it
        and write its model card."""
        workdir = self.run_dir / "stage4"
        adapters = {r.name: r.adapter for r in results if r.adapter}
        report = self._evaluate(adapters, workdir / "compare", baseline=results[0].name)
        passing = [r for r in results if r.passed and r.adapter]
        best = max(passing, key=lambda r: report["adapters"][r.name]["values"].get("reward_mean", 0.0))
        export = self.spec.export
        target = workdir / ("model.gguf" if export.format == "gguf" else "merged")
        _run([*PY, "adapters", "export", best.adapter, "--format", export.format, "--type",
              export.type, "--base", self.spec.model, "-o", str(target)], workdir, "export")
        lineage = [{"stage": r.stage, "algorithm": r.algorithm, "adapter": r.adapter,
                    "config": next(s.config for s in self.spec.stages if s.name == r.name)}
                   for r in results]
        (workdir / "lineage.json").write_text(json.dumps(lineage, indent=2))
        _run([*PY, "adapters", "card", best.adapter, "-o", str(workdir / "README.md"), "--base",
              self.spec.model, "--lineage", str(workdir / "lineage.json"), "--eval-report",
              str(workdir / "compare" / "eval.json"), "--eval-adapter", best.name], workdir, "card")
        summary = {"selected": best.name, "adapter": best.adapter, "export": str(target),
                   "card": str(workdir / "README.md"),
                   "comparison": str(workdir / "compare" / "report.md")}
        (workdir / "selection.json").write_text(json.dumps(summary, indent=2))
        self._write_report(results, selection=summary, comparison=report)

    def _write_report(self, results: list[StageResult], stopped: StageResult | None = None,
                      selection: dict | None = None, comparison: dict | None = None) -> None:
        rows = ["| stage | name | algorithm | gates passed | judge reward | task success | "
                "exit criteria | minutes |", "|---|---|---|---|---|---|---|---|"]
        for r in results:
            gates = ", ".join(f"{k} {'ok' if g['passed'] else 'FAIL'}" for k, g in r.gates.items()
                              if k in self.spec.exit.gates) or "-"
            verdict = "met" if r.passed else f"NOT met: {r.reason}"
            rows.append(f"| {r.stage} | {r.name} | {r.algorithm} | {gates} | "
                        f"{_fmt(r.values.get('reward_mean'), 3)} | "
                        f"{_fmt(r.values.get('task_success'), 2)} | {verdict} | {r.seconds / 60:.1f} |")
        lines = [f"# Pipeline report: {self.run_dir.name}", "",
                 f"Pipeline file: `{self.spec.source}`; base model `{self.spec.model}`.", "", *rows, ""]
        if stopped is not None:
            lines += [f"**Stopped at stage {stopped.stage} ({stopped.name})**: {stopped.reason}", ""]
        if selection is not None:
            lines += ["## Stage 4", "", f"Selected adapter: **{selection['selected']}** "
                      f"(`{selection['adapter']}`), exported to `{selection['export']}`; model card "
                      f"`{selection['card']}`; comparison report `{selection['comparison']}`.", ""]
        (self.run_dir / "report.md").write_text("\n".join(lines))
        (self.run_dir / "pipeline.json").write_text(json.dumps(
            {"stages": [r.row() for r in results], "stopped": stopped.row() if stopped else None,
             "selection": selection}, indent=2, default=float))
