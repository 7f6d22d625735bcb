"""The pipeline's orchestration: spec checks, exit criteria, resume, stop-with-reason.

Stage commands are replaced by stand-ins that write what the real ones write (an adapter
directory, evaluation values), so these tests exercise the driver itself in milliseconds;
the real chain runs in `python -m web4rl pipeline --config configs/pipeline_cpu.yaml`
(timed in docs/benchmarks.md).
"""

import json
from pathlib import Path

import pytest
import yaml

from web4rl.pipeline import Pipeline, PipelineSpecError, StageFailed, load_spec
from web4rl.pipeline import run as run_module

STAGES = [
    {"name": "sft", "stage": 0, "config": "sft_cpu.yaml"},
    {"name": "orpo", "stage": 1, "config": "orpo_cpu.yaml"},
    {"name": "awr", "stage": 2, "config": "awr_cpu.yaml", "sample": {"n": 1, "limit": 4}},
]


def _spec_file(tmp_path, stages=STAGES, **extra):
    data = {"run_dir": str(tmp_path / "run"), "stages": stages,
            "exit": {"gates": ["json_validity"], "thresholds": {"json_validity_min": 0.5},
                     "max_regression": 0.05, "compare": ["reward_mean"]}, **extra}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class FakeCommands:
    """Stand-ins for fit / evaluate / export / card with scripted evaluation values."""

    def __init__(self, values_by_stage):
        self.values_by_stage = values_by_stage
        self.trained = []

    def install(self, monkeypatch):
        monkeypatch.setattr(run_module, "_algorithm_available", lambda algorithm: True)

        def train(pipeline, stage, previous, workdir):
            self.trained.append((stage.name, previous))
            adapter = workdir / "adapter"
            adapter.mkdir(parents=True, exist_ok=True)
            (adapter / "adapter_config.json").write_text("{}")
            return str(adapter)

        def evaluate(pipeline, adapters, workdir, baseline):
            workdir.mkdir(parents=True, exist_ok=True)
            report = {"adapters": {n: {"values": self.values_by_stage[n]} for n in adapters}}
            (workdir / "eval.json").write_text(json.dumps(report))
            return report

        def run(cmd, workdir, log_name):
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / f"{log_name}.command.txt").write_text(" ".join(cmd))
            return 0.0

        monkeypatch.setattr(Pipeline, "_train", train)
        monkeypatch.setattr(Pipeline, "_evaluate", evaluate)
        monkeypatch.setattr(run_module, "_run", run)


GOOD = {"sft": {"json_validity": 0.6, "reward_mean": 0.40},
        "orpo": {"json_validity": 0.7, "reward_mean": 0.45},
        "awr": {"json_validity": 0.8, "reward_mean": 0.50}}


def test_full_run_chains_adapters_and_selects_the_best(tmp_path, monkeypatch):
    fake = FakeCommands(GOOD)
    fake.install(monkeypatch)
    results = Pipeline(load_spec(_spec_file(tmp_path))).run()
    run_dir = tmp_path / "run"
    assert [r.passed for r in results] == [True, True, True]
    assert fake.trained == [("sft", None), ("orpo", str(run_dir / "sft" / "adapter")),
                            ("awr", str(run_dir / "orpo" / "adapter"))]
    selection = json.loads((run_dir / "stage4" / "selection.json").read_text())
    assert selection["selected"] == "awr"
    report = (run_dir / "report.md").read_text()
    assert report.count("| met |") == 3 and "Selected adapter: **awr**" in report
    assert (run_dir / "stage4" / "export.command.txt").read_text().split()[5] == \
        str(run_dir / "awr" / "adapter")


def test_rerun_skips_finished_stages(tmp_path, monkeypatch):
    fake = FakeCommands(GOOD)
    fake.install(monkeypatch)
    spec = load_spec(_spec_file(tmp_path))
    Pipeline(spec).run()
    fake.trained.clear()
    results = Pipeline(spec).run()
    assert fake.trained == [] and all(r.skipped for r in results)


def test_failed_gate_stops_with_stage_reason_and_rollback_candidate(tmp_path, monkeypatch):
    values = dict(GOOD, orpo={"json_validity": 0.2, "reward_mean": 0.45})
    FakeCommands(values).install(monkeypatch)
    with pytest.raises(StageFailed, match=r"stage 1 orpo missed its exit criteria: gate "
                                          r"json_validity: 0\.2000 vs threshold 0\.5; rollback "
                                          r"candidate: .*sft/adapter"):
        Pipeline(load_spec(_spec_file(tmp_path))).run()
    run_dir = tmp_path / "run"
    assert (run_dir / "sft" / "done.json").is_file()  # earlier outputs kept
    assert (run_dir / "sft" / "adapter" / "adapter_config.json").is_file()
    assert not (run_dir / "orpo" / "done.json").exists() and not (run_dir / "stage4").exists()
    assert "**Stopped at stage 1 (orpo)**" in (run_dir / "report.md").read_text()


def test_regression_beyond_the_margin_stops(tmp_path, monkeypatch):
    values = dict(GOOD, awr={"json_validity": 0.8, "reward_mean": 0.30})
    FakeCommands(values).install(monkeypatch)
    with pytest.raises(StageFailed, match=r"reward_mean regressed 0\.4500 -> 0\.3000"):
        Pipeline(load_spec(_spec_file(tmp_path))).run()


def test_unbuilt_stage_is_reported_never_faked(tmp_path, monkeypatch):
    fake = FakeCommands(GOOD)
    fake.install(monkeypatch)
    monkeypatch.setattr(run_module, "_algorithm_available", lambda algorithm: algorithm != "awr")
    with pytest.raises(StageFailed, match="awr is not built"):
        Pipeline(load_spec(_spec_file(tmp_path))).run()
    assert "awr is not built" in (tmp_path / "run" / "report.md").read_text()


@pytest.mark.parametrize("stages, message", [
    ([{"name": "a", "stage": 1, "config": "sft_cpu.yaml"}], r"stages\[0\]\.config: sft_cpu.yaml is a sft config; stage 1 runs orpo or dpo"),
    ([{"name": "a", "stage": 2, "config": "awr_cpu.yaml"}], r"stages\[0\]\.sample: required for stage 2"),
    ([{"name": "a", "stage": 0, "config": "sft_cpu.yaml", "lr": 1}], r"stages\[0\]\.lr: unknown key"),
    ([{"name": "a", "stage": 7, "config": "sft_cpu.yaml"}], r"stages\[0\]\.stage: 7 is not one of"),
    ([], r"stages: a non-empty list"),
])
def test_bad_pipeline_files_name_the_key(tmp_path, stages, message):
    with pytest.raises(PipelineSpecError, match=message):
        load_spec(_spec_file(tmp_path, stages=stages))


def test_shipped_pipeline_configs_parse():
    configs = sorted(Path(__file__).resolve().parents[1].joinpath("configs").glob("pipeline_*.yaml"))
    assert configs, "no shipped pipeline config"
    for path in configs:
        spec = load_spec(path)
        assert [s.stage for s in spec.stages] == sorted(s.stage for s in spec.stages)


def test_unknown_exit_gate_is_named(tmp_path):
    path = _spec_file(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["exit"]["gates"] = ["guardrail_violation"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PipelineSpecError, match="exit.gates: 'guardrail_violation' is not a gate"):
        load_spec(path)
