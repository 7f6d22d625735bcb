"""Stage 4 adapter tools: merge into the base, average, stack, export (safetensors / GGUF),
model card. ``python -m web4rl adapters --help``; the functions are importable too."""

from web4rl.adapters.ops import AdapterError, AdapterInfo, average, merge, read_adapter, stack

__all__ = ["AdapterError", "AdapterInfo", "average", "merge", "read_adapter", "stack"]
