"""The writes (POST routes): review, propose, enter results, create a campaign, log in.

Every POST is checked before it acts: the access token (by the app's middleware), then the
form's CSRF token (:func:`checked_form`), then who is acting (the name cookie or an ``actor``
field). The engine then validates the request exactly as the command line does
(``scientia queue``, ``scientia observe``, ``scientia init``); its one-line message is shown on
the page the form came from, with status 400 (404 for an unknown proposal), and nothing is
recorded. A success redirects to a page with a one-time message (or answers JSON when the
client asks for it with ``Accept: application/json``).

Engine calls run in the thread pool under the campaign's write lock; the ledger's unique keys
make a second decision on a proposal, or a second result for it, impossible even from another
process.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from scientia.campaign.results import parse_number
from scientia.errors import ConfigError, ScientiaError, UnknownNameError, ValidationError
from scientia.types import Observation, Status
from scientia.web.pages import new_context, queue_context, results_context, web_of
from scientia.web.security import (
    AUTH_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    NAME_COOKIE,
    clean_name,
    https,
    name_cookie,
    read_name_cookie,
    safe_next,
)

if TYPE_CHECKING:
    from scientia.web.app import Web
    from scientia.web.store import Entry

__all__ = ["router"]

router = APIRouter()

MAX_PROPOSE = 100
_YEAR = 365 * 24 * 3600


def _form_doc(fields: dict[str, str], file: str | None = None) -> dict[str, Any]:
    """OpenAPI description of a form body (the routes read their forms themselves)."""
    props: dict[str, Any] = {k: {"type": "string", "description": v} for k, v in fields.items()}
    props[CSRF_FIELD] = {"type": "string", "description": "the page's CSRF token (or header X-CSRF-Token)"}
    kind = "application/x-www-form-urlencoded"
    if file:
        props[file] = {"type": "string", "format": "binary"}
        kind = "multipart/form-data"
    return {"requestBody": {"content": {kind: {"schema": {"type": "object", "properties": props}}}}}


async def checked_form(request: Request) -> FormData:
    """The request's form, after checking its CSRF token (not needed with a bearer token)."""
    web = web_of(request)
    form = await request.form(max_files=1, max_fields=5000)
    if not web.security.bearer(request.headers):
        given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        web.security.check_csrf(
            getattr(request.state, "session", None), given if isinstance(given, str) else None
        )
    return form


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def actor_of(request: Request, form: FormData) -> str:
    """Who acts: the form's ``actor`` field, else the name saved in the browser."""
    try:
        name = clean_name(_text(form, "actor")) or read_name_cookie(request.cookies.get(NAME_COOKIE))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not name:
        raise ValidationError(
            "say who you are first: enter your name at the top of the page "
            "(it is recorded in the ledger with what you do)"
        )
    return name


class TooLarge(ValidationError):
    """An uploaded file over the size limit (answered with status 413)."""


