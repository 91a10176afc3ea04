"""Parameters: validation, sampling, and the encoding to [0, 1] columns and back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scientia.errors import ConfigError, ValidationError
from scientia.spaces.parameters import (
    Categorical,
    Integer,
    Ordinal,
    Real,
    compress_descriptors,
    parameter_from_dict,
)

seeds = st.integers(0, 2**32 - 1)
finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def real_and_value(draw, log=False):
    if log:
        low = draw(st.floats(1e-6, 1e3))
        high = low * draw(st.floats(1.001, 1e6))
    else:
        low = draw(finite)
        high = low + draw(st.floats(1e-3, 1e6))
    value = draw(st.floats(low, high))
    return Real("x", low, high, log=log), value


# -- Real ------------------------------------------------------------------------------------
@given(real_and_value())
def test_real_round_trip_is_close(pv):
    # decode(encode(v)) returns v up to float round-off
    p, v = pv
    (back,) = p.decode(p.encode([v]))
    assert back == pytest.approx(v, rel=1e-9, abs=1e-9 * (p.high - p.low))


@given(real_and_value(log=True))
def test_log_real_round_trip_is_close(pv):
    # the log-scale encoding also round-trips
    p, v = pv
    (back,) = p.decode(p.encode([v]))
    assert back == pytest.approx(v, rel=1e-9)


@given(real_and_value(), real_and_value(log=True))
def test_real_encoding_lies_in_unit_interval(linear, log):
    # every valid value encodes into [0, 1]
    for p, v in (linear, log):
        z = p.encode([v])
        assert z.shape == (1, 1) and -1e-12 <= z[0, 0] <= 1 + 1e-12


def test_log_real_puts_the_geometric_mean_in_the_middle():
    # on a log scale sqrt(low·high) encodes to 0.5 and the ends to 0 and 1
    p = Real("rate", 1e-3, 10.0, log=True)
    np.testing.assert_allclose(p.encode([1e-3, 0.1, 10.0])[:, 0], [0.0, 0.5, 1.0], atol=1e-12)


@given(seeds)
def test_log_real_samples_are_log_uniform(seed):
    # half the log-scale samples fall below the geometric mean (±5 % for 4,000 draws)
    p = Real("rate", 1e-4, 1.0, log=True)
    draws = np.array(p.sample(np.random.default_rng(seed), 4000))
    assert np.all((draws >= 1e-4) & (draws <= 1.0))
    assert abs(np.mean(draws < 1e-2) - 0.5) < 0.05


@given(seeds)
def test_real_samples_lie_in_bounds(seed):
    # samples are floats within [low, high]
    draws = Real("t", -5.0, 3.0).sample(np.random.default_rng(seed), 50)
    assert all(isinstance(v, float) and -5.0 <= v <= 3.0 for v in draws)


def test_real_decode_clips_to_bounds():
    # encoded values outside [0, 1] decode to the nearest bound
    assert Real("t", 0.0, 10.0).decode(np.array([[-0.5], [1.5]])) == [0.0, 10.0]


@pytest.mark.parametrize("bad", [11.0, -0.1, math.nan, "warm", None])
def test_real_validate_rejects_values_outside_or_not_numbers(bad):
    # out-of-range values and non-numbers are refused with the parameter's name
    with pytest.raises(ValidationError, match="'t'"):
        Real("t", 0.0, 10.0).validate(bad)


def test_real_validate_accepts_numeric_strings():
    # "2.5" (e.g. from a CSV file) is read as 2.5
    assert Real("t", 0.0, 10.0).validate("2.5") == 2.5


@pytest.mark.parametrize(
    ("low", "high", "log"),
    [(1.0, 1.0, False), (2.0, 1.0, False), (0.0, 1.0, True), (-1.0, 1.0, True), (0.0, math.inf, False)],
)
def test_real_rejects_bad_ranges(low, high, log):
    # empty or infinite ranges, and non-positive log ranges, are config errors
    with pytest.raises(ConfigError):
        Real("t", low, high, log=log)


# -- Integer ---------------------------------------------------------------------------------
@given(st.integers(-1000, 1000), st.integers(1, 1000), st.data())
def test_integer_round_trip_is_exact(low, span, data):
    # every integer in range survives encode → decode exactly
    p = Integer("n", low, low + span)
    v = data.draw(st.integers(low, low + span))
    assert p.decode(p.encode([v])) == [v]


def test_integer_decode_rounds_to_nearest():
    # encoded values between levels decode to the nearest integer
    p = Integer("n", 0, 4)
    assert p.decode(np.array([[0.1], [0.13], [0.6]])) == [0, 1, 2]


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (3.0, 3), ("4", 4), (np.int64(2), 2)])
def test_integer_validate_accepts_integral_values(value, expected):
    # integral floats, numeric strings and numpy ints are read as Python ints
    out = Integer("n", 0, 5).validate(value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("bad", [3.5, 7, -1, "x"])
def test_integer_validate_rejects_fractions_and_out_of_range(bad):
    # fractions, out-of-range and non-numbers are refused
    with pytest.raises(ValidationError, match="'n'"):
        Integer("n", 0, 5).validate(bad)


def test_integer_accepts_integral_float_bounds_as_ints():
    # Integer("n", 1.0, 6.0) behaves like Integer("n", 1, 6)
    p = Integer("n", 1.0, 6.0)
    assert type(p.low) is int and type(p.high) is int
    assert p.to_dict() == Integer("n", 1, 6).to_dict()


@pytest.mark.parametrize(("low", "high"), [(0, 0), (3, 1), (0.5, 3)])
def test_integer_rejects_bad_ranges(low, high):
    # an integer range needs integral low < high
    with pytest.raises(ConfigError):
        Integer("n", low, high)


@given(seeds)
def test_integer_samples_cover_both_ends(seed):
    # samples are ints in [low, high], both ends included (500 draws over 3 levels)
    draws = Integer("n", 1, 3).sample(np.random.default_rng(seed), 500)
    assert set(draws) == {1, 2, 3}


# -- Ordinal ---------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [(1, 2, 5), (0.5, 1.0, 2.0, 4.0), ("low", "mid", "high")])
def test_ordinal_encodes_by_evenly_spaced_rank(values):
    # ranks 0 … k-1 map to 0 … 1 in even steps, and decode back to the values
    p = Ordinal("o", values)
    z = p.encode(list(values))[:, 0]
    np.testing.assert_allclose(z, np.linspace(0, 1, len(values)))
    assert p.decode(z[:, None]) == list(values)


def test_ordinal_with_integral_float_values_encodes_candidate_values():
    # a candidate stores 1 for the value 1.0; it still encodes (this used to raise KeyError)
    p = Ordinal("dose", (0.5, 1.0, 2.0))
    np.testing.assert_allclose(p.encode([1, 2, 0.5])[:, 0], [0.5, 1.0, 0.0])


def test_ordinal_validate_matches_strings_to_numbers():
    # "2" (from a CSV file) is the value 2
    assert Ordinal("o", (1, 2, 3)).validate("2") == 2


def test_ordinal_validate_suggests_the_closest_label():
    # an unknown label is refused with a did-you-mean
    with pytest.raises(ValidationError, match="did you mean 'high'"):
        Ordinal("o", ("low", "mid", "high")).validate("hihg")


@pytest.mark.parametrize("values", [(1,), (1, 1, 2)])
def test_ordinal_needs_two_distinct_values(values):
    # fewer than two or repeated values are config errors
    with pytest.raises(ConfigError):
        Ordinal("o", values)


# -- Categorical -----------------------------------------------------------------------------
def test_categorical_onehot_encoding():
    # without descriptors each choice is a unit vector
    p = Categorical("base", ("NaOH", "KOH", "DBU"))
    assert p.width == 3
    np.testing.assert_array_equal(p.encode(["KOH", "NaOH"]), [[0, 1, 0], [1, 0, 0]])


@given(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=12, unique=True), st.data())
def test_categorical_onehot_round_trip(choices, data):
    # every choice decodes back to itself
    p = Categorical("c", tuple(choices))
    picked = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=20))
    assert p.decode(p.encode(picked)) == picked


def test_categorical_validate_suggests_the_closest_choice():
    # a misspelt choice is refused with a did-you-mean
    with pytest.raises(ValidationError, match="did you mean 'NaOH'"):
        Categorical("base", ("NaOH", "KOH")).validate("NaHO")


TABLE = {
    "L1": [1.0, 2.0, 0.0, 7.0],
    "L2": [2.0, 0.0, 1.0, 7.0],
    "L3": [0.0, 5.0, 1.0, 7.0],
    "L4": [3.0, 3.0, 3.0, 7.0],
    "L5": [1.0, 1.0, 4.0, 7.0],
}


@given(st.lists(st.sampled_from(sorted(TABLE)), min_size=1, max_size=20))
def test_categorical_descriptor_table_round_trip(picked):
    # with a user descriptor table every choice decodes back to itself
    p = Categorical("ligand", tuple(TABLE), descriptors=TABLE)
    assert p.decode(p.encode(picked)) == picked


def test_categorical_descriptor_table_is_compressed_into_unit_columns():
    # the table is compressed to at most min(k - 1, max_components) columns spanning [0, 1]
    p = Categorical("ligand", tuple(TABLE), descriptors=TABLE, encoding="descriptors", max_components=2)
    t = p.table()
    assert t.shape == (5, 2) and p.width == 2
    np.testing.assert_allclose(t.min(0), 0.0)
    np.testing.assert_allclose(t.max(0), 1.0)


def test_categorical_onehot_encoding_ignores_descriptors():
    # encoding="onehot" uses unit vectors even with a descriptor table
    p = Categorical("ligand", tuple(TABLE), descriptors=TABLE, encoding="onehot")
    assert p.width == 5 and not p.uses_descriptors


def test_categorical_descriptor_table_must_cover_every_choice():
    # a choice without a descriptor row is a config error naming it
    with pytest.raises(ConfigError, match="'L9'"):
        Categorical("ligand", ("L1", "L9"), descriptors={"L1": [1.0]})


def test_categorical_descriptor_encoding_needs_descriptors():
    # encoding="descriptors" without a table or featurizer is a config error
    with pytest.raises(ConfigError, match="descriptors"):
        Categorical("ligand", ("a", "b"), encoding="descriptors")


@pytest.mark.parametrize("choices", [(), ("a", "a")])
def test_categorical_needs_distinct_choices(choices):
    # empty or repeated choices are config errors
    with pytest.raises(ConfigError):
        Categorical("c", choices)


SOLVENTS = ("CCO", "CCCO", "CC#N", "ClCCl", "O", "c1ccccc1", "CC(C)=O")


def test_categorical_rdkit_descriptors_from_smiles_round_trip():
    # descriptors="rdkit" featurizes the SMILES; every solvent has its own code and decodes back
    pytest.importorskip("rdkit")
    p = Categorical("solvent", SOLVENTS, descriptors="rdkit", encoding="descriptors")
    t = p.table()
    assert 1 <= p.width <= min(len(SOLVENTS) - 1, p.max_components)
    assert np.all(np.isfinite(t)) and t.min() >= 0 and t.max() <= 1
    assert len({tuple(np.round(row, 9)) for row in t}) == len(SOLVENTS)
    assert p.decode(p.encode(list(SOLVENTS))) == list(SOLVENTS)


def test_categorical_rdkit_descriptors_reject_bad_smiles():
    # a choice that is not SMILES gives a ValidationError suggesting a descriptor table
    pytest.importorskip("rdkit")
    with pytest.raises(ValidationError, match="descriptor table"):
        Categorical("solvent", ("CCO", "not a molecule"), descriptors="rdkit").table()


# -- serialisation and helpers -----------------------------------------------------------------
@pytest.mark.parametrize(
    "param",
    [
        Real("t", 0.0, 10.0),
        Real("r", 1e-3, 1.0, log=True),
        Integer("n", -2, 9),
        Ordinal("o", (0.5, 1, "x")),
        Categorical("c", ("a", "b")),
        Categorical("d", tuple(TABLE), descriptors=TABLE, max_components=3),
        Categorical("s", ("CCO", "O"), descriptors="rdkit", encoding="onehot"),
    ],
    ids=lambda p: f"{p.kind}-{p.name}",
)
def test_parameter_dict_round_trip(param):
    # parameter_from_dict(p.to_dict()) rebuilds an identical parameter
    assert parameter_from_dict(param.to_dict()).to_dict() == param.to_dict()


def test_parameter_from_dict_suggests_the_closest_kind():
    # an unknown kind is a config error with a did-you-mean
    with pytest.raises(ConfigError, match="did you mean 'real'"):
        parameter_from_dict({"name": "x", "kind": "reel", "low": 0, "high": 1})


def test_compress_descriptors_drops_constant_and_nan_columns():
    # constant and NaN columns carry no information and do not break the compression
    raw = np.array([[1.0, 5.0, np.nan, 0.0], [2.0, 5.0, 1.0, 1.0], [4.0, 5.0, 2.0, 0.0]])
    out = compress_descriptors(raw, max_components=8)
    assert out.shape[0] == 3 and np.all(np.isfinite(out))
    assert len({tuple(r) for r in np.round(out, 9)}) == 3


@given(st.integers(2, 12), st.integers(1, 30), st.integers(1, 8), seeds)
def test_compress_descriptors_shape_and_range(k, p, max_components, seed):
    # output has k rows, at most min(k - 1, max_components) columns, each within [0, 1]
    raw = np.random.default_rng(seed).normal(size=(k, p))
    out = compress_descriptors(raw, max_components)
    assert out.shape[0] == k and 1 <= out.shape[1] <= max(1, min(k - 1, max_components))
    assert out.min() >= -1e-12 and out.max() <= 1 + 1e-12


def test_compress_descriptors_of_one_choice_is_one_zero():
    # a single choice has nothing to tell apart
    np.testing.assert_array_equal(compress_descriptors(np.ones((1, 4)), 3), [[0.0]])


@given(st.lists(finite, min_size=2, max_size=2, unique=True))
def test_real_validate_returns_float_in_range(bounds):
    # validate returns the value as a float when it is within the range
    low, high = sorted(bounds)
    assume(high - low > 1e-9)
    mid = (low + high) / 2
    assert Real("x", low, high).validate(mid) == mid


def test_auto_encoding_is_descriptors_and_onehot_side_by_side():
    # auto: the compressed descriptors, then one column per choice; one-hot without descriptors
    both = Categorical("ligand", tuple(TABLE), descriptors=TABLE, max_components=2)
    alone = Categorical("ligand", tuple(TABLE), descriptors=TABLE, encoding="descriptors", max_components=2)
    assert both.width == alone.width + len(TABLE)
    assert np.array_equal(both.table()[:, alone.width :], np.eye(len(TABLE)))
    assert Categorical("c", ("x", "y")).width == 2
