"""Bayesian optimisation proposer: valid, new, constraint-respecting proposals on every kind of space."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scientia.campaign.state import CampaignState, Objective
from scientia.errors import ConfigError
from scientia.models.gp import GPSurrogate
from scientia.proposers.bo import BOProposer
from scientia.spaces import (
    Categorical,
    ExcludedCombination,
    Integer,
    LinearInequality,
    Ordinal,
    ParameterSpace,
    PoolSpace,
    Real,
)
from scientia.testing.fakes import QuadraticEvaluator, make_state
from scientia.types import Candidate, Observation

seeds = st.integers(0, 2**32 - 1)
FAST = {"num_restarts": 2, "raw_samples": 64, "mc_samples": 32, "n_candidates": 512}


def bo(**kwargs) -> BOProposer:
    return BOProposer(**{**FAST, **kwargs})


def constrained_2d() -> ParameterSpace:
    return ParameterSpace(
        [Real("a", 0.0, 1.0), Real("b", -1.0, 2.0)], [LinearInequality({"a": 1, "b": 2}, 1.0)]
    )


def mixed() -> ParameterSpace:
    return ParameterSpace([Categorical("solvent", ("THF", "DMF", "MeCN")), Real("t", 20.0, 100.0)])


def small_pool() -> PoolSpace:
    rows = [
        {"base": b, "solvent": s, "t": t}
        for b in ("NaOH", "KOH", "DBU")
        for s in ("THF", "DMF")
        for t in (20, 60, 100)
    ]
    return PoolSpace(
        [
            Categorical("base", ("NaOH", "KOH", "DBU")),
            Categorical("solvent", ("THF", "DMF")),
            Real("t", 20, 100),
        ],
        rows,
    )


def assert_valid_and_new(proposals, state, n):
    taken = state.taken_ids()
    assert len(proposals) == n
    assert len({p.candidate.id for p in proposals}) == n
    for p in proposals:
        assert state.space.contains(p.candidate), p.candidate.params
        assert p.candidate.id not in taken, p.candidate.params


@settings(max_examples=2)
@given(seeds)
def test_continuous_proposals_respect_the_linear_constraint(seed):
    # on a 2-D continuous space BO proposals meet a + 2b <= 1 and are new
    state = make_state(constrained_2d(), seed=seed)
    proposals = bo().propose(state, 3, seed=seed)
    assert_valid_and_new(proposals, state, 3)
    assert all(p.candidate["a"] + 2 * p.candidate["b"] <= 1.0 + 1e-6 for p in proposals)
    assert all(p.strategy == "bo:qlognei" for p in proposals)


@settings(max_examples=2)
@given(seeds)
def test_mixed_space_proposals_are_valid(seed):
    # with a categorical and a real parameter, proposals hold one of the choices and an in-range real
    state = make_state(mixed(), seed=seed)
    proposals = bo().propose(state, 3, seed=seed)
    assert_valid_and_new(proposals, state, 3)
    assert {p.candidate["solvent"] for p in proposals} <= {"THF", "DMF", "MeCN"}


@settings(max_examples=3)
@given(seeds)
def test_pool_proposals_never_repeat_observed_pending_or_excluded_rows(seed):
    # on an 18-row pool with 12 rows taken (8 ok, 1 failed, 2 pending, 1 excluded), BO picks
    # only among the 6 others
    state = make_state(small_pool(), seed=seed)
    proposals = bo().propose(state, 4, seed=seed)
    assert_valid_and_new(proposals, state, 4)


def test_pool_with_fewer_rows_left_than_asked_returns_what_is_left():
    # when only 2 rows are free BO proposes those 2, never a taken one
    space = small_pool()
    ev = QuadraticEvaluator(space)
    state = CampaignState(space, (Objective("y"),), tuple(ev.evaluate(space.pool[:16])))
    proposals = bo().propose(state, 5, seed=0)
    assert {p.candidate.id for p in proposals} == {c.id for c in space.pool[16:]}


def test_excluded_combinations_are_never_proposed_on_a_discrete_grid():
    # all-discrete space: BO scores the grid without the excluded combination
    space = ParameterSpace(
        [Categorical("base", ("NaOH", "KOH", "DBU")), Ordinal("eq", (1, 2, 3)), Integer("n", 0, 3)],
        [ExcludedCombination({"base": ["NaOH", "KOH"], "eq": [3]})],
    )
    state = make_state(space, seed=4)
    proposals = bo().propose(state, 6, seed=4)
    assert_valid_and_new(proposals, state, 6)
    assert not any(p.candidate["base"] in ("NaOH", "KOH") and p.candidate["eq"] == 3 for p in proposals)


def test_pending_points_change_the_proposal():
    # a pending experiment next to BO's first choice changes the batch and keeps it away from there
    space = constrained_2d()
    state = make_state(space, n_pending=0, n_excluded=0, seed=5)
    before = bo().propose(state, 3, seed=5)
    first = before[0].candidate
    near = Candidate({"a": first["a"], "b": first["b"] - 1e-4})
    after = bo().propose(dataclasses.replace(state, pending=(near,)), 3, seed=5)
    assert [p.candidate.id for p in after] != [p.candidate.id for p in before]
    gap = np.sqrt(((space.encode([p.candidate for p in after]) - space.encode([near])) ** 2).sum(1))
    assert gap.min() > 1e-3


@pytest.mark.parametrize(
    "surrogate",
    [
        "gp",
        "forest",
    ],
)
def test_no_near_duplicate_of_a_pending_experiment(surrogate):
    # BO does not propose (a point within 1e-3 of) an experiment that is already pending
    space = ParameterSpace([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)])
    state = make_state(space, n_pending=0, n_excluded=0, seed=0)
    first = bo(surrogate=surrogate).propose(state, 3, seed=0)[0].candidate
    near = Candidate({"a": min(first["a"] + 1e-7, 1.0), "b": first["b"]})
    again = bo(surrogate=surrogate).propose(dataclasses.replace(state, pending=(near,)), 3, seed=0)
    gap = np.sqrt(((space.encode([p.candidate for p in again]) - space.encode([near])) ** 2).sum(1))
    assert gap.min() > 1e-3


@pytest.mark.parametrize("space_fn", [constrained_2d, small_pool], ids=["continuous", "pool"])
def test_forest_surrogate_path_proposes_valid_new_candidates(space_fn):
    # with the forest (not a BoTorch model) BO uses analytic log-EI and still proposes valid, new points
    state = make_state(space_fn(), seed=6)
    proposer = bo(surrogate="forest", surrogate_options={"n_estimators": 50})
    proposals = proposer.propose(state, 3, seed=6)
    assert_valid_and_new(proposals, state, 3)
    assert all(p.strategy == "bo:qlognei-analytic" for p in proposals)
    assert all(p.mean is not None and p.std["y"] > 0 for p in proposals)
    assert proposer.last_fit_["kind"] == "forest"


def test_proposals_carry_prediction_acquisition_and_reason():
    # each BO proposal has a predicted mean and std, an acquisition value and a reason
    state = make_state(small_pool(), seed=7)
    proposer = bo()
    for p in proposer.propose(state, 2, seed=7):
        assert set(p.mean) == set(p.std) == {"y"} and p.std["y"] >= 0
        assert np.isfinite(p.acquisition) and "8 observations" in p.reason and "2 pending" in p.reason
    assert proposer.last_fit_ is not None


def test_minimised_objective_predictions_are_in_outcome_units():
    # for direction="min" the reported predicted mean is in the outcome's units, not negated
    space = ParameterSpace([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)])
    cands = space.sample(10, 0)
    obs = tuple(Observation(c, {"cost": 10 + (c["a"] - 0.3) ** 2 + (c["b"] - 0.6) ** 2}) for c in cands)
    state = CampaignState(space, (Objective("cost", "min"),), obs)
    for p in bo().propose(state, 3, seed=0):
        assert 9.0 < p.mean["cost"] < 12.0


@pytest.mark.parametrize("acquisition", ["qlogei", "qucb"])
def test_other_acquisitions_propose_valid_new_rows(acquisition):
    # qLogEI and qUCB also give valid, new proposals named after themselves
    state = make_state(small_pool(), seed=8)
    proposals = bo(acquisition=acquisition).propose(state, 3, seed=8)
    assert_valid_and_new(proposals, state, 3)
    assert all(p.strategy == f"bo:{acquisition}" for p in proposals)


def test_few_observations_give_a_space_filling_design():
    # below n_initial ok observations BO proposes a space-filling design instead of fitting
    state = make_state(small_pool(), n_observed=2, seed=9)
    proposals = bo(n_initial=5).propose(state, 3, seed=9)
    assert_valid_and_new(proposals, state, 3)
    assert all(p.strategy == "space-filling" for p in proposals)


def test_same_seed_gives_same_proposals():
    # two proposers with one seed propose the same batch
    state = make_state(mixed(), seed=10)
    assert [p.candidate.id for p in bo().propose(state, 3, seed=1)] == [
        p.candidate.id for p in bo().propose(state, 3, seed=1)
    ]


def test_unknown_acquisition_is_a_config_error():
    # a misspelt acquisition is refused when the proposer is made
    with pytest.raises(ConfigError, match="qlognei"):
        BOProposer(acquisition="qlogne")


def test_several_objectives_get_a_prediction_each():
    # two objectives: qLogNEHVI, and each proposal predicts both outcomes
    space = small_pool()
    obs = tuple(
        Observation(c, {"y": float(i), "z": float(-i) + 0.5 * (i % 2)}) for i, c in enumerate(space.pool[:6])
    )
    state = CampaignState(space, (Objective("y"), Objective("z", "min")), obs)
    props = bo().propose(state, 2, seed=0)
    assert len(props) == 2 and all(p.strategy == "bo:qlognehvi" for p in props)
    assert all(set(p.mean) == {"y", "z"} and set(p.std) == {"y", "z"} for p in props)


class _RngPreservingGP(GPSurrogate):
    """A GP whose fit restores torch's global RNG, so only the proposer's own use shows."""

    def fit(self, X, Y, seed=None):
        import torch

        saved = torch.get_rng_state()
        try:
            return super().fit(X, Y, seed)
        finally:
            torch.set_rng_state(saved)


def test_propose_leaves_torch_global_rng_alone():
    # proposing with a BoTorch model does not reseed torch's global generator
    import torch

    state = make_state(small_pool(), seed=11)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    bo(surrogate=_RngPreservingGP()).propose(state, 2, seed=0)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.slow
@pytest.mark.timeout(20)
def test_mixed_space_with_linear_constraint_proposes_within_seconds():
    # one batch of 3 on a 4-parameter mixed space with a linear constraint takes under 20 s
    space = ParameterSpace(
        [Real("t", 20, 100), Real("h", 1, 24), Integer("l", 1, 5), Categorical("s", ("A", "B", "C"))],
        [LinearInequality({"t": 1, "h": 2}, 100)],
    )
    state = make_state(space)
    assert_valid_and_new(bo().propose(state, 3, seed=0), state, 3)


def test_exhausted_discrete_space_gives_no_proposals():
    # when every point of a small all-discrete space is taken, BO proposes nothing (no crash)
    space = ParameterSpace([Integer("n", 1, 5)])
    obs = tuple(Observation(Candidate({"n": n}), {"y": float(n % 3)}) for n in range(1, 6))
    state = CampaignState(space, (Objective("y"),), obs)
    assert bo(n_initial=2).propose(state, 2, seed=0) == []
