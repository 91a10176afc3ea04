"""The append-only SQLite ledger: schema, sequence, dedup keys, atomic batches, concurrency."""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3

import pytest

from scientia.errors import LedgerError, UnknownNameError, ValidationError
from scientia.ledger import SCHEMA_VERSION, Ledger, NewEvent, open_ledger


@pytest.fixture
def campaign(tmp_ledger):
    return tmp_ledger, tmp_ledger.create_campaign("alpha", {"seed": 1}, {"scientia": "0"})


def test_new_ledger_records_the_schema_version(tmp_ledger):
    # a fresh ledger stores the current schema version
    assert tmp_ledger.schema_version == SCHEMA_VERSION


def test_ledger_from_a_newer_scientia_is_refused(tmp_path):
    # a ledger with a newer schema version says to upgrade instead of misreading it
    path = str(tmp_path / "l.sqlite")
    Ledger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE scientia_info SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(LedgerError, match="upgrade scientia"):
        Ledger(path)


def test_opening_a_missing_ledger_without_create_fails(tmp_path):
    # open_ledger on a missing file is a LedgerError that says how to create one
    with pytest.raises(LedgerError, match="scientia init"):
        open_ledger(str(tmp_path / "missing.sqlite"))


def test_campaign_creation_writes_its_first_event(campaign):
    # creating a campaign records a campaign_created event with config and versions
    ledger, cid = campaign
    (event,) = ledger.events(cid)
    assert event.kind == "campaign_created" and event.payload["config"] == {"seed": 1}
    assert event.payload["versions"] == {"scientia": "0"}


def test_duplicate_campaign_name_is_refused(campaign):
    # two campaigns cannot share a name
    ledger, _ = campaign
    with pytest.raises(ValidationError, match="already exists"):
        ledger.create_campaign("alpha", {}, {})


def test_unknown_campaign_suggests_the_closest_name(campaign):
    # a misspelt campaign name gives a did-you-mean
    ledger, cid = campaign
    ledger.create_campaign("beta-screen", {}, {})
    assert ledger.campaign_id("alpha") == cid and ledger.campaign_id(str(cid)) == cid
    with pytest.raises(UnknownNameError, match="did you mean 'alpha'"):
        ledger.campaign_id("alpah")


