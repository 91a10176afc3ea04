"""A campaign checks its own predictions and rescales the std of new proposals."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.campaign import Campaign
from scientia.campaign.calibration import Z50, Z90, calibration
from scientia.campaign.history import History
from scientia.campaign.state import Objective
from scientia.proposers.base import Proposal
from scientia.types import Candidate, Observation


def _history(z, std=2.0, factor=None):
    h = History(human_review=False)
    for i, zi in enumerate(z):
        pid = f"r{i:04d}.0"
        c = Candidate({"x": float(i)})
        shown = std * (factor or 1.0)
        h.proposals[pid] = Proposal(
            c, "bo", {"y": 10.0}, {"y": shown}, 0.0, "", pid, {"y": factor} if factor else None
        )
        h.observations.append(Observation(c, {"y": 10.0 + zi * std}, proposal_id=pid))
    return h


def test_coverage_of_known_errors():
    z = np.array([0.1, -0.5, 0.6, 1.0, -1.2, 1.5, -1.7, 2.5, 0.0, -0.3])
    c = calibration(_history(z), Objective("y"))
    assert c.n == 10
    assert c.coverage50 == pytest.approx(np.mean(np.abs(z) <= Z50))
    assert c.coverage90 == pytest.approx(np.mean(np.abs(z) <= Z90))
    assert c.mean_z == pytest.approx(z.mean()) and c.rms_z == pytest.approx(np.sqrt((z**2).mean()))


def test_overconfident_model_gets_a_larger_std_and_calibrated_one_keeps_it():
    rng = np.random.default_rng(0)
    over = calibration(_history(3 * rng.standard_normal(200)), Objective("y"))
    assert over.coverage90 < 0.6 and 2.3 < over.scale < 3.7
    assert 0.85 <= over.recalibrated_coverage90 <= 0.95
    good = calibration(_history(rng.standard_normal(200)), Objective("y"))
    assert 0.8 < good.scale < 1.25


def test_factors_do_not_compound():
    # proposals that were already shown with a scaled std are judged on the model's own std
    rng = np.random.default_rng(1)
    z = 3 * rng.standard_normal(100)
    assert calibration(_history(z, factor=3.0), Objective("y")).scale == pytest.approx(
        calibration(_history(z), Objective("y")).scale
    )


def test_shown_coverage_uses_the_std_the_proposals_carried():
    # errors of 2-3 model stds fall outside the model's 90% interval but inside the shown one
    z = np.array([2.0, -2.5, 3.0, -2.2, 0.1, 2.8, -2.1, 2.4, -2.9, 0.5])
    c = calibration(_history(z, factor=2.0), Objective("y"))
    assert c.coverage90 == pytest.approx(0.2)
    assert c.shown_coverage90 == pytest.approx(np.mean(np.abs(z) / 2.0 <= Z90)) == 1.0
    assert "shown held 100%" in c.describe()
    plain = calibration(_history(z), Objective("y"))
    assert plain.shown_coverage90 == plain.coverage90 and "shown" not in plain.describe()


def test_few_pairs_do_not_rescale():
    c = calibration(_history([5.0, 5.0, 5.0]), Objective("y"))
    assert c.scale == 1.0 and c.coverage90 == 0.0
    assert calibration(History(human_review=False), Objective("y")).n == 0


def test_campaign_applies_the_scale_to_new_proposals(tmp_path):
    cfg = {
        "name": "cal",
        "seed": 0,
        "batch_size": 4,
        "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
        "objectives": [{"name": "y"}],
        "proposer": {"kind": "bo", "n_initial": 4},
    }
    camp = Campaign.create(cfg, str(tmp_path / "l.sqlite"))
    rng = np.random.default_rng(3)
    for _ in range(5):  # a smooth function observed with heavy, erratic errors
        props = camp.suggest()
        camp.observe(
            [
                Observation(
                    p.candidate, {"y": float(np.sin(6 * p.candidate.params["x"]) + rng.standard_t(1))}
                )
                for p in props
            ]
        )
    (cal,) = camp.calibration()
    assert cal.n >= 5
    new = camp.suggest(2)
    assert cal.scale != 1.0
    assert all(p.calibration == {"y": cal.scale} for p in new)
    stored = camp.queue()[-1].proposal
    assert stored.calibration == new[-1].calibration  # survives the ledger round trip
