"""python -m web4rl evaluate on the tiny model: eval.json, a markdown report with one table per
gate and links to PNGs that exist, resumable generations, input errors with exit code 2."""

import importlib.util
import json
import re

import torch

from web4rl.cli import main
from web4rl.evaluation.evalset import default_eval_prompts
from web4rl.policy import LoraSettings, Policy


def adapters(tmp_path):
    policy = Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8))
    policy.save_adapter(tmp_path / "sft")
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # a deliberately broken adapter
    policy.save_adapter(tmp_path / "broken")


def test_evaluate_writes_report_with_gate_tables_and_plots(tmp_path):
    adapters(tmp_path)
    out = tmp_path / "eval"
    argv = ["evaluate", "--adapter", f"sft={tmp_path / 'sft'}", "--adapter",
            f"broken={tmp_path / 'broken'}", "--limit", "4", "--tasks", "1",
            "--max-new-tokens", "8", "--batch-size", "2", "-o", str(out)]
    assert main(argv) == 0
    result = json.loads((out / "eval.json").read_text())
    assert list(result["adapters"]) == ["sft", "broken"] and result["baseline"] == "sft"
    broken = result["adapters"]["broken"]
    assert broken["gates"]["json_validity"]["threshold"] == 0.99
    assert broken["gates"]["token_kl"]["delta"] is not None  # shift vs the sft baseline
    assert 0.0 <= broken["values"]["first_action_accuracy"] <= 1.0
    report = (out / "report.md").read_text()
    # one markdown table per gate: a header row followed by its separator row
    assert len(re.findall(r"^\| adapter \| value \| threshold \| pass \| delta vs baseline \|\n"
                          r"\|---\|---\|---\|---\|---\|$", report, flags=re.M)) >= 8
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    if importlib.util.find_spec("matplotlib"):
        assert {"plots/reward_hist.png", "plots/gate_bars.png",
                "plots/stage_comparison.png"} <= set(links)
        for link in links:
            assert (out / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "plots skipped" in report and not links

    # Resume: a torn last line (a crash mid-write) is dropped and regenerated identically.
    gen = out / "generations" / "broken.jsonl"
    rows = gen.read_text().splitlines()
    gen.write_text("\n".join(rows[:-1]) + '\n{"prompt_id": "torn')
    assert main(argv) == 0
    assert gen.read_text().splitlines() == rows


def test_evaluate_input_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": ""}\n')
    assert main(["evaluate", "--base", "--eval-file", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert main(["evaluate", "--adapter", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "not a PEFT adapter directory" in capsys.readouterr().err


def test_default_eval_set_is_held_out_from_training_and_validation():
    from web4rl.data import SFTDataModule

    dm = SFTDataModule(seed=42)  # the split every shipped config uses
    dm.validate()
    seen = {r.prompt[-1]["content"] for s in ("train", "val") for r in dm.records[s]}
    prompts = default_eval_prompts()
    assert len(prompts) >= 50 and {p.category for p in prompts} >= {"tool_use", "guardrail"}
    assert not {p.text for p in prompts} & seen