def test_events_get_increasing_sequence_numbers_in_append_order(campaign):
    # each append gets a larger seq, and events() returns them in that order with their payloads
    ledger, cid = campaign
    seqs = [ledger.append(cid, "note", {"i": i}) for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    notes = ledger.events(cid, kinds=["note"])
    assert [e.seq for e in notes] == seqs and [e.payload["i"] for e in notes] == list(range(5))


def test_events_filter_by_since_and_kind(campaign):
    # since= skips earlier events and kinds= keeps only the named kinds
    ledger, cid = campaign
    a = ledger.append(cid, "note", {"i": 0})
    b = ledger.append(cid, "error", {"i": 1})
    ledger.append(cid, "note", {"i": 2})
    assert [e.payload["i"] for e in ledger.events(cid, since=a)] == [1, 2]
    assert [e.seq for e in ledger.events(cid, kinds=["error"])] == [b]


def test_events_of_one_campaign_do_not_leak_into_another(campaign):
    # each campaign sees only its own events
    ledger, cid = campaign
    other = ledger.create_campaign("other", {}, {})
    ledger.append(other, "note", {"x": 1})
    assert [e.kind for e in ledger.events(cid)] == ["campaign_created"]


def test_dedup_key_makes_append_idempotent(campaign):
    # appending twice with one dedup key stores one event; the second returns None
    ledger, cid = campaign
    first = ledger.append(cid, "observation", {"v": 1}, dedup_key="observation:r0000.0")
    second = ledger.append(cid, "observation", {"v": 2}, dedup_key="observation:r0000.0")
    assert first is not None and second is None
    (event,) = ledger.events(cid, kinds=["observation"])
    assert event.payload == {"v": 1}


def test_dedup_keys_are_per_campaign(campaign):
    # the same key in two campaigns is two events
    ledger, cid = campaign
    other = ledger.create_campaign("other", {}, {})
    assert ledger.append(cid, "note", {}, dedup_key="k") is not None
    assert ledger.append(other, "note", {}, dedup_key="k") is not None


def test_append_many_writes_all_in_order(campaign):
    # a batch gets consecutive sequence numbers in the given order
    ledger, cid = campaign
    seqs = ledger.append_many(cid, [NewEvent("note", {"i": i}, dedup_key=f"k{i}") for i in range(4)])
    assert seqs == list(range(seqs[0], seqs[0] + 4))


def _count(ledger, cid):
    return len(ledger.events(cid))


def test_append_many_with_a_duplicate_key_writes_nothing(campaign):
    # a batch whose last event repeats a stored key is refused whole
    ledger, cid = campaign
    ledger.append(cid, "note", {}, dedup_key="taken")
    before = _count(ledger, cid)
    batch = [NewEvent("note", {"i": 1}, dedup_key="fresh"), NewEvent("note", {"i": 2}, dedup_key="taken")]
    with pytest.raises(ValidationError, match="nothing was written"):
        ledger.append_many(cid, batch)
    assert _count(ledger, cid) == before
    assert ledger.append(cid, "note", {}, dedup_key="fresh") is not None  # "fresh" was not kept


def test_append_many_with_an_unstorable_payload_writes_nothing(campaign):
    # a batch with a payload that cannot be stored (not JSON) fails and writes nothing
    ledger, cid = campaign
    before = _count(ledger, cid)
    batch = [NewEvent("note", {"i": 1}), NewEvent("note", {"bad": object()})]
    with pytest.raises((ValidationError, TypeError)):
        ledger.append_many(cid, batch)
    assert _count(ledger, cid) == before


def test_append_many_with_an_unknown_kind_writes_nothing(campaign):
    # an unknown event kind is refused before anything is written
    ledger, cid = campaign
    before = _count(ledger, cid)
    with pytest.raises(ValidationError, match="kind"):
        ledger.append_many(cid, [NewEvent("note", {}), NewEvent("obsrvation", {})])
    assert _count(ledger, cid) == before


def test_append_many_skip_duplicates_keeps_the_new_ones(campaign):
    # with skip_duplicates a stored key is skipped (None) and the rest are written
    ledger, cid = campaign
    ledger.append(cid, "note", {}, dedup_key="a")
    seqs = ledger.append_many(
        cid, [NewEvent("note", {}, dedup_key="a"), NewEvent("note", {}, dedup_key="b")], skip_duplicates=True
    )
    assert seqs[0] is None and seqs[1] is not None


def test_numpy_values_are_stored_as_plain_numbers(campaign):
    # numpy scalars and arrays in a payload come back as plain numbers and lists
    np = pytest.importorskip("numpy")
    ledger, cid = campaign
    ledger.append(cid, "note", {"x": np.float64(0.5), "v": np.arange(3)})
    assert ledger.events(cid, kinds=["note"])[0].payload == {"x": 0.5, "v": [0, 1, 2]}


def _writer(path: str, cid: int, tag: str, n: int, shared: int, start) -> None:
    """Append ``n`` own events and try ``shared`` keys the other writer also tries."""
    ledger = Ledger(path, create=False)
    start.wait(timeout=60)  # both writers begin together
    for i in range(n):
        ledger.append(cid, "note", {"tag": tag, "i": i})
        if i < shared:
            ledger.append(cid, "note", {"tag": tag, "shared": i}, dedup_key=f"shared:{i}")
    ledger.close()


def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    # two processes appending 250 events each (and racing for 50 shared dedup keys) keep every
    # event, each process's events in its own order, and each shared key exactly once
    path = str(tmp_path / "ledger.sqlite")
    ledger = Ledger(path)
    cid = ledger.create_campaign("race", {}, {})
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, cid, tag, 250, 50, start)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    notes = ledger.events(cid, kinds=["note"])
    own = [e for e in notes if "i" in e.payload]
    for tag in ("a", "b"):
        assert [e.payload["i"] for e in own if e.payload["tag"] == tag] == list(range(250))
    shared = [e for e in notes if "shared" in e.payload]
    assert sorted(e.payload["shared"] for e in shared) == list(range(50))
    seqs = [e.seq for e in ledger.events(cid)]
    assert len(seqs) == len(set(seqs)) == 1 + 500 + 50
    tags = [e.payload["tag"] for e in notes]
    switches = sum(x != y for x, y in itertools.pairwise(tags))
    assert switches > 2, "the writers did not overlap, so this run tested nothing concurrent"
    ledger.close()


def _opener(path: str, start, results) -> None:
    start.wait(timeout=60)
    try:
        Ledger(path).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - the parent reports what went wrong
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_creating_one_new_ledger_at_once_all_succeed(tmp_path):
    # three processes opening the same not-yet-existing ledger together all get a working ledger
    # (the losers of the CREATE TABLE race used to fail with "table already exists")
    path = str(tmp_path / "new.sqlite")
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(path, start, results)) for _ in range(3)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert outcomes == ["ok"] * 3
    assert Ledger(path, create=False).schema_version == SCHEMA_VERSION
