#!/usr/bin/env python3
"""Generate the sample data shipped in ``web4rl/sample_data/`` (deterministic, seeded).

A thin entry point: the generator is the package :mod:`web4rl.datagen` (row formats, category
modules, the ``generate`` function); ``python -m web4rl.datagen`` is the same command.

Usage::

    python scripts/generate_sample_data.py                 # writes web4rl/sample_data/
    python scripts/generate_sample_data.py --out /tmp/x    # anywhere else
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's web4rl

from web4rl.datagen import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
