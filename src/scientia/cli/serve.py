"""``scientia serve`` (the web app) and ``scientia report`` (a campaign as HTML + Markdown).

``serve`` listens on 127.0.0.1 unless ``--host`` says otherwise; on an address other machines can
reach it refuses to start without an access token (``--token`` or ``$SCIENTIA_TOKEN``), and
with one every page and write needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scientia.cli._common import (
    ENV_LEDGER,
    CampaignArgument,
    LedgerOption,
    console,
    fail,
    handle_errors,
    resolve_ledger,
    say,
)

ENV_TOKEN = "SCIENTIA_TOKEN"
_LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


@handle_errors
def serve(
    ledger: Annotated[
        str | None,
        typer.Argument(
            metavar="[LEDGER]",
            help=f"Ledger: a SQLite file or a database URL [default: ${ENV_LEDGER}, else ./scientia.sqlite].",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; anything but loopback needs --token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=ENV_TOKEN,
            show_envvar=True,
            help="Access token every page and write then needs (login form or Authorization: Bearer).",
        ),
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the ledger file if it does not exist.")
    ] = False,
    max_upload: Annotated[
        float, typer.Option("--max-upload", min=0.001, metavar="MB", help="Largest upload in megabytes.")
    ] = 5.0,
) -> None:
    """Start the web app: review proposals, enter results and follow campaigns in a browser."""
    from scientia.web.security import MIN_TOKEN, is_loopback

    location = resolve_ledger(ledger)
    token = (token or "").strip() or None
    loopback = is_loopback(host)
    if not loopback and token is None:
        fail(
            f"refusing to listen on {host} without an access token: anyone who can reach it could record "
            f"decisions; give --token TOKEN or set {ENV_TOKEN} (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe())')"
        )
    if token is not None and len(token) < MIN_TOKEN:
        fail(f"the access token is too short ({len(token)} characters); use at least {MIN_TOKEN}")
    if "://" not in location and not Path(location).exists() and not create:
        fail(f"no ledger file at {location!r}; create a campaign with `scientia init`, or add --create")
    if port == 0:  # pick a free port now, so that the address printed below is the real one
        import socket

        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host.strip("[]"), 0))
            port = int(s.getsockname()[1])
    import uvicorn

    from scientia.web import create_app

    app = create_app(
        location,
        token,
        create=create,
        max_upload=int(max_upload * 1024 * 1024),
        allowed_hosts=_LOOPBACK_NAMES if loopback else None,
    )
    shown = f"[{host}]" if ":" in host else host
    out = console()
    say(out, f"scientia web app for {location} on http://{shown}:{port}/ (Ctrl-C stops it)")
    if token:
        say(out, "an access token is required: log in with it, or send 'Authorization: Bearer <token>'")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


@handle_errors
def report(
    campaign: CampaignArgument,
    ledger: LedgerOption = None,
    out: Annotated[
        str,
        typer.Option("--out", "-o", metavar="DIR", help="Folder for the report files (created if missing)."),
    ] = ".",
) -> None:
    """Write a campaign's report: one self-contained HTML file and a Markdown summary with PNG plots."""
    from scientia.cli._common import open_campaign
    from scientia.report.campaign import slug, view_of, write_reports

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        fail(f"--out {out!r} is a file; give a folder")
    if not folder.resolve().parent.is_dir():
        fail(f"cannot write into {out!r}: its parent folder does not exist")
    with open_campaign(ledger, campaign) as camp:
        view = view_of(camp)
        folder.mkdir(exist_ok=True)
        paths = write_reports(view, folder, f"{slug(camp.name)}-report")
    con = console()
    say(con, f"wrote {paths['html']} (self-contained HTML)")
    say(
        con,
        f"wrote {paths['markdown']} with {len(paths) - 2} PNG figures in {paths['html'].parent / (paths['html'].stem + '_files')}",
    )
