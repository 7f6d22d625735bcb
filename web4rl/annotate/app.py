"""The annotation web app (Starlette + Jinja2): login with a token, label, certify, stats.

Security model (model outputs are untrusted text):

* every template autoescapes; code is highlighted by Pygments, which escapes tokens; a Content
  Security Policy allows scripts and styles from this origin only, so even a missed escape
  could not run an inline script;
* sessions are random ids in an HttpOnly, SameSite=Strict cookie; every POST carries the
  session's CSRF token (compared in constant time) and, when the browser sends one, an Origin
  that must match the host;
* the annotator comes from the session only: a form cannot name another annotator, and every
  query on labels and assignments is keyed by the session's annotator;
* each write is one SQLite transaction (see :mod:`web4rl.annotate.store`).

Blocking SQLite calls run in Starlette's thread pool (one connection per thread).
"""

from __future__ import annotations

import hmac
import math
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from web4rl.annotate import render, store
from web4rl.annotate.agreement import CERTIFY_KAPPA, cohen_kappa, kappa_verdict
from web4rl.annotate.db import CONFIDENCES, TAGS, ConnectionPool
from web4rl.annotate.stats import compute_stats
from web4rl.chat import as_messages

try:  # the `annotate` extra; the rest of the package works without it
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from starlette.templating import Jinja2Templates

    _MISSING: ImportError | None = None
except ImportError as err:  # pragma: no cover - exercised only without the extra
    _MISSING = err

HERE = Path(__file__).parent
COOKIE = "w4a_session"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
TAG_KEYS = {  # keyboard shortcut per tag (shown on the page)
    "wrong_tool": "w", "schema_fail": "s", "verbose": "v", "style_off": "y", "unsafe": "u",
    "ambiguous": "g", "correct_tool": "c", "ambiguous_prompt": "p",
}
assert set(TAG_KEYS) == set(TAGS)


def _require_extra() -> None:
    if _MISSING is not None:
        raise ImportError(
            "the annotation app needs the 'annotate' extra: pip install 'web4rl[annotate]'"
            f" ({_MISSING})"
        )


