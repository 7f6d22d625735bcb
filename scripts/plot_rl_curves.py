"""Plot PPO / GRPO training curves from their CSV logs into one PNG.

    python scripts/plot_rl_curves.py --run GRPO=runs/grpo_cpu/version_0/metrics.csv \\
        --run PPO=runs/ppo_cpu/version_0/metrics.csv --out docs/stage3_cpu_curves.png \\
        [--baseline 0.25]   # held-out success of the starting (SFT) adapter

Panels: train episode return, train success rate, held-out (val) success rate, KL to the
reference. Needs matplotlib (not a package dependency; a plotting convenience).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def read(path: Path) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            step = int(float(row.get("step") or 0))
            for key, value in row.items():
                if key != "step" and value not in ("", None):
                    series.setdefault(key, []).append((step, float(value)))
    # Lightning logs the last update's values once more, one step later, when the epoch
    # ends: drop that final step when every series repeats its previous value there.
    last = max((pts[-1][0] for pts in series.values() if pts), default=None)
    ending = {k: pts for k, pts in series.items() if pts and pts[-1][0] == last}
    if ending and all(len(p) > 1 and p[-1][1] == p[-2][1] for p in ending.values()):
        for pts in ending.values():
            pts.pop()
    return series


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", action="append", required=True, help="LABEL=metrics.csv")
    p.add_argument("--out", required=True)
    p.add_argument("--baseline", type=float, help="held-out success of the start adapter")
    args = p.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("train/episode_return", "train episode return"),
              ("train/success_rate", "train success rate"),
              ("val/success_rate", "held-out success rate"),
              ("train/kl", "KL to reference (per token)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for spec in args.run:
        label, _, path = spec.partition("=")
        series = read(Path(path))
        for ax, (key, title) in zip(axes, panels, strict=True):
            points = series.get(key, [])
            if not points:
                continue
            # The logged step counts training batches (= updates) from 0; show updates from 1.
            xs = [s + 1 for s, _ in points]
            style = "-" if key.startswith("train/") else "o-"
            ax.plot(xs, [v for _, v in points], style, label=label)
            ax.set_title(title)
    if args.baseline is not None:
        axes[2].axhline(args.baseline, color="grey", linestyle="--", label="SFT start")
    for ax in axes:
        ax.set_xlabel("update")
        ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