async def _fail(
    request: Request, exc: ScientiaError, page: Callable[[], tuple[str, dict[str, Any]]] | None
) -> Response:
    """Show the engine's message on the form's page with status 400 (404 for unknown names)."""
    web = web_of(request)
    status = 404 if isinstance(exc, UnknownNameError) else 413 if isinstance(exc, TooLarge) else 400
    message = " ".join(str(exc).split())
    if web.wants_json(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    error_page = ("error.html", {"title": "Error", "status": status})
    try:
        template, ctx = await run_in_threadpool(page) if page is not None else error_page
    except ScientiaError:  # the page itself cannot be shown (e.g. unknown campaign)
        template, ctx = error_page
    return web.render(request, template, ctx, status, error=message)


def _queue_page(web: Web, request: Request, cid: int) -> Callable[[], tuple[str, dict[str, Any]]]:
    return lambda: ("queue.html", queue_context(web, request, cid))


def _results_page(web: Web, cid: int) -> Callable[[], tuple[str, dict[str, Any]]]:
    return lambda: ("results.html", results_context(web, cid))


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- who you are -------------------------------------------------------------------------------
@router.post(
    "/name",
    summary="Set your name (the actor of what you record)",
    openapi_extra=_form_doc({"name": "your name"}),
)
async def set_name(request: Request) -> Response:
    form = await checked_form(request)
    try:
        name = clean_name(_text(form, "name"))
    except ValueError as exc:
        return await _fail(request, ValidationError(str(exc)), None)
    target = safe_next(_text(form, "next") or "/")
    web = web_of(request)
    message = f"you are {name}: decisions and results you record carry this name" if name else "name cleared"
    response = web.done(request, target, message, actor=name)
    if name:
        response.set_cookie(
            NAME_COOKIE, name_cookie(name), max_age=_YEAR, httponly=True, samesite="lax", path="/"
        )
    else:
        response.delete_cookie(NAME_COOKIE, path="/")
    return response


@router.post(
    "/login",
    summary="Log in with the access token",
    openapi_extra=_form_doc({"token": "the access token", "next": "where to go"}),
)
async def login(request: Request) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    target = safe_next(_text(form, "next"))
    sec = web.security
    if sec.token is None:
        return RedirectResponse(target, status_code=303)
    if not sec.token_matches(_text(form, "token")):
        ctx = {"title": "Log in", "next": target}
        return web.render(request, "login.html", ctx, 403, error="wrong access token")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        AUTH_COOKIE, sec.auth_cookie_value, httponly=True, samesite="strict", path="/", secure=https(request)
    )
    return response


@router.post("/logout", summary="Forget the access token in this browser", openapi_extra=_form_doc({}))
async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/login" if web_of(request).security.token else "/", status_code=303)
    response.delete_cookie(AUTH_COOKIE, path="/")
    return response


# -- campaigns ---------------------------------------------------------------------------------
_NO_FILES = ("space.table", "evaluator.table")


def config_from_upload(text: str, source: str) -> Any:
    """Validate an uploaded TOML config for this server.

    A config sent through the browser may not name files on the server (``table``) or import
    Python code (a ``function`` evaluator); its ``ledger`` key is ignored (this server's ledger
    is used).
    """
    from scientia.config import parse_config

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    for key in _NO_FILES:
        section, name = key.split(".")
        if isinstance(data.get(section), dict) and name in data[section]:
            raise ConfigError(
                f"{source}: {key} names a file on the server, which a config sent from the browser may not; "
                "use a bundled dataset, or create the campaign with `scientia init`"
            )
    evaluator = data.get("evaluator")
    if isinstance(evaluator, dict) and evaluator.get("kind") == "function":
        raise ConfigError(
            f"{source}: a function evaluator runs Python code on the server; create this campaign with `scientia init`"
        )
    data.pop("ledger", None)
    return parse_config(data, source)


@router.post(
    "/campaigns/new",
    summary="Create a campaign from a TOML config (file or text)",
    openapi_extra=_form_doc({"text": "the TOML text (instead of a file)"}, file="config"),
)
async def create_campaign(request: Request) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    upload = form.get("config")
    text, source = _text(form, "text"), "the config"
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            source = PurePath(upload.filename).name[:100] or source
            raw = await upload.read(web.security.max_upload + 1)
            if len(raw) > web.security.max_upload:
                raise TooLarge(f"{source} is larger than the upload limit")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(f"{source}: not a UTF-8 text (TOML) file") from None
        if not text.strip():
            raise ValidationError("choose a TOML config file, or paste its text")
        cfg = config_from_upload(text, source)
        entry = await run_in_threadpool(web.store.create, cfg)
    except ScientiaError as exc:
        if web.wants_json(request):
            return await _fail(request, exc, None)
        ctx = {**new_context(web), "text": text}
        status = 413 if isinstance(exc, TooLarge) else 400
        return web.render(request, "new.html", ctx, status, error=" ".join(str(exc).split()))
    cid = entry.campaign.id
    return web.done(request, f"/campaigns/{cid}", f"created campaign {entry.campaign.name}", id=cid)


