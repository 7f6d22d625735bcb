"""A corpus of typical user mistakes: every one must end in exit code 2, a message naming the
culprit (file, line, config key), no traceback, and nothing written (no runs/ directory, no
W&B run, no output file).

The cases run the CLI in-process (``web4rl.cli.main``) from an empty working directory; a few
end-to-end cases at the bottom run ``python -m web4rl`` as a user would. New options add their
cases to the tables here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from web4rl.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "configs" / "dpo_cpu.yaml")
PAIR = {"prompt": "Read src/App.tsx", "chosen": "a", "rejected": "b"}
MODEL = "--model.init_args."
POLICY = "--model.init_args.policy.init_args."
DATA = "--data.init_args."


def _lines(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def _pairs_file(tmp: Path, text: str | bytes, name: str = "pairs.jsonl") -> str:
    path = tmp / "in" / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def _yaml_override(tmp: Path, mutate) -> str:
    """dpo_cpu.yaml with one change, as a file of its own."""
    config = yaml.safe_load(Path(CONFIG).read_text())
    mutate(config)
    path = tmp / "in" / "override.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _adapter_without_config(tmp: Path) -> str:
    path = tmp / "in" / "SFT.lora"
    path.mkdir(parents=True)
    (path / "adapter_model.safetensors").write_bytes(b"")
    return str(path)


def _full_adapter_dir(tmp: Path) -> str:
    path = tmp / "in" / "old_adapter"
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text("{}")
    return str(path)


def _callback_index(name: str) -> int:
    """Position of a callback in dpo_cpu.yaml's trainer.callbacks, by class name."""
    callbacks = yaml.safe_load(Path(CONFIG).read_text())["trainer"]["callbacks"]
    return next(i for i, c in enumerate(callbacks) if c["class_path"].endswith("." + name))


def _set(*keys, value):
    def mutate(config):
        node = config
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return mutate


