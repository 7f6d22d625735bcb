"""EvalGates under DDP: two gloo processes, each judging half of the prompts, report exactly
the gate values of one process judging all of them (greedy decoding, same adapter)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from tests.callbacks.ddp_worker import run

ROOT = Path(__file__).resolve().parents[2]


def test_two_process_gates_equal_one_process(tmp_path):
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", PYTHONPATH=str(ROOT))
    env.pop("MASTER_PORT", None)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "callbacks" / "ddp_worker.py"),
                           str(tmp_path), "2"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"gates_rank{r}_of2.json").read_text()) for r in (0, 1)]
    single = run(tmp_path, 1)  # one process, all prompts
    assert ranks[0].pop("world_size") == 2 and ranks[1].pop("world_size") == 2
    assert single.pop("world_size") == 1
    assert single["guardrail_violation_rate"] == 0.2  # the rm -rf prompt, 1 of 5
    for key, value in single.items():
        for r in ranks:
            assert (math.isnan(value) and math.isnan(r[key])) or math.isclose(
                r[key], value, rel_tol=1e-9, abs_tol=1e-12), (key, r[key], value)
