"""ParameterSpace: candidates, sampling under constraints, encoding, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.spaces import (
    Categorical,
    ExcludedCombination,
    Integer,
    LinearInequality,
    Ordinal,
    ParameterSpace,
    Real,
    space_from_dict,
)
from scientia.types import Candidate

seeds = st.integers(0, 2**32 - 1)


def mixed_space() -> ParameterSpace:
    return ParameterSpace(
        [
            Real("temperature", 20.0, 100.0),
            Real("loading", 0.01, 1.0, log=True),
            Integer("equiv", 1, 4),
            Ordinal("stir", ("slow", "medium", "fast")),
            Categorical("base", ("NaOH", "KOH", "DBU")),
            Categorical("solvent", ("THF", "DMF")),
        ],
        [
            LinearInequality({"temperature": 1, "equiv": 10}, 90),
            LinearInequality({"temperature": 1}, 30, ">="),
            ExcludedCombination({"base": ["NaOH"], "solvent": ["THF"]}),
            ExcludedCombination({"solvent": ["DMF"], "temperature": {"low": 70, "high": 100}}),
        ],
    )


@given(seeds)
def test_sample_respects_every_constraint(seed):
    # every sampled candidate meets all linear and excluded-combination constraints
    space = mixed_space()
    for c in space.sample(40, seed):
        assert all(con.satisfied(c.params) for con in space.constraints)
        assert space.contains(c)


@given(seeds)
def test_sample_never_draws_an_excluded_combination(seed):
    # NaOH in THF, excluded outright, never comes out of sample()
    cands = mixed_space().sample(60, seed)
    assert not any(c["base"] == "NaOH" and c["solvent"] == "THF" for c in cands)


@given(seeds)
def test_sample_is_reproducible(seed):
    # the same seed gives the same candidates; an equal Generator too
    space = mixed_space()
    assert space.sample(10, seed) == space.sample(10, seed)
    assert space.sample(10, np.random.default_rng(seed)) == space.sample(10, np.random.default_rng(seed))


def test_sample_of_unsatisfiable_space_says_so():
    # constraints no point meets give a clear ValidationError instead of looping forever
    space = ParameterSpace([Real("a", 0, 1)], [LinearInequality({"a": 1}, 2, ">=")])
    with pytest.raises(ValidationError, match="satisfiable"):
        space.sample(3, 0)


@given(seeds)
def test_encode_decode_round_trip(seed):
    # decode(encode(c)) gives c back (reals up to round-off)
    space = mixed_space()
    cands = space.sample(15, seed)
    for c, b in zip(cands, space.decode(space.encode(cands)), strict=True):
        assert set(b.params) == set(c.params)
        for k, v in c.params.items():
            assert b[k] == (pytest.approx(v, rel=1e-9) if isinstance(v, float) else v)


@given(seeds)
def test_encode_shape_and_range(seed):
    # encode gives (n, dim) floats within [0, 1]; dim sums the parameter widths
    space = mixed_space()
    X = space.encode(space.sample(7, seed))
    assert X.shape == (7, space.dim) == (7, 1 + 1 + 1 + 1 + 3 + 2)
    assert X.min() >= 0 and X.max() <= 1


def test_encode_of_nothing_is_an_empty_matrix():
    # no candidates encode to shape (0, dim)
    assert mixed_space().encode([]).shape == (0, mixed_space().dim)


@given(st.lists(st.lists(st.floats(-1, 2), min_size=9, max_size=9), min_size=1, max_size=5))
def test_decode_maps_any_row_to_in_range_values(rows):
    # any encoded row, even outside [0, 1], decodes to values each parameter accepts
    space = mixed_space()
    for c in space.decode(np.array(rows)):
        for p in space.parameters:
            p.validate(c[p.name])


def test_slices_partition_the_columns():
    # each parameter owns a contiguous block of columns, in order, covering dim
    space = mixed_space()
    sl = space.slices()
    assert sl["base"] == slice(4, 7) and sl["solvent"] == slice(7, 9)
    assert sum(s.stop - s.start for s in sl.values()) == space.dim


def test_candidate_validates_and_cleans_values():
    # a row from a CSV file (strings) becomes a candidate with typed values
    space = mixed_space()
    c = space.candidate(
        {
            "temperature": "40",
            "loading": "0.1",
            "equiv": "2.0",
            "stir": "fast",
            "base": "KOH",
            "solvent": "DMF",
        }
    )
    assert c.params == {
        "base": "KOH",
        "equiv": 2,
        "loading": 0.1,
        "solvent": "DMF",
        "stir": "fast",
        "temperature": 40,
    }


def test_candidate_with_unknown_parameter_suggests_one():
    # a misspelt parameter name gives a did-you-mean
    space = mixed_space()
    row = {**space.sample(1, 0)[0].params, "temprature": 50}
    with pytest.raises(UnknownNameError, match="did you mean 'temperature'"):
        space.candidate(row)


def test_candidate_missing_a_parameter_names_it():
    # a missing value names the parameter
    row = dict(mixed_space().sample(1, 0)[0].params)
    del row["stir"]
    with pytest.raises(ValidationError, match="'stir'"):
        mixed_space().candidate(row)


def test_candidate_violating_a_constraint_names_it():
    # a row breaking a constraint is refused with the constraint written out
    row = {"temperature": 80, "loading": 0.1, "equiv": 2, "stir": "fast", "base": "KOH", "solvent": "THF"}
    with pytest.raises(ValidationError, match="10·equiv <= 90"):
        mixed_space().candidate(row)


def test_contains_is_false_for_infeasible_or_foreign_candidates():
    # contains() answers False (never raises) for violations, unknown names and bad values
    space = mixed_space()
    ok = space.sample(1, 0)[0]
    assert space.contains(ok)
    assert not space.contains(Candidate({**ok.params, "base": "NaOH", "solvent": "THF"}))
    assert not space.contains(Candidate({**ok.params, "extra": 1}))
    assert not space.contains(Candidate({**ok.params, "equiv": 99}))
    assert not space.contains(Candidate({}))


def test_dict_round_trip_is_json_and_rebuilds_the_space():
    # from_dict(JSON(to_dict())) gives a space with the same dict, encoding and constraints
    space = mixed_space()
    data = json.loads(json.dumps(space.to_dict()))
    rebuilt = space_from_dict(data)
    assert isinstance(rebuilt, ParameterSpace) and rebuilt.to_dict() == space.to_dict()
    cands = space.sample(10, 1)
    np.testing.assert_allclose(rebuilt.encode(cands), space.encode(cands))


@pytest.mark.parametrize(
    ("params", "match"),
    [([], "at least one"), ([Real("a", 0, 1), Integer("a", 0, 3)], "defined twice")],
)
def test_space_rejects_empty_or_duplicate_parameters(params, match):
    # a space needs parameters with distinct names
    with pytest.raises(ConfigError, match=match):
        ParameterSpace(params)


def test_is_continuous_only_with_reals():
    # is_continuous is True only when every parameter is real
    assert ParameterSpace([Real("a", 0, 1), Real("b", 1e-3, 1, log=True)]).is_continuous
    assert not mixed_space().is_continuous