# (id, function tmp -> argv after "fit", text that must appear in stderr)
TRAINER_CASES = [
    # ---- config files
    ("config-missing", lambda t: ["--config", str(t / "nope.yaml")], "nope.yaml does not exist"),
    ("config-unknown-name", lambda t: ["--config", "orpo_a10.yaml"], "closest shipped configs: orpo_a100"),
    ("config-yaml-syntax", lambda t: ["--config", _pairs_file(t, "model:\n  init_args: [1, 2\n", "c.yaml")],
     "c.yaml:3: not valid YAML"),
    ("config-not-mapping", lambda t: ["--config", _pairs_file(t, "- a\n- b\n", "c.yaml")],
     "c.yaml: expected a mapping"),
    ("config-directory", lambda t: ["--config", str(t)], "is a directory"),
    ("config-not-utf8", lambda t: ["--config", _pairs_file(t, b"model: \xff\xfe\n", "c.yaml")],
     "c.yaml: not UTF-8"),
    # ---- option names and types
    ("unknown-option-cli", lambda t: ["--config", CONFIG, MODEL + "betta", "0.2"],
     "model.init_args.betta: unknown option"),
    ("unknown-option-yaml", lambda t: ["--config", _yaml_override(
        t, _set("model", "init_args", "policy", "init_args", "lora", "rank", value=8))],
     "lora.rank: unknown option"),
    ("unknown-trainer-option", lambda t: ["--config", CONFIG, "--trainer.bogus", "1"],
     "trainer.bogus: unknown option"),
    ("unknown-class-path", lambda t: ["--config", CONFIG, "--model", "web4rl.algorithms.Nope"],
     "web4rl.algorithms.Nope does not exist"),
    ("wrong-type-float", lambda t: ["--config", CONFIG, MODEL + "lr", "abc"],
     "model.init_args.lr: expected float, got 'abc'"),
    ("wrong-type-int", lambda t: ["--config", CONFIG, DATA + "batch_size", "2.5"],
     "data.init_args.batch_size: expected int"),
    ("wrong-choice", lambda t: ["--config", CONFIG, DATA + "overlong_prompt", "drop"],
     "data.init_args.overlong_prompt"),
    # ---- option values (ranges and relations), all caught before the model is built
    ("lr-negative", lambda t: ["--config", CONFIG, MODEL + "lr=-1"], "model.init_args.lr: must be >= 0"),
    ("beta-zero", lambda t: ["--config", CONFIG, MODEL + "beta", "0"], "model.init_args.beta: must be > 0"),
    ("label-smoothing-half", lambda t: ["--config", CONFIG, MODEL + "label_smoothing", "0.5"],
     "label_smoothing: must be in [0, 0.5)"),
    ("warmup-ratio-one", lambda t: ["--config", CONFIG, MODEL + "warmup_ratio", "1"],
     "warmup_ratio: must be in [0, 1)"),
    ("weight-decay-negative", lambda t: ["--config", CONFIG, MODEL + "weight_decay=-0.1"],
     "weight_decay: must be >= 0"),
    ("min-lr-ratio", lambda t: ["--config", CONFIG, MODEL + "min_lr_ratio", "2"], "min_lr_ratio"),
    ("adam-betas", lambda t: ["--config", CONFIG, MODEL + "betas=[0.9, 1.5]"], "model.init_args.betas"),
    ("lora-r-zero", lambda t: ["--config", CONFIG, POLICY + "lora.r", "0"], "lora.r: must be >= 1"),
    ("lora-dropout-one", lambda t: ["--config", CONFIG, POLICY + "lora.dropout", "1"],
     "lora.dropout: must be in [0, 1)"),
    ("lora-alpha-zero", lambda t: ["--config", CONFIG, POLICY + "lora.alpha", "0"], "lora.alpha"),
    ("lora-no-targets", lambda t: ["--config", CONFIG, POLICY + "lora.target_modules=[]"],
     "lora.target_modules: needs at least one entry"),
    ("lora-target-not-in-model", lambda t: ["--config", CONFIG, POLICY + "lora.target_modules=[qproj]"],
     "target_modules: qproj not found"),
    ("logits-chunk-zero", lambda t: ["--config", CONFIG, POLICY + "logits_chunk_size", "0"],
     "logits_chunk_size: must be >= 1"),
    ("model-dir-missing", lambda t: ["--config", CONFIG, POLICY + "model_name", str(t / "no_model")],
     "model_name: directory"),
    ("batch-size-zero", lambda t: ["--config", CONFIG, DATA + "batch_size", "0"],
     "data.init_args.batch_size: must be >= 1"),
    ("num-workers-negative", lambda t: ["--config", CONFIG, DATA + "num_workers=-1"], "num_workers"),
    ("prompt-longer-than-sequence", lambda t: ["--config", CONFIG, DATA + "max_length", "16",
                                               DATA + "max_prompt_length", "64"],
     "data.init_args.max_prompt_length: must be in [1, max_length) (max_length = 16), got 64"),
    ("accumulate-zero", lambda t: ["--config", CONFIG, "--trainer.accumulate_grad_batches", "0"],
     "trainer.accumulate_grad_batches: must be >= 1"),
    ("grad-clip-negative", lambda t: ["--config", CONFIG, "--trainer.gradient_clip_val=-1"],
     "trainer.gradient_clip_val"),
    ("callback-option", lambda t: ["--config", _yaml_override(t, _set(
        "trainer", "callbacks", _callback_index("TokenThroughput"), "init_args",
        "log_every_n_steps", value=0))],
     f"trainer.callbacks[{_callback_index('TokenThroughput')}].init_args.log_every_n_steps: "
     "must be >= 1"),
    ("checkpoint-callback-option", lambda t: ["--config", _yaml_override(t, _set(
        "trainer", "callbacks", _callback_index("GatedCheckpoint"), "init_args", "save_top_k",
        value=-2))],
     f"trainer.callbacks[{_callback_index('GatedCheckpoint')}].init_args.save_top_k"),
    ("gate-threshold-out-of-range", lambda t: ["--config", _yaml_override(t, _set(
        "trainer", "callbacks", _callback_index("Rollback"), "init_args", "json_validity_min",
        value=1.5))],
     f"trainer.callbacks[{_callback_index('Rollback')}].init_args.json_validity_min: "
     "must be in [0, 1]"),
    ("adapter-dir-taken", lambda t: ["--config", CONFIG, MODEL + "overwrite_adapter", "false",
                                     MODEL + "adapter_dir", _full_adapter_dir(t)],
     "model.init_args.adapter_dir: "),
    ("both-files-and-hf", lambda t: ["--config", CONFIG, DATA + "hf_dataset", "json",
                                     DATA + "train_files", _pairs_file(t, _lines(PAIR))],
     "train_files or hf_dataset"),
    # ---- adapters and checkpoints
    ("adapter-missing", lambda t: ["--config", CONFIG, POLICY + "init_adapter", str(t / "SFT.lora")],
     "init_adapter: directory"),
    ("adapter-without-config", lambda t: ["--config", CONFIG, POLICY + "init_adapter",
                                          _adapter_without_config(t)], "adapter_config.json"),
    ("checkpoint-missing", lambda t: ["--config", CONFIG, "--ckpt_path", str(t / "nope.ckpt")],
     "ckpt_path: file"),
    ("checkpoint-not-a-checkpoint", lambda t: ["--config", CONFIG, "--ckpt_path",
                                               _pairs_file(t, "not a checkpoint", "x.ckpt")],
     "x.ckpt is not a readable Lightning checkpoint"),
    # ---- data files
    ("data-not-utf8", lambda t: ["--config", CONFIG, DATA + "train_files",
                                 _pairs_file(t, b'{"prompt": "\xff"}\n')], "pairs.jsonl"),
    ("data-empty", lambda t: ["--config", CONFIG, DATA + "train_files", _pairs_file(t, "")],
     "pairs.jsonl"),
    ("data-array-line", lambda t: ["--config", CONFIG, DATA + "train_files",
                                   _pairs_file(t, _lines([1, 2]))], "pairs.jsonl:1"),
    ("data-bad-json", lambda t: ["--config", CONFIG, DATA + "train_files",
                                 _pairs_file(t, _lines(PAIR, "{not json"))], "pairs.jsonl:2"),
    ("data-missing-field", lambda t: ["--config", CONFIG, DATA + "train_files", _pairs_file(
        t, _lines({"prompt": "p", "chosen": "c"}))], "pairs.jsonl:1: field 'rejected'"),
    ("data-mistyped-field", lambda t: ["--config", CONFIG, DATA + "train_files", _pairs_file(
        t, _lines({**PAIR, "chosen": 3}))], "pairs.jsonl:1: field 'chosen'"),
    ("data-identical-pair", lambda t: ["--config", CONFIG, DATA + "train_files", _pairs_file(
        t, _lines({**PAIR, "rejected": "a"}))], "pairs.jsonl:1: field 'rejected'"),
    ("data-file-missing", lambda t: ["--config", CONFIG, DATA + "train_files", str(t / "gone.jsonl")],
     "gone.jsonl"),
    ("data-file-directory", lambda t: ["--config", CONFIG, DATA + "train_files", str(t)], str(Path("/"))),
]


