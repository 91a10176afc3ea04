"""Transfer: a campaign learns from related earlier campaigns through a multi-task GP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scientia.campaign import Campaign
from scientia.errors import ConfigError, UnknownNameError
from scientia.types import Candidate, Observation


def _f(x, shift):
    return float(np.exp(-((x - 0.7 - shift) ** 2) / 0.02))


def _config(name, transfer=()):
    return {
        "name": name,
        "seed": 0,
        "batch_size": 1,
        "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
        "objectives": [{"name": "y"}],
        "proposer": {"kind": "bo", "n_initial": 2},
        "transfer": list(transfer),
    }


def test_a_related_campaign_makes_the_model_better_where_the_target_has_no_data(tmp_path):
    ledger = str(tmp_path / "l.sqlite")
    src = Campaign.create(_config("earlier"), ledger)
    xs = np.linspace(0, 1, 25)
    src.observe([Observation(Candidate({"x": float(x)}), {"y": _f(x, 0.02)}) for x in xs])
    plain = Campaign.create(_config("plain"), ledger)
    helped = Campaign.create(_config("helped", [{"campaign": "earlier"}]), ledger)
    start = [Observation(Candidate({"x": x}), {"y": _f(x, 0.0)}) for x in (0.1, 0.3)]
    for c in (plain, helped):
        c.observe(start)
    # two points far from the peak: only the transferred model knows where the peak is
    p_plain, p_helped = plain.suggest(1)[0], helped.suggest(1)[0]
    assert abs(p_helped.candidate["x"] - 0.7) < 0.08
    assert abs(p_plain.candidate["x"] - 0.7) > abs(p_helped.candidate["x"] - 0.7)
    (fit,) = helped.ledger.events(helped.id, kinds=["model_fitted"])
    assert fit.payload["transfer"] == {"earlier": 25}


def test_table_source_rows_outside_the_space_are_skipped(tmp_path):
    table = tmp_path / "old.csv"
    pd.DataFrame({"x": [0.2, 0.5, 1.5], "y": [0.1, 0.2, 0.3], "note": ["a", "b", "c"]}).to_csv(
        table, index=False
    )
    camp = Campaign.create(
        _config("t", [{"table": str(table), "name": "bench 2024"}]), str(tmp_path / "l.sqlite")
    )
    ((name, rows),) = camp.state().sources
    assert name == "bench 2024" and [o.candidate["x"] for o in rows] == [0.2, 0.5]


def test_bad_sources_are_refused_before_anything_is_written(tmp_path):
    ledger = str(tmp_path / "l.sqlite")
    with pytest.raises(UnknownNameError, match="unknown campaign 'nope'"):
        Campaign.create(_config("a", [{"campaign": "nope"}]), ledger)
    with pytest.raises(ConfigError, match="no table file"):
        Campaign.create(_config("b", [{"table": str(tmp_path / "missing.csv")}]), ledger)
    with pytest.raises(ConfigError, match="exactly one of campaign"):
        Campaign.create(_config("c", [{}]), ledger)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"z": [1.0], "y": [2.0]}).to_csv(bad, index=False)
    camp = Campaign.create(_config("d", [{"table": str(bad)}]), ledger)
    with pytest.raises(ConfigError, match="has no column 'x'"):
        camp.state()


def test_the_fit_logs_a_higher_task_correlation_for_a_related_source_than_an_unrelated_one(tmp_path):
    ledger = str(tmp_path / "l.sqlite")
    xs = np.linspace(0, 1, 20)
    rng = np.random.default_rng(0)
    related = Campaign.create(_config("related"), ledger)
    related.observe([Observation(Candidate({"x": float(x)}), {"y": _f(x, 0.0)}) for x in xs])
    noise = Campaign.create(_config("noise"), ledger)
    noise.observe([Observation(Candidate({"x": float(x)}), {"y": float(rng.normal())}) for x in xs])
    camp = Campaign.create(_config("t", [{"campaign": "related"}, {"campaign": "noise"}]), ledger)
    camp.observe([Observation(Candidate({"x": x}), {"y": _f(x, 0.0)}) for x in np.linspace(0, 1, 8)])
    camp.suggest(1)
    (fit,) = camp.ledger.events(camp.id, kinds=["model_fitted"])
    corr = fit.payload["task_correlation"]
    assert corr["related"] > 0.8 and corr["related"] > corr["noise"] + 0.3


def test_options_a_multitask_fit_cannot_honour_are_refused_when_the_campaign_is_created(tmp_path):
    for options in ({"kernel": "matern"}, {"warp": "yeo-johnson"}):
        cfg = _config("t", [{"table": "old.csv"}]) | {"surrogate": {"kind": "gp", "options": options}}
        with pytest.raises(ConfigError, match="RBF kernel"):
            Campaign.create(cfg, str(tmp_path / "l.sqlite"))
