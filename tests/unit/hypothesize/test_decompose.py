"""Separability found with a neural surrogate (AI Feynman's test) and searched part by part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from scientia.hypothesize.symbolic import EquationSearch, is_symbolic_solution
from scientia.hypothesize.symbolic.decompose import (
    Split,
    Surrogate,
    combine,
    find_split,
    fit_surrogates,
    part_data,
)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).uniform(1, 3, size=(1500, 3))


@pytest.mark.parametrize(
    ("f", "kind", "left"),
    [
        (lambda X: np.sin(X[:, 0]) + X[:, 1] * X[:, 2], "add", (0,)),
        (lambda X: X[:, 1] ** 2 * np.exp(-X[:, 0] * X[:, 2]), "mul", (1,)),
    ],
)
def test_a_separable_law_is_split_where_it_separates(X, f, kind, left):
    split = find_split(fit_surrogates(X, f(X), seed=0), X, seed=0)
    assert split is not None and split.kind == kind and split.left == left
    assert split.right == tuple(c for c in range(3) if c not in left)


def test_a_law_that_does_not_separate_is_not_split(X):
    y = np.sin(X[:, 0] * X[:, 1] + X[:, 2])  # every pair interacts
    assert find_split(fit_surrogates(X, y, seed=0), X, seed=0) is None


def test_parts_combine_back_into_the_law(X):
    # with exact parts, combine() reproduces f: g + h - f(median) and g * h / f(median)
    f = lambda Z: -(Z[:, 0] ** 2) * np.exp(Z[:, 1] - Z[:, 2])  # noqa: E731
    exact = Surrogate("mul", lambda Z: np.log(np.abs(f(Z))), -1.0, 0.0)
    split = Split("mul", (0,), (1, 2), 0.0, exact)
    (XL, yL), (XR, yR), anchor = part_data(split, X)
    x0, x1 = sp.symbols("x0 x1")
    med = np.median(X, axis=0)
    g = -(x0**2) * sp.exp(med[1] - med[2])
    h = -(med[0] ** 2) * sp.exp(x0 - x1)
    np.testing.assert_allclose(sp.lambdify([x0], g)(XL[:, 0]), yL, rtol=1e-9)
    np.testing.assert_allclose(sp.lambdify([x0, x1], h)(XR[:, 0], XR[:, 1]), yR, rtol=1e-9)
    whole = combine(split, g, h, anchor, list(sp.symbols("x0 x1 x2")))
    np.testing.assert_allclose(sp.lambdify(sp.symbols("x0 x1 x2"), whole)(*X.T), f(X), rtol=1e-9)


def test_decompose_recovers_a_sum_from_its_parts():
    # y = a*b + exp(c): the split {a, b} | {c} holds, each part is easy, the sum is found exactly
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(1, 2, size=(1000, 3)), columns=["a", "b", "c"])
    y = pd.Series(X.a * X.b + np.exp(X.c), name="y")
    est = EquationSearch(engine="gp", time_limit=8, seed=0, decompose=True).fit(X, y)
    assert est.split_ is not None and est.split_.kind == "add"
    assert {est.split_.left, est.split_.right} == {(0, 1), (2,)}
    assert is_symbolic_solution(est.best_.sympy, sp.sympify("a*b + exp(c)"))
