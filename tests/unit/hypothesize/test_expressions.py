"""Expressions: complexity, evaluation, constant fitting and snapping, Pareto front."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from scientia.hypothesize.symbolic.expressions import (
    check_operators,
    compile_expr,
    complexity,
    fit_constants,
    fold_constants,
    snap_constants,
    symbols_for,
)
from scientia.hypothesize.symbolic.front import pareto, select_best
from scientia.hypothesize.symbolic.operon_engine import operon_to_sympy

x0, x1 = symbols_for(2)


def test_complexity_counts_binary_tree_nodes():
    # x0*x1**2 is *, x0, **, x1, 2; sqrt(x0) is 2 nodes; x0 - x1 is 3
    assert complexity(x0 * x1**2) == 5
    assert complexity(sp.sqrt(x0)) == 2
    assert complexity(x0 - x1) == 3
    assert complexity(x0 / x1) == 3


def test_compile_matches_lambdify():
    # the closure compiler agrees with SymPy's lambdify
    X = np.random.default_rng(0).uniform(0.5, 2, size=(50, 2))
    expr = sp.Float(1.5) * sp.exp(-(x0**2) / 2) / sp.sqrt(x1) + sp.cos(x0 * x1) ** 2
    ref = sp.lambdify([x0, x1], expr)(X[:, 0], X[:, 1])
    assert np.allclose(compile_expr(expr, 2)(X, ()), ref)


def test_fit_constants_lm_and_bfgs():
    # LM and BFGS recover the constants of a + b*exp(c*x0) from a rough start
    X = np.random.default_rng(0).uniform(0, 2, size=(200, 1))
    y = 1.0 + 2.0 * np.exp(-0.7 * X[:, 0])
    start = sp.Float(0.5) + sp.Float(1.0) * sp.exp(sp.Float(-0.3) * x0)
    for method in ("lm", "bfgs"):
        _, loss = fit_constants(start, X, y, method=method, max_nfev=500)
        assert loss < 1e-8, method


def test_snap_and_fold():
    # 2.4999999999*x0 becomes 5*x0/2; a sub-expression constant on the data becomes a number
    X = np.random.default_rng(0).uniform(1, 2, size=(100, 2))
    y = 2.5 * X[:, 0]
    expr, _ = snap_constants(sp.Float(2.4999999999) * x0, X, y, 1e-18)
    assert expr == sp.Rational(5, 2) * x0
    folded = fold_constants(x0 + sp.sin((2 * x1 + 4) / (x1 + 2)), X)
    assert folded.free_symbols == {x0}


def test_pareto_is_sorted_and_non_dominated():
    # along the front complexity increases and loss strictly decreases
    pts = [(5, 1.0), (3, 2.0), (7, 1.5), (5, 0.5), (9, 0.1), (3, 3.0)]
    idx = pareto(pts)
    assert [pts[i] for i in idx] == [(3, 2.0), (5, 0.5), (9, 0.1)]


def test_select_best_prefers_the_knee():
    # the biggest drop of log-loss per unit of complexity among near-best losses
    assert select_best([3, 5, 9, 15], [1.0, 1e-12, 1e-13, 1e-14], floor=1e-12) == 1


def test_operators_are_validated():
    # aliases are accepted; an unknown operator suggests the closest name
    assert check_operators(["+", "*", "ln"]) == ("add", "mul", "log")
    with pytest.raises(KeyError, match="did you mean 'sqrt'"):
        check_operators(["add", "sqr"])


def test_operon_infix_parsed():
    # Operon's infix format (with ^ for powers) becomes SymPy
    expr = operon_to_sympy("((-0.5) + (2.0 * (sqrt(x0) ^ 2)))", 1)
    assert sp.simplify(expr - (2.0 * x0 - 0.5)) == 0
    assert operon_to_sympy("(nan * x0)", 1) is None


def test_an_expression_with_an_infinity_is_refused_with_a_value_error_and_not_fitted():
    # simplification can leave zoo behind (c/0); it must be skipped, not crash the search
    from scientia.hypothesize.symbolic.expressions import compile_expr, fit_constants

    x0 = sp.Symbol("x0")
    with pytest.raises(ValueError, match="not finite"):
        compile_expr(x0 + sp.zoo * x0**2, 1)
    _, loss = fit_constants(sp.Float(2.0) * x0 + sp.zoo, np.ones((5, 1)), np.ones(5))
    assert math.isnan(loss)


def test_refine_merges_redundant_constants_into_the_exact_law():
    # AI Feynman I.18.4 as the engine returned it: three constants whose ratio is 1; refining
    # pulls out the common factors and snaps what is left, giving (m1 r1 + m2 r2) / (m1 + m2)
    from scientia.hypothesize.symbolic.front import refine
    from scientia.hypothesize.symbolic.solution import is_symbolic_solution

    m1, m2, r1, r2 = symbols_for(4)
    found = (
        0.110580961686148
        * m1
        * (0.683391538604256 * r1 - 0.683391538604256 * r2)
        / (0.0755700935470347 * m1 + 0.0755700935470347 * m2)
        + r2
    )
    X = np.random.default_rng(0).uniform(1, 5, (500, 4))
    y = (X[:, 0] * X[:, 2] + X[:, 1] * X[:, 3]) / (X[:, 0] + X[:, 1])
    expr, loss = refine(found, X, y)
    assert not expr.atoms(sp.Float) and loss < 1e-20
    assert is_symbolic_solution(expr, (m1 * r1 + m2 * r2) / (m1 + m2))