def _run(argv: list[str], capsys, stream: str = "err") -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # the argument parser exits itself
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.err if stream == "err" else captured.out + captured.err


def _assert_nothing_written(cwd: Path) -> None:
    written = sorted(p.name for p in cwd.iterdir() if p.name != "in")
    assert written == [], f"the failed run wrote {written}"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    return tmp_path


@pytest.mark.parametrize("case", TRAINER_CASES, ids=[c[0] for c in TRAINER_CASES])
def test_bad_trainer_input(case, workdir, capsys, monkeypatch):
    name, make_argv, culprit = case
    if name not in {"lora-target-not-in-model", "model-dir-missing"}:
        # Every other check must happen before the (possibly 7B) model is loaded.
        def no_model(*args, **kwargs):
            raise AssertionError("the model was built before the bad input was reported")

        monkeypatch.setattr("web4rl.policy.Policy._load_base", staticmethod(no_model))
    code, err = _run(["fit", *make_argv(workdir)], capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert culprit in err, err
    assert "error" in err
    _assert_nothing_written(workdir)


def test_corpus_is_large_enough():
    assert len(TRAINER_CASES) + len(TOOL_CASES) >= 30


# ---- the tools: simulator task files, judge sample rows
TOOL_CASES = [
    ("sim-task-bad-json", lambda t: ["sim", "validate", _pairs_file(t, '{"id": "x"\n', "task.json")],
     "task.json:2"),
    ("sim-task-missing", lambda t: ["sim", "validate", str(t / "in" / "nope.json")], "nope.json"),
    ("score-row-missing-field", lambda t: ["score", _pairs_file(t, _lines({"prompt": "p"}), "s.jsonl"),
                                           "-o", str(t / "out" / "scored.jsonl"), "--no-progress"],
     "s.jsonl:1: field 'completion'"),
    ("score-not-utf8", lambda t: ["score", _pairs_file(t, b"\xff\xfe{}\n", "s.jsonl"),
                                  "-o", str(t / "out" / "scored.jsonl"), "--no-progress"],
     "s.jsonl:1: not valid UTF-8"),
    ("score-missing-file", lambda t: ["score", str(t / "in" / "gone.jsonl"), "--no-progress"], "gone.jsonl"),
]


@pytest.mark.parametrize("case", TOOL_CASES, ids=[c[0] for c in TOOL_CASES])
def test_bad_tool_input(case, workdir, capsys):
    _, make_argv, culprit = case
    (workdir / "in").mkdir(exist_ok=True)
    code, err = _run(make_argv(workdir), capsys, stream="both")  # the simulator reports on stdout
    assert code == 2, err
    assert "Traceback" not in err
    assert culprit in err, err
    _assert_nothing_written(workdir)


# ---- end to end, as typed in a shell: the two cases issue 18 found printing tracebacks
@pytest.mark.parametrize("extra, culprit", [
    (["--model.init_args.lr=-1"], "web4rl: error: model.init_args.lr: must be >= 0, got -1.0"),
    (["--data.init_args.max_length", "16", "--data.init_args.max_prompt_length", "64"],
     "web4rl: error: data.init_args.max_prompt_length: must be in [1, max_length)"),
])
def test_shell_reports_one_clean_line(extra, culprit, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WANDB_MODE": "offline"}
    proc = subprocess.run([sys.executable, "-m", "web4rl", "fit", "--config", "dpo_cpu.yaml", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert culprit in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("web4rl: error")]
    assert len(errors) == 1 and errors[0].startswith(culprit), proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_config_at_all_points_to_the_shipped_ones(workdir, capsys):
    code, err = _run(["fit"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "fit.model" in err and "python -m web4rl configs" in err
    _assert_nothing_written(workdir)
