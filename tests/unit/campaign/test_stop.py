"""Stopping rules: target reached, too little expected improvement, wall clock."""

from __future__ import annotations

from scientia.campaign import Campaign
from scientia.config import StopConfig


def _camp(tmp_path, stop=None, proposer="random"):
    cfg = {
        "name": "s",
        "seed": 1,
        "batch_size": 2,
        "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
        "objectives": [{"name": "y"}],
        "proposer": {"kind": proposer, "n_initial": 4} if proposer == "bo" else {"kind": proposer},
        "evaluator": {"kind": "function", "function": "tests.unit.campaign.test_stop:parabola"},
    }
    if stop:
        cfg["stop"] = stop
    return Campaign.create(cfg, str(tmp_path / "l.sqlite"))


def parabola(params):
    return 1.0 - (params["x"] - 0.3) ** 2


def test_budget_only_by_default(tmp_path):
    camp = _camp(tmp_path)
    camp.run(6)
    assert len(camp.observations()) == 6 and camp.stop_reason == "budget"


def test_target_stops_early_and_is_recorded(tmp_path):
    camp = _camp(tmp_path, {"target": 0.999})
    camp.run(200)
    values = [o.outcomes["y"] for o in camp.observations()]
    assert 2 < len(values) < 200
    assert max(values[-2:]) >= 0.999 > max(values[:-2])  # stopped after the batch that hit
    assert "target y >= 0.999 reached" in camp.stop_reason
    (note,) = camp.ledger.events(camp.id, kinds=["note"])
    assert note.payload["stopped"] == camp.stop_reason


def test_run_argument_overrides_the_config_rules(tmp_path):
    camp = _camp(tmp_path, {"target": 0.9})
    camp.run(6, stop=StopConfig())
    assert len(camp.observations()) == 6


def test_no_expected_improvement_left_stops_bo(tmp_path):
    # a smooth 1-d function: BO pins the maximum within a few batches and then expects nothing
    camp = _camp(tmp_path, {"min_expected_improvement": 0.01}, proposer="bo")
    camp.run(40)
    n = len(camp.observations())
    assert n < 40 and "min_expected_improvement" in camp.stop_reason
    assert max(o.outcomes["y"] for o in camp.observations()) > 0.99


def test_wall_clock(tmp_path):
    camp = _camp(tmp_path, {"max_minutes": 1e-6})
    camp.run(20)
    assert len(camp.observations()) == 2 and camp.stop_reason.startswith("wall clock")