# -- review ------------------------------------------------------------------------------------
@router.post(
    "/campaigns/{cid:int}/propose",
    summary="Add proposals to the review queue",
    openapi_extra=_form_doc({"n": "how many (default: the batch size)"}),
)
async def propose(request: Request, cid: int) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    try:
        actor = actor_of(request, form)
        entry = web.store.require(cid)
        raw = _text(form, "n")
        try:
            n = int(raw) if raw else entry.campaign.config.batch_size
        except ValueError:
            raise ValidationError(f"the number of proposals must be a whole number; got {raw!r}") from None
        if not 1 <= n <= MAX_PROPOSE:
            raise ValidationError(f"propose between 1 and {MAX_PROPOSE} experiments at a time; got {n}")

        def run() -> list[Any]:
            with entry.write_lock:
                return entry.campaign.suggest(n, actor=actor)

        made = await run_in_threadpool(run)
    except ScientiaError as exc:
        return await _fail(request, exc, _queue_page(web, request, cid))
    if not made:
        return web.done(request, f"/campaigns/{cid}/queue", "nothing left to propose", kind="info", ids=[])
    message = f"added {_plural(len(made), 'proposal')} to the queue"
    return web.done(request, f"/campaigns/{cid}/queue", message, ids=[p.id for p in made])


def _review(entry: Entry, pid: str, decision: str, actor: str, form: FormData) -> Any:
    reason = _text(form, "reason") or None
    changes = None
    if decision == "edit":
        names = entry.campaign.space.names
        changes = {n: _text(form, f"value.{n}") for n in names if _text(form, f"value.{n}")}
        with entry.view.lock:
            current = entry.synced().history.proposals.get(pid)
        if current is not None:  # keep only the values that differ from the proposal's
            changes = {k: v for k, v in changes.items() if str(current.candidate.params.get(k)) != v}
            if changes:  # and check them against the space first, for a message naming the value
                entry.campaign.space.candidate({**current.candidate.params, **changes})
    with entry.write_lock:
        return entry.campaign.review(pid, decision, reason=reason, changes=changes, actor=actor)


_DECIDED = {"approve": "approved", "edit": "edited and approved", "reject": "rejected"}


@router.post(
    "/campaigns/{cid:int}/queue/{pid}/{decision}",
    summary="Approve, edit or reject a proposal",
    openapi_extra=_form_doc(
        {"reason": "why (needed to reject; kept in the ledger)", "value.<parameter>": "new values (edit)"}
    ),
)
async def review(request: Request, cid: int, pid: str, decision: str) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    try:
        if decision not in _DECIDED:
            raise UnknownNameError.for_name("decision", decision, _DECIDED)
        actor = actor_of(request, form)
        entry = web.store.require(cid)
        await run_in_threadpool(_review, entry, pid, decision, actor, form)
    except ScientiaError as exc:
        return await _fail(request, exc, _queue_page(web, request, cid))
    return web.done(
        request, f"/campaigns/{cid}/queue", f"{_DECIDED[decision]} {pid}", id=pid, decision=decision
    )


@router.post(
    "/campaigns/{cid:int}/queue/approve-all",
    summary="Approve every proposal awaiting review",
    openapi_extra=_form_doc({}),
)
async def approve_all(request: Request, cid: int) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    try:
        actor = actor_of(request, form)
        entry = web.store.require(cid)

        def run() -> int:
            done = 0
            with entry.write_lock:
                for it in entry.campaign.queue("awaiting"):
                    try:
                        entry.campaign.review(it.proposal.id, "approve", actor=actor)
                        done += 1
                    except ValidationError:  # decided meanwhile by someone else: theirs stands
                        continue
            return done

        n = await run_in_threadpool(run)
    except ScientiaError as exc:
        return await _fail(request, exc, _queue_page(web, request, cid))
    return web.done(request, f"/campaigns/{cid}/queue", f"approved {_plural(n, 'proposal')}", count=n)


