"""Known noise, replicates and a noisy emulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scientia.campaign import Campaign
from scientia.errors import ValidationError
from scientia.evaluators import EmulatorEvaluator
from scientia.models.gp import GPSurrogate
from scientia.types import Candidate, Observation


def test_noise_must_be_a_standard_deviation():
    c = Candidate({"x": 1.0})
    with pytest.raises(ValidationError, match="noise of 'y'"):
        Observation(c, {"y": 1.0}, noise={"y": -1.0})
    with pytest.raises(ValidationError, match="noise of 'y'"):
        Observation(c, {"y": 1.0}, noise={"y": float("nan")})
    assert Observation(c, {"y": 1.0}, noise={"y": 0.5}).noise == {"y": 0.5}


def test_known_noise_is_used_instead_of_learned():
    rng = np.random.default_rng(0)
    X = rng.random((30, 1))
    Y = np.sin(6 * X) + 0.3 * rng.standard_normal((30, 1))
    quiet = GPSurrogate().fit(X, Y, seed=0, noise=np.full((30, 1), 1e-6))
    loud = GPSurrogate().fit(X, Y, seed=0, noise=np.full((30, 1), 1.0))
    Xt = np.linspace(0, 1, 50)[:, None]
    # believing the data exact makes the model follow it (latent std near zero at the data)
    assert quiet.predict(X).std.mean() < 0.05 < loud.predict(X).std.mean()
    assert loud.predict(Xt, observation_noise=True).std.min() >= 0.99  # a new measurement's noise


def test_replicates_shrink_the_uncertainty_where_they_are():
    X = np.array([[0.1], [0.1], [0.1], [0.1], [0.9], [0.5]])
    Y = np.array([[1.0], [1.2], [0.8], [1.1], [0.0], [0.4]])
    m = GPSurrogate().fit(X, Y, seed=0)
    sd = m.predict(np.array([[0.1], [0.9]])).std[:, 0]
    assert sd[0] < sd[1]


def test_campaign_passes_known_noise_to_the_gp(tmp_path):
    cfg = {
        "name": "n",
        "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
        "objectives": [{"name": "y"}],
        "proposer": {"kind": "bo", "n_initial": 4},
    }
    camp = Campaign.create(cfg, str(tmp_path / "l.sqlite"))
    camp.observe(
        [
            Observation(Candidate({"x": x}), {"y": float(np.sin(6 * x))}, noise={"y": 0.01})
            for x in (0.1, 0.4, 0.6, 0.9, 0.3)
        ]
    )
    state = camp.state()
    assert np.allclose(state.training_noise(), 1e-4)
    camp.suggest(1)
    (fit,) = camp.ledger.events(camp.id, kinds=["model_fitted"])
    assert fit.payload["noise"][0] == pytest.approx(
        1e-4 / np.var([np.sin(6 * x) for x in (0.1, 0.4, 0.6, 0.9, 0.3)], ddof=1), rel=0.5
    )
    camp.observe([Observation(Candidate({"x": 0.5}), {"y": 0.1})])  # no noise given: learned again
    assert camp.state().training_noise() is None


def test_noisy_emulator_is_reproducible_and_keeps_the_true_value():
    table = pd.DataFrame({"a": ["p", "q", "r"], "y": [10.0, 20.0, 30.0]})
    c = Candidate({"a": "q"})
    one = EmulatorEvaluator(table, ["a"], ["y"], noise=2.5, seed=7).evaluate([c])[0]
    two = EmulatorEvaluator(table, ["a"], ["y"], noise=2.5, seed=7).evaluate([c])[0]
    other = EmulatorEvaluator(table, ["a"], ["y"], noise=2.5, seed=8).evaluate([c])[0]
    assert one.outcomes == two.outcomes != other.outcomes
    assert one.metadata["true"] == {"y": 20.0} and one.outcomes["y"] != 20.0
    draws = [
        EmulatorEvaluator(table, ["a"], ["y"], noise=2.5, seed=s).evaluate([c])[0].outcomes["y"] - 20
        for s in range(400)
    ]
    assert abs(np.mean(draws)) < 0.4 and 2.2 < np.std(draws) < 2.8
