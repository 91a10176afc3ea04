"""The review queue in the browser: propose, approve, edit, reject; every decision in the ledger."""

from __future__ import annotations

import html

from tests.web.conftest import flashes

from scientia.ledger import Ledger

XSS = "<script>alert('x')</script> out of stock"


def _reviews(ledger) -> list:
    store = Ledger(str(ledger), create=False)
    try:
        return store.events(1, kinds=["review"])
    finally:
        store.close()


def _propose(browser, n=4) -> list[str]:
    r = browser.post("/campaigns/1/propose", {"n": str(n)})
    noun = "proposal" if n == 1 else "proposals"
    assert r.status_code == 200 and flashes(r) == [("ok", f"added {n} {noun} to the queue")]
    return [it["id"] for it in browser.queue()["open"]]


def test_propose_shows_proposals_awaiting_review(browser):
    # proposals appear in the queue, awaiting, with their parameters and buttons to decide
    ids = _propose(browser, 3)
    assert len(ids) == 3
    page = browser.get("/campaigns/1/queue").text
    for pid in ids:
        assert f'data-proposal="{pid}" data-status="awaiting"' in page
        assert f"/campaigns/1/queue/{pid}/approve" in page and f"/campaigns/1/queue/{pid}/reject" in page


def test_approve_records_who_and_when(browser, ledger):
    # an approval is a ledger event whose actor is the name typed in the browser
    pid = _propose(browser, 2)[0]
    r = browser.post(f"/campaigns/1/queue/{pid}/approve")
    assert flashes(r) == [("ok", f"approved {pid}")]
    (ev,) = _reviews(ledger)
    assert ev.payload["decision"] == "approve" and ev.actor == "alice" and ev.created_at
    statuses = {it["id"]: it["status"] for it in browser.queue()["open"]}
    assert statuses[pid] == "approved"


def test_reject_needs_a_reason_and_keeps_it(browser, ledger):
    # a rejection without a reason is refused; with one, the reason is stored in the ledger
    pid = _propose(browser, 2)[0]
    r = browser.post(f"/campaigns/1/queue/{pid}/reject", {"reason": "  "})
    assert r.status_code == 400 and "needs a reason" in flashes(r)[0][1]
    assert _reviews(ledger) == []
    r = browser.post(f"/campaigns/1/queue/{pid}/reject", {"reason": XSS})
    assert r.status_code == 200
    (ev,) = _reviews(ledger)
    assert ev.payload["reason"] == XSS and ev.payload["decision"] == "reject"


def test_user_text_is_escaped_everywhere(browser):
    # a <script> in a rejection reason is shown as text on the queue and in the audit log
    pid = _propose(browser, 2)[0]
    browser.post(f"/campaigns/1/queue/{pid}/reject", {"reason": XSS})
    for url in ("/campaigns/1/queue?show=all", "/campaigns/1/log"):
        page = browser.get(url).text
        assert "<script>alert" not in page, url
        assert html.escape("<script>alert", quote=False) in page, url


def test_edit_is_validated_against_the_space(browser, ledger):
    # an edit outside the range is refused naming the value; a valid edit replaces the candidate
    pid = _propose(browser, 2)[0]
    r = browser.post(f"/campaigns/1/queue/{pid}/edit", {"value.temperature": "500"})
    assert r.status_code == 400
    assert flashes(r) == [("error", "parameter 'temperature': value 500 is outside [20, 120]")]
    assert _reviews(ledger) == []
    r = browser.post(f"/campaigns/1/queue/{pid}/edit", {"value.temperature": "30", "value.time": "2"})
    assert r.status_code == 200, flashes(r)
    item = next(it for it in browser.queue()["open"] if it["id"] == pid)
    assert item["status"] == "approved"
    assert item["candidate"]["params"]["temperature"] == 30 and item["candidate"]["params"]["time"] == 2


