"""The web app: :func:`create_app` builds a FastAPI application over one ledger.

Pages are rendered on the server with Jinja2 (autoescaped: text typed by anyone is shown, never
run); a few lines of JavaScript draw the Plotly figures, with plotly.js served from the
installed ``plotly`` package, so the app works offline. Every HTML page has a JSON twin at the
same address plus ``.json``; the OpenAPI description is at ``/openapi.json``.

The app holds no science: reading goes through :mod:`scientia.web.views`, writing through the
:class:`~scientia.campaign.Campaign` methods the command line uses, and every error the engine
raises on purpose is shown as its one-line message (never a traceback).
"""

from __future__ import annotations

import functools
import gzip
import logging
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from scientia.errors import ScientiaError, UnknownNameError
from scientia.web.security import (
    CSRF_FIELD,
    DEFAULT_MAX_UPLOAD,
    FLASH_COOKIE,
    NAME_COOKIE,
    SESSION_COOKIE,
    AccessDenied,
    BodyLimit,
    Security,
    flash_cookie,
    https,
    read_flash,
    read_name_cookie,
)
from scientia.web.store import CampaignStore
from scientia.web.views import fmt

__all__ = ["Web", "create_app"]

log = logging.getLogger("scientia.web")

HERE = Path(__file__).resolve().parent
_OPEN_PATHS = ("/login", "/static/", "/favicon.ico")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def _plotly_js() -> tuple[bytes, bytes]:
    """plotly.min.js from the installed ``plotly`` package, and gzipped (once per process)."""
    raw = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return raw, gzip.compress(raw, compresslevel=6, mtime=0)


def _plotly_version() -> str:
    from importlib.metadata import version

    return version("plotly")


def _query(params: dict[str, Any], **changes: Any) -> str:
    """``?a=1&page=2``: the current query with some parameters changed (None drops one)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    pairs = [(k, x) for k, v in merged.items() for x in (v if isinstance(v, list) else [v])]
    return "?" + urlencode(pairs) if pairs else "?"


@dataclass
class Web:
    """What the routes share: the campaigns, the security settings and the templates."""

    store: CampaignStore
    security: Security
    templates: Any

    def wants_json(self, request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return "application/json" in accept and "text/html" not in accept

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        """Render a page with the shared context (who you are, CSRF token, flash message)."""
        sec = self.security
        session = getattr(request.state, "session", "")
        flash = read_flash(request.cookies.get(FLASH_COOKIE))
        if error is not None:
            flash = {"kind": "error", "text": error}
        page = {
            "request_path": request.url.path,
            "query": dict(request.query_params),
            "csrf_field": CSRF_FIELD,
            "csrf_token": sec.csrf_token(session) if session else "",
            "actor": read_name_cookie(request.cookies.get(NAME_COOKIE)),
            "token_required": sec.token is not None,
            "flash": flash,
            "plotly_src": f"/static/plotly.min.js?v={_plotly_version()}",
        }
        html = self.templates.get_template(template).render(**context, page=page)
        response = HTMLResponse(html, status_code=status)
        if request.cookies.get(FLASH_COOKIE):
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def done(self, request: Request, url: str, message: str, kind: str = "ok", **data: Any) -> Response:
        """A successful write: JSON for scripts, else a redirect with a one-time message."""
        if self.wants_json(request):
            return JSONResponse({"ok": True, "message": message, **data})
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLASH_COOKIE, flash_cookie(kind, message), httponly=True, samesite="lax", path="/"
        )
        return response


def _templates() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt
    env.globals["query"] = _query
    return env


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, UnknownNameError):
        return 404
    return 400


def create_app(
    ledger_url: str,
    token: str | None = None,
    *,
    create: bool = False,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    allowed_hosts: list[str] | None = None,
) -> FastAPI:
    """Build the web app over a ledger.

    Parameters
    ----------
    ledger_url : str
        A SQLite file or a SQLAlchemy database URL.
    token : str, optional
        Access token: when given, every page and every write needs it (login form or
        ``Authorization: Bearer`` header). ``scientia serve`` requires one off loopback.
    create : bool
        Create the ledger file if it does not exist.
    max_upload : int
        Largest request body (a results CSV or a config) in bytes.
    allowed_hosts : list of str, optional
        Host names the app answers to (``scientia serve`` passes the loopback names on a
        loopback address, which stops DNS-rebinding attacks); ``None`` accepts any.

    Returns
    -------
    FastAPI
    """
    from scientia.web import actions, pages

    store = CampaignStore(ledger_url, create=create)
    security = Security(token=token or None, max_upload=max_upload)
    web = Web(store, security, _templates())
    app = FastAPI(
        title="scientia",
        summary="Review proposals, enter results and follow campaigns recorded in a scientia ledger.",
        version=_version(),
        docs_url=None,  # Swagger UI loads from a CDN: the app must work offline
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.web = web

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        session = request.cookies.get(SESSION_COOKIE)
        fresh = not security.valid_session(session)
        if fresh:
            session = security.new_session()
        request.state.session = session
        path = request.url.path
        if not path.startswith(_OPEN_PATHS) and not security.authenticated(request.headers, request.cookies):
            page = request.method == "GET" and not path.endswith((".json", ".csv"))
            if page and not web.wants_json(request):
                target = path + (f"?{request.url.query}" if request.url.query else "")
                response: Response = RedirectResponse(
                    "/login?" + urlencode({"next": target}), status_code=303
                )
            else:
                response = JSONResponse(
                    {
                        "error": "this server needs its access token: log in, or send 'Authorization: Bearer <token>'"
                    },
                    status_code=401,
                )
        else:
            response = await call_next(request)
        if fresh:
            response.set_cookie(
                SESSION_COOKIE, session or "", httponly=True, samesite="lax", path="/", secure=https(request)
            )
        headers = response.headers
        headers.setdefault("content-security-policy", _CSP)
        headers.setdefault("x-content-type-options", "nosniff")
        headers.setdefault("referrer-policy", "same-origin")
        headers.setdefault("x-frame-options", "DENY")
        return response

    def failure(request: Request, message: str, status: int) -> Response:
        if web.wants_json(request) or request.url.path.endswith((".json", ".csv")):
            return JSONResponse({"error": message}, status_code=status)
        return web.render(request, "error.html", {"title": "Error", "status": status}, status, error=message)

    @app.exception_handler(ScientiaError)
    async def scientia_error(request: Request, exc: ScientiaError) -> Response:
        return failure(request, " ".join(str(exc).split()), _status_of(exc))

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> Response:
        return failure(request, str(exc), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return failure(request, message, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return failure(request, f"{where}: {first.get('msg', 'invalid value')}", 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return failure(request, "an unexpected error happened; the details are in the server's log", 500)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        from scientia.web.pages import payload_response

        raw, packed = _plotly_js()
        cache = {"cache-control": "public, max-age=31536000, immutable"}
        return payload_response(request, raw, packed, "text/javascript", cache)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(actions.router)

    app.add_middleware(GZipMiddleware, minimum_size=2000, compresslevel=5)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(BodyLimit, limit=max_upload + 64 * 1024)  # room for the form's other fields
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scientia")
    except PackageNotFoundError:
        return "unknown"
