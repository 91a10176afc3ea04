"""The pages (GET routes): each HTML page and its JSON twin show the same context.

``/campaigns/3`` renders ``campaign.html`` from a context dict; ``/campaigns/3.json`` returns that
dict. Contexts are built under the campaign view's lock from cached data (see
:mod:`scientia.web.views`) and rendered after it is released.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scientia.errors import ScientiaError, ValidationError
from scientia.report.campaign import slug
from scientia.web.security import safe_next
from scientia.web.views import ObservationFilter

if TYPE_CHECKING:
    from scientia.web.app import Web

__all__ = ["router"]

router = APIRouter()

_STATUSES = ("ok", "failed", "censored")


def web_of(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


def _int(request: Request, key: str, default: int, low: int = 1, high: int = 10**9) -> int:
    raw = request.query_params.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{key}: {raw!r} is not a whole number") from None
    return min(max(value, low), high)


def _float(request: Request, key: str) -> float | None:
    raw = (request.query_params.get(key) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"filter {key!r}: {raw!r} is not a number") from None


def _choice(request: Request, key: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(key) or None
    if raw is not None and raw not in allowed:
        raise ValidationError(f"{key}: {raw!r} is not one of {', '.join(allowed)}")
    return raw


def observation_filter(request: Request) -> ObservationFilter:
    """The observations table's filters from the query string (bad values are named)."""
    return ObservationFilter(
        objective=request.query_params.get("objective") or None,
        status=_choice(request, "status", _STATUSES),
        actor=request.query_params.get("actor") or None,
        proposal=request.query_params.get("proposal") or None,
        low=_float(request, "min"),
        high=_float(request, "max"),
        sort=_choice(request, "sort", ("seq", "-seq", "value", "-value")) or "seq",
        page=_int(request, "page", 1),
        size=_int(request, "size", 50, 1, 1000),
    )


def _links(cid: int) -> dict[str, str]:
    base = f"/campaigns/{cid}"
    return {
        "page": base,
        "json": f"{base}.json",
        "queue": f"{base}/queue",
        "results": f"{base}/results",
        "log": f"{base}/log",
        "csv": f"{base}/observations.csv",
        "template": f"{base}/template.csv",
        "report": f"{base}/report.html",
    }


def payload_response(
    request: Request, raw: bytes, packed: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """Bytes compressed once and kept: sent gzipped to clients that accept it."""
    out = {"vary": "Accept-Encoding", **(headers or {})}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=media_type, headers={**out, "content-encoding": "gzip"})
    return Response(raw, media_type=media_type, headers=out)


def json_response(data: dict[str, Any]) -> Response:
    """JSON serialised by the standard library (fast for large plain data; no NaN)."""
    body = json.dumps(data, allow_nan=False, default=str, ensure_ascii=False)
    return Response(body, media_type="application/json")


# -- campaigns list ----------------------------------------------------------------------------
def campaigns_context(web: Web) -> dict[str, Any]:
    out = []
    for c in web.store.campaigns():
        item: dict[str, Any] = {**c, "links": _links(c["id"])}
        try:
            entry = web.store.entry(int(c["id"]))
            with entry.view.lock:
                s = entry.synced().summary()
            item.update(
                description=s["description"],
                objectives=s["objectives"],
                counts=s["counts"],
                best=s["best"],
                review=s["review"],
                problem=None,
            )
        except ScientiaError as exc:  # a damaged campaign must not hide the others
            item.update(description="", objectives=[], counts=None, best=None, review=None, problem=str(exc))
        out.append(item)
    return {"title": "Campaigns", "ledger": web.store.location, "campaigns": out}


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/campaigns", status_code=307)


@router.get("/campaigns", response_class=HTMLResponse, summary="Campaigns of the ledger")
def campaigns_page(request: Request) -> Response:
    web = web_of(request)
    return web.render(request, "campaigns.html", campaigns_context(web))


@router.get("/campaigns.json", summary="Campaigns of the ledger (JSON)")
def campaigns_json(request: Request) -> Response:
    return json_response(campaigns_context(web_of(request)))


def new_context(web: Web) -> dict[str, Any]:
    return {
        "title": "New campaign",
        "text": "",
        "post": "/campaigns/new",
        "fields": {"config": "a TOML file (multipart)", "text": "or the TOML text"},
        "max_upload_mb": web.security.max_upload / (1024 * 1024),
    }


