"""The sample-data generator: the rows shipped in ``web4rl/sample_data/`` (deterministic, seeded).

Two files come out:

* ``sft.jsonl``: ``{"prompt", "completion", "category"}`` rows (gold examples).
* ``preferences.jsonl``: ``{"prompt", "chosen", "rejected", "category", "rejected_tags",
  "source": "synthetic"}`` rows whose rejected side is a realistic failure tagged with the
  taxonomy (wrong_tool, schema_fail, verbose, style_off, unsafe).

Categories follow the seed mix 40/30/20/10 (tool_use / style / multi_step / guardrail), one
module each (:mod:`~web4rl.datagen.tool_use`, :mod:`~web4rl.datagen.style`,
:mod:`~web4rl.datagen.multi_step`, :mod:`~web4rl.datagen.guardrail`); the pools and helpers
they share are in :mod:`~web4rl.datagen.common`. Completion formats are the contract the judge
and simulator rely on:

* tool call: one JSON object ``{"tool": "<name>", "args": {...}}``;
* multi-step plan: a JSON list of such objects;
* style: TypeScript/TSX source following Web4 conventions (PascalCase components and types,
  camelCase functions and variables, typed props, no ``var``, no ``any``);
* guardrail: a short refusal that says why and offers a safe alternative.

Tool calls speak the ``cursor`` tool profile (the seed's eight tools), not ``web4``, the
default profile everywhere else: rows carry no ``tools`` field, and consumers of these files
(the shipped configs, ``scripts/make_scored_sample.py``) name ``cursor`` explicitly. Argument
defaults come from that profile's schemas in the tool catalog (:mod:`web4rl.sim.tools`).
Chosen tool calls pass only the arguments the request needs; defaults are never restated.
Every prompt is unique across both files, so no prompt leaks between SFT and preference data.

Usage::

    python scripts/generate_sample_data.py                 # writes web4rl/sample_data/
    python scripts/generate_sample_data.py --out /tmp/x    # anywhere else
    python -m web4rl.datagen --out /tmp/x                  # the same, from the package

The shipped files are byte-identical to a fresh run (``tests/test_sample_data.py`` checks it).
"""

from web4rl.datagen.common import Example
from web4rl.datagen.generate import (
    BUILDERS,
    CATEGORY_MIX,
    DEFAULT_OUT,
    N_PREF,
    N_SFT,
    SEED,
    category_counts,
    generate,
    main,
    write_jsonl,
)

__all__ = [
    "BUILDERS",
    "CATEGORY_MIX",
    "DEFAULT_OUT",
    "N_PREF",
    "N_SFT",
    "SEED",
    "Example",
    "category_counts",
    "generate",
    "main",
    "write_jsonl",
]
