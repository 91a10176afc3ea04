"""Several people at once: concurrent approvals and results lose nothing and duplicate nothing.

Two clients act at the same moment (threads released by a barrier), either through one app (one
server process, its campaign cache and locks) or through two apps on the same ledger file (two
server processes: only the ledger's unique keys stand between them).
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections import Counter

import pytest
from tests.web.conftest import add_proposals

from scientia.campaign import Campaign
from scientia.ledger import Ledger

N = 10


@pytest.fixture
def proposals(ledger) -> list[str]:
    camp = Campaign.open(str(ledger), 1)
    ids = add_proposals(camp, N)
    camp.ledger.close()
    return ids


def _events(ledger, kind: str) -> list:
    store = Ledger(str(ledger), create=False)
    try:
        return store.events(1, kinds=[kind])
    finally:
        store.close()


def _together(*jobs):
    """Run the jobs in threads started at the same moment; return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def run(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - surfaced below by the test's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize("separate", [False, True], ids=["one-server", "two-servers"])
def test_two_people_approving_the_same_queue(make_browser, ledger, proposals, separate):
    # both approve every proposal at once: each is decided exactly once, by one of them
    alice, bob = make_browser("alice"), make_browser("bob", own_app=separate)

    def approve_all(who, order):
        codes = []
        for pid in order:
            r = who.json_post(f"/campaigns/1/queue/{pid}/approve")
            codes.append(r.status_code)
            assert r.status_code == 200 or "already approved" in r.json()["error"], r.text
        return codes

    a, b = _together(lambda: approve_all(alice, proposals), lambda: approve_all(bob, proposals[::-1]))
    assert a.count(200) + b.count(200) == N
    reviews = _events(ledger, "review")
    assert sorted(e.payload["proposal_id"] for e in reviews) == sorted(proposals)
    assert (
        Counter(e.actor for e in reviews) == Counter({"alice": a.count(200), "bob": b.count(200)}) - Counter()
    )


@pytest.mark.parametrize("separate", [False, True], ids=["one-server", "two-servers"])
def test_two_people_entering_results_at_once(make_browser, ledger, proposals, separate):
    # alice types results one by one while bob uploads a file with all of them: every proposal
    # ends with exactly one observation, and what each was told was recorded is in the ledger
    alice, bob = make_browser("alice"), make_browser("bob", own_app=separate)
    alice.json_post("/campaigns/1/queue/approve-all")
    template = list(csv.DictReader(io.StringIO(bob.get("/campaigns/1/template.csv").text)))
    assert len(template) == N
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(template[0]))
    writer.writeheader()
    for i, row in enumerate(template):
        writer.writerow({**row, "yield": 30 + i})
    data = buf.getvalue().encode()

    def type_in():
        written = 0
        for i, pid in enumerate(proposals):
            r = alice.json_post("/campaigns/1/results", {f"value.{pid}.yield": str(70 + i)})
            if r.status_code == 200:
                written += r.json()["written"]
            else:
                assert re.search(r"not (waiting for a result|pending)|twice", r.json()["error"]), r.text
        return written

    def upload():
        r = bob.client.post(
            "/campaigns/1/results/upload",
            data={"csrf_token": bob.token},
            files={"file": ("all.csv", data, "text/csv")},
            headers={"accept": "application/json"},
        )
        return r.json().get("written", 0) if r.status_code == 200 else 0

    typed, uploaded = _together(type_in, upload)
    observations = _events(ledger, "observation")
    pids = [e.payload["proposal_id"] for e in observations]
    assert sorted(pids) == sorted(proposals)  # none lost, none twice
    assert typed + uploaded == N
    assert Counter(e.actor for e in observations) == Counter({"alice": typed, "bob": uploaded}) - Counter()


def test_disjoint_work_is_all_kept(make_browser, ledger, proposals):
    # two people working on different proposals at once both have everything recorded
    alice, bob = make_browser("alice"), make_browser("bob", own_app=True)
    half = N // 2

    def work(who, mine):
        for pid in mine:
            assert who.json_post(f"/campaigns/1/queue/{pid}/approve").status_code == 200
        for pid in mine:
            r = who.json_post("/campaigns/1/results", {f"value.{pid}.yield": "42"})
            assert r.status_code == 200, r.text

    _together(lambda: work(alice, proposals[:half]), lambda: work(bob, proposals[half:]))
    assert len(_events(ledger, "review")) == N
    observations = _events(ledger, "observation")
    assert sorted(e.payload["proposal_id"] for e in observations) == sorted(proposals)
    page = alice.get("/campaigns/1.json").json()["campaign"]["counts"]
    assert page["observations"] == N and page["approved"] == 0
