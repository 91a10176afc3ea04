"""The web app: review queues, result entry and campaign pages over a ledger.

``scientia serve`` runs it; :func:`create_app` builds it for any ASGI server or a test client.
FastAPI and uvicorn come with the ``web`` extra (``pip install scientia[web]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(ledger_url: str, token: str | None = None, **options: Any) -> FastAPI:
    """Build the web app over a ledger; see :func:`scientia.web.app.create_app`."""
    from scientia.web.app import create_app as build

    return build(ledger_url, token, **options)
