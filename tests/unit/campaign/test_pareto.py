"""Several objectives: Pareto fronts, hypervolumes and qLogNEHVI proposals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scientia.campaign import Campaign
from scientia.campaign.pareto import hypervolume, pareto_mask
from scientia.errors import ConfigError


def test_pareto_mask_against_brute_force():
    rng = np.random.default_rng(0)
    Y = rng.random((60, 3))
    Y[5] = Y[4]  # a duplicate on the front stays with its twin
    mask = pareto_mask(Y)
    for i in range(len(Y)):
        dominated = any((Y[j] >= Y[i]).all() and (Y[j] > Y[i]).any() for j in range(len(Y)))
        assert mask[i] == (not dominated)


def test_hypervolume_of_known_boxes():
    assert hypervolume(np.array([[1.0, 1.0]]), np.array([0.0, 0.0])) == pytest.approx(1.0)
    # two overlapping boxes: 2*1 + 1*2 - 1*1
    assert hypervolume(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([0.0, 0.0])) == pytest.approx(3.0)
    assert hypervolume(np.array([[-1.0, 5.0]]), np.array([0.0, 0.0])) == 0.0  # below the reference


def _pool_config(tmp_path, objectives, surrogate="gp"):
    rows = ["a,b,f,g"]
    for a, b in itertools.product(range(8), range(8)):
        f, g = a / 7, (a / 7) ** 2 + 0.3 * b / 7  # g is best at b = 0; f and g trade off along a
        rows.append(f"{a},{b},{f},{g}")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    return {
        "name": "mo",
        "seed": 0,
        "batch_size": 4,
        "space": {"kind": "pool", "table": str(tmp_path / "t.csv"), "columns": ["a", "b"]},
        "objectives": objectives,
        "surrogate": {"kind": surrogate},
        "proposer": {"kind": "bo", "n_initial": 6},
        "evaluator": {"kind": "emulator", "table": str(tmp_path / "t.csv")},
    }


def test_qlognehvi_finds_the_front_faster_than_chance(tmp_path):
    objs = [{"name": "f", "direction": "max"}, {"name": "g", "direction": "min", "threshold": 1.5}]
    camp = Campaign.create(_pool_config(tmp_path, objs), str(tmp_path / "l.sqlite"))
    camp.run(22)
    strategies = {it.proposal.strategy for it in camp.queue()}
    assert "bo:qlognehvi" in strategies
    assert all(
        it.proposal.std and set(it.proposal.std) == {"f", "g"}
        for it in camp.queue()
        if "bo" in it.proposal.strategy
    )
    # the true front is the 8 rows with b = 0; 22 of 64 at random would find 22/64 of them (~2.75)
    on_front = [o for o in camp.observations() if o.candidate.params["b"] == 0]
    assert len(on_front) == 8
    assert {o.candidate.id for o in camp.pareto()} == {o.candidate.id for o in on_front}
    last = max(i for i, o in enumerate(camp.observations()) if o.candidate.params["b"] == 0)
    assert last < 16, last  # the whole front within 8 start + 8 proposed experiments


def test_several_objectives_need_a_botorch_surrogate(tmp_path):
    objs = [{"name": "f"}, {"name": "g", "direction": "min"}]
    camp = Campaign.create(_pool_config(tmp_path, objs, surrogate="forest"), str(tmp_path / "l.sqlite"))
    camp.run(6)  # the space-filling start needs no model
    with pytest.raises(
        ConfigError, match="several objectives or outcome constraints need a BoTorch surrogate"
    ):
        camp.suggest()


def test_pareto_mask_agrees_with_the_pairwise_definition_including_ties_and_nan():
    # the front-only comparison gives exactly "no other row is >= everywhere and > somewhere"
    from scientia.campaign.pareto import pareto_mask

    rng = np.random.default_rng(0)
    for t in range(200):
        Y = rng.integers(0, 4, size=(int(rng.integers(1, 50)), int(rng.integers(1, 4)))).astype(float)
        if t % 3 == 0:
            Y[rng.random(Y.shape) < 0.1] = np.nan
        geq = (Y[:, None, :] >= Y[None, :, :]).all(-1)
        gt = (Y[:, None, :] > Y[None, :, :]).any(-1)
        np.testing.assert_array_equal(pareto_mask(Y), ~(geq & gt).any(0))
