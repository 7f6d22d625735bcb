"""Stage 2 automated judge: validators + a weighted, normalized reward with its components.

Public API::

    from web4rl.judges import Judge, JudgeWeights, Sample
    result = Judge().score(Sample(prompt, completion, category="tool_use"))
    result.reward, result.components, result.notes

``python -m web4rl score`` (web4rl.judges.cli) scores JSONL files; Biome for the lint check is
installed with ``python -m web4rl.judges.lint --install``.
"""

__all__ = [
    "PENALTIES",
    "POSITIVE",
    "Judge",
    "JudgeResult",
    "JudgeWeights",
    "Sample",
    "normalize",
    "weights_from_dict",
]


def __getattr__(name: str):
    # Lazy, so `python -m web4rl.judges.lint` does not import its own module twice (runpy).
    if name in __all__:
        from web4rl.judges import judge

        return getattr(judge, name)
    raise AttributeError(f"module 'web4rl.judges' has no attribute {name!r}")
