"""The process environment of a Trainer run: W&B logging mode and CPU thread count.

Split from :mod:`web4rl.cli` (which re-exports these names): both are decided once, before the
Trainer is built, from the environment and the machine, never from the config.
"""

from __future__ import annotations

import netrc
import os
import sys
import time
from typing import Any
from urllib.parse import urlparse


# ---------------------------------------------------------------------------- W&B
def _wandb_host() -> str:
    """Host W&B stores credentials under: WANDB_BASE_URL's (self-hosted servers), else the
    cloud's."""
    url = os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai"
    parsed = urlparse(url if "//" in url else f"https://{url}")
    return parsed.hostname or "api.wandb.ai"


def _has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    # `wandb login [--host URL]` writes the key to the netrc file (NETRC overrides ~/.netrc).
    path = os.environ.get("NETRC") or None
    try:
        return netrc.netrc(path).authenticators(_wandb_host()) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def configure_wandb_mode() -> None:
    """Log offline (to ./wandb, sync later with `wandb sync`) when no W&B credentials exist,
    so a run never blocks on a login prompt or fails without network. An explicit WANDB_MODE
    always wins."""
    if "WANDB_MODE" not in os.environ and not _has_wandb_credentials():
        os.environ["WANDB_MODE"] = "offline"
        print(f"web4rl: no W&B API key found for {_wandb_host()}; logging offline "
              "(WANDB_MODE=offline)", file=sys.stderr)


# ---------------------------------------------------------------------------- CPU threads
def _busy_cores(sample_seconds: float = 0.3) -> float | None:
    """Cores kept busy by other processes right now (Linux /proc/stat), else the 1-minute
    load average; None where neither exists."""
    def snapshot() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    first = snapshot()
    if first is not None:
        time.sleep(sample_seconds)
        second = snapshot()
        total, idle = second[0] - first[0], second[1] - first[1]
        if total > 0:
            return (os.cpu_count() or 1) * (1 - idle / total)
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def choose_cpu_threads(cores: int, busy: float | None, default: int) -> int:
    """Torch threads for a CPU run: the cores other processes leave free (at least one, at most
    torch's default). Two threads on a 2-core machine shared with one busy process run 5-9x
    slower than one thread (docs/benchmarks.md), so a busy machine gets fewer threads."""
    if busy is None:
        return default
    return max(1, min(default, cores - round(busy)))


def configure_cpu_threads() -> None:
    """Pick torch's thread count for a CPU run unless the user chose (OMP_NUM_THREADS)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    import torch

    default = torch.get_num_threads()
    busy = _busy_cores()
    threads = choose_cpu_threads(os.cpu_count() or 1, busy, default)
    if threads != default:
        torch.set_num_threads(threads)
    load = f", {busy:.1f} busy with other work" if busy is not None else ""
    print(f"web4rl: {threads} torch CPU thread(s) ({os.cpu_count()} cores{load}; "
          "OMP_NUM_THREADS=N chooses)", file=sys.stderr)



def runs_on_cpu(accelerator: Any) -> bool:
    """True when a Trainer with this ``accelerator`` setting runs on the CPU."""
    if accelerator == "cpu":
        return True
    if accelerator not in (None, "auto"):
        return False
    import torch

    return not (torch.cuda.is_available() or torch.backends.mps.is_available())
