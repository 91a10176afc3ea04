"""A model fitted to a measured table answers experiments anywhere in a continuous space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scientia.campaign import Campaign
from scientia.errors import ConfigError
from scientia.evaluators import ModelEmulator
from scientia.spaces.parameters import Real
from scientia.spaces.space import ParameterSpace
from scientia.types import Candidate


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x, z = rng.random(n), rng.random(n)
    return pd.DataFrame({"x": x, "z": z, "y": np.sin(4 * x) + z**2 + 0.01 * rng.standard_normal(n)})


SPACE = ParameterSpace([Real("x", 0, 1), Real("z", 0, 1)])


@pytest.mark.parametrize("model", ["gp", "forest"])
def test_cross_validated_error_is_reported_and_predictions_are_close(model):
    em = ModelEmulator(_table(), SPACE, ["y"], model=model)
    cv = em.cv_["y"]
    assert cv["n"] == 120 and cv["r2"] > 0.8 and cv["rmse"] < 0.3
    (obs,) = em.evaluate([Candidate({"x": 0.4, "z": 0.5})])
    assert abs(obs.outcomes["y"] - (np.sin(1.6) + 0.25)) < 3 * cv["rmse"] + 0.05


def test_gp_beats_forest_on_a_smooth_table_and_noise_is_seeded():
    gp, forest = ModelEmulator(_table(), SPACE, ["y"]), ModelEmulator(_table(), SPACE, ["y"], model="forest")
    assert gp.cv_["y"]["rmse"] < forest.cv_["y"]["rmse"]
    c = Candidate({"x": 0.2, "z": 0.9})
    a = ModelEmulator(_table(), SPACE, ["y"], noise=True, seed=1).evaluate([c])[0]
    b = ModelEmulator(_table(), SPACE, ["y"], noise=True, seed=1).evaluate([c])[0]
    assert a.outcomes == b.outcomes and a.outcomes["y"] != a.metadata["true"]["y"]


def test_bad_tables_are_refused():
    with pytest.raises(ConfigError, match="no column 'z'"):
        ModelEmulator(_table().drop(columns="z"), SPACE, ["y"])
    with pytest.raises(ConfigError, match="at least 10"):
        ModelEmulator(_table(5), SPACE, ["y"])


def test_campaign_records_the_emulator_error(tmp_path):
    table = tmp_path / "t.csv"
    _table().to_csv(table, index=False)
    cfg = {
        "name": "em",
        "space": {
            "kind": "parameters",
            "parameters": [{"name": n, "kind": "real", "low": 0, "high": 1} for n in "xz"],
        },
        "objectives": [{"name": "y"}],
        "proposer": {"kind": "random"},
        "evaluator": {"kind": "model", "table": str(table)},
    }
    camp = Campaign.create(cfg, str(tmp_path / "l.sqlite"))
    (note,) = camp.ledger.events(camp.id, kinds=["note"])
    assert note.payload["evaluator"]["cv"]["y"]["r2"] > 0.8
    camp.run(6)
    assert len(camp.observations()) == 6 and all(o.status == "ok" for o in camp.observations())
