"""Synthetic candidates and gold pairs for the annotation tests (no model, no judge)."""

from __future__ import annotations

import json
from pathlib import Path

CATEGORIES = ("tool_use", "style", "multi_step", "guardrail")
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss=2">'
HINTS = {"json": 1.0, "schema": 1.0, "guardrail": 0.0, "refusal": None}


def sample_rows(prompts_per_category: int = 5, with_xss: bool = True) -> list[dict]:
    """3 distinct candidates per prompt (plus one exact duplicate per prompt, to be dropped)."""
    rows = []
    for cat in CATEGORIES:
        for i in range(prompts_per_category):
            pid = f"{cat}-{i}"
            prompt = f"[{cat} {i}] Read src/file{i}.ts and fix the bug."
            texts = [
                json.dumps({"tool": "read_file", "args": {"target_file": f"src/file{i}.ts"}}),
                f"Sure! Here is file {i}:\n```ts\nexport const x{i} = {i};\n```",
                f"I would look at src/file{i}.ts first ({cat}).",
            ]
            if with_xss and cat == "tool_use" and i == 0:
                texts[2] = XSS
            for t, temp in zip(texts + [texts[0]], (0.7, 0.9, 1.1, 1.1), strict=True):
                rows.append({"prompt_id": pid, "prompt": prompt, "completion": t,
                             "temperature": temp, "category": cat, "reward": 0.5,
                             "components": HINTS})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def gold_rows(n: int = 6) -> list[dict]:
    return [
        {"prompt": f"Gold {i}: list the files in src/", "category": CATEGORIES[i % 4],
         "chosen": json.dumps({"tool": "list_dir", "args": {"target_directory": "src"}}),
         "rejected": f"I cannot do that {i}."}
        for i in range(n)
    ]


def round_robin(con):
    """Yield (annotator id, comparison id) round-robin over the annotators until every queue is
    empty. The caller labels each comparison before asking for the next one (the store hands out
    the next comparison only after the last was submitted)."""
    from web4rl.annotate import store

    active = {r[0] for r in con.execute("SELECT id FROM annotators ORDER BY id")}
    while active:
        for aid in list(active):
            cid = store.next_comparison(con, aid)
            if cid is None:
                active.discard(aid)
                continue
            yield aid, cid