@router.get("/campaigns/new.json", summary="How to create a campaign (JSON)")
def new_campaign_json(request: Request) -> Response:
    return json_response(new_context(web_of(request)))


@router.get("/campaigns/new", response_class=HTMLResponse, summary="Form: create a campaign from a TOML file")
def new_campaign_page(request: Request) -> Response:
    web = web_of(request)
    return web.render(request, "new.html", new_context(web))


# -- one campaign ------------------------------------------------------------------------------
def campaign_context(web: Web, request: Request, cid: int) -> dict[str, Any]:
    """The campaign page's context (its figures are fetched from ``links.figures``).

    ``objective`` is the objective the best-so-far, predicted and effects figures and the value
    filters show (``?objective=NAME``, default the first); ``pareto`` the Pareto front of a
    campaign with two or more objectives to optimise (see ``CampaignView.pareto``), else None.
    """
    entry = web.store.require(cid)
    f = observation_filter(request)
    with entry.view.lock:
        view = entry.synced()
        summary = view.summary()
        shown = view.objective(f.objective)
        _, table = view.observations(f)
        pareto = view.pareto()
    query = {"seq": summary["last_seq"]}
    if shown != view.objectives[0]:
        query["objective"] = shown.name
    links = {**_links(cid), "figures": f"/campaigns/{cid}/figures.json?{urlencode(query)}"}
    return {
        "title": summary["name"],
        "campaign": summary,
        "objective": shown.to_dict(),
        "pareto": pareto,
        "observations": table,
        "links": links,
    }


@router.get(
    "/campaigns/{cid:int}.json",
    summary="A campaign: settings, best so far, Pareto front, observations and the address of its figures (JSON)",
)
def campaign_json(request: Request, cid: int) -> Response:
    return json_response(campaign_context(web_of(request), request, cid))


@router.get("/campaigns/{cid:int}", response_class=HTMLResponse, summary="A campaign's page")
def campaign_page(request: Request, cid: int) -> Response:
    web = web_of(request)
    return web.render(request, "campaign.html", campaign_context(web, request, cid))


@router.get(
    "/campaigns/{cid:int}/figures.json",
    summary="The campaign's figures (Plotly JSON; ?objective= picks the one shown, a Pareto figure with "
    "several); with ?seq= of the current state it may be cached for good",
)
def figures_json(request: Request, cid: int) -> Response:
    entry = web_of(request).store.require(cid)
    with entry.view.lock:
        view = entry.synced()
        shown = view.objective(request.query_params.get("objective") or None)
        raw, packed = view.figures_payload(shown.name)
        seq = view.last_seq
    etag = f'"f{cid}-{seq}-{view.objectives.index(shown)}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"etag": etag})
    current = request.query_params.get("seq") == str(seq)  # a URL naming this state never changes
    cache = "private, max-age=31536000, immutable" if current else "no-cache"
    return payload_response(request, raw, packed, "application/json", {"etag": etag, "cache-control": cache})


@router.get("/campaigns/{cid:int}/observations.csv", summary="Observations as CSV (same filters as the page)")
def observations_csv(request: Request, cid: int) -> Response:
    web = web_of(request)
    entry = web.store.require(cid)
    f = observation_filter(request)
    filtered = any(v is not None for v in (f.status, f.actor, f.proposal, f.low, f.high))
    with entry.view.lock:
        view = entry.synced()
        view.objective(f.objective)  # a name not in the campaign is an error, not ignored
        if filtered or f.sort != "seq":
            rows, _ = view.observations(f)
            raw, packed = view.csv(rows).encode(), b""
        else:
            raw, packed = view.csv_payload()
    headers = {"content-disposition": f'attachment; filename="{slug(entry.campaign.name)}-observations.csv"'}
    if not packed:
        return Response(raw, media_type="text/csv; charset=utf-8", headers=headers)
    return payload_response(request, raw, packed, "text/csv; charset=utf-8", headers)


# -- review queue ------------------------------------------------------------------------------
def queue_context(web: Web, request: Request, cid: int) -> dict[str, Any]:
    entry = web.store.require(cid)
    show = _choice(request, "show", ("open", "all")) or "open"
    page = _int(request, "page", 1)
    with entry.view.lock:
        view = entry.synced()
        summary = view.summary()
        queue = view.queue(show, page)
    return {
        "title": f"Review queue · {summary['name']}",
        "campaign": summary,
        "queue": queue,
        "parameters": summary["parameters"],
        "links": _links(cid),
    }


