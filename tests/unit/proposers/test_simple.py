"""Model-free proposers: uniform random and space-filling designs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scientia.proposers.simple import RandomProposer, SpaceFillingProposer
from scientia.spaces import Categorical, LinearInequality, ParameterSpace, PoolSpace, Real
from scientia.testing.fakes import make_state

seeds = st.integers(0, 2**32 - 1)


def grid_pool() -> PoolSpace:
    rows = [{"x": float(i), "y": float(j)} for i in range(6) for j in range(6)]
    return PoolSpace([Real("x", 0, 5), Real("y", 0, 5)], rows)


def constrained() -> ParameterSpace:
    return ParameterSpace(
        [Real("a", 0, 1), Real("b", 0, 1), Categorical("c", ("u", "v"))],
        [LinearInequality({"a": 1, "b": 1}, 0.5)],
    )


@settings(max_examples=25)
@given(seeds)
def test_random_never_proposes_taken_candidates(seed):
    # random proposals on a pool avoid observed, failed, pending and excluded rows
    state = make_state(grid_pool(), seed=seed)
    props = RandomProposer().propose(state, 10, seed=seed)
    assert len(props) == 10 and not {p.candidate.id for p in props} & state.taken_ids()


@settings(max_examples=25)
@given(seeds)
def test_space_filling_respects_constraints(seed):
    # Sobol (or the rejection fallback) only yields feasible candidates
    state = make_state(constrained(), seed=seed)
    props = SpaceFillingProposer().propose(state, 6, seed=seed)
    assert len(props) == 6
    assert all(p.candidate["a"] + p.candidate["b"] <= 0.5 + 1e-9 for p in props)


@settings(max_examples=25)
@given(seeds)
def test_space_filling_pool_picks_the_row_farthest_from_what_is_known(seed):
    # the first pick on a pool maximises the distance to the nearest observed or pending row
    space = grid_pool()
    state = make_state(space, n_observed=4, n_failed=0, n_pending=1, n_excluded=0, seed=seed)
    (first,) = SpaceFillingProposer().propose(state, 1, seed=seed)
    known = space.encode([o.candidate for o in state.observations] + list(state.pending))
    _, X = state.available_pool()

    def gap(x):
        return np.min(((known - x) ** 2).sum(1))

    best = max(gap(x) for x in X)
    assert gap(space.encode([first.candidate])[0]) >= best - 1e-12


def test_space_filling_pool_spreads_a_cold_start_batch():
    # with nothing known, a batch of 4 on a 6×6 grid is spread out (no two rows adjacent)
    state = make_state(grid_pool(), n_observed=0, n_failed=0, n_pending=0, n_excluded=0)
    props = SpaceFillingProposer().propose(state, 4, seed=0)
    pts = np.array([[p.candidate["x"], p.candidate["y"]] for p in props])
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) + np.eye(4) * 99
    assert d.min() > 1.5
