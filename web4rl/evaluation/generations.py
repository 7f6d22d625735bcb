"""Resumable generations: judged completions appended to ``<dir>/<name>.jsonl`` chunk by chunk.

Prompts are cut into fixed chunks of ``batch_size``; chunk c is sampled with seed ``seed + c``,
so an interrupted run that resumes produces exactly the rows an uninterrupted one would.
``<name>.meta.json`` pins the settings; resuming with other settings is refused (the cached
rows would silently mix two configurations).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from web4rl.evaluation.core import Generated, generate, judge_generations
from web4rl.evaluation.evalset import EvalPrompt, EvalSetError


def load_generations(path: Path) -> dict[str, Generated]:
    """Rows of a generations file by prompt id; a torn last line (a crash) is ignored."""
    out: dict[str, Generated] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            g = Generated.from_dict(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        out[g.prompt_id] = g
    return out


def cached_generate(policy, prompts: Sequence[EvalPrompt], judge, out_dir: Path, name: str,
                    settings: dict, progress=None) -> list[Generated]:
    """Judged generations for ``prompts`` (in order), reusing rows already on disk."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path, meta = out_dir / f"{name}.jsonl", out_dir / f"{name}.meta.json"
    if meta.is_file() and json.loads(meta.read_text()) != settings:
        raise EvalSetError(f"{meta}: generations were made with other settings "
                           f"({json.loads(meta.read_text())}); use another -o or --fresh")
    meta.write_text(json.dumps(settings, sort_keys=True))
    done = load_generations(path)
    bs = int(settings["batch_size"])
    # Drop a torn tail before appending.
    if path.is_file():
        path.write_text("".join(json.dumps(g.to_dict()) + "\n" for g in done.values()),
                        encoding="utf-8")
    with path.open("a", encoding="utf-8") as fh:
        for c, start in enumerate(range(0, len(prompts), bs)):
            chunk = list(prompts[start : start + bs])
            if all(p.id in done for p in chunk):
                if progress:
                    progress(len(chunk))
                continue
            comps = generate(policy, chunk, temperature=settings["temperature"],
                             max_new_tokens=settings["max_new_tokens"], batch_size=bs,
                             seed=settings["seed"] + c)
            for g in judge_generations(judge, chunk, comps):
                done[g.prompt_id] = g
                fh.write(json.dumps(g.to_dict()) + "\n")
            fh.flush()
            if progress:
                progress(len(chunk))
    rows = [done[p.id] for p in prompts]
    # Rewrite in prompt order (a resumed chunk was appended after rows of later chunks).
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(g.to_dict()) + "\n" for g in rows), encoding="utf-8")
    tmp.replace(path)
    return rows
