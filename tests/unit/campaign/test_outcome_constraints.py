"""Outcome constraints (keep yield >= 50 while minimising cost) and learning from failures."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scientia.campaign import Campaign
from scientia.errors import ConfigError


def _table(tmp_path):
    # cost rises with a; yield rises with a and b; the cheapest row with yield >= 50 is known
    rows = ["a,b,cost,yield,fails"]
    for a, b in itertools.product(range(10), range(10)):
        rows.append(f"{a},{b},{10 + 5 * a + b},{6 * a + 4 * b},{int(b >= 8)}")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _config(tmp_path, objectives, proposer="bo", evaluator=None):
    table = _table(tmp_path)
    return {
        "name": "oc",
        "seed": 1,
        "batch_size": 4,
        "space": {"kind": "pool", "table": str(table), "columns": ["a", "b"]},
        "objectives": objectives,
        "proposer": {"kind": proposer, "n_initial": 8},
        "evaluator": evaluator or {"kind": "emulator", "table": str(table)},
    }


CHEAP_AND_GOOD = [
    {"name": "cost", "direction": "min"},
    {"name": "yield", "direction": "max", "threshold": 50, "role": "constraint"},
]


def _cheapest_feasible():
    return min(10 + 5 * a + b for a, b in itertools.product(range(10), range(10)) if 6 * a + 4 * b >= 50)


def test_best_respects_the_outcome_constraint(tmp_path):
    camp = Campaign.create(_config(tmp_path, CHEAP_AND_GOOD, proposer="random"), str(tmp_path / "l.sqlite"))
    camp.run(30)
    best = camp.state().best()
    assert best is not None and best.outcomes["yield"] >= 50
    cheaper = [o for o in camp.observations() if o.outcomes["cost"] < best.outcomes["cost"]]
    assert cheaper and all(o.outcomes["yield"] < 50 for o in cheaper)  # only infeasible ones beat it


def test_bo_finds_the_cheapest_row_that_meets_the_constraint(tmp_path):
    camp = Campaign.create(_config(tmp_path, CHEAP_AND_GOOD), str(tmp_path / "l.sqlite"))
    camp.run(16)
    best = camp.state().best()
    assert best.outcomes["cost"] == _cheapest_feasible()
    assert all(it.proposal.strategy == "bo:qlognei" for it in camp.queue()[8:])  # one objective


def test_constraint_needs_a_threshold_and_an_objective_first(tmp_path):
    bad = [{"name": "cost", "direction": "min"}, {"name": "yield", "role": "constraint"}]
    with pytest.raises(ConfigError, match="needs a threshold"):
        Campaign.create(_config(tmp_path, bad), str(tmp_path / "l.sqlite"))
    first = [CHEAP_AND_GOOD[1], CHEAP_AND_GOOD[0]]
    with pytest.raises(ConfigError, match="must be one to optimise"):
        Campaign.create(_config(tmp_path, first), str(tmp_path / "l2.sqlite"))


def fails_when_b_high(params):
    """A function evaluator whose experiment fails (raises) where b >= 6."""
    if params["b"] >= 6:
        raise RuntimeError("the mixture gelled")
    return {"yield": 6 * params["a"] + 4 * params["b"]}


def _failure_rate(tmp_path, learn):
    ev = {"kind": "function", "function": "tests.unit.campaign.test_outcome_constraints:fails_when_b_high"}
    cfg = _config(tmp_path, [{"name": "yield"}], evaluator=ev)
    cfg["proposer"]["options"] = {"learn_feasibility": learn}
    camp = Campaign.create(cfg, str(tmp_path / f"{learn}.sqlite"))
    camp.run(28)
    obs = camp.observations()
    assert any(o.status == "failed" for o in obs[:8]), "the start should contain a failure to learn from"
    return float(np.mean([o.status == "failed" for o in obs[12:]])), camp


def test_failures_teach_the_planner_where_experiments_fail(tmp_path):
    # the optimum of yield alone is at b = 9, where everything fails: the planner learns to stay below
    learned, camp = _failure_rate(tmp_path, True)
    blind, _ = _failure_rate(tmp_path, False)
    assert learned < 0.2 <= blind, (learned, blind)
    assert camp.state().best().candidate.params["b"] == 5 and camp.state().best().candidate.params["a"] >= 8
