"""The web app through an in-process client: login, CSRF, escaping, labelling, isolation."""

import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("multipart")
from starlette.testclient import TestClient  # noqa: E402

from tests.annotate.helpers import XSS  # noqa: E402
from web4rl.annotate import db  # noqa: E402
from web4rl.annotate.app import create_app  # noqa: E402


def _client(path, token=None):
    client = TestClient(create_app(path), base_url="http://testserver")
    if token is not None:
        r = client.post("/login", data={"token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/label"
    return client


def _page(client, url="/label"):
    r = client.get(url)
    assert r.status_code == 200
    html = r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    m = re.search(r'action="/(?:label|certify)/(\d+)"', html)
    return html, csrf, (int(m.group(1)) if m else None)


def _label(choice="A", **extra):
    return {"choice": choice, "confidence": "high", "justification": "because", **extra}


def test_login_required_and_bad_token(annot_db):
    path, _ = annot_db
    client = _client(path)
    assert client.get("/label", follow_redirects=False).headers["location"] == "/login"
    r = client.post("/login", data={"token": "nope"})
    assert r.status_code == 401 and "unknown token" in r.text


def test_label_flow_security_headers_and_time(annot_db):
    path, tokens = annot_db
    client = _client(path, tokens["alice"])
    r = client.get("/label")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html, csrf, cid = _page(client)
    assert "Comparison #" in html and "You labelled 0" in html
    r = client.post(f"/label/{cid}", data={**_label(tags=["verbose", "correct_tool"]), "csrf": csrf,
                                           "client_seconds": "12.5"}, follow_redirects=False)
    assert r.status_code == 303
    html2, _, cid2 = _page(client)
    assert cid2 != cid and "You labelled 1" in html2
    row = db.connect(path).execute("SELECT * FROM labels").fetchone()
    assert (row["comparison_id"], row["choice"], row["client_seconds"]) == (cid, "A", 12.5)
    assert row["tags"] == '["verbose", "correct_tool"]' and row["seconds"] >= 0


def test_csrf_and_cross_origin_posts_are_refused(annot_db):
    path, tokens = annot_db
    client = _client(path, tokens["alice"])
    _, csrf, cid = _page(client)
    assert client.post(f"/label/{cid}", data=_label()).status_code == 403  # no token
    assert client.post(f"/label/{cid}", data={**_label(), "csrf": "forged"}).status_code == 403
    r = client.post(f"/label/{cid}", data={**_label(), "csrf": csrf},
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert db.connect(path).execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0


def test_invalid_form_keeps_input_and_stores_nothing(annot_db):
    path, tokens = annot_db
    client = _client(path, tokens["alice"])
    _, csrf, cid = _page(client)
    r = client.post(f"/label/{cid}", data={"choice": "B", "confidence": "high", "justification": "",
                                           "csrf": csrf})
    assert r.status_code == 400 and "write a short justification" in r.text
    assert 'value="B" data-key="b" checked' in r.text
    assert db.connect(path).execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0


def test_xss_candidate_is_escaped(annot_db):
    path, tokens = annot_db
    con = db.connect(path)
    xss_cid = con.execute(
        "SELECT c.id FROM comparisons c JOIN candidates k ON k.id IN (c.cand_a, c.cand_b)"
        " WHERE k.completion = ?", (XSS,)).fetchone()[0]
    aid = con.execute("SELECT id FROM annotators WHERE name='alice'").fetchone()[0]
    # Put the XSS comparison first in alice's queue.
    con.execute("UPDATE comparisons SET position = -1 WHERE id = ?", (xss_cid,))
    html, _, cid = _page(_client(path, tokens["alice"]))
    assert cid == xss_cid and aid
    assert "<script>window.__xss" not in html and "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html


def test_annotator_cannot_submit_or_see_anothers_comparison(annot_db):
    path, tokens = annot_db
    alice, bob = _client(path, tokens["alice"]), _client(path, tokens["bob"])
    _, _, cid_a = _page(alice)
    _, csrf_b, cid_b = _page(bob)
    assert cid_a != cid_b
    r = bob.post(f"/label/{cid_a}", data={**_label(), "csrf": csrf_b})
    assert r.status_code == 400 and "not assigned to you" in r.text
    # A session cannot be used with another session's CSRF token.
    _, csrf_a, _ = _page(alice)
    assert bob.post(f"/label/{cid_b}", data={**_label(), "csrf": csrf_a}).status_code == 403
    assert db.connect(path).execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0


def test_certification_shows_kappa_at_the_end(annot_db):
    path, tokens = annot_db
    con = db.connect(path)
    gold = dict(con.execute("SELECT id, gold FROM comparisons WHERE gold IS NOT NULL").fetchall())
    assert set(gold.values()) == {"A", "B"}  # chosen side randomized
    client = _client(path, tokens["carol"])
    for i in range(len(gold)):
        html, csrf, cid = _page(client, "/certify")
        assert f"Certification: {i} / {len(gold)}" in html
        # Carol answers every gold pair right but one (the first), which she calls a tie.
        answer = "Tie" if i == 0 else gold[cid]
        r = client.post(f"/certify/{cid}", data={**_label(answer), "csrf": csrf}, follow_redirects=False)
        assert r.headers["location"] == "/certify"
    html = client.get("/certify").text
    assert "Certification finished" in html
    kappa = float(re.search(r'id="cert-kappa">([-0-9.]+)<', html).group(1))
    from web4rl.annotate.agreement import cohen_kappa

    ids = sorted(gold)
    truth = [gold[c] for c in ids]
    answers = [gold[c] for c in ids]
    first = con.execute("SELECT comparison_id FROM labels WHERE choice='Tie'").fetchone()[0]
    answers[ids.index(first)] = "Tie"
    assert kappa == pytest.approx(round(cohen_kappa(truth, answers), 2))
    # Gold labels never count as work labels.
    stats = client.get("/stats").text
    assert "Quality and agreement" in stats and "carol" in stats


def test_stats_page_and_logout(annot_db):
    path, tokens = annot_db
    client = _client(path, tokens["alice"])
    _, csrf, _ = _page(client)
    assert "Agreement on the overlap" in client.get("/stats").text
    r = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.headers["location"] == "/login"
    assert client.get("/label", follow_redirects=False).headers["location"] == "/login"


def test_refused_submit_does_not_prefill_another_comparison(annot_db):
    """Bob posts a label for Alice's comparison: refused, and the page he gets back (his own
    next comparison) does not carry the refused answer over."""
    path, tokens = annot_db
    alice, bob = _client(path, tokens["alice"]), _client(path, tokens["bob"])
    _, _, cid_a = _page(alice)
    _, csrf_b, cid_b = _page(bob)
    r = bob.post(f"/label/{cid_a}", data={**_label("B"), "csrf": csrf_b})
    assert r.status_code == 400 and f'action="/label/{cid_b}"' in r.text
    assert "checked" not in r.text.split('id="label-form"')[1].split("</fieldset>")[0]


def test_expired_session_is_signed_out(annot_db):
    path, tokens = annot_db
    client = _client(path, tokens["alice"])
    db.connect(path).execute("UPDATE sessions SET created = created - 31 * 24 * 3600")
    assert client.get("/label", follow_redirects=False).headers["location"] == "/login"
