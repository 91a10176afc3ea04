"""The SRBench symbolic-solution check and R²."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from scientia.hypothesize.symbolic import is_symbolic_solution, r2_score

x, y, theta = sp.symbols("x y theta")
TRUTH = sp.exp(-(theta**2) / 2) / sp.sqrt(2 * sp.pi)


def test_accepts_multiplicative_constant():
    # c * f is a solution of f
    assert is_symbolic_solution(3.7 * x * y**2, x * y**2)
    assert is_symbolic_solution(0.398942 * sp.exp(-(theta**2) / 2), TRUTH)


def test_accepts_additive_constant():
    # f + c is a solution of f
    assert is_symbolic_solution(x * y**2 + 0.25, x * y**2)
    assert is_symbolic_solution(sp.sin(x) ** 2 - 1, -(sp.cos(x) ** 2))


def test_rejects_different_function():
    # a different function is not, even when it is numerically close
    assert not is_symbolic_solution(x * y**3, x * y**2)
    assert not is_symbolic_solution(x * y**2 + 1e-3 * x, x * y**2)
    assert not is_symbolic_solution(sp.Integer(0) * x, x * y)


def test_accepts_strings_and_matches_symbols_by_name():
    # strings and symbols with assumptions are compared by name
    assert is_symbolic_solution("2*a*b", sp.Symbol("a", positive=True) * sp.Symbol("b"))


def test_r2():
    # R² is 1 for a perfect fit, 0 for the mean, -inf for non-finite predictions
    y_true = np.array([1.0, 2.0, 3.0])
    assert r2_score(y_true, y_true) == 1.0
    assert r2_score(y_true, np.full(3, 2.0)) == pytest.approx(0.0)
    assert r2_score(y_true, np.array([1.0, np.nan, 3.0])) == -np.inf
