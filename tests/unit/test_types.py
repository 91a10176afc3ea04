"""Candidate, Observation and Prediction: the core value objects."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scientia.errors import ValidationError
from scientia.types import Candidate, Observation, Prediction

names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=8),
)
param_dicts = st.dictionaries(names, values, min_size=1, max_size=6)


@given(param_dicts, st.randoms())
def test_candidate_id_ignores_dict_order(params, random):
    # the content hash does not depend on the order the parameters were given in
    items = list(params.items())
    random.shuffle(items)
    assert Candidate(dict(items)).id == Candidate(params).id


@given(st.integers(-(2**52), 2**52))
def test_candidate_int_and_integral_float_are_one_experiment(n):
    # 3 and 3.0 (and numpy's 3.0) give equal candidates with one id
    a, b, c = Candidate({"x": n}), Candidate({"x": float(n)}), Candidate({"x": np.float64(n)})
    assert a.id == b.id == c.id
    assert a == b == c


def test_candidate_numpy_scalars_hash_like_python_values():
    # numpy scalars are stored as plain Python values, so the id matches
    a = Candidate({"x": np.float64(0.25), "n": np.int64(4), "s": np.str_("THF")})
    b = Candidate({"x": 0.25, "n": 4, "s": "THF"})
    assert a.id == b.id
    assert type(a.params["n"]) is int and type(a.params["x"]) is float


@given(param_dicts, param_dicts)
def test_candidate_ids_differ_when_params_differ(p, q):
    # different parameter values give different ids
    a, b = Candidate(p), Candidate(q)
    assert (a.id == b.id) == (a.params == b.params)


@given(param_dicts)
def test_candidate_is_hashable_consistently_with_equality(params):
    # equal candidates hash equal, so a set keeps one of them
    a, b = Candidate(params), Candidate(dict(reversed(list(params.items()))))
    assert a == b
    assert len({a, b}) == 1


@given(param_dicts)
def test_candidate_survives_a_json_round_trip(params):
    # to_dict → JSON → from_dict gives the same candidate with the same id
    c = Candidate(params)
    back = Candidate.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c and back.id == c.id


def test_candidate_getitem_reads_a_parameter():
    # candidate["name"] is the parameter value
    assert Candidate({"x": 2, "s": "a"})["s"] == "a"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_observation_ok_rejects_non_finite_outcome(bad):
    # an ok observation must carry finite outcomes, and the error says to mark it failed
    with pytest.raises(ValidationError, match="failed"):
        Observation(Candidate({"x": 1}), {"y": bad})


@pytest.mark.parametrize("outcomes", [{}, {"y": math.nan}])
def test_observation_failed_may_carry_no_value(outcomes):
    # a failed experiment is data: no or NaN outcomes are allowed
    obs = Observation(Candidate({"x": 1}), outcomes, status="failed")
    assert obs.status == "failed"


def test_observation_censored_may_carry_a_bound():
    # censored observations are not held to finite values
    assert Observation(Candidate({"x": 1}), {"y": math.inf}, status="censored").outcomes["y"] == math.inf


def test_observation_rejects_unknown_status():
    # only ok / failed / censored are valid statuses; ValidationError is also a ValueError
    with pytest.raises(ValueError, match="status"):
        Observation(Candidate({"x": 1}), {"y": 1.0}, status="done")  # type: ignore[arg-type]


def test_observation_outcomes_become_floats():
    # integer and numpy outcomes are stored as Python floats
    obs = Observation(Candidate({"x": 1}), {"y": 3, "z": np.float32(0.5)})
    assert obs.outcomes == {"y": 3.0, "z": 0.5}
    assert all(type(v) is float for v in obs.outcomes.values())


@pytest.mark.parametrize("status", ["ok", "failed"])
def test_observation_survives_a_json_round_trip(status):
    # to_dict → JSON → from_dict keeps candidate, outcomes, status, metadata and proposal id
    outcomes = {"y": 1.5} if status == "ok" else {"y": math.nan}
    obs = Observation(Candidate({"x": 1}), outcomes, {"y": 0.1}, status, {"who": "me"}, "r0001.2")
    back = Observation.from_dict(json.loads(json.dumps(obs.to_dict())))
    assert back.candidate_id == obs.candidate_id
    assert back.status == status and back.metadata == {"who": "me"} and back.proposal_id == "r0001.2"
    assert back.noise == {"y": 0.1}
    np.testing.assert_equal(back.outcomes["y"], outcomes["y"])


def test_prediction_promotes_vectors_to_columns():
    # 1-D mean and std become shape (n, 1)
    p = Prediction(np.arange(3.0), np.ones(3))
    assert p.mean.shape == p.std.shape == (3, 1)
    assert len(p) == 3


def test_prediction_rejects_mismatched_shapes():
    # mean and std must have one shape
    with pytest.raises(ValidationError, match="shape"):
        Prediction(np.zeros((3, 1)), np.ones((3, 2)))


def test_prediction_rejects_negative_std():
    # std must be non-negative
    with pytest.raises(ValidationError, match="non-negative"):
        Prediction(np.zeros(2), np.array([1.0, -0.1]))


arrays = st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(0, 1e3)), min_size=1, max_size=10).map(
    lambda rows: (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))
)


@given(arrays)
def test_prediction_median_is_the_mean(ms):
    # the 0.5 quantile of a Gaussian is its mean
    mean, std = ms
    np.testing.assert_allclose(Prediction(mean, std).quantile(0.5)[:, 0], mean, atol=1e-9)


@given(arrays, st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_prediction_quantile_is_monotone_in_q(ms, q1, q2):
    # a higher q never gives a lower quantile
    p = Prediction(*ms)
    lo, hi = sorted((q1, q2))
    assert np.all(p.quantile(lo) <= p.quantile(hi) + 1e-9)


@given(arrays, st.floats(0.05, 0.95))
def test_prediction_interval_is_central_and_contains_the_mean(ms, level):
    # interval(level) is (quantile(a), quantile(1 - a)) with a = (1 - level) / 2, around the mean
    p = Prediction(*ms)
    lo, hi = p.interval(level)
    a = (1 - level) / 2
    np.testing.assert_allclose(lo, p.quantile(a))
    np.testing.assert_allclose(hi, p.quantile(1 - a))
    assert np.all(lo <= p.mean + 1e-9) and np.all(p.mean <= hi + 1e-9)
    np.testing.assert_allclose(p.mean - lo, hi - p.mean, atol=1e-6)


@given(arrays, st.floats(0.05, 0.5), st.floats(0.5, 0.95))
def test_prediction_interval_widens_with_level(ms, small, large):
    # a higher level gives an interval at least as wide
    p = Prediction(*ms)
    lo_s, hi_s = p.interval(small)
    lo_l, hi_l = p.interval(large)
    assert np.all(hi_l - lo_l >= hi_s - lo_s - 1e-9)


def test_prediction_90_interval_is_1645_std_wide_each_side():
    # the 90 % interval of N(0, 2²) is ±1.645·2
    lo, hi = Prediction(np.zeros(1), np.full(1, 2.0)).interval(0.9)
    assert hi[0, 0] == pytest.approx(1.6448536 * 2, rel=1e-6) and lo[0, 0] == pytest.approx(-hi[0, 0])


@given(st.integers(0, 2**32 - 1))
def test_prediction_interval_covers_gaussian_draws_at_its_level(seed):
    # about 90 % of draws from N(mean, std²) fall in the 90 % interval (±1 % for 40,000 draws)
    gen = np.random.default_rng(seed)
    mean, std = gen.normal(size=40_000), gen.uniform(0.1, 3.0, 40_000)
    lo, hi = Prediction(mean, std).interval(0.9)
    y = gen.normal(mean, std)
    coverage = np.mean((lo[:, 0] <= y) & (y <= hi[:, 0]))
    assert abs(coverage - 0.9) < 0.01


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5])
def test_prediction_interval_level_must_lie_in_0_1(level):
    # a level outside (0, 1) is refused
    with pytest.raises(ValidationError, match="level"):
        Prediction(np.zeros(1), np.ones(1)).interval(level)


def test_prediction_rejects_non_finite_values_and_bad_quantiles():
    # NaN in a prediction, or a quantile outside (0, 1), is a clear error
    import numpy as np
    import pytest

    from scientia.errors import ValidationError
    from scientia.types import Prediction

    with pytest.raises(ValidationError, match="finite"):
        Prediction(np.zeros(2), np.array([1.0, np.nan]))
    with pytest.raises(ValidationError, match="quantile"):
        Prediction(np.zeros(2), np.ones(2)).quantile(1.5)
