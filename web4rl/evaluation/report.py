"""eval.json -> report.md (+ PNG plots when matplotlib is installed: ``pip install web4rl[plots]``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

GATE_TITLES = {
    "json_validity": "JSON validity", "schema_compliance": "Schema compliance",
    "lint_pass": "Lint pass", "ast_correctness": "AST correctness", "naming": "Naming",
    "guardrail_violation_rate": "Guardrail violations", "distinct_unigram_ratio":
    "Distinct unigrams vs baseline", "self_bleu": "Self-BLEU", "token_kl": "Token KL vs baseline",
    "length_ratio": "Mean length vs baseline",
}


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def plot(result: dict, out_dir: Path) -> list[str] | str:
    """Write the PNGs; returns their paths relative to ``out_dir``, or why none were made."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plots skipped: matplotlib is not installed (pip install 'web4rl[plots]')"
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    names = list(result["adapters"])
    made = []

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name in names:
        ax.hist(result["adapters"][name]["rewards"], bins=20, range=(0, 1), alpha=0.5, label=name)
    ax.set(xlabel="judge reward", ylabel="samples", title="Reward distribution")
    ax.legend()
    fig.tight_layout()
    fig.savefig(plots / "reward_hist.png", dpi=100)
    plt.close(fig)
    made.append("plots/reward_hist.png")

    gates = [g for g in GATE_TITLES if any(
        g in result["adapters"][n]["gates"] for n in names)]
    if gates:
        fig, ax = plt.subplots(figsize=(max(6, len(gates) * 0.9), 3.5))
        width = 0.8 / max(1, len(names))
        for i, name in enumerate(names):
            vals = [result["adapters"][name]["gates"].get(g, {}).get("value") for g in gates]
            xs = [j + i * width for j in range(len(gates))]
            ax.bar(xs, [0 if v is None or math.isnan(v) else v for v in vals], width, label=name)
        for j, g in enumerate(gates):
            th = next((result["adapters"][n]["gates"][g]["threshold"] for n in names
                       if g in result["adapters"][n]["gates"]), None)
            if th is not None and g != "length_ratio":
                ax.hlines(th, j - width / 2, j + 0.8 - width / 2, colors="k", linestyles="--")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(gates))])
        ax.set_xticklabels([GATE_TITLES[g] for g in gates], rotation=30, ha="right", fontsize=7)
        ax.set(title="Gates (dashed: threshold)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots / "gate_bars.png", dpi=100)
        plt.close(fig)
        made.append("plots/gate_bars.png")

    if len(names) > 1:
        keys = ["reward_mean", "json_validity", "schema_compliance", "first_action_accuracy"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for key in keys:
            ys = [result["adapters"][n]["values"].get(key, float("nan")) for n in names]
            ax.plot(names, ys, marker="o", label=key)
        ax.set(title="Per-stage comparison", ylim=(-0.05, 1.05))
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots / "stage_comparison.png", dpi=100)
        plt.close(fig)
        made.append("plots/stage_comparison.png")
    return made


def _sample_block(s: dict) -> str:
    text = s["completion"].strip().replace("```", "'''")
    if len(text) > 600:
        text = text[:600] + " ..."
    prompt = " ".join(s.get("prompt", "").split())
    prompt = prompt if len(prompt) <= 200 else prompt[:200] + " ..."
    return (f"- `{s['prompt_id']}` ({s['category']}), reward {s['reward']:.3f}: {prompt}\n\n"
            f"  ```\n  " + text.replace("\n", "\n  ") + "\n  ```\n")


def write_markdown(result: dict, out_dir: Path, plots: list[str] | str) -> Path:
    names = list(result["adapters"])
    base = result.get("baseline")
    lines = ["# Evaluation report", "",
             f"Evaluation set: {result['eval_set']} ({result['num_prompts']} prompts); "
             f"held-out tasks: {result['num_tasks']} ({result['task_runner']}); "
             f"baseline for shift and deltas: {base or 'none'}.", "",
             f"Sampling: {result['settings']}", "", "## Summary", "",
             "| adapter | reward mean | gates passed | first-action acc. | task success |",
             "|---|---|---|---|---|"]
    for n in names:
        a = result["adapters"][n]
        judged = [g["passed"] for g in a["gates"].values() if g["passed"] is not None]
        lines.append(f"| {n} | {_fmt(a['values'].get('reward_mean'))} | {sum(judged)}/{len(judged)}"
                     f" | {_fmt(a['values'].get('first_action_accuracy'))}"
                     f" | {_fmt(a['values'].get('task_success'))} |")
    lines += ["", "## Gates", ""]
    for gate, title in GATE_TITLES.items():
        rows = [(n, result["adapters"][n]["gates"][gate]) for n in names
                if gate in result["adapters"][n]["gates"]]
        if not rows:
            continue
        lines += [f"### {title} (`{gate}`)", "",
                  "| adapter | value | threshold | pass | delta vs baseline |",
                  "|---|---|---|---|---|"]
        for n, g in rows:
            verdict = ("no data" if g["passed"] is None else "pass" if g["passed"]
                       else "**FAIL**") + (" (critical)" if g["critical"] else "")
            lines.append(f"| {n} | {_fmt(g['value'])} | {_fmt(g['threshold'])} | {verdict} | "
                         f"{_fmt(g.get('delta'))} |")
        lines.append("")
    if isinstance(plots, str):
        lines += ["## Plots", "", plots, ""]
    else:
        lines += ["## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots] + [""]
    lines += ["## Samples", ""]
    for n in names:
        a = result["adapters"][n]
        lines += [f"### {n}: best by reward", ""] + [_sample_block(s) for s in a["best"]]
        lines += [f"### {n}: worst by reward", ""] + [_sample_block(s) for s in a["worst"]]
    path = out_dir / "report.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