# -- results -------------------------------------------------------------------------------------
def observations_from_form(entry: Entry, form: FormData) -> list[Observation]:
    """Observations from the result form: fields ``value.<proposal>.<objective>`` and
    ``status.<proposal>``; a proposal with no value and status ``ok`` is left out."""
    objectives = [o.name for o in entry.campaign.objectives]
    with entry.view.lock:
        h = entry.synced().history
        proposals = {pid: p for pid, p in h.proposals.items() if h.status(pid) in ("awaiting", "approved")}
    pids: list[str] = []  # proposal ids hold dots (r0003.1): match the known objective suffixes
    for key in form:
        rest = ""
        if key.startswith("status."):
            rest = key.removeprefix("status.")
        elif key.startswith("value."):
            rest = next((key[6 : -len(o) - 1] for o in objectives if key.endswith(f".{o}")), "")
        if rest and rest not in pids:
            pids.append(rest)
    out = []
    for pid in pids:
        status = _text(form, f"status.{pid}") or "ok"
        if status not in ("ok", "failed"):
            raise ValidationError(f"proposal {pid}: status {status!r} is not ok or failed")
        values = {o: _text(form, f"value.{pid}.{o}") for o in objectives}
        if status == "ok" and not any(values.values()):
            continue
        if pid not in proposals:
            raise ValidationError(
                f"proposal {pid!r} is not waiting for a result (already observed or rejected: reload the page)"
            )
        outcomes = {}
        for o, text in values.items():
            if text:
                outcomes[o] = parse_number(text, f"proposal {pid}, {o}")
            elif status == "ok":
                raise ValidationError(
                    f"proposal {pid}, {o}: empty; give a number, or mark the experiment failed"
                )
        meta = {"entered": "web form"}
        obs = Observation(
            proposals[pid].candidate, outcomes, status=cast(Status, status), metadata=meta, proposal_id=pid
        )
        out.append(obs)
    if not out:
        raise ValidationError("no result entered: fill in a value (or mark an experiment failed) first")
    return out


@router.post(
    "/campaigns/{cid:int}/results",
    summary="Record results typed into the form",
    openapi_extra=_form_doc(
        {"value.<proposal>.<objective>": "a measured value", "status.<proposal>": "ok or failed"}
    ),
)
async def enter_results(request: Request, cid: int) -> Response:
    web = web_of(request)
    form = await checked_form(request)
    try:
        actor = actor_of(request, form)
        entry = web.store.require(cid)

        def run() -> int:
            observations = observations_from_form(entry, form)
            with entry.write_lock:
                return entry.campaign.observe(observations, actor=actor)

        written = await run_in_threadpool(run)
    except ScientiaError as exc:
        return await _fail(request, exc, _results_page(web, cid))
    return web.done(
        request, f"/campaigns/{cid}", f"recorded {_plural(written, 'observation')}", written=written
    )


@router.post(
    "/campaigns/{cid:int}/results/upload",
    summary="Import a results CSV (checked as a whole; re-importing a file records nothing)",
    openapi_extra=_form_doc({}, file="file"),
)
async def upload_results(request: Request, cid: int) -> Response:
    from scientia.campaign.results import already_imported, file_digest, read_results

    web = web_of(request)
    form = await checked_form(request)
    try:
        actor = actor_of(request, form)
        entry = web.store.require(cid)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("choose a results CSV file to upload")
        name = PurePath(upload.filename.replace("\\", "/")).name[:100] or "results.csv"
        limit = web.security.max_upload
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{name} is larger than the upload limit of {limit / 2**20:.3g} MB")

        def run() -> tuple[int, bool]:
            source = file_digest(data)
            with entry.write_lock:
                camp = entry.campaign
                if already_imported(camp, source):
                    return 0, True
                observations = read_results(camp, data, name)
                return camp.observe(observations, actor=actor, source=source), False

        written, seen = await run_in_threadpool(run)
    except ScientiaError as exc:
        return await _fail(request, exc, _results_page(web, cid))
    if seen:
        return web.done(
            request,
            f"/campaigns/{cid}/results",
            f"{name} was already imported; nothing recorded",
            "info",
            written=0,
        )
    message = f"recorded {_plural(written, 'observation')} from {name}"
    return web.done(request, f"/campaigns/{cid}", message, written=written)
