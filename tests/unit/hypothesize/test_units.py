"""Units: the parser, dimensional consistency and Buckingham π."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from scientia.hypothesize.symbolic.units import (
    DimensionError,
    buckingham_pi,
    expression_dims,
    is_consistent,
    parse_units,
)

m1, m2, r, G = sp.symbols("m1 m2 r G")
DIMS = {
    m1: parse_units("kg"),
    m2: parse_units("kg"),
    r: parse_units("m"),
    G: parse_units("m^3/(kg*s^2)"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m/s^2", [1, 0, -2]),
        ("kg*m^2*s^-2", [2, 1, -2]),
        ("m^2 * s^(-2) * kg^1", [2, 1, -2]),
        ("N", [1, 1, -2]),
        ("J/s", [2, 1, -3]),
        ("km/h", [1, 0, -1]),
        ("kg m / s", [1, 1, -1]),
        ("1/s", [0, 0, -1]),
        ("dimensionless", [0, 0, 0]),
        ("m^(1/2)", [0.5, 0, 0]),
    ],
)
def test_parse_units(text, expected):
    # unit strings become exponents over m, kg, s (then A, K, mol, cd)
    assert parse_units(text)[:3].tolist() == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["furlong", "m^", "m/(s", "m ** x"])
def test_parse_units_rejects_nonsense(bad):
    # an unknown unit or a broken expression is a DimensionError (a ValueError)
    with pytest.raises(DimensionError):
        parse_units(bad)


def test_consistent_law_accepted():
    # G m1 m2 / r^2 has the dimension of a force
    assert is_consistent(G * m1 * m2 / r**2, DIMS, parse_units("N"))


def test_inconsistent_expression_rejected():
    # adding a mass to a length, or exp of a length, is not dimensionally consistent
    assert not is_consistent(m1 + r, DIMS)
    assert not is_consistent(sp.exp(r), DIMS)
    assert not is_consistent(m2 * (m1 + r), DIMS)
    with pytest.raises(DimensionError):
        expression_dims(m1 - r**2, DIMS)


def test_wrong_target_dimension_rejected():
    # a consistent expression of the wrong dimension fails against the target, unless a
    # fitted constant (a Float) can carry the missing units
    assert not is_consistent(m1 * m2 / r**2, DIMS, parse_units("N"))
    assert is_consistent(sp.Float(6.7) * m1 * m2 / r**2, DIMS, parse_units("N"))


def test_buckingham_pi_gravity():
    # F = G m1 m2 / r^2: one group (m1/m2) and the prefactor G m1^2 / r^2
    D = np.stack([DIMS[s] for s in (G, m1, m2, r)])
    pi = buckingham_pi(D, parse_units("N"), ["G", "m1", "m2", "r"])
    assert pi.n_groups == 1
    assert pi.describe() == ["pi1 = m1/m2"]
    syms = [G, m1, m2, r]
    assert sp.simplify(pi.scale_expr(syms) - G * m1**2 / r**2) == 0
    # the groups are dimensionless and the prefactor has the target's dimension
    for group in pi.group_exprs(syms):
        assert np.allclose(expression_dims(group, DIMS), 0)
    assert np.allclose(expression_dims(pi.scale_expr(syms), DIMS), parse_units("N"))


def test_buckingham_pi_values():
    # transform and scale_values evaluate the groups and the prefactor on data
    D = np.stack([parse_units(u) for u in ("m", "s", "m")])
    pi = buckingham_pi(D, parse_units("m/s"), ["a", "t", "b"])
    X = np.array([[2.0, 4.0, 6.0]])
    assert pi.n_groups == 1
    assert pi.transform(X)[0, 0] in (pytest.approx(3.0), pytest.approx(1 / 3))
    assert pi.scale_values(X)[0] == pytest.approx(0.5)


def test_buckingham_pi_missing_constant():
    # a target whose units no product of the inputs can form is a clear error
    D = np.stack([parse_units(u) for u in ("kg", "kg", "m")])
    with pytest.raises(ValueError, match="cannot be formed"):
        buckingham_pi(D, parse_units("N"), ["m1", "m2", "r"])


def test_a_law_with_no_dimensionless_group_is_found_as_a_constant_times_the_prefactor():
    # F = q1*q2/(4*pi*eps*r^2) in units where the inputs leave no dimensionless group
    import pandas as pd

    from scientia.hypothesize.symbolic import EquationSearch

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"q": rng.uniform(1, 5, 200), "v": rng.uniform(1, 5, 200), "r": rng.uniform(1, 5, 200)})
    y = pd.Series(X.q * X.v / (4 * np.pi * X.r), name="B")
    units = {"q": "C", "v": "m/s", "r": "m", "B": "C/s"}
    est = EquationSearch(engine="gp", time_limit=3, seed=0, dimensionless=True).fit(X, y, units=units)
    assert est.pi_groups_.n_groups == 0
    assert est.best_.r2 > 0.999999