def create_app(
    db_path: str | Path,
    *,
    profile: str = "web4",
    require_justification: bool = True,
    secure_cookies: bool = False,
) -> Starlette:
    """Build the ASGI app over an existing annotation database.

    Args:
        db_path: the SQLite file made by ``annotate import``.
        profile: tool profile the displayed tool calls are checked against.
        require_justification: reject a label without a justification.
        secure_cookies: mark the session cookie Secure (set when served behind HTTPS).
    """
    _require_extra()
    pool = ConnectionPool(db_path)
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html
    templates.env.globals["highlight"] = lambda text, path: render.highlight_code(text, filename=path)

    async def db(fn, *args, **kwargs):
        return await run_in_threadpool(lambda: fn(pool.get(), *args, **kwargs))

    async def current(request: Request):
        return await db(store.session, request.cookies.get(COOKIE))

    def page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def cross_site(request: Request) -> Response | None:
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
            return PlainTextResponse("cross-site request refused", status_code=403)
        return None

    async def check_post(request: Request, sess) -> dict[str, Any] | Response:
        """The form, if its CSRF token (and Origin, when sent) are right; else a 403."""
        refused = cross_site(request)
        if refused is not None:
            return refused
        form = await request.form()
        data: dict[str, Any] = {k: form.get(k) for k in form.keys()}
        data["tags"] = form.getlist("tags")
        token = str(data.get("csrf") or "")
        if sess is None or not hmac.compare_digest(token, sess["csrf"]):
            return PlainTextResponse("invalid or missing CSRF token; reload the page", status_code=403)
        return data

    async def home(request: Request) -> Response:
        sess = await current(request)
        return RedirectResponse("/label" if sess else "/login", status_code=303)

    async def login_form(request: Request) -> Response:
        return page(request, "login.html", {"error": None})

    async def login(request: Request) -> Response:
        refused = cross_site(request)  # no session yet, so no CSRF token: the Origin must match
        if refused is not None:
            return refused
        form = await request.form()
        got = await db(store.login, str(form.get("token") or ""))
        if got is None:
            return page(request, "login.html", {"error": "unknown token"}, status=401)
        sid, _ = got
        resp = RedirectResponse("/label", status_code=303)
        resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict", secure=secure_cookies,
                        max_age=int(store.SESSION_TTL_S))
        return resp

    async def logout(request: Request) -> Response:
        sess = await current(request)
        data = await check_post(request, sess)
        if isinstance(data, Response):
            return data
        await db(store.logout, request.cookies[COOKIE])
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    def comparison_ctx(view: dict[str, Any]) -> dict[str, Any]:
        for side in ("a", "b"):
            view[side]["view"] = render.segments(view[side]["completion"], profile)
        view["messages"] = as_messages(view["prompt"])
        view["context"] = render.task_context(view["task"])
        return view

    async def show(request: Request, gold: bool, error: str | None = None, status: int = 200,
                   previous: dict[str, Any] | None = None) -> Response:
        sess = await current(request)
        if sess is None:
            return RedirectResponse("/login", status_code=303)
        aid = sess["annotator_id"]
        cid = await db(store.next_comparison, aid, gold=gold)
        prog = await db(store.progress, aid, gold=gold)
        ctx: dict[str, Any] = {
            "name": sess["name"], "csrf": sess["csrf"], "progress": prog, "gold": gold,
            "tags": TAGS, "tag_keys": TAG_KEYS, "confidences": CONFIDENCES, "error": error,
            "profile": profile,
            # Refill the form only for the comparison it was sent for (never carry one
            # comparison's answer over to another).
            "previous": previous if previous and previous.get("_cid") == cid else {},
        }
        if cid is None:
            if gold:
                ctx["result"] = await db(certification_result, aid)
            return page(request, "done.html", ctx, status)
        ctx["c"] = comparison_ctx(await db(store.comparison_view, cid))
        return page(request, "label.html", ctx, status)

    async def submit(request: Request, gold: bool) -> Response:
        sess = await current(request)
        data = await check_post(request, sess)
        if isinstance(data, Response):
            return data
        cid = int(request.path_params["cid"])
        data["_cid"] = cid
        try:
            label = store.validate_label(data, require_justification=require_justification)
            await db(store.submit_label, cid, sess["annotator_id"], label)
        except store.LabelError as err:
            return await show(request, gold, str(err), status=400, previous=data)
        return RedirectResponse("/certify" if gold else "/label", status_code=303)

    async def label_page(request: Request) -> Response:
        return await show(request, gold=False)

    async def certify_page(request: Request) -> Response:
        return await show(request, gold=True)

    async def label_submit(request: Request) -> Response:
        return await submit(request, gold=False)

    async def certify_submit(request: Request) -> Response:
        return await submit(request, gold=True)

    async def stats_page(request: Request) -> Response:
        sess = await current(request)
        if sess is None:
            return RedirectResponse("/login", status_code=303)
        st = await db(compute_stats)
        return page(request, "stats.html", {"name": sess["name"], "csrf": sess["csrf"], "st": st,
                                            "isnan": math.isnan})

    async def css(request: Request) -> Response:
        return Response(render.pygments_css(), media_type="text/css")

    @asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    app = Starlette(routes=[
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/label", label_page, methods=["GET"]),
        Route("/label/{cid:int}", label_submit, methods=["POST"]),
        Route("/certify", certify_page, methods=["GET"]),
        Route("/certify/{cid:int}", certify_submit, methods=["POST"]),
        Route("/stats", stats_page, methods=["GET"]),
        Route("/highlight.css", css, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], middleware=[Middleware(SecurityHeaders)], lifespan=lifespan, max_body_size=1 << 20)
    app.state.pool = pool
    return app


class SecurityHeaders:
    """Pure ASGI middleware adding the CSP and related headers to every response."""

    HEADERS = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own
        # form posts, which the Origin check would refuse.
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def certification_result(con, annotator_id: int) -> dict[str, Any]:
    """The annotator's agreement with the gold answers (kappa, accuracy, verdict)."""
    rows = con.execute(
        "SELECT c.gold, l.choice FROM labels l JOIN comparisons c ON c.id = l.comparison_id"
        " WHERE l.annotator_id = ? AND c.gold IS NOT NULL",
        (annotator_id,),
    ).fetchall()
    kappa = cohen_kappa([r["gold"] for r in rows], [r["choice"] for r in rows])
    n = len(rows)
    return {
        "n": n,
        "kappa": None if math.isnan(kappa) else kappa,
        "accuracy": (sum(r["gold"] == r["choice"] for r in rows) / n) if n else None,
        "verdict": kappa_verdict(kappa),
        "threshold": CERTIFY_KAPPA,
    }
