"""Security: CSRF on every form, the access token, safe redirects, hosts, headers, `serve` refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import CSRF_RE, flashes

from scientia.ledger import Ledger
from scientia.web import create_app
from scientia.web.security import is_loopback, safe_next

TOKEN = "correct-horse-battery-staple"


def _events(ledger) -> int:
    store = Ledger(str(ledger), create=False)
    try:
        return sum(c["events"] for c in store.campaigns())
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "/campaigns/1/propose",
        "/campaigns/1/queue/approve-all",
        "/campaigns/1/results",
        "/name",
        "/campaigns/new",
    ],
)
def test_every_form_needs_its_csrf_token(browser, ledger, url):
    # a POST without the session's token, or with another one, is refused and records nothing
    before = _events(ledger)
    for token in (None, "forged", browser.token[:-1] + "x"):
        data = {"n": "2", "name": "mallory"} | ({"csrf_token": token} if token else {})
        r = browser.client.post(url, data=data)
        assert r.status_code == 403, (url, token)
        assert "CSRF" in flashes(r)[0][1]
    assert _events(ledger) == before


def test_csrf_token_belongs_to_one_session(make_browser, ledger):
    # the token of one browser does not work in another
    alice, eve = make_browser("alice"), make_browser("eve")
    r = eve.client.post("/campaigns/1/propose", data={"n": "1", "csrf_token": alice.token})
    assert r.status_code == 403
    r = eve.client.post("/campaigns/1/propose", data={"n": "1"}, headers={"x-csrf-token": eve.token})
    assert r.status_code == 200  # the header works as well as the hidden field


def test_session_cookies_are_http_only(ledger):
    # the session cookie cannot be read by scripts and is not sent by other sites' forms
    with TestClient(create_app(str(ledger))) as client:
        cookie = client.get("/campaigns").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_security_headers(browser):
    # pages forbid framing, sniffing and scripts from elsewhere
    h = browser.get("/campaigns/1").headers
    assert (
        "script-src 'self'" in h["content-security-policy"]
        and "frame-ancestors 'none'" in h["content-security-policy"]
    )
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"


@pytest.fixture
def guarded(ledger):
    client = TestClient(create_app(str(ledger), token=TOKEN))
    yield client
    client.close()


def test_token_protects_pages_and_writes(guarded):
    # without the token, pages send to the login form, JSON and writes get 401
    r = guarded.get("/campaigns/1?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fcampaigns%2F1%3Fx%3D1"
    assert guarded.get("/campaigns.json").status_code == 401
    assert guarded.post("/campaigns/1/propose", data={"n": "1"}).status_code == 401
    assert guarded.get("/login").status_code == 200 and guarded.get("/static/style.css").status_code == 200


def test_login_form_sets_a_cookie(guarded, ledger):
    # the right token logs in (a cookie holding a MAC, not the token); the wrong one does not
    csrf = CSRF_RE.search(guarded.get("/login").text).group(1)
    r = guarded.post("/login", data={"token": "wrong", "csrf_token": csrf, "next": "/campaigns/1"})
    assert r.status_code == 403 and flashes(r) == [("error", "wrong access token")]
    r = guarded.post(
        "/login", data={"token": TOKEN, "csrf_token": csrf, "next": "/campaigns/1"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/campaigns/1"
    assert TOKEN not in r.headers["set-cookie"] and "httponly" in r.headers["set-cookie"].lower()
    assert guarded.get("/campaigns/1.json").status_code == 200
    # logged in, a write still needs the CSRF token and a name
    assert guarded.post("/campaigns/1/propose", data={"n": "1", "actor": "al"}).status_code == 403
    r = guarded.post("/campaigns/1/propose", data={"n": "1", "actor": "al", "csrf_token": csrf})
    assert r.status_code == 200 and _events(ledger) == 2


def test_bearer_token_for_scripts(guarded, ledger):
    # a script sends the token in a header; it needs no CSRF token (other sites cannot set the header)
    headers = {"authorization": f"Bearer {TOKEN}", "accept": "application/json"}
    assert guarded.get("/campaigns/1.json", headers={"authorization": "Bearer nope"}).status_code == 401
    r = guarded.post("/campaigns/1/propose", data={"n": "2", "actor": "robot"}, headers=headers)
    assert r.status_code == 200 and r.json()["message"] == "added 2 proposals to the queue"


def test_login_redirects_only_to_this_site():
    # ?next= cannot send a person to another site after logging in
    assert safe_next("/campaigns/1?x=2") == "/campaigns/1?x=2"
    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", "", None, "javascript:alert(1)"):
        assert safe_next(bad) == "/"


def test_unknown_host_header_is_refused(ledger):
    # with allowed hosts (serve on loopback), another Host (DNS rebinding) gets 400
    with TestClient(create_app(str(ledger), allowed_hosts=["127.0.0.1", "localhost"])) as client:
        assert client.get("/campaigns", headers={"host": "attacker.example"}).status_code == 400
        assert client.get("/campaigns", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_static_routes_do_not_walk_paths(browser):
    # encoded and plain ../ never leave the static folder
    for url in (
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fapp.py",
    ):
        r = browser.get(url)
        assert r.status_code == 404 and "root:" not in r.text


def test_uploaded_config_cannot_read_server_files_or_run_code(browser, copy_example, tmp_path):
    # a config from the browser may not name a table file or a function evaluator
    text = copy_example(tmp_path).read_text().replace('name = "amide_coupling"', 'name = "x"')
    for extra, words in (
        ('\n[evaluator]\nkind = "function"\nfunction = "os:system"\n', "function evaluator"),
    ):
        r = browser.post("/campaigns/new", {"text": text.replace('[evaluator]\nkind = "manual"\n', extra)})
        assert r.status_code == 400 and words in flashes(r)[0][1]
    pool = 'name = "p"\n[space]\nkind = "pool"\ntable = "/etc/passwd"\n[[objectives]]\nname = "y"\n'
    r = browser.post("/campaigns/new", {"text": pool})
    assert r.status_code == 400 and "space.table names a file on the server" in flashes(r)[0][1]


def test_loopback_detection():
    # only loopback addresses count as private to this machine
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org"))


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--host", "0.0.0.0"], {}, "refusing to listen on 0.0.0.0 without an access token"),
        (["--host", "0.0.0.0", "--token", "short"], {}, "too short"),
        (["--host", "192.168.0.9"], {"SCIENTIA_TOKEN": ""}, "without an access token"),
        ([], {}, "no ledger file at"),
    ],
)
def test_serve_refuses_unsafe_settings(tmp_path, monkeypatch, args, env, words):
    # serve stops with one line before listening: no token off loopback, a short token, no ledger
    from typer.testing import CliRunner

    from scientia.cli.main import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"SCIENTIA_LEDGER": None, "SCIENTIA_TOKEN": None, **env})
    result = runner.invoke(app, ["serve", "missing.sqlite", *args] if not args else ["serve", *args])
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Traceback" not in result.output


def test_names_are_checked_and_escaped(browser, ledger):
    # a name too long or with control characters is refused; markup in a name is shown as text
    for bad, words in (("x" * 81, "at most 80 characters"), ("al\x07ice", "control characters")):
        r = browser.post("/name", {"name": bad})
        assert r.status_code == 400 and words in flashes(r)[0][1]
    browser.name("<b>bob</b>")
    browser.post("/campaigns/1/propose", {"n": "1"})
    page = browser.get("/campaigns/1/log").text
    assert "<b>bob</b>" not in page and "&lt;b&gt;bob&lt;/b&gt;" in page
    store = Ledger(str(ledger), create=False)
    try:
        assert {e.actor for e in store.events(1, kinds=["proposal"])} == {"<b>bob</b>"}
    finally:
        store.close()
