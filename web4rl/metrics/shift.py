"""Distribution-shift metrics (torchmetrics): is the policy drifting away from its baseline?

* :class:`DistinctN` - corpus distinct-n: distinct n-grams / total n-grams over all samples.
  Gate (DESIGN.md 6): distinct-1 of the policy >= 80% of the baseline's.
* :class:`SelfBLEU` - mean BLEU of each sample against all the others (mode collapse); < 0.5.
* :class:`TokenKL` - KL(policy || baseline) between unigram token distributions; < 0.3.
* :class:`MeanLengthRatio` - mean sample length / baseline mean length; within 1 +- 0.2.

DDP: sums use ``dist_reduce_fx="sum"``. Distinct-n and self-BLEU need the samples themselves
(a set union is not a sum), so they keep list states of n-gram / token ids reduced with
``"cat"``; ids are stable 63-bit blake2b hashes of the token strings, identical on every rank
(Python's ``hash`` is salted per process and would not be).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from web4rl.metrics.text import ngrams, sentence_bleu, tokenize


def stable_id(token: str | tuple[str, ...]) -> int:
    """A process-independent 63-bit id for a token or n-gram."""
    key = token if isinstance(token, str) else "\x1f".join(token)
    return (
        int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") >> 1
    )


def _cat(state: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """A list state as one tensor (after a DDP sync torchmetrics has already concatenated it)."""
    if isinstance(state, torch.Tensor):
        return state
    return dim_zero_cat(state) if state else torch.empty(0, dtype=torch.int64)


def _tokens(sample: str | Sequence[str]) -> list[str]:
    return tokenize(sample) if isinstance(sample, str) else list(sample)


class DistinctN(Metric):
    """Corpus distinct-n over text samples (strings are tokenized with web4rl.metrics.text).

    Args:
        n: n-gram order (1 = vocabulary diversity).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, n: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n = n
        self.add_state("gram_ids", default=[], dist_reduce_fx="cat")

    def update(self, samples: Sequence[str | Sequence[str]]) -> None:
        ids = [stable_id(g) for s in samples for g in ngrams(_tokens(s), self.n)]
        self.gram_ids.append(torch.tensor(ids, dtype=torch.int64, device=self.device))

    def compute(self) -> torch.Tensor:
        ids = _cat(self.gram_ids)
        if ids.numel() == 0:
            return torch.tensor(float("nan"), dtype=torch.float64)
        return torch.tensor(torch.unique(ids).numel() / ids.numel(), dtype=torch.float64)


class SelfBLEU(Metric):
    """Mean sentence BLEU of each sample against all other samples (Zhu et al. 2018).

    Args:
        max_n: BLEU order.
        max_samples: cost is quadratic, so at most this many samples (the first ones in the
            synced order) are compared.
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, max_n: int = 4, max_samples: int = 500, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_n = max_n
        self.max_samples = max_samples
        # Token ids of all samples concatenated, plus each sample's length to split them again.
        self.add_state("token_ids", default=[], dist_reduce_fx="cat")
        self.add_state("lengths", default=[], dist_reduce_fx="cat")

    def update(self, samples: Sequence[str | Sequence[str]]) -> None:
        toks = [_tokens(s) for s in samples]
        ids = [stable_id(t) for ts in toks for t in ts]
        self.token_ids.append(torch.tensor(ids, dtype=torch.int64, device=self.device))
        self.lengths.append(
            torch.tensor([len(t) for t in toks], dtype=torch.int64, device=self.device)
        )

    def compute(self) -> torch.Tensor:
        ids = _cat(self.token_ids).tolist()
        lens = _cat(self.lengths).tolist()
        seqs, pos = [], 0
        for n in lens:
            seqs.append([str(i) for i in ids[pos : pos + n]])
            pos += n
        seqs = seqs[: self.max_samples]
        if len(seqs) < 2:
            return torch.tensor(float("nan"), dtype=torch.float64)
        scores = [
            sentence_bleu(h, seqs[:i] + seqs[i + 1 :], self.max_n) for i, h in enumerate(seqs)
        ]
        return torch.tensor(sum(scores) / len(scores), dtype=torch.float64)


class TokenKL(Metric):
    """KL(policy || baseline) between unigram token-id distributions.

    Both distributions use add-``alpha`` smoothing over the vocabulary so unseen tokens keep
    the KL finite: p_i = (c_i + alpha) / (sum c + alpha * V).

    Args:
        baseline_counts: (V,) token counts of the baseline model's samples (e.g. from another
            TokenKL's ``counts`` after updating it with baseline samples).
        alpha: smoothing pseudo-count.
        ignore_index: token id to skip (padding).
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(
        self,
        baseline_counts: torch.Tensor | None = None,
        vocab_size: int | None = None,
        alpha: float = 0.5,
        ignore_index: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if baseline_counts is None and vocab_size is None:
            raise ValueError("give baseline_counts or vocab_size")
        size = int(vocab_size if vocab_size is not None else baseline_counts.numel())
        self.alpha = alpha
        self.ignore_index = ignore_index
        base = (
            torch.zeros(size, dtype=torch.float64)
            if baseline_counts is None
            else baseline_counts.detach().to(torch.float64).flatten()
        )
        if base.numel() != size:
            raise ValueError(f"baseline_counts has {base.numel()} entries, vocab_size is {size}")
        self.register_buffer("baseline_counts", base)
        self.add_state("counts", torch.zeros(size, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, token_ids: torch.Tensor | Sequence[Sequence[int]]) -> None:
        """Count token ids: a (B, T) / (N,) integer tensor or a list of id lists."""
        if isinstance(token_ids, torch.Tensor):
            ids = token_ids.flatten().to(torch.int64)
        else:
            ids = torch.tensor([i for seq in token_ids for i in seq], dtype=torch.int64)
        if self.ignore_index is not None:
            ids = ids[ids != self.ignore_index]
        if ids.numel() and (ids.min() < 0 or ids.max() >= self.counts.numel()):
            raise ValueError(
                f"token ids must lie in [0, {self.counts.numel()}), got max {int(ids.max())}"
            )
        self.counts += torch.bincount(ids.to(self.counts.device), minlength=self.counts.numel()).to(
            torch.float64
        )

    def compute(self) -> torch.Tensor:
        if self.counts.sum() == 0 or self.baseline_counts.sum() == 0:
            return torch.tensor(float("nan"), dtype=torch.float64)
        v = self.counts.numel()
        p = (self.counts + self.alpha) / (self.counts.sum() + self.alpha * v)
        q = (self.baseline_counts + self.alpha) / (self.baseline_counts.sum() + self.alpha * v)
        return (p * (p.log() - q.log())).sum()


class MeanLengthRatio(Metric):
    """Mean sample length divided by the baseline's mean length (1.0 = no change).

    Args:
        baseline_mean: the baseline model's mean length in the same unit (tokens or chars).
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    def __init__(self, baseline_mean: float, **kwargs) -> None:
        super().__init__(**kwargs)
        if not baseline_mean > 0:
            raise ValueError(f"baseline_mean must be > 0, got {baseline_mean}")
        self.baseline_mean = float(baseline_mean)
        self.add_state("length_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, lengths: torch.Tensor | Sequence[float]) -> None:
        t = torch.as_tensor(lengths, dtype=torch.float64).flatten()
        self.length_sum += t.sum().to(self.length_sum.device)
        self.count += t.numel()

    def compute(self) -> torch.Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64)
        return self.length_sum / self.count / self.baseline_mean
