"""Lightning callbacks: cross-cutting work that is not part of any one algorithm."""

from web4rl.callbacks.hardware import MatmulPrecision
from web4rl.callbacks.progress import PlainProgressBar
from web4rl.callbacks.throughput import TokenThroughput, count_tokens

__all__ = ["MatmulPrecision", "PlainProgressBar", "TokenThroughput", "count_tokens"]
