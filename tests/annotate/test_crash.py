"""A killed server (SIGKILL, no shutdown) loses no label it acknowledged."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("multipart")
httpx = pytest.importorskip("httpx")

from web4rl.annotate import db  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_after_submits_keeps_every_acknowledged_label(annot_db):
    path, tokens = annot_db
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys, uvicorn; from web4rl.annotate.app import create_app; "
            f"uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port={port}, log_level='error')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    acked = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1.0)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=base) as client:
            assert client.post("/login", data={"token": tokens["bob"]}).status_code == 303
            for _ in range(5):
                html = client.get("/label").text
                cid = int(re.search(r'action="/label/(\d+)"', html).group(1))
                csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
                r = client.post(f"/label/{cid}", data={"csrf": csrf, "choice": "B",
                                "confidence": "high", "justification": "ok"})
                assert r.status_code == 303
                acked.append(cid)
            client.get("/label")  # a sixth comparison shown, never submitted
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    con = db.connect(path)
    stored = [r[0] for r in con.execute("SELECT comparison_id FROM labels ORDER BY id")]
    assert stored == acked
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
