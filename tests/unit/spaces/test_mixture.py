"""Linear equalities and mixtures: sampled, validated and proposed on the constraint."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.campaign import Campaign
from scientia.errors import ConfigError, ValidationError

MIX = ["a", "b", "c"]


def _config(proposer="bo", extra=()):
    return {
        "name": "mix",
        "seed": 0,
        "batch_size": 3,
        "space": {
            "kind": "parameters",
            "parameters": [{"name": n, "kind": "real", "low": 0, "high": 1} for n in MIX]
            + [{"name": "t", "kind": "real", "low": 20, "high": 80}],
            "constraints": [{"kind": "mixture", "parameters": MIX}, *extra],
        },
        "objectives": [{"name": "y"}],
        "proposer": {"kind": proposer, "n_initial": 4},
        "evaluator": {"kind": "function", "function": "tests.unit.spaces.test_mixture:blend"},
    }


def blend(p):
    return 2 * p["a"] + p["b"] * p["c"] * 4 - ((p["t"] - 50) / 30) ** 2


def _sums(camp):
    return [sum(o.candidate.params[n] for n in MIX) for o in camp.observations()]


@pytest.mark.parametrize("proposer", ["random", "space-filling", "bo"])
def test_every_proposal_sums_to_one(tmp_path, proposer):
    camp = Campaign.create(_config(proposer), str(tmp_path / "l.sqlite"))
    camp.run(10)
    assert len(camp.observations()) == 10
    assert np.allclose(_sums(camp), 1.0, atol=1e-6)
    xs = np.array([[o.candidate.params[n] for n in MIX] for o in camp.observations()])
    assert xs.min() >= 0 and len({tuple(r) for r in xs.round(6)}) == 10  # distinct, inside the box


def test_bo_with_an_extra_inequality(tmp_path):
    # a <= 0.5 as well: the optimum of 2a moves to the boundary a = 0.5
    extra = [{"kind": "linear", "coefficients": {"a": 1.0}, "rhs": 0.5, "sense": "<="}]
    camp = Campaign.create(_config("bo", extra), str(tmp_path / "l.sqlite"))
    camp.run(16)
    assert np.allclose(_sums(camp), 1.0, atol=1e-6)
    assert max(o.candidate.params["a"] for o in camp.observations()) <= 0.5 + 1e-6
    assert camp.state().best().outcomes["y"] > 1.2  # near a = 0.5, b * c large, t near 50


def test_results_off_the_mixture_are_refused(tmp_path):
    camp = Campaign.create(_config("random"), str(tmp_path / "l.sqlite"))
    with pytest.raises(ValidationError, match="violates constraint"):
        camp.space.candidate({"a": 0.5, "b": 0.4, "c": 0.05, "t": 30})
    assert camp.space.candidate({"a": 0.5, "b": 0.4, "c": 0.1000000001, "t": 30})  # rounding is fine


def test_mixture_needs_reals_and_two_parameters(tmp_path):
    cfg = _config("random")
    cfg["space"]["constraints"] = [{"kind": "mixture", "parameters": ["a"]}]
    with pytest.raises(ConfigError, match="at least two"):
        Campaign.create(cfg, str(tmp_path / "l.sqlite"))
    cfg["space"]["parameters"].append({"name": "k", "kind": "integer", "low": 0, "high": 3})
    cfg["space"]["constraints"] = [{"kind": "mixture", "parameters": ["a", "k"]}]
    with pytest.raises(ConfigError, match="only real parameters"):
        Campaign.create(cfg, str(tmp_path / "l2.sqlite"))
