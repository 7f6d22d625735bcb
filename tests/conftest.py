import os

# Tests never reach the network: W&B stays offline and HF never tries the hub.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Under pytest-xdist every worker is its own process: two workers x two OpenMP threads on a
# 2-core machine oversubscribe it, and small tensor ops then run 10-20x slower while threads
# wait for a core. One thread per worker (and per spawned child, via OMP_NUM_THREADS).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
