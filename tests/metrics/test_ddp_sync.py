"""Two CPU processes (torch.distributed, gloo, localhost) sync every metric.

Each rank updates with its half of the data; after ``compute()`` (which syncs) every rank
must hold exactly the single-process value over all the data.
"""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from web4rl.metrics.gates import JSONValidity, PlanMinimality
from web4rl.metrics.shift import DistinctN, MeanLengthRatio, SelfBLEU, TokenKL

RATE = [[1, 0, None, 1], [0, 0, 1]]
STEPS = [([2, 4], [2, 2]), ([3], [1])]
TEXTS = [["a b a", "the cat sat"], ["c d", "the cat sat", "x"]]
TOKENS = [[[0, 0, 1]], [[2, 2], [1]]]
LENGTHS = [[8, 14], [11]]


def _make():
    return {
        "json": JSONValidity(),
        "plan": PlanMinimality(),
        "distinct1": DistinctN(1),
        "self_bleu": SelfBLEU(),
        "kl": TokenKL(baseline_counts=torch.tensor([1.0, 1.0, 1.0])),
        "len": MeanLengthRatio(10.0),
    }


def _feed(ms, rank_parts):
    for r in rank_parts:
        ms["json"].update(RATE[r])
        ms["plan"].update(*STEPS[r])
        ms["distinct1"].update(TEXTS[r])
        ms["self_bleu"].update(TEXTS[r])
        ms["kl"].update(TOKENS[r])
        ms["len"].update(LENGTHS[r])


def _worker(rank: int, port: int, world: int, out) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        ms = _make()
        _feed(ms, [rank])
        out.put((rank, {k: m.compute().item() for k, m in ms.items()}))
    except Exception as e:  # report instead of leaving the parent waiting on the queue
        out.put((rank, repr(e)))
        raise
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")
def test_two_process_sync_equals_single_process():
    single = _make()
    _feed(single, [0, 1])
    want = {k: m.compute().item() for k, m in single.items()}
    # Hand check of the pooled values: json 3/6; plan (1 + .5 + 1/3)/3.
    assert want["json"] == pytest.approx(0.5)
    assert want["plan"] == pytest.approx((1 + 0.5 + 1 / 3) / 3)

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(r, port, 2, q)) for r in range(2)]
    for p in procs:
        p.start()
    got = dict(q.get(timeout=120) for _ in procs)
    assert all(isinstance(v, dict) for v in got.values()), got
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for rank in (0, 1):
        for k, v in want.items():
            assert got[rank][k] == pytest.approx(v), (rank, k)
