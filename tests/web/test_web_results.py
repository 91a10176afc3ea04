"""Entering results: the form and the CSV upload, validated before anything is recorded."""

from __future__ import annotations

import csv
import io

import pytest
from tests.web.conftest import flashes

from scientia.ledger import Ledger


def _observations(ledger) -> list:
    store = Ledger(str(ledger), create=False)
    try:
        return store.events(1, kinds=["observation"])
    finally:
        store.close()


@pytest.fixture
def approved(browser) -> list[str]:
    """Three proposals, two of them approved."""
    browser.post("/campaigns/1/propose", {"n": "3"})
    ids = [it["id"] for it in browser.queue()["open"]]
    for pid in ids[:2]:
        browser.post(f"/campaigns/1/queue/{pid}/approve")
    return ids


def _filled(browser, yields) -> bytes:
    """The approved proposals' template, with a yield per row."""
    rows = list(csv.DictReader(io.StringIO(browser.get("/campaigns/1/template.csv").text)))
    rows = rows[: len(yields)]
    for row, y in zip(rows, yields, strict=True):
        row["yield"] = y
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def test_results_page_lists_approved_proposals(browser, approved):
    # only approved proposals get inputs; the awaiting one is counted
    data = browser.get("/campaigns/1/results.json").json()
    assert [it["id"] for it in data["ready"]] == approved[:2] and data["waiting"] == 1
    page = browser.get("/campaigns/1/results").text
    assert f'name="value.{approved[0]}.yield"' in page and f'name="value.{approved[2]}.yield"' not in page


def test_form_records_results_with_the_actor(browser, approved, ledger):
    # typed values become observations linked to their proposals, recorded by the person
    r = browser.post("/campaigns/1/results", {f"value.{approved[0]}.yield": "61.5"})
    assert flashes(r) == [("ok", "recorded 1 observation")]
    (ev,) = _observations(ledger)
    assert ev.payload["proposal_id"] == approved[0] and ev.payload["outcomes"] == {"yield": 61.5}
    assert ev.actor == "alice"
    best = browser.get("/campaigns/1.json").json()["campaign"]["best"]
    assert best["value"] == 61.5 and best["proposal_id"] == approved[0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("nan", "not a finite number"),
        ("", "no result entered"),
    ],
)
def test_form_values_are_checked(browser, approved, ledger, value, message):
    # a bad value is named with its proposal and nothing is recorded
    r = browser.post("/campaigns/1/results", {f"value.{approved[0]}.yield": value})
    assert r.status_code == 400 and message in flashes(r)[0][1]
    assert _observations(ledger) == []


def test_form_records_a_failed_experiment(browser, approved, ledger):
    # a failed experiment may have no value; it is kept as data
    r = browser.post("/campaigns/1/results", {f"status.{approved[1]}": "failed"})
    assert r.status_code == 200
    (ev,) = _observations(ledger)
    assert ev.payload["status"] == "failed" and ev.payload["outcomes"] == {}


def test_form_for_an_answered_proposal_is_refused(browser, approved, ledger):
    # a second result for the same proposal (say, from a stale page) is refused, not duplicated
    field = {f"value.{approved[0]}.yield": "50"}
    assert browser.post("/campaigns/1/results", field).status_code == 200
    r = browser.post("/campaigns/1/results", field)
    assert r.status_code == 400 and "not waiting for a result" in flashes(r)[0][1]
    assert len(_observations(ledger)) == 1


def test_csv_upload_records_and_reupload_is_a_noop(browser, approved, ledger):
    # the filled template is imported once; the same file again records nothing
    data = _filled(browser, ["40.5", "52"])
    r = browser.post("/campaigns/1/results/upload", files={"file": ("run-7.csv", data, "text/csv")})
    assert flashes(r) == [("ok", "recorded 2 observations from run-7.csv")]
    r = browser.post("/campaigns/1/results/upload", files={"file": ("again.csv", data, "text/csv")})
    assert flashes(r) == [("info", "again.csv was already imported; nothing recorded")]
    events = _observations(ledger)
    assert len(events) == 2 and {e.payload["proposal_id"] for e in events} == set(approved[:2])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("proposal_id,", "proposal,"),
            "unknown column 'proposal'; did you mean 'proposal_id'?",
        ),
        (lambda t: t.replace(",52", ",lots"), "row 3, column 'yield': 'lots' is not a number"),
        (lambda t: "", "is empty"),
    ],
)
def test_csv_upload_is_validated_as_a_whole(browser, approved, ledger, edit, message):
    # a bad file is named with its row and column and nothing of it is recorded
    text = edit(_filled(browser, ["40.5", "52"]).decode())
    r = browser.post("/campaigns/1/results/upload", files={"file": ("r.csv", text.encode(), "text/csv")})
    assert r.status_code == 400 and message in flashes(r)[0][1]
    assert _observations(ledger) == []


def test_upload_must_be_a_utf8_file(browser, approved):
    # binary content and a missing file are refused with a message
    r = browser.post("/campaigns/1/results/upload", files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")})
    assert r.status_code == 400 and "not a UTF-8" in flashes(r)[0][1]
    r = browser.post("/campaigns/1/results/upload", files={"file": ("", b"", "text/csv")})
    assert r.status_code in (400, 422)


def test_upload_size_is_limited(make_browser, approved, ledger):
    # a file over the limit is refused before it is read
    small = make_browser("alice", max_upload=2048)
    big = _filled(small, ["40", "50"]) + b"#" * 5000
    r = small.post("/campaigns/1/results/upload", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413 and "larger than the upload limit" in flashes(r)[0][1]
    huge = big + b"#" * 70_000  # past the limit on the whole request: cut off before it is read
    r = small.post("/campaigns/1/results/upload", files={"file": ("huge.csv", huge, "text/csv")})
    assert r.status_code == 413 and "larger than the limit" in r.json()["error"]
    assert _observations(ledger) == []


def test_upload_file_name_cannot_walk_paths(browser, approved, ledger):
    # a file name with folders is reduced to its last part (it is only shown and recorded)
    data = _filled(browser, ["40.5"])
    r = browser.post("/campaigns/1/results/upload", files={"file": ("../../etc/passwd", data, "text/csv")})
    assert flashes(r) == [("ok", "recorded 1 observation from passwd")]
    (ev,) = _observations(ledger)
    assert ev.payload["metadata"]["file"] == "passwd"
