"""A real headless Chromium (Debian's package, driven by Playwright's Python API) labels
comparisons with the keyboard and the mouse against a live server; the export holds exactly
those labels. Skipped when Playwright, uvicorn or /usr/bin/chromium are absent.

The screenshots in docs/ come from scripts/annotate_screenshots.py (tests never write docs/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("multipart")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from tests.annotate.helpers import XSS  # noqa: E402
from web4rl.annotate import db  # noqa: E402
from web4rl.annotate.app import create_app  # noqa: E402
from web4rl.annotate.export import export_pairs  # noqa: E402

CHROMIUM = os.environ.get("WEB4RL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file(),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(annot_db):
    path, tokens = annot_db
    port = _free_port()
    config = uvicorn.Config(create_app(path), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", path, tokens
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(tmp_path):
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield ctx.pages[0] if ctx.pages else ctx.new_page()
        finally:
            ctx.close()


def _current_cid(page) -> int:
    return int(re.search(r"/label/(\d+)$", page.get_attribute("#label-form", "action")).group(1))


def test_label_with_keyboard_and_mouse_then_export(server, page, tmp_path):
    base, path, tokens = server
    con = db.connect(path)
    xss_cid = con.execute(
        "SELECT c.id FROM comparisons c JOIN candidates k ON k.id IN (c.cand_a, c.cand_b)"
        " WHERE k.completion = ?", (XSS,)).fetchone()[0]
    con.execute("UPDATE comparisons SET position = -1 WHERE id = ?", (xss_cid,))

    page.goto(f"{base}/")
    page.fill("#token", tokens["alice"])
    page.click("#login")
    page.wait_for_url(f"{base}/label")

    # 1. The XSS candidate: shown as text, never run.
    assert _current_cid(page) == xss_cid
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("pre.prose", has_text="<script>window.__xss = 1</script>").count() == 1
    expected: dict[int, tuple[str, str, list[str]]] = {}

    # Keyboard only: a (A better), v (verbose), h (high), j + text, Esc, Ctrl+Enter.
    page.keyboard.press("a")
    page.keyboard.press("v")
    page.keyboard.press("h")
    page.keyboard.press("j")
    page.keyboard.type("A escapes nothing but answers; B is a script.")
    page.keyboard.press("Escape")
    page.keyboard.press("u")  # tags toggle after leaving the text box
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expected[xss_cid] = ("A", "high", ["verbose", "unsafe"])

    # 2. Mouse only: click B, a tag, medium confidence, type, click Submit.
    cid = _current_cid(page)
    assert cid != xss_cid
    page.click('input[name="choice"][value="B"]')
    page.click('input[name="tags"][value="wrong_tool"]')
    page.click('input[name="confidence"][value="medium"]')
    page.fill("#justification", "B calls the right tool.")
    with page.expect_navigation():
        page.click("#submit")
    expected[cid] = ("B", "medium", ["wrong_tool"])

    # 3. Keyboard tie (kept in the DB, not exported), then 4. keyboard B with low confidence
    # (not exported by default), 5. keyboard B high.
    for choice_key, conf_key, choice, conf in (("t", "m", "Tie", "medium"), ("b", "l", "B", "low"),
                                                ("b", "h", "B", "high")):
        cid = _current_cid(page)
        page.keyboard.press(choice_key)
        page.keyboard.press(conf_key)
        page.keyboard.press("j")
        page.keyboard.type(f"{choice} because.")
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        assert _current_cid(page) != cid
        expected[cid] = (choice, conf, [])

    # A missing justification is refused with a message, nothing stored.
    cid = _current_cid(page)
    page.keyboard.press("a")
    page.keyboard.press("h")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert "write a short justification" in page.inner_text("#error")
    assert _current_cid(page) == cid

    stored = {r["comparison_id"]: (r["choice"], r["confidence"], json.loads(r["tags"]))
              for r in con.execute("SELECT * FROM labels")}
    assert stored == expected
    secs = [r[0] for r in con.execute("SELECT client_seconds FROM labels")]
    assert all(s is not None and s >= 0 for s in secs)

    rep = export_pairs(con, tmp_path / "pairs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    exported = {r["comparison_id"]: r for r in rows}
    want = {c for c, (choice, conf, _) in expected.items() if choice != "Tie" and conf != "low"}
    assert set(exported) == want and rep.ties == 1 and rep.low_confidence == 1
    texts = {r["id"]: (r["a"], r["b"]) for r in con.execute(
        "SELECT c.id, ca.completion AS a, cb.completion AS b FROM comparisons c"
        " JOIN candidates ca ON ca.id = c.cand_a JOIN candidates cb ON cb.id = c.cand_b")}
    for c in want:
        a, b = texts[c]
        assert exported[c]["chosen"] == (a if expected[c][0] == "A" else b)
        assert exported[c]["rejected"] == (b if expected[c][0] == "A" else a)
        assert exported[c]["tags"] == expected[c][2]
