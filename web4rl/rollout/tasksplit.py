"""The training / held-out task split, shared by RolloutDataModule and the SFT export (so
warm-start data never contains a held-out task). Torch-free.

Held out: handcrafted tasks of the held-out difficulties whose id hashes (sha1) below
``fraction``, plus procedural tasks with generator seeds at or above 2**31, a range the
training generator (seeds below 2**31 - 1) and the export (seeds from 0) never use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

HELDOUT_SEED_BASE = 2**31


def in_heldout(task_id: str, fraction: float) -> bool:
    digest = hashlib.sha1(task_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def split_tasks(
    categories: Sequence[str] | None = None,
    fraction: float = 0.2,
    generated: int = 2,
    difficulties: Sequence[str] = ("simple", "medium"),
) -> tuple[list[Any], list[Any]]:
    """(training handcrafted tasks, held-out tasks) for the given categories."""
    from web4rl.sim.generators import generate_task
    from web4rl.sim.tasks import CATEGORIES, load_builtin_tasks

    cats = tuple(categories or CATEGORIES)
    handcrafted = [t for t in load_builtin_tasks() if t.category in cats]
    held = [t for t in handcrafted if t.difficulty in difficulties and in_heldout(t.id, fraction)]
    held += [generate_task(c, d, HELDOUT_SEED_BASE + i) for c in cats for d in difficulties
             for i in range(generated)]
    held_ids = {t.id for t in held}
    return [t for t in handcrafted if t.id not in held_ids], held
