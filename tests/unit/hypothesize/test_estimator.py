"""EquationSearch: recovery of simple laws with both engines, the front, exports, units, errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from sklearn.base import clone

from scientia.errors import ConfigError, ValidationError
from scientia.hypothesize.symbolic import EquationSearch, SearchProgress, engines, is_symbolic_solution

ENGINES = [
    "gp",
    pytest.param(
        "operon",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("pyoperon") is None, reason="pyoperon not installed"
        ),
    ),
]
x0, x1 = sp.symbols("x0 x1")


@pytest.fixture(scope="module")
def fitted(power_law) -> EquationSearch:
    X, y = power_law
    return EquationSearch(engine="gp", time_limit=4, seed=0).fit(X, y)


@pytest.mark.parametrize("engine", ENGINES)
def test_recovers_power_law(engine, power_law):
    # y = 2.5 x0 x1^2 is found within a few CPU seconds
    X, y = power_law
    model = EquationSearch(engine=engine, time_limit=4, seed=1).fit(X, y)
    assert is_symbolic_solution(model.best_.sympy, x0 * x1**2), model.equations_
    assert model.best_.r2 > 0.999999


@pytest.mark.parametrize("engine", ENGINES)
def test_recovers_gravity_with_units(engine, gravity):
    # F = G m1 m2 / r^2 with units: found, and every equation of the front is consistent
    from scientia.hypothesize.symbolic.units import is_consistent, parse_units

    df, F, units = gravity
    model = EquationSearch(engine=engine, time_limit=4, seed=2).fit(df, F, units=units)
    G, m1, m2, r = sp.symbols("G m1 m2 r")
    assert is_symbolic_solution(model.best_.sympy, G * m1 * m2 / r**2), model.equations_
    dims = {sp.Symbol(k): parse_units(v) for k, v in units.items() if k != "F"}
    assert all(is_consistent(e, dims, parse_units("N")) for e in model.equations_["sympy"])


def test_dimensionless_search(gravity):
    # with dimensionless=True the search runs in the π-group m1/m2 and maps the law back
    df, F, units = gravity
    model = EquationSearch(engine="gp", time_limit=3, dimensionless=True, seed=3).fit(df, F, units=units)
    assert model.pi_groups_.describe() == ["pi1 = m1/m2"]
    G, m1, m2, r = sp.symbols("G m1 m2 r")
    assert is_symbolic_solution(model.best_.sympy, G * m1 * m2 / r**2)


def test_front_sorted_and_non_dominated(fitted):
    # complexity strictly increases and loss strictly decreases along equations_
    eq = fitted.equations_
    assert list(eq.columns) == ["complexity", "loss", "r2", "equation", "sympy"]
    assert np.all(np.diff(eq["complexity"]) > 0)
    assert np.all(np.diff(eq["loss"]) < 0)
    assert 0 <= fitted.best_index_ < len(eq)


def test_sympy_export_agrees_with_predict(fitted, power_law):
    # lambdify of every front equation gives predict's values
    X, _ = power_law
    for i, expr in enumerate(fitted.equations_["sympy"]):
        f = sp.lambdify([x0, x1], expr, modules="numpy")
        ref = np.broadcast_to(f(X[:, 0], X[:, 1]), (len(X),))
        assert np.allclose(fitted.predict(X, index=i), ref, rtol=1e-10, atol=1e-12)
    assert fitted.sympy() == fitted.best_.sympy
    assert "x_{0}" in fitted.latex() or "x0" in fitted.latex()


def test_torch_export_agrees_and_is_differentiable(fitted, power_law):
    # the torch module reproduces predict and its constants receive gradients
    torch = pytest.importorskip("torch")
    X, y = power_law
    for i in range(len(fitted.equations_)):
        module = fitted.torch_module(i)
        out = module(torch.as_tensor(X))
        assert np.allclose(out.detach().numpy(), fitted.predict(X, index=i), rtol=1e-9, atol=1e-12)
    module = fitted.torch_module(0)  # the simplest equation has fitted constants
    loss = ((module(torch.as_tensor(X)) - torch.as_tensor(y)) ** 2).mean()
    loss.backward()
    assert module.constants.grad is not None and module.constants.numel() > 0


def test_callback_sees_progress_and_can_stop(power_law):
    # the callback receives the current front; returning True stops the search early
    X, y = power_law
    seen: list[SearchProgress] = []

    def cb(progress: SearchProgress) -> bool:
        seen.append(progress)
        return True

    model = EquationSearch(engine="gp", time_limit=30, seed=0).fit(X, y, callback=cb)
    assert len(seen) == 1 and {"complexity", "loss", "equation"} <= set(seen[0].front.columns)
    assert model.search_seconds_ < 20


def test_generations_make_it_reproducible(power_law):
    # a fixed generation count and seed give the same front
    X, y = power_law
    a = EquationSearch(engine="gp", generations=5, seed=7).fit(X, y).equations_["equation"].tolist()
    b = EquationSearch(engine="gp", generations=5, seed=7).fit(X, y).equations_["equation"].tolist()
    assert a == b


def test_sklearn_conventions(fitted):
    # get_params / clone work; the clone is unfitted; names come from DataFrames
    clone_ = clone(fitted)
    assert clone_.get_params() == fitted.get_params()
    assert not hasattr(clone_, "equations_")
    assert fitted.feature_names_in_.tolist() == ["x0", "x1"]


def test_units_errors(gravity):
    # units naming an unknown variable or missing one are clear errors
    df, F, units = gravity
    with pytest.raises(KeyError, match="unknown variable 'mass'"):
        EquationSearch(engine="gp", time_limit=1).fit(df, F, units={**units, "mass": "kg"})
    with pytest.raises(ValidationError, match="units missing for variable 'r'"):
        EquationSearch(engine="gp", time_limit=1).fit(
            df, F, units={k: v for k, v in units.items() if k != "r"}
        )
    with pytest.raises(ValidationError, match="needs units"):
        EquationSearch(engine="gp", time_limit=1, dimensionless=True).fit(df, F)


def test_input_errors(power_law):
    # bad parameters and inputs fail before any search
    X, y = power_law
    with pytest.raises(ConfigError):
        EquationSearch(optimizer="adam").fit(X, y)
    with pytest.raises(KeyError, match="did you mean"):
        EquationSearch(engine="oper").fit(X, y)
    with pytest.raises(ValidationError, match="finite"):
        EquationSearch(engine="gp").fit(X, np.where(y > 10, np.nan, y))
    with pytest.raises(ValidationError, match="not numeric"):
        EquationSearch(engine="gp").fit(pd.DataFrame({"a": ["x"] * 5, "b": range(5)}), np.arange(5.0))


def test_engines_registry():
    # both built-in engines are registered by name
    assert {"gp", "operon"} <= set(engines.names())


@pytest.mark.skipif(importlib.util.find_spec("pyoperon") is None, reason="pyoperon not installed")
@pytest.mark.parametrize("fail_on", [{1}, {2, 3}, {1, 2, 3, 4, 5, 6}])
def test_operon_search_survives_failed_increments(monkeypatch, fail_on):
    """pyoperon raises ValueError when a front model is not finite on the training rows; the
    search goes on from the last good increment instead of losing the whole run."""
    from pyoperon.sklearn import SymbolicRegressor

    from scientia.hypothesize.symbolic.engines import SearchProblem
    from scientia.hypothesize.symbolic.operon_engine import OperonEngine

    calls = {"n": 0}
    real_fit = SymbolicRegressor.fit

    def flaky_fit(self, X, y):
        calls["n"] += 1
        if calls["n"] in fail_on:
            raise ValueError("Input contains NaN.")
        return real_fit(self, X, y)

    monkeypatch.setattr(SymbolicRegressor, "fit", flaky_fit)
    x = np.linspace(1, 3, 200)[:, None]
    problem = SearchProblem(x, 2.0 * x[:, 0] ** 2, ("add", "mul"), 10)
    front = OperonEngine(population_size=50, chunk=5).search(problem, time_limit=60, generations=30, seed=0)
    assert calls["n"] > max(fail_on)
    assert front, "a front survives the failed increments"
