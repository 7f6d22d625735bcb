"""Pure text statistics shared by the judge and the distribution-shift metrics.

One tokenizer and one BLEU so that "copying the prompt" in the judge and self-BLEU in the
metrics measure the same thing. Everything here is a pure function of its inputs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

# Words (identifiers, numbers) or single non-space symbols: code punctuation such as `{` or `=>`
# carries meaning for code outputs, so it is kept as tokens rather than stripped.
_TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[^\sA-Za-z0-9_]")


def tokenize(text: str) -> list[str]:
    """Split text into lower-cased word and symbol tokens (deterministic, language-agnostic)."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """All contiguous n-grams of ``tokens`` (empty when there are fewer than n tokens)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def sentence_bleu(
    hypothesis: Sequence[str],
    references: Sequence[Sequence[str]],
    max_n: int = 4,
) -> float:
    """BLEU of one tokenized hypothesis against one or more tokenized references.

    Papineni et al. 2002 with uniform weights over 1..max_n grams, clipped counts (max over
    references), the brevity penalty against the closest reference length, and add-one
    smoothing on the n > 1 precisions (Lin & Och 2004, "smoothing 2") so that short texts
    without a shared 4-gram do not collapse to exactly 0.

    Returns 0.0 for an empty hypothesis or when there is no reference.
    """
    if not hypothesis or not references:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        hyp = Counter(ngrams(hypothesis, n))
        total = sum(hyp.values())
        max_ref: Counter[tuple[str, ...]] = Counter()
        for ref in references:
            for g, c in Counter(ngrams(ref, n)).items():
                max_ref[g] = max(max_ref[g], c)
        matched = sum(min(c, max_ref[g]) for g, c in hyp.items())
        if n == 1:
            if matched == 0:
                return 0.0
            p = matched / total
        else:
            p = (matched + 1) / (total + 1)
        log_p += math.log(p) / max_n
    hyp_len = len(hypothesis)
    # Closest reference length; ties go to the shorter reference (as in sacrebleu/NLTK).
    ref_len = min((abs(len(r) - hyp_len), len(r)) for r in references)[1]
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return bp * math.exp(log_p)


def distinct_counts(token_lists: Sequence[Sequence[str]], n: int) -> tuple[int, int]:
    """(number of distinct n-grams, total n-grams) pooled over all texts."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for toks in token_lists:
        grams = ngrams(toks, n)
        total += len(grams)
        seen.update(grams)
    return len(seen), total
