"""CampaignState: the snapshot a proposer sees."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scientia.campaign.state import CampaignState, Objective
from scientia.spaces import ParameterSpace, PoolSpace, Real
from scientia.types import Candidate, Observation

SPACE = ParameterSpace([Real("x", 0.0, 10.0)])


def obs(x, y=None, status="ok"):
    return Observation(Candidate({"x": x}), {} if y is None else {"y": y}, status=status)


def test_ok_keeps_only_usable_observations():
    # failed observations and ones missing an objective are not training data
    state = CampaignState(
        SPACE,
        (Objective("y"),),
        (obs(1, 2.0), obs(2, status="failed"), Observation(Candidate({"x": 3}), {"z": 1.0})),
    )
    assert [o.candidate["x"] for o in state.ok] == [1]


def test_training_data_is_sign_adjusted_so_bigger_is_better():
    # a minimised objective is negated; X is the encoded candidates
    state = CampaignState(SPACE, (Objective("y", "min"),), (obs(0, 2.0), obs(10, -1.0)))
    X, Y = state.training_data()
    np.testing.assert_allclose(X, [[0.0], [1.0]])
    np.testing.assert_allclose(Y, [[-2.0], [1.0]])


def test_taken_ids_cover_observed_pending_and_excluded():
    # observed (any status), pending and excluded candidates are all taken
    pending, excluded = Candidate({"x": 5}), Candidate({"x": 6})
    state = CampaignState(
        SPACE, (Objective("y"),), (obs(1, 1.0), obs(2, status="failed")), (pending,), frozenset({excluded.id})
    )
    assert state.taken_ids() == {Candidate({"x": 1}).id, Candidate({"x": 2}).id, pending.id, excluded.id}


@pytest.mark.parametrize(("direction", "best_x"), [("max", 2), ("min", 1)])
def test_best_follows_the_direction(direction, best_x):
    # best() is the largest value for max and the smallest for min, ignoring failures
    state = CampaignState(
        SPACE, (Objective("y", direction),), (obs(1, 1.0), obs(2, 3.0), obs(3, status="failed"))
    )
    assert state.best().candidate["x"] == best_x


def test_best_so_far_is_nan_until_the_first_ok_observation():
    # the running best starts as NaN, skips failures and never gets worse
    state = CampaignState(
        SPACE, (Objective("y"),), (obs(1, status="failed"), obs(2, 1.0), obs(3, 0.5), obs(4, 2.0))
    )
    out = state.best_so_far()
    assert math.isnan(out[0]) and out[1:] == [1.0, 1.0, 2.0]


def test_available_pool_lists_untaken_rows_and_their_encoding():
    # available_pool() returns the free row indices and their encoded rows
    pool = PoolSpace([Real("x", 0.0, 10.0)], [{"x": float(v)} for v in range(5)])
    state = CampaignState(pool, (Objective("y"),), (obs(0, 1.0),), (pool.pool[3],))
    idx, X = state.available_pool()
    assert idx == [1, 2, 4]
    np.testing.assert_allclose(X[:, 0], [0.1, 0.2, 0.4])
