"""`python -m web4rl.judges ...` is the score command (same as `python -m web4rl score`)."""

from web4rl.judges.cli import main

raise SystemExit(main())
