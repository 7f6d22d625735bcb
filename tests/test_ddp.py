"""DDP really runs on CPU: two gloo processes train ORPO and end with the same adapter, and a
resumed run gives every rank its own RNG streams back."""

import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_two_process_ddp_gives_identical_adapters(tmp_path):
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", PYTHONPATH=str(ROOT))
    env.pop("MASTER_PORT", None)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path)],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert ranks[0]["world_size"] == 2
    assert ranks[0]["lora"].keys() == ranks[1]["lora"].keys()
    for name, weight in ranks[0]["lora"].items():
        assert torch.equal(weight, ranks[1]["lora"][name]), name
    # lora_B starts at zero: a non-zero B proves the ranks trained, not merely agreed.
    assert any(w.abs().sum() > 0 for n, w in ranks[0]["lora"].items() if "lora_B" in n)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()

    # Resume: every rank gets its own RNG streams back (issue 17 item 6), not rank 0's.
    rng = [torch.load(tmp_path / f"rng{r}.pt", weights_only=False) for r in (0, 1)]
    assert not torch.equal(rng[0]["saved"]["torch"], rng[1]["saved"]["torch"])
    for r in (0, 1):
        saved, restored = rng[r]["saved"], rng[r]["restored"]
        assert restored is not None, f"rank {r} never restored a checkpoint"
        assert torch.equal(restored["torch"], saved["torch"]), f"rank {r} torch stream"
        assert torch.equal(restored["numpy"][1], saved["numpy"][1]), f"rank {r} numpy stream"
        assert restored["python"] == saved["python"], f"rank {r} python stream"
