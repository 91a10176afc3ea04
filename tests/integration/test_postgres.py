"""The ledger on a real PostgreSQL server: same code, concurrent writers lose and duplicate nothing."""

from __future__ import annotations

import contextlib
import multiprocessing as mp

import pytest

from scientia.campaign import Campaign
from scientia.errors import LedgerError, ValidationError
from scientia.ledger import Ledger
from scientia.types import Candidate, Observation

CONFIG = {
    "name": "pg",
    "seed": 0,
    "batch_size": 20,
    "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
    "objectives": [{"name": "y"}],
    "proposer": {"kind": "random"},
}


def test_campaign_round_trip(postgres_url):
    camp = Campaign.create(CONFIG, postgres_url)
    props = camp.suggest(3)
    camp.review(props[2].id, "reject", reason="not today")
    camp.observe([Observation(p.candidate, {"y": 1.0}) for p in props[:2]])
    camp.ledger.close()
    again = Campaign.open(postgres_url, "pg")
    assert [it.status for it in again.queue()] == ["observed", "observed", "rejected"]
    assert len(again.observations()) == 2
    assert again.ledger.schema_version == 1
    again.ledger.close()


def _worker(url: str, worker: int, start: mp.Barrier) -> None:  # type: ignore[valid-type]
    camp = Campaign.open(url, "pg")
    proposals = [it.proposal for it in camp.queue()]  # all 20, read before anyone writes
    start.wait()
    for k, p in enumerate(proposals):
        # every worker answers every proposal (only one answer per proposal may land) and adds
        # one observation of its own
        with contextlib.suppress(ValidationError):  # another worker answered it first
            camp.observe(
                [Observation(p.candidate, {"y": float(worker)}, proposal_id=p.id)], actor=f"w{worker}"
            )
        x = (worker * 100 + k + 0.5) / 1000
        camp.observe([Observation(Candidate({"x": x}), {"y": -1.0})], actor=f"w{worker}")
    camp.ledger.close()


def test_four_concurrent_writers_lose_nothing_and_duplicate_nothing(postgres_url):
    camp = Campaign.create(CONFIG, postgres_url)
    props = camp.suggest(20)
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(4)
    procs = [ctx.Process(target=_worker, args=(postgres_url, w, start)) for w in range(4)]
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):  # read incrementally while the workers write
        camp.history()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    obs = camp.observations()
    answers = [o for o in obs if o.proposal_id]
    assert sorted(o.proposal_id for o in answers) == sorted(p.id for p in props)  # each exactly once
    own = [o for o in obs if not o.proposal_id]
    assert len(own) == 4 * 20 and len({o.candidate_id for o in own}) == 80  # none lost
    fresh = Campaign.open(postgres_url, "pg")  # the incremental history agrees with a replay
    assert [o.to_dict() for o in fresh.observations()] == [o.to_dict() for o in obs]
    camp.ledger.close()
    fresh.ledger.close()


def test_unreachable_server_is_a_one_line_error():
    with pytest.raises(LedgerError) as err:
        Ledger("postgresql://u:secret@127.0.0.1:9/x")
    message = str(err.value)
    assert message.startswith("cannot open ledger 'postgresql://u:***@127.0.0.1:9/x'")
    assert "\n" not in message and "secret" not in message
