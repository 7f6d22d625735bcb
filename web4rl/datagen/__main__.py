"""``python -m web4rl.datagen``: write the sample data (see :func:`web4rl.datagen.main`)."""

from web4rl.datagen.generate import main

raise SystemExit(main(prog="python -m web4rl.datagen"))