def test_edit_breaking_a_constraint_is_refused(browser):
    # temperature + 2·time ≤ 150: an edit that breaks it is named and nothing is recorded
    pid = _propose(browser, 1)[0]
    r = browser.post(f"/campaigns/1/queue/{pid}/edit", {"value.temperature": "120", "value.time": "24"})
    assert r.status_code == 400 and "constraint" in flashes(r)[0][1]
    assert browser.queue()["open"][0]["status"] == "awaiting"


def test_a_proposal_is_decided_once(make_browser, ledger):
    # a second decision (another person, same proposal) is refused naming the first
    alice, bob = make_browser("alice"), make_browser("bob")
    pid = _propose(alice, 2)[0]
    assert alice.post(f"/campaigns/1/queue/{pid}/approve").status_code == 200
    r = bob.post(f"/campaigns/1/queue/{pid}/reject", {"reason": "no"})
    assert r.status_code == 400
    assert flashes(r)[0][1].startswith(f"proposal '{pid}' is already approved by alice at ")
    assert len(_reviews(ledger)) == 1


def test_unknown_proposal_and_decision(browser):
    # a misspelt proposal id is a 404 with a suggestion; an unknown decision is named
    pid = _propose(browser, 1)[0]
    r = browser.post(f"/campaigns/1/queue/{pid}x/approve")
    assert r.status_code == 404 and "did you mean" in flashes(r)[0][1]
    r = browser.post(f"/campaigns/1/queue/{pid}/maybe")
    assert r.status_code == 404 and "unknown decision 'maybe'" in flashes(r)[0][1]


def test_a_name_is_needed_to_decide(make_browser, ledger):
    # without a name nothing is recorded and the page says why
    nobody = make_browser(who=None)
    r = nobody.post("/campaigns/1/propose", {"n": "2"})
    assert r.status_code == 400 and "enter your name" in flashes(r)[0][1]
    r = nobody.json_post("/campaigns/1/propose", {"n": "2", "actor": "script"})
    assert r.status_code == 200 and len(r.json()["ids"]) == 2


def test_approve_all_and_json_answers(browser):
    # approve-all decides every awaiting proposal; JSON clients get JSON back
    _propose(browser, 3)
    r = browser.json_post("/campaigns/1/queue/approve-all")
    assert r.json() == {"ok": True, "message": "approved 3 proposals", "count": 3}
    assert {it["status"] for it in browser.queue()["open"]} == {"approved"}


def test_propose_number_is_checked(browser):
    # a number of proposals outside 1..100 or not a number is refused
    for n, words in (("0", "between 1 and 100"), ("many", "whole number")):
        r = browser.post("/campaigns/1/propose", {"n": n})
        assert r.status_code == 400 and words in flashes(r)[0][1]
    assert browser.queue()["open"] == []


def test_create_a_campaign_from_a_toml_upload(browser, copy_example, tmp_path):
    # a TOML file creates a campaign (checked as `scientia init` does); its name must be new
    text = copy_example(tmp_path).read_text(encoding="utf-8")
    r = browser.post("/campaigns/new", files={"config": ("manual.toml", text.encode(), "text/plain")})
    assert r.status_code == 400 and "already exists" in flashes(r)[0][1]
    renamed = text.replace('name = "amide_coupling"', 'name = "second"')
    r = browser.post("/campaigns/new", files={"config": ("second.toml", renamed.encode(), "text/plain")})
    assert flashes(r) == [("ok", "created campaign second")] and str(r.url).endswith("/campaigns/2")
    typo = renamed.replace("batch_size", "batchsize").replace('"second"', '"third"')
    r = browser.post("/campaigns/new", {"text": typo})
    assert r.status_code == 400
    assert flashes(r) == [("error", "the config: unknown key 'batchsize'; did you mean 'batch_size'?")]
    assert [c["name"] for c in browser.get("/campaigns.json").json()["campaigns"]] == [
        "amide_coupling",
        "second",
    ]
