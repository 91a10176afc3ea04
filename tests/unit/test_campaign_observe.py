"""Campaign.observe refuses observations that would corrupt the record."""

from __future__ import annotations

import pytest

from scientia.campaign import Campaign
from scientia.errors import ValidationError
from scientia.types import Candidate, Observation

CONFIG = {
    "name": "c",
    "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
    "objectives": [{"name": "y"}],
    "proposer": {"kind": "random"},
}


def test_unknown_or_repeated_proposal_id_is_refused_and_nothing_is_written(tmp_path):
    # an observation naming a proposal that is not pending (or naming one twice) writes nothing
    camp = Campaign.create(CONFIG, str(tmp_path / "l.sqlite"))
    (p,) = camp.suggest(1)
    before = len(camp.ledger.events(camp.id))
    bad = Observation(Candidate({"x": 0.5}), {"y": 1.0}, proposal_id="r9999.0")
    with pytest.raises(ValidationError, match="not pending"):
        camp.observe([bad])
    twice = [Observation(p.candidate, {"y": 1.0}, proposal_id=p.id)] * 2
    with pytest.raises(ValidationError, match="not pending"):
        camp.observe(twice)
    assert len(camp.ledger.events(camp.id)) == before
    assert camp.observe([Observation(p.candidate, {"y": 1.0}, proposal_id=p.id)]) == 1
    with pytest.raises(ValidationError, match="not pending"):
        camp.observe([Observation(p.candidate, {"y": 2.0}, proposal_id=p.id)])
