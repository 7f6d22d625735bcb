"""Quality and agreement figures of an annotation database (``annotate stats`` and /stats).

Thresholds (the annotation guide): pair kappa >= 0.7 certifies, < 0.6 flags retraining; a tie
rate above 15% and a low-confidence share above 20% are warnings (per annotator and overall).
"""

from __future__ import annotations

import itertools
import json
import math
import sqlite3
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from web4rl.annotate.agreement import cohen_kappa, kappa_verdict

TIE_WARN = 0.15
LOW_CONFIDENCE_WARN = 0.20


@dataclass
class AnnotatorStats:
    name: str
    labels: int
    tie_rate: float
    low_confidence: float
    median_seconds: float
    certification_kappa: float  # against the gold answers; nan when not taken
    certification_done: int
    certification_total: int


@dataclass
class PairAgreement:
    a: str
    b: str
    n: int
    kappa: float
    verdict: str


@dataclass
class Stats:
    comparisons: int
    labels: int
    labelled_comparisons: int
    tie_rate: float
    low_confidence: float
    median_seconds: float
    annotators: list[AnnotatorStats] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        def clean(v):  # NaN is not JSON
            if isinstance(v, float) and math.isnan(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        return json.dumps(clean(asdict(self)), indent=2)


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def compute_stats(con: sqlite3.Connection) -> Stats:
    """All figures from the database (certification labels are kept out of the label figures)."""
    rows = con.execute(
        "SELECT l.comparison_id, l.annotator_id, a.name, l.choice, l.tags, l.confidence,"
        " l.seconds, c.gold, c.overlap, p.category FROM labels l"
        " JOIN annotators a ON a.id = l.annotator_id JOIN comparisons c ON c.id = l.comparison_id"
        " JOIN prompts p ON p.prompt_id = c.prompt_id ORDER BY l.id"
    ).fetchall()
    work = [r for r in rows if r["gold"] is None]
    gold = [r for r in rows if r["gold"] is not None]
    n_gold = con.execute("SELECT COUNT(*) FROM comparisons WHERE gold IS NOT NULL").fetchone()[0]
    n_comp = con.execute("SELECT COUNT(*) FROM comparisons WHERE gold IS NULL").fetchone()[0]

    def rate(rs, pred) -> float:
        return sum(pred(r) for r in rs) / len(rs) if rs else math.nan

    st = Stats(
        comparisons=n_comp,
        labels=len(work),
        labelled_comparisons=len({r["comparison_id"] for r in work}),
        tie_rate=rate(work, lambda r: r["choice"] == "Tie"),
        low_confidence=rate(work, lambda r: r["confidence"] == "low"),
        median_seconds=_median([r["seconds"] for r in work]),
    )
    names = [r["name"] for r in con.execute("SELECT name FROM annotators ORDER BY id")]
    for name in names:
        mine = [r for r in work if r["name"] == name]
        cert = [r for r in gold if r["name"] == name]
        kappa = cohen_kappa([r["gold"] for r in cert], [r["choice"] for r in cert])
        st.annotators.append(AnnotatorStats(
            name, len(mine), rate(mine, lambda r: r["choice"] == "Tie"),
            rate(mine, lambda r: r["confidence"] == "low"),
            _median([r["seconds"] for r in mine]), kappa, len(cert), n_gold,
        ))
    # Agreement on the overlap: every pair of annotators over the comparisons both labelled.
    by_comp: dict[int, dict[str, str]] = {}
    for r in work:
        by_comp.setdefault(r["comparison_id"], {})[r["name"]] = r["choice"]
    for x, y in itertools.combinations(names, 2):
        shared = [c for c in by_comp.values() if x in c and y in c]
        if shared:
            k = cohen_kappa([c[x] for c in shared], [c[y] for c in shared])
            st.pairs.append(PairAgreement(x, y, len(shared), k, kappa_verdict(k)))
    tags: Counter[str] = Counter()
    cats: dict[str, Counter[str]] = {}
    for r in work:
        tags.update(json.loads(r["tags"]))
        cats.setdefault(r["category"], Counter())[r["choice"]] += 1
    st.tags = dict(tags.most_common())
    st.categories = {k: dict(v) for k, v in sorted(cats.items())}
    for c in sorted(cats):
        st.categories[c]["labels"] = sum(cats[c].values())
    # Warnings, in the guide's terms.
    if not math.isnan(st.tie_rate) and st.tie_rate > TIE_WARN:
        st.warnings.append(f"tie rate {st.tie_rate:.0%} > {TIE_WARN:.0%} overall")
    if not math.isnan(st.low_confidence) and st.low_confidence > LOW_CONFIDENCE_WARN:
        st.warnings.append(f"low-confidence share {st.low_confidence:.0%} > {LOW_CONFIDENCE_WARN:.0%} overall")
    for a in st.annotators:
        if a.labels and a.tie_rate > TIE_WARN:
            st.warnings.append(f"{a.name}: tie rate {a.tie_rate:.0%} > {TIE_WARN:.0%}")
        if a.labels and a.low_confidence > LOW_CONFIDENCE_WARN:
            st.warnings.append(f"{a.name}: low-confidence share {a.low_confidence:.0%} > {LOW_CONFIDENCE_WARN:.0%}")
        if a.certification_done and kappa_verdict(a.certification_kappa) == "retrain":
            st.warnings.append(f"{a.name}: certification kappa {a.certification_kappa:.2f} < 0.6 (retrain)")
    for p in st.pairs:
        if p.verdict == "retrain":
            st.warnings.append(f"{p.a} vs {p.b}: kappa {p.kappa:.2f} < 0.6 on {p.n} shared comparisons (retrain)")
    return st


def _f(x: float, pct: bool = False) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "-"
    return f"{x:.0%}" if pct else f"{x:.2f}"


def format_stats(st: Stats) -> str:
    """A plain-text report (the CLI's output)."""
    lines = [
        f"comparisons: {st.comparisons}  labelled: {st.labelled_comparisons}  labels: {st.labels}",
        f"tie rate: {_f(st.tie_rate, True)} (warn > {TIE_WARN:.0%})  low confidence: "
        f"{_f(st.low_confidence, True)} (warn > {LOW_CONFIDENCE_WARN:.0%})  median seconds: {_f(st.median_seconds)}",
        "",
        f"{'annotator':<16} {'labels':>6} {'ties':>5} {'low':>5} {'med s':>6} {'cert kappa':>11}",
    ]
    for a in st.annotators:
        cert = (
            f"{_f(a.certification_kappa)} ({a.certification_done}/{a.certification_total})"
            if a.certification_done else "-"
        )
        lines.append(
            f"{a.name:<16} {a.labels:>6} {_f(a.tie_rate, True):>5} {_f(a.low_confidence, True):>5}"
            f" {_f(a.median_seconds):>6} {cert:>11}"
        )
    lines += ["", "agreement on the overlap (Cohen's kappa; >= 0.7 certifies, < 0.6 retrain):"]
    lines += [f"  {p.a} vs {p.b}: kappa {_f(p.kappa)} on {p.n} comparisons -> {p.verdict}" for p in st.pairs]
    if not st.pairs:
        lines.append("  (no comparison labelled by two annotators yet)")
    lines += ["", "tags: " + (", ".join(f"{k} {v}" for k, v in st.tags.items()) or "-")]
    lines.append("categories:")
    for cat, counts in st.categories.items():
        lines.append(f"  {cat}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines += ["", "warnings:"] + ([f"  ! {w}" for w in st.warnings] or ["  none"])
    return "\n".join(lines)
