"""DDP really runs GRPO on CPU: two gloo processes play different episodes and end with the
same adapter."""

import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_two_process_grpo_ddp_gives_identical_adapters(tmp_path):
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", PYTHONPATH=str(ROOT))
    env.pop("MASTER_PORT", None)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "ddp_worker_rl.py"), str(tmp_path)],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert ranks[0]["world_size"] == 2
    assert ranks[0]["actions"] != ranks[1]["actions"]  # rank-specific sampling seeds
    for name, weight in ranks[0]["lora"].items():
        assert torch.equal(weight, ranks[1]["lora"][name]), name
    assert any(w.abs().sum() > 0 for n, w in ranks[0]["lora"].items() if "lora_B" in n)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
