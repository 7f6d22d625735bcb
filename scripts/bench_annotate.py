"""Load test of the annotation app: N concurrent annotators label for a bounded time.

Starts ``python -m web4rl annotate serve`` (the command users run) on 127.0.0.1 only, against a
fresh database of synthetic comparisons, and runs N annotators as concurrent HTTP clients (each
its own session cookie): GET /label, parse the comparison id and CSRF token, POST the label,
follow nothing. Afterwards it checks, from the database, that every label the clients saw
accepted (303) is stored exactly once with the choice that was sent, that nothing else was
stored, and that no comparison has more labels than it needs (1, or 2 on the overlap).

    python scripts/bench_annotate.py --annotators 20 --seconds 20

Prints a JSON summary (latency median / p99 of the submit POST and of the page GET, throughput).
Clients and server share the machine: on a small shared box the figures are an upper bound on
latency, not a server capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web4rl.annotate import db  # noqa: E402
from web4rl.annotate.candidates import import_candidates  # noqa: E402
from web4rl.annotate.store import add_annotator  # noqa: E402

CID = re.compile(r'action="/label/(\d+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HINTS = {"json": 1.0, "schema": 1.0, "guardrail": 0.0}


def build_db(path: Path, prompts: int, annotators: int) -> dict[str, str]:
    rows = []
    for p in range(prompts):
        for k in range(4):  # 4 candidates -> 6 comparisons per prompt
            rows.append({"prompt_id": f"p{p}", "prompt": f"Read src/m{p}.ts and fix it",
                         "completion": json.dumps({"tool": "read_file", "args": {
                             "target_file": f"src/m{p}.ts", "offset": k + 1}}),
                         "temperature": 0.7 + 0.2 * k, "category": ("tool_use", "style")[p % 2],
                         "components": HINTS})
    src = path.with_suffix(".jsonl")
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    con = db.connect(path, create=True)
    import_candidates(con, [src], overlap=0.1, seed=0)
    tokens = {f"annotator{i:02d}": add_annotator(con, f"annotator{i:02d}") for i in range(annotators)}
    con.close()
    return tokens


def choice_for(name: str, cid: int) -> str:
    return ("A", "B", "Tie")[(zlib.crc32(name.encode()) + cid) % 3]


async def annotator(base: str, name: str, token: str, deadline: float, out: dict) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        r = await client.post("/login", data={"token": token})
        if r.status_code != 303:
            out["errors"].append(f"{name}: login {r.status_code}")
            return
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            r = await client.get("/label")
            out["get_ms"].append(1000 * (time.perf_counter() - t0))
            m = CID.search(r.text)
            if m is None:
                break  # queue empty for this annotator
            cid, csrf = int(m.group(1)), CSRF.search(r.text).group(1)
            choice = choice_for(name, cid)
            t0 = time.perf_counter()
            r = await client.post(f"/label/{cid}", data={
                "csrf": csrf, "choice": choice, "confidence": "high",
                "justification": f"{name} on {cid}", "tags": ["verbose"]},
                follow_redirects=False)
            out["post_ms"].append(1000 * (time.perf_counter() - t0))
            if r.status_code == 303:
                out["accepted"].append((name, cid, choice))
            else:
                out["errors"].append(f"{name}: POST {cid} -> {r.status_code}")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--annotators", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--prompts", type=int, default=1000, help="6 comparisons each")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        tokens = build_db(path, args.prompts, args.annotators)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        server = subprocess.Popen(
            [sys.executable, "-m", "web4rl", "annotate", "serve", "--db", str(path),
             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/login", timeout=1.0)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            out: dict = {"get_ms": [], "post_ms": [], "accepted": [], "errors": []}

            async def run() -> None:
                deadline = time.monotonic() + args.seconds
                await asyncio.gather(*(annotator(base, n, t, deadline, out) for n, t in tokens.items()))

            t0 = time.monotonic()
            asyncio.run(run())
            wall = time.monotonic() - t0
        finally:
            server.terminate()
            server.wait(timeout=30)
        con = db.connect(path)
        stored = [(r["name"], r["comparison_id"], r["choice"]) for r in con.execute(
            "SELECT a.name, l.comparison_id, l.choice FROM labels l"
            " JOIN annotators a ON a.id = l.annotator_id")]
        over = con.execute(
            "SELECT COUNT(*) FROM (SELECT c.id FROM comparisons c JOIN labels l"
            " ON l.comparison_id = c.id GROUP BY c.id HAVING COUNT(*) > 1 + c.overlap)"
        ).fetchone()[0]
    accepted = out["accepted"]
    summary = {
        "annotators": args.annotators, "seconds": round(wall, 1),
        "labels_accepted": len(accepted), "labels_stored": len(stored),
        "every_accepted_label_stored_once": sorted(accepted) == sorted(stored),
        "duplicates": len(stored) - len(set((n, c) for n, c, _ in stored)),
        "comparisons_over_their_label_count": over,
        "errors": len(out["errors"]), "first_errors": out["errors"][:5],
        "submits_per_s": round(len(accepted) / wall, 1),
        "post_ms_median": round(statistics.median(out["post_ms"]), 1) if out["post_ms"] else None,
        "post_ms_p99": round(pct(out["post_ms"], 0.99), 1),
        "get_ms_median": round(statistics.median(out["get_ms"]), 1) if out["get_ms"] else None,
        "get_ms_p99": round(pct(out["get_ms"], 0.99), 1),
    }
    print(json.dumps(summary, indent=2))
    ok = (summary["every_accepted_label_stored_once"] and summary["duplicates"] == 0
          and over == 0 and not out["errors"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
