"""Human review: approve, edit and reject proposals; the planner respects the decisions."""

from __future__ import annotations

import pytest

from scientia.campaign import Campaign
from scientia.errors import UnknownNameError, ValidationError
from scientia.types import Observation

LEVELS = ["a", "b", "c", "d"]
CONFIG = {
    "name": "r",
    "seed": 3,
    "batch_size": 3,
    "review": "human",
    "space": {
        "kind": "parameters",
        "parameters": [
            {"name": "x", "kind": "real", "low": 0, "high": 10},
            {"name": "s", "kind": "categorical", "choices": LEVELS},
        ],
    },
    "objectives": [{"name": "y"}],
    "proposer": {"kind": "random"},
}


@pytest.fixture
def camp(tmp_path):
    return Campaign.create(CONFIG, str(tmp_path / "l.sqlite"))


def test_human_campaign_proposals_wait_for_review(camp):
    props = camp.suggest()
    assert [it.status for it in camp.queue()] == ["awaiting"] * 3
    assert camp.step() == []  # nothing approved: nothing is evaluated, nothing more proposed
    assert len(camp.queue()) == 3
    camp.review(props[0].id, "approve", actor="alice")
    assert [it.status for it in camp.queue()] == ["approved", "awaiting", "awaiting"]
    assert camp.queue("approved")[0].decision["actor"] == "alice"


def test_auto_campaign_proposals_are_approved(tmp_path):
    camp = Campaign.create({**CONFIG, "review": "auto"}, str(tmp_path / "l.sqlite"))
    camp.suggest()
    assert {it.status for it in camp.queue()} == {"approved"}


def test_rejected_candidate_is_never_proposed_again_and_reason_is_kept(tmp_path):
    # a pool of 4 rows: after rejecting one, the remaining proposals never include it
    cfg = {
        **CONFIG,
        "space": {
            "kind": "parameters",
            "parameters": [{"name": "s", "kind": "categorical", "choices": LEVELS}],
        },
        "batch_size": 1,
    }
    camp = Campaign.create(cfg, str(tmp_path / "l.sqlite"))
    (p,) = camp.suggest()
    camp.review(p.id, "reject", reason="reagent <b>out</b> of stock", actor="bob")
    assert p.candidate.id in camp.state().excluded
    later = [q.candidate.id for _ in range(6) for q in camp.suggest()]
    assert p.candidate.id not in later
    (ev,) = camp.ledger.events(camp.id, kinds=["review"])
    assert ev.payload["reason"] == "reagent <b>out</b> of stock" and ev.actor == "bob"
    assert camp.queue("rejected")[0].proposal.id == p.id


def test_reject_needs_a_reason(camp):
    p = camp.suggest()[0]
    with pytest.raises(ValidationError, match="reason"):
        camp.review(p.id, "reject", reason="  ")
    assert camp.ledger.events(camp.id, kinds=["review"]) == []


def test_edit_is_validated_and_replaces_the_candidate(camp):
    p = camp.suggest()[0]
    with pytest.raises(ValidationError, match="outside"):
        camp.review(p.id, "edit", changes={"x": 11})
    with pytest.raises(UnknownNameError, match="did you mean 'x'"):
        camp.review(p.id, "edit", changes={"xx": 1})
    with pytest.raises(ValidationError, match="is not one of its values"):
        camp.review(p.id, "edit", changes={"s": "zzz"})
    assert camp.ledger.events(camp.id, kinds=["review"]) == []
    item = camp.review(p.id, "edit", changes={"x": 2.5}, actor="carol")
    assert item.status == "approved" and item.proposal.candidate.params["x"] == 2.5
    assert item.decision["original"]["params"]["x"] == p.candidate.params["x"]
    # the edited candidate is what gets measured and what the observation answers
    camp.observe([Observation(item.proposal.candidate, {"y": 1.0})])
    assert camp.queue()[0].status == "observed"
    assert camp.observations()[0].proposal_id == p.id


def test_a_proposal_is_decided_once(camp):
    p = camp.suggest()[0]
    camp.review(p.id, "approve", actor="alice")
    with pytest.raises(ValidationError, match="already approved by alice"):
        camp.review(p.id, "reject", reason="too late", actor="bob")
    with pytest.raises(UnknownNameError, match="unknown proposal"):
        camp.review("r0099.0", "approve")
    with pytest.raises(ValidationError, match="unknown decision"):
        camp.review(p.id, "maybe")


def test_two_campaign_objects_see_each_others_decisions(camp, tmp_path):
    # two users (two Campaign objects on one ledger file) racing for the same proposal
    other = Campaign.open(str(tmp_path / "l.sqlite"), "r")
    p = camp.suggest()[0]
    camp.queue()  # both have read the history before deciding
    other.queue()
    other.review(p.id, "approve", actor="bob")
    with pytest.raises(ValidationError, match="already approved by bob"):
        camp.review(p.id, "reject", reason="no", actor="alice")
    assert len(camp.ledger.events(camp.id, kinds=["review"])) == 1


def test_history_is_incremental_and_matches_a_fresh_replay(camp, tmp_path):
    for p in camp.suggest():
        camp.review(p.id, "approve")
        camp.observe([Observation(p.candidate, {"y": 1.0})])
    camp.suggest()
    fresh = Campaign.open(str(tmp_path / "l.sqlite"), "r")
    assert [i.to_dict() for i in fresh.queue()] == [i.to_dict() for i in camp.queue()]
    a, b = fresh.state(), camp.state()
    assert (a.observations, a.pending, a.excluded, a.round) == (
        b.observations,
        b.pending,
        b.excluded,
        b.round,
    )


def test_history_is_folded_once_by_concurrent_threads(camp):
    import threading

    for p in camp.suggest():
        camp.observe([Observation(p.candidate, {"y": 1.0})])
    fresh = Campaign.open(camp.ledger, "r")
    threads = [threading.Thread(target=fresh.history) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fresh.observations()) == 3