@router.get("/campaigns/{cid:int}/queue.json", summary="The review queue (JSON)")
def queue_json(request: Request, cid: int) -> Response:
    return json_response(queue_context(web_of(request), request, cid))


@router.get("/campaigns/{cid:int}/queue", response_class=HTMLResponse, summary="The review queue")
def queue_page(request: Request, cid: int) -> Response:
    web = web_of(request)
    return web.render(request, "queue.html", queue_context(web, request, cid))


# -- results -------------------------------------------------------------------------------------
def results_context(web: Web, cid: int) -> dict[str, Any]:
    entry = web.store.require(cid)
    with entry.view.lock:
        view = entry.synced()
        summary = view.summary()
        queue = view.queue("open")
    ready = [it for it in queue["open"] if it["status"] == "approved"]
    waiting = [it for it in queue["open"] if it["status"] == "awaiting"]
    return {
        "title": f"Enter results · {summary['name']}",
        "campaign": summary,
        "ready": ready,
        "waiting": len(waiting),
        "parameters": view.parameters,
        "columns": ["proposal_id", *view.parameters, *(o["name"] for o in summary["objectives"]), "status"],
        "max_upload_mb": web.security.max_upload / (1024 * 1024),
        "links": _links(cid),
    }


@router.get("/campaigns/{cid:int}/results.json", summary="Proposals waiting for results (JSON)")
def results_json(request: Request, cid: int) -> Response:
    return json_response(results_context(web_of(request), cid))


@router.get(
    "/campaigns/{cid:int}/results", response_class=HTMLResponse, summary="Enter results: form and CSV upload"
)
def results_page(request: Request, cid: int) -> Response:
    web = web_of(request)
    return web.render(request, "results.html", results_context(web, cid))


@router.get("/campaigns/{cid:int}/template.csv", summary="Approved proposals as a CSV template to fill in")
def template_csv(request: Request, cid: int) -> Response:
    from scientia.campaign.results import proposals_csv

    web = web_of(request)
    entry = web.store.require(cid)
    with entry.view.lock:
        h = entry.synced().history
        ready = [p for pid, p in h.proposals.items() if h.status(pid) == "approved"]
    name = f"{slug(entry.campaign.name)}-proposals.csv"
    return Response(
        proposals_csv(entry.campaign, ready),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


# -- audit log -----------------------------------------------------------------------------------
def log_context(web: Web, request: Request, cid: int) -> dict[str, Any]:
    entry = web.store.require(cid)
    kinds = [k for k in request.query_params.getlist("kind") if k]
    actor = request.query_params.get("actor") or None
    page = _int(request, "page", 1)
    with entry.view.lock:
        view = entry.synced()
        summary = view.summary()
        audit = view.audit(kinds, actor, page)
    return {
        "title": f"Audit log · {summary['name']}",
        "campaign": summary,
        "log": audit,
        "links": _links(cid),
    }


@router.get(
    "/campaigns/{cid:int}/log.json", summary="Every ledger event of a campaign, with who and when (JSON)"
)
def log_json(request: Request, cid: int) -> Response:
    return json_response(log_context(web_of(request), request, cid))


@router.get("/campaigns/{cid:int}/log", response_class=HTMLResponse, summary="Audit log")
def log_page(request: Request, cid: int) -> Response:
    web = web_of(request)
    return web.render(request, "log.html", log_context(web, request, cid))


# -- report --------------------------------------------------------------------------------------
@router.get("/campaigns/{cid:int}/report.html", summary="The campaign as one self-contained HTML file")
def report_html(request: Request, cid: int) -> Response:
    from scientia.report.campaign import render_html

    entry = web_of(request).store.require(cid)
    with entry.view.lock:
        view = entry.synced()
        html = render_html(view)
    name = f"{slug(entry.campaign.name)}-report.html"
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


# -- login -------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse, summary="Log in with the access token")
def login_page(request: Request) -> Response:
    web = web_of(request)
    target = safe_next(request.query_params.get("next"))
    return web.render(request, "login.html", {"title": "Log in", "next": target})
