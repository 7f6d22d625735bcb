"""Stage 1 human loop: import candidates, label them in a web app, measure agreement, export pairs.

Modules: :mod:`~web4rl.annotate.db` (SQLite, WAL, one transaction per write),
:mod:`~web4rl.annotate.candidates` (import), :mod:`~web4rl.annotate.store` (annotators, queue,
labels), :mod:`~web4rl.annotate.render` (untrusted output -> display), :mod:`~web4rl.annotate.app`
(the ASGI app; needs the ``annotate`` extra), :mod:`~web4rl.annotate.agreement` (Cohen's kappa),
:mod:`~web4rl.annotate.stats`, :mod:`~web4rl.annotate.export`, :mod:`~web4rl.annotate.cli`.
"""

from web4rl.annotate.agreement import cohen_kappa

__all__ = ["cohen_kappa"]
