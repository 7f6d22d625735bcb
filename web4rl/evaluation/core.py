"""What the evaluate command and the EvalGates callback share: generate through the one
sampling path, judge, and reduce to gate + distribution-shift values.

``GateAccumulator`` holds torchmetrics states only (rates as hit/total sums, n-gram ids as
cat-lists), so under DDP each rank updates it with its own share of the prompts and
``compute()`` gives exactly the values of one process seeing all prompts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torchmetrics import MeanMetric, Metric

from web4rl.evaluation.evalset import EvalPrompt
from web4rl.metrics import DistinctN, SelfBLEU, TokenKL, gate_metrics, update_gate_metrics


@dataclass(frozen=True)
class Generated:
    """One judged generation (what reports and W&B tables show).

    Attributes:
        prompt_id: the :class:`EvalPrompt` id.
        category: its category.
        text: the completion text.
        token_ids: completion token ids (stop token included when it stopped).
        logprobs: behaviour log-probs of ``token_ids`` at ``temperature``.
        temperature: sampling temperature (0 = greedy).
        reward: judge reward in [0, 1].
        components: judge components (None = not applicable).
        notes: judge notes.
    """

    prompt_id: str
    category: str | None
    text: str
    token_ids: list[int]
    logprobs: list[float]
    temperature: float
    reward: float
    components: dict[str, float | None]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Generated:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


def generate(policy, prompts: Sequence[EvalPrompt], *, temperature: float = 0.0,
             max_new_tokens: int = 128, batch_size: int = 8, seed: int = 0,
             progress: Callable[[int], None] | None = None):
    """Completions for ``prompts`` through :meth:`Policy.sample` (the one generation path)."""
    return policy.sample([p.chat() for p in prompts], n=1, temperatures=(temperature,),
                         max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed,
                         progress=progress)


def judge_generations(judge, prompts: Sequence[EvalPrompt], completions) -> list[Generated]:
    """Score completions (``generation.Completion`` objects, one per prompt, same order)."""
    from web4rl.judges import Sample

    samples = [Sample(p.text, c.text, p.category, p.expected_actions)
               for p, c in zip(prompts, completions, strict=True)]
    results = judge.score_batch(samples)
    return [
        Generated(p.id, p.category, c.text, c.completion_ids.tolist(),
                  [round(float(x), 6) for x in c.logprobs], float(c.temperature),
                  float(r.reward), dict(r.components), list(r.notes))
        for p, c, r in zip(prompts, completions, results, strict=True)
    ]


@dataclass(frozen=True)
class BaselineStats:
    """What distribution shift compares against, from a baseline's generations.

    Attributes:
        distinct1: corpus distinct-1 of the baseline texts.
        mean_length: mean completion length in tokens.
        token_counts: unigram token-id counts (length = vocabulary size).
    """

    distinct1: float
    mean_length: float
    token_counts: list[float]

    @classmethod
    def from_generations(cls, gens: Sequence[Generated], vocab_size: int) -> BaselineStats:
        d = DistinctN(1)
        d.update([g.text for g in gens])
        counts = torch.zeros(vocab_size, dtype=torch.float64)
        for g in gens:
            if g.token_ids:
                counts += torch.bincount(torch.tensor(g.token_ids), minlength=vocab_size).double()
        mean = sum(len(g.token_ids) for g in gens) / max(1, len(gens))
        return cls(float(d.compute()), float(mean), counts.tolist())


class GateAccumulator:
    """Gate rates, entropy estimate and distribution shift over a stream of generations.

    Args:
        baseline: statistics of the baseline's generations; None skips the shift values that
            need one (distinct ratio, token KL, length ratio); self-BLEU needs none.
    """

    def __init__(self, baseline: BaselineStats | None = None) -> None:
        self.gates: dict[str, Metric] = gate_metrics()
        self.reward = MeanMetric()
        # Mean of -log p over sampled tokens: a Monte Carlo estimate of per-token entropy
        # (exact in expectation only for temperature-1 samples).
        self.neg_logp = MeanMetric()
        self.distinct = DistinctN(1)
        self.self_bleu = SelfBLEU()
        self.baseline = baseline
        self.token_kl = self.length = None
        if baseline is not None:
            counts = torch.tensor(baseline.token_counts, dtype=torch.float64)
            self.token_kl = TokenKL(baseline_counts=counts)
            self.length = MeanMetric()

    def update(self, gens: Sequence[Generated]) -> None:
        update_gate_metrics(self.gates, [g.components for g in gens])
        texts = [g.text for g in gens]
        self.distinct.update(texts)
        self.self_bleu.update(texts)
        # Empty updates still happen so every rank joins each collective in compute().
        self.reward.update(torch.tensor([g.reward for g in gens], dtype=torch.float64))
        unit_t = [lp for g in gens if g.temperature == 1.0 for lp in g.logprobs]
        self.neg_logp.update(-torch.tensor(unit_t, dtype=torch.float64))
        if self.token_kl is not None:
            self.token_kl.update([g.token_ids for g in gens])
            self.length.update(torch.tensor([len(g.token_ids) for g in gens], dtype=torch.float64))

    def compute(self) -> dict[str, float]:
        """All values (NaN: no data); synced across ranks when torch.distributed is up."""
        out = {k: float(m.compute()) for k, m in self.gates.items()}
        out["reward_mean"] = float(self.reward.compute())
        out["entropy"] = float(self.neg_logp.compute())
        out["distinct_1"] = float(self.distinct.compute())
        out["self_bleu"] = float(self.self_bleu.compute())
        if self.baseline is not None:
            base_d = self.baseline.distinct1
            out["distinct_unigram_ratio"] = (out["distinct_1"] / base_d if base_d > 0
                                             else float("nan"))
            out["token_kl"] = float(self.token_kl.compute())
            mean = float(self.length.compute())
            out["length_ratio"] = (mean / self.baseline.mean_length
                                   if self.baseline.mean_length > 0 else float("nan"))
        return out
