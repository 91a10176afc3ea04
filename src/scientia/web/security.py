"""Who may do what in the web app: access token, CSRF tokens, the actor's name, upload limits.

* **Session.** Every browser gets a random session id in an HTTP-only cookie. Its CSRF token is
  an HMAC of the session id under a secret made when the app starts, so nothing is stored on
  the server. Every form carries it in a hidden field (``csrf_token``) and every POST is
  checked against it (or the ``X-CSRF-Token`` header), so another site cannot make a
  reviewer's browser approve or record anything.
* **Access token.** With a token (``--token`` or ``$SCIENTIA_TOKEN``; required by
  ``scientia serve`` on a non-loopback address) every page and every write needs it: either
  the header ``Authorization: Bearer <token>`` (scripts) or a cookie set by the login form
  (browsers; it holds an HMAC of the token, never the token). A request authenticated by the
  header needs no CSRF token, since a browser cannot be made to send that header by another
  site.
* **Actor.** The name a person types (kept in a cookie) is the ``actor`` of the ledger events
  they cause.
* **Uploads.** :class:`BodyLimit` refuses request bodies larger than the limit (default 5 MB)
  before they are read.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

__all__ = [
    "AUTH_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "DEFAULT_MAX_UPLOAD",
    "NAME_COOKIE",
    "SESSION_COOKIE",
    "AccessDenied",
    "BodyLimit",
    "Security",
    "clean_name",
    "https",
    "is_loopback",
    "safe_next",
]

SESSION_COOKIE = "scientia_session"
AUTH_COOKIE = "scientia_auth"
NAME_COOKIE = "scientia_name"
FLASH_COOKIE = "scientia_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
DEFAULT_MAX_UPLOAD = 5 * 1024 * 1024
MAX_NAME = 80
MIN_TOKEN = 12


class AccessDenied(Exception):
    """A request without the access token or with a missing / wrong CSRF token."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Security:
    """The app's security settings and the helpers that check requests against them.

    Parameters
    ----------
    token : str, optional
        The access token; ``None`` leaves reading and writing open (loopback only).
    max_upload : int
        Largest request body in bytes.
    """

    token: str | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self.secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    # -- sessions and CSRF ---------------------------------------------------------------------
    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(24)

    @staticmethod
    def valid_session(value: str | None) -> bool:
        return bool(value) and len(value or "") == 32 and all(c.isalnum() or c in "-_" for c in value or "")

    def csrf_token(self, session: str) -> str:
        """The CSRF token of a session (the same for every form of that session)."""
        return self._mac("csrf", session)

    def check_csrf(self, session: str | None, given: str | None) -> None:
        if not session or not given or not hmac.compare_digest(self.csrf_token(session), given):
            raise AccessDenied(
                "the form's security token is missing or out of date (CSRF check); reload the page and try again"
            )

    # -- access token ----------------------------------------------------------------------------
    @property
    def auth_cookie_value(self) -> str:
        assert self.token is not None
        return self._mac("auth", self.token)

    def token_matches(self, given: str | None) -> bool:
        return (
            self.token is not None
            and given is not None
            and hmac.compare_digest(given.encode(), self.token.encode())
        )

    def bearer(self, headers: Any) -> bool:
        """Whether the request carries ``Authorization: Bearer <token>``."""
        value = headers.get("authorization", "")
        scheme, _, given = value.partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(given.strip())

    def authenticated(self, headers: Any, cookies: Any) -> bool:
        """Open app, bearer header or login cookie."""
        if self.token is None:
            return True
        if self.bearer(headers):
            return True
        cookie = cookies.get(AUTH_COOKIE)
        return cookie is not None and hmac.compare_digest(cookie, self.auth_cookie_value)


def clean_name(raw: str | None) -> str | None:
    """A person's name as typed, or ``None`` if empty; control characters are refused.

    Raises
    ------
    ValueError
        For a name that is too long or has control characters.
    """
    if raw is None:
        return None
    name = " ".join(raw.split())
    if not name:
        return None
    if len(name) > MAX_NAME:
        raise ValueError(f"a name has at most {MAX_NAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("a name cannot contain control characters")
    return name


def name_cookie(name: str) -> str:
    return quote(name, safe="")


def read_name_cookie(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return clean_name(unquote(value))
    except ValueError:
        return None


def flash_cookie(kind: str, text: str) -> str:
    return quote(json.dumps({"kind": kind, "text": text[:1500]}), safe="")


def read_flash(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    try:
        data = json.loads(unquote(value))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("ok", "info", "error"):
        return None
    return {"kind": str(data["kind"]), "text": str(data.get("text", ""))}


def https(request: Any) -> bool:
    """Whether the request came over HTTPS (then cookies are marked ``Secure``)."""
    return str(request.url.scheme) == "https"


def safe_next(target: str | None) -> str:
    """A local path to go to after logging in (anything else becomes ``/``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with 413.

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    sent in chunks is counted and cut off as soon as it passes the limit.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._refuse(scope, send)
                    return
        seen = 0

        async def counted() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        mb = self.limit / (1024 * 1024)
        message = f"the upload is larger than the limit of {mb:.3g} MB; nothing was recorded"
        accept = dict(scope.get("headers", [])).get(b"accept", b"")
        if b"text/html" in accept:
            body = (
                '<!DOCTYPE html><html lang="en"><meta charset="utf-8"><title>Too large</title>'
                f"<p>{message}.</p><p>Go back and choose a smaller file.</p></html>"
            ).encode()
            kind = b"text/html; charset=utf-8"
        else:
            body, kind = json.dumps({"error": message}).encode(), b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
