"""Constraints: linear inequalities (and their form in encoded coordinates), excluded combinations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scientia.errors import ConfigError, UnknownNameError
from scientia.spaces import (
    Categorical,
    ExcludedCombination,
    Integer,
    LinearInequality,
    ParameterSpace,
    Real,
)
from scientia.spaces.constraints import constraint_from_dict


def test_linear_le_is_satisfied_up_to_the_bound():
    # a + 2b <= 3 holds at and below the bound, not above
    c = LinearInequality({"a": 1, "b": 2}, 3)
    assert c.satisfied({"a": 1, "b": 1}) and c.satisfied({"a": 0, "b": 0})
    assert not c.satisfied({"a": 1.5, "b": 1})


def test_linear_ge_is_satisfied_from_the_bound():
    # a - b >= 0 holds at and above the bound, not below
    c = LinearInequality({"a": 1, "b": -1}, 0, ">=")
    assert c.satisfied({"a": 1, "b": 1}) and c.satisfied({"a": 2, "b": 1})
    assert not c.satisfied({"a": 0, "b": 1})


@pytest.mark.parametrize(
    "kwargs", [{"coefficients": {}, "rhs": 1}, {"coefficients": {"a": 1}, "rhs": 1, "sense": "<"}]
)
def test_linear_rejects_empty_or_bad_sense(kwargs):
    # a constraint needs coefficients and a sense of <= or >=
    with pytest.raises(ConfigError):
        LinearInequality(**kwargs)


def test_linear_describe_reads_like_the_inequality():
    # describe() shows the terms, the sense and the bound
    assert LinearInequality({"a": 1, "b": 2}, 3).describe() == "1·a + 2·b <= 3"


@st.composite
def linear_case(draw):
    """Two or three linear-scale reals/integers, a random constraint, and a point in [0, 1]^d."""
    k = draw(st.integers(1, 3))
    params, coefs = [], {}
    for i in range(k):
        low = draw(st.floats(-50, 50))
        high = low + draw(st.floats(0.1, 100))
        params.append(Real(f"p{i}", low, high))
        coefs[f"p{i}"] = draw(st.floats(-5, 5).filter(lambda c: abs(c) > 1e-3))
    rhs = draw(st.floats(-200, 200))
    sense = draw(st.sampled_from(["<=", ">="]))
    z = np.array(draw(st.lists(st.floats(0, 1), min_size=k, max_size=k)))
    return ParameterSpace(params, [LinearInequality(coefs, rhs, sense)]), z


@given(linear_case())
def test_linear_constraint_in_encoded_space_matches_real_space(case):
    # a point meets the encoded constraint (BoTorch's sum(c·X) >= rhs) exactly when its decoded
    # real values meet the original inequality (up to round-off at the boundary)
    space, z = case
    ((idx, coefs, rhs),) = space.linear_constraints_encoded()
    lhs = float(np.dot(np.asarray(coefs), z[idx]))
    (cand,) = space.decode(z[None, :])
    (con,) = space.constraints
    total = sum(c * cand[p] for p, c in con.coefficients.items())
    margin = total - con.rhs if con.sense == ">=" else con.rhs - total
    assume(abs(margin) > 1e-6 * (1 + abs(con.rhs)) and abs(lhs - rhs) > 1e-9 * (1 + abs(rhs)))
    assert (lhs >= rhs) == (margin >= 0)


def test_linear_constraint_on_integers_is_scaled_by_their_range():
    # for n in [2, 12], n <= 7 becomes -10·z >= -5 in encoded coordinates
    space = ParameterSpace([Integer("n", 2, 12)], [LinearInequality({"n": 1}, 7)])
    assert space.linear_constraints_encoded() == [([0], [-10.0], -5.0)]


def test_linear_constraint_indices_skip_wide_parameters():
    # the encoded index accounts for one-hot columns before the constrained parameter
    space = ParameterSpace(
        [Categorical("c", ("x", "y", "z")), Real("a", 0, 1)], [LinearInequality({"a": 1}, 0.5)]
    )
    ((idx, _, _),) = space.linear_constraints_encoded()
    assert idx == [3]


@pytest.mark.parametrize(
    "param", [Categorical("c", ("x", "y")), Real("r", 0.1, 1.0, log=True)], ids=["categorical", "log-real"]
)
def test_linear_constraint_refuses_non_linear_parameters(param):
    # only linear-scale reals and integers may appear in a linear constraint
    with pytest.raises(ConfigError, match="linear"):
        ParameterSpace([param, Real("a", 0, 1)], [LinearInequality({param.name: 1, "a": 1}, 1)])


def test_constraint_naming_an_unknown_parameter_suggests_one():
    # a typo in a constraint's parameter name gives a did-you-mean
    with pytest.raises(UnknownNameError, match="did you mean 'temperature'"):
        ParameterSpace([Real("temperature", 0, 1)], [LinearInequality({"temprature": 1}, 1)])


def test_excluded_combination_excludes_only_full_matches():
    # the candidate is excluded only when every listed parameter matches
    c = ExcludedCombination({"base": ["NaOH", "KOH"], "solvent": ["THF"]})
    assert not c.satisfied({"base": "NaOH", "solvent": "THF"})
    assert not c.satisfied({"base": "KOH", "solvent": "THF"})
    assert c.satisfied({"base": "NaOH", "solvent": "DMF"})
    assert c.satisfied({"base": "DBU", "solvent": "THF"})


def test_excluded_combination_matches_real_ranges_inclusively():
    # {"low": a, "high": b} matches a real value in [a, b]
    c = ExcludedCombination({"solvent": ["THF"], "t": {"low": 66, "high": 100}})
    assert not c.satisfied({"solvent": "THF", "t": 66})
    assert not c.satisfied({"solvent": "THF", "t": 100})
    assert c.satisfied({"solvent": "THF", "t": 65.9})


def test_excluded_combination_matches_numbers_and_their_text():
    # 2 in the rule matches 2, 2.0 and "2"
    c = ExcludedCombination({"n": [2]})
    assert not c.satisfied({"n": 2}) and not c.satisfied({"n": 2.0}) and not c.satisfied({"n": "2"})


def test_excluded_combination_needs_a_parameter():
    # an empty rule is a config error
    with pytest.raises(ConfigError):
        ExcludedCombination({})


@pytest.mark.parametrize(
    "constraint",
    [
        LinearInequality({"a": 1.5, "b": -2}, 3.0, ">="),
        ExcludedCombination({"base": ["NaOH"], "t": {"low": 1.0, "high": 2.0}}),
    ],
)
def test_constraint_dict_round_trip(constraint):
    # constraint_from_dict(c.to_dict()) rebuilds an identical constraint
    assert constraint_from_dict(constraint.to_dict()).to_dict() == constraint.to_dict()


def test_constraint_from_dict_suggests_the_closest_kind():
    # an unknown constraint kind is a config error with a did-you-mean
    with pytest.raises(ConfigError, match="did you mean 'linear'"):
        constraint_from_dict({"kind": "linaer", "coefficients": {"a": 1}, "rhs": 0})
