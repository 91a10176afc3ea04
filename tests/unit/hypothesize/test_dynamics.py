"""Equations of ODE systems: derivative estimates, the SINDy baseline, ODESearch, simulate, errors."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp
from scipy.signal import savgol_filter
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from scientia.errors import ConfigError, ScientiaError, UnknownNameError, ValidationError
from scientia.hypothesize.symbolic import is_symbolic_solution
from scientia.hypothesize.symbolic.dynamics import ODESearch, SINDy
from scientia.hypothesize.symbolic.trajectories import estimate_derivatives, load_trajectories

pytest.importorskip("pysindy")

OMEGA = np.sqrt(1 - 0.1**2)  # damped oscillator x' = y, y' = -x - 0.2 y


def oscillator(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """States (n, 2) and exact derivatives (n, 2) of the damped oscillator from x = 1, y = -0.1."""
    x = np.exp(-0.1 * t) * np.cos(OMEGA * t)
    y = np.exp(-0.1 * t) * (-0.1 * np.cos(OMEGA * t) - OMEGA * np.sin(OMEGA * t))
    return np.c_[x, y], np.c_[y, -x - 0.2 * y]


def lotka_volterra(s: np.ndarray) -> list[float]:
    return [3 * s[0] - 2 * s[0] * s[1] - s[0] ** 2, 2 * s[1] - s[0] * s[1] - s[1] ** 2]


def solve(x0, t: np.ndarray) -> np.ndarray:
    sol = solve_ivp(lambda _t, s: lotka_volterra(s), (t[0], t[-1]), x0, t_eval=t, rtol=1e-11, atol=1e-12)
    return sol.y.T


@pytest.fixture(scope="module")
def lv_runs() -> tuple[list[np.ndarray], np.ndarray]:
    """Six clean Lotka-Volterra trajectories (x' = 3x - 2xy - x^2, y' = 2y - xy - y^2)."""
    t = np.linspace(0, 3, 601)
    starts = np.random.default_rng(0).uniform(0.3, 2.5, size=(6, 2))
    return [solve(x0, t) for x0 in starts], t


# -- derivatives -------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "tol"), [("savgol", 1e-5), ("finite_difference", 1e-3), ("spline", 1e-4)])
def test_derivatives_of_damped_oscillator_are_accurate(method, tol):
    # every method recovers the known derivative of a clean trajectory (spline: away from the ends)
    t = np.linspace(0, 20, 2001)
    X, dX = oscillator(t)
    est = estimate_derivatives(X, t, method)
    inner = slice(20, -20) if method == "spline" else slice(None)
    assert np.max(np.abs(est[inner] - dX[inner])) < tol


def test_savgol_matches_scipy_on_a_uniform_grid():
    # on an even grid the local-polynomial slope is scipy's Savitzky-Golay derivative
    t = np.linspace(0, 5, 300)
    X, _ = oscillator(t)
    ref = savgol_filter(X, 11, 4, deriv=1, delta=t[1] - t[0], axis=0, mode="interp")
    np.testing.assert_allclose(estimate_derivatives(X, t, window=11, order=4), ref, atol=1e-10)


def test_derivatives_on_an_uneven_grid():
    # uneven sampling is handled (local polynomial in t)
    t = np.sort(np.random.default_rng(1).uniform(0, 10, 800))
    X, dX = oscillator(t)
    assert np.max(np.abs(estimate_derivatives(X, t) - dX)) < 1e-3


def test_several_trajectories_are_differentiated_apart():
    # a list of trajectories gives a list, each equal to differentiating it alone
    t1, t2 = np.linspace(0, 4, 200), np.linspace(10, 13, 150)
    X1, X2 = oscillator(t1)[0], oscillator(t2)[0][:, ::-1]
    both = estimate_derivatives([X1, X2], [t1, t2])
    assert isinstance(both, list) and [b.shape for b in both] == [X1.shape, X2.shape]
    np.testing.assert_allclose(both[1], estimate_derivatives(X2, t2))


def test_smoothing_methods_beat_plain_differences_on_noisy_data():
    # with noise, a wide Savitzky-Golay window and the spline are far closer than finite differences
    t = np.linspace(0, 20, 2001)
    X, dX = oscillator(t)
    noisy = X + np.random.default_rng(2).normal(0, 0.01, X.shape)

    def rmse(est):
        return float(np.sqrt(np.mean((est[50:-50] - dX[50:-50]) ** 2)))

    plain = rmse(estimate_derivatives(noisy, t, "finite_difference"))
    assert rmse(estimate_derivatives(noisy, t, window=101)) < 0.1 * plain
    assert rmse(estimate_derivatives(noisy, t, "spline")) < 0.1 * plain


def test_time_step_stands_for_a_uniform_grid():
    # a float t is the sampling step
    t = np.arange(500) * 0.02
    X, _ = oscillator(t)
    np.testing.assert_allclose(estimate_derivatives(X, 0.02), estimate_derivatives(X, t))


# -- SINDy ---------------------------------------------------------------------------------------
def test_sindy_recovers_lotka_volterra(lv_runs):
    # from clean trajectories SINDy finds the exact terms and (after polishing) the exact coefficients
    runs, t = lv_runs
    model = SINDy(seed=0).fit(runs, t=[t] * len(runs), state_names=["x", "y"])
    assert is_symbolic_solution(model.sympy("x"), "3*x - 2*x*y - x**2")
    assert is_symbolic_solution(model.sympy("y"), "2*y - x*y - y**2")
    coef = dict(zip(model.library_, model.coefficients_[0], strict=True))
    assert coef["x"] == pytest.approx(3, abs=0.01) and coef["x*y"] == pytest.approx(-2, abs=0.01)
    assert sum(c != 0 for c in model.coefficients_[1]) == 3


def test_sindy_recovers_a_linear_system_from_measured_derivatives():
    # given exact derivatives, a linear system's coefficients come back to machine precision
    X = np.random.default_rng(3).uniform(-2, 2, size=(300, 3))
    A = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.5, 0.0], [0.0, 0.0, -2.0]])
    model = SINDy(degree=2, n_frequencies=0, polish=False).fit(X, X @ A.T)
    linear = [model.library_.index(f"x{i}") for i in range(3)]
    np.testing.assert_allclose(model.coefficients_[:, linear], A, atol=1e-8)
    assert np.count_nonzero(model.coefficients_) == 5


def test_simulate_reproduces_a_held_out_trajectory(lv_runs):
    # the fitted system, integrated from a new start, follows the true trajectory
    runs, t = lv_runs
    model = SINDy(seed=0).fit(runs, t=[t] * len(runs), state_names=["x", "y"])
    t_new = np.linspace(0, 4, 81)
    truth = solve([1.7, 0.4], t_new)
    sim = model.simulate([1.7, 0.4], t_new)
    assert sim.shape == truth.shape
    assert np.max(np.abs(sim - truth)) < 1e-3


def test_predict_and_score_use_the_chosen_equations(lv_runs):
    # predict gives the derivatives (n, d); a DataFrame's columns are matched by name
    runs, t = lv_runs
    model = SINDy(seed=0).fit(runs, t=[t] * len(runs), state_names=["x", "y"])
    X = np.concatenate(runs)
    exact = np.array([lotka_volterra(s) for s in X])
    pred = model.predict(pd.DataFrame({"y": X[:, 1], "x": X[:, 0]}))
    np.testing.assert_allclose(pred, exact, atol=1e-6)
    assert model.score(X, exact) > 0.999999


# -- ODESearch -----------------------------------------------------------------------------------
def test_odesearch_recovers_a_derivative_with_a_small_budget():
    # the search finds x' = y of the damped oscillator (on its front) in a few CPU seconds
    t = np.linspace(0, 15, 301)
    X, _ = oscillator(t)
    model = ODESearch(engine="gp", time_limit=4, seed=0).fit(X, t=t, state_names=["x", "y"])
    assert set(model.equations_) == {"x", "y"} and len(model.estimators_) == 2
    assert any(is_symbolic_solution(e, "y") for e in model.equations_["x"]["sympy"])
    assert min(model.best_["x"].r2, model.best_["y"].r2) > 0.999
    assert model.predict(X).shape == X.shape


def test_odesearch_splits_the_budget_and_reports_progress():
    # each state's search gets an equal share of what is left of the budget; the callback names the state
    t = np.linspace(0, 10, 201)
    X, dX = oscillator(t)
    seen = set()
    model = ODESearch(engine="gp", time_limit=2, seed=1).fit(
        pd.DataFrame(X, columns=["p", "q"]), dX, callback=lambda state, p: seen.add(state)
    )
    first, second = (est.time_limit for est in model.estimators_)
    assert first == 1.0 and second == pytest.approx(2.0 - model.estimators_[0].search_seconds_, abs=0.5)
    assert model.state_names_ == ["p", "q"] and seen <= {"p", "q"} and seen
    assert set(model.sympy()) == {"p", "q"}


def test_derivative_error_is_estimated_and_used_to_snap_constants():
    # the estimated error of the derivatives is close to the true one, and constants within it
    # snap to simple decimals (y' = -x - y/5, not -x - 0.199998 y)
    t = np.linspace(0, 15, 301)
    X, dX = oscillator(t)
    model = SINDy(seed=0).fit(X, t=t, state_names=["x", "y"])
    true_error = np.mean((estimate_derivatives(X, t) - dX) ** 2, axis=0)
    np.testing.assert_allclose(model.derivative_error_, true_error, rtol=0.5)
    assert str(model.sympy("y")) == "-x - y/5"
    measured = SINDy(seed=0).fit(X, dX, state_names=["x", "y"])  # exact derivatives: no error
    assert np.all(measured.derivative_error_ == 0) and str(measured.sympy("y")) == "-x - y/5"
    known = SINDy(seed=0).fit(X, dX, state_names=["x", "y"], dXdt_error=1e-6)  # an error we know
    np.testing.assert_array_equal(known.derivative_error_, [1e-6, 1e-6])


def test_selection_ignores_gains_below_the_derivative_error():
    # an equation that only fits the estimation error wins with exact data, not within the error
    import sympy as sp

    from scientia.hypothesize.symbolic._odepolish import polish_front

    X = oscillator(np.linspace(0, 15, 301))[0]
    target = X[:, 1] + 1e-3 * np.sin(40 * X[:, 1])  # y' = y, plus a pattern of estimation error
    y = sp.Symbol("y")
    overfit = y + sp.Float(1e-3) * sp.sin(sp.Integer(40) * y)
    front, best = polish_front([y, overfit], ["x", "y"], X, target, error=0.0, seconds=0)
    assert front[best][2] == overfit
    front, best = polish_front([y, overfit], ["x", "y"], X, target, error=1e-6, seconds=0)
    assert front[best][2] == y


def test_estimators_clone_and_pickle(lv_runs):
    # scikit-learn conventions: parameters clone; a fitted model pickles and predicts the same
    assert clone(ODESearch(time_limit=7, engine="gp")).get_params()["time_limit"] == 7
    runs, t = lv_runs
    model = SINDy(seed=0).fit(runs[:2], t=[t, t])
    X = runs[0][:5]
    before = model.predict(X)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(model)).predict(X), before)


def test_simulate_marks_a_blow_up_with_nan():
    # a system that escapes to infinity returns NaN rows after that, with a warning
    t = np.linspace(0, 1, 50)
    X = 1 / (1.5 - t)  # x' = x^2 blows up at t = 1.5
    model = SINDy(degree=2, n_frequencies=0).fit(X, X**2)
    with pytest.warns(RuntimeWarning, match="stopped"):
        sim = model.simulate([1.0], np.linspace(0, 3, 31))
    assert np.isfinite(sim[:10]).all() and np.isnan(sim[-1]).all()


# -- errors --------------------------------------------------------------------------------------
T = np.linspace(0, 1, 50)
XS = np.c_[np.sin(T), np.cos(T)]


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: estimate_derivatives(XS, T[:-1]), ValidationError, "one time per row"),
        (lambda: estimate_derivatives(XS, T[::-1]), ValidationError, "strictly increasing"),
        (lambda: estimate_derivatives(np.where(T[:, None] > 0.5, np.nan, XS), T), ValidationError, "NaN"),
        (lambda: estimate_derivatives(XS, T, "savgo"), UnknownNameError, "did you mean 'savgol'"),
        (lambda: estimate_derivatives(XS, T, "spline", window=5), ConfigError, "does not apply"),
        (lambda: estimate_derivatives(XS, T, window=4), ConfigError, "odd integer"),
        (lambda: estimate_derivatives(XS[:5], T[:5]), ValidationError, "fewer than the Savitzky-Golay"),
        (lambda: estimate_derivatives([XS, XS[:, :1]], [T, T]), ValidationError, "same states"),
        (lambda: estimate_derivatives([XS, XS], T), ValidationError, "one time array per trajectory"),
        (lambda: SINDy().fit(XS, XS[:, :1]), ValidationError, "one derivative per state"),
        (lambda: SINDy().fit(XS), ValidationError, "neither"),
        (lambda: SINDy().fit(XS, XS, t=T), ValidationError, "both"),
        (lambda: SINDy(threshold=-1).fit(XS, t=T), ConfigError, "threshold"),
        (lambda: SINDy(degree=0).fit(XS, t=T), ConfigError, "degree"),
        (lambda: ODESearch(engine="gpp").fit(XS, t=T), UnknownNameError, "did you mean 'gp'"),
        (lambda: ODESearch(time_limit=0).fit(XS, t=T), ConfigError, "time_limit"),
        (lambda: SINDy().fit(XS, t=T, state_names=["a", "a"]), ValidationError, "distinct state names"),
        (lambda: SINDy().fit(XS, XS, dXdt_error=[1.0, -1.0]), ValidationError, "dXdt_error must be"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, fragment):
    # each mistake raises a scientia error whose message says what is wrong
    with pytest.raises(error, match=re.escape(fragment)) as info:
        call()
    assert isinstance(info.value, ScientiaError)


def test_use_before_fit_and_bad_simulate_arguments():
    # unfitted use, a wrong x0, times that go back or an unknown state are clear errors
    with pytest.raises(NotFittedError):
        SINDy().predict(XS)
    model = SINDy(n_frequencies=0).fit(XS, t=T, state_names=["s", "c"])
    with pytest.raises(ValidationError, match="x0 must hold 2"):
        model.simulate([1.0], T)
    with pytest.raises(ValidationError, match="strictly increasing"):
        model.simulate([0.0, 1.0], T[::-1])
    with pytest.raises(UnknownNameError, match="did you mean 's'"):
        model.sympy("ss")
    with pytest.raises(ValidationError, match="no column for state 'c'"):
        model.predict(pd.DataFrame({"s": [1.0]}))


# -- reading a table -----------------------------------------------------------------------------
def test_load_trajectories_splits_runs(tmp_path: Path):
    # a trajectory column splits the table; the other columns become the states
    t = np.linspace(0, 1, 20)
    df = pd.concat([pd.DataFrame({"run": k, "t": t, "x": np.sin(t + k), "y": np.cos(t + k)}) for k in (0, 1)])
    path = tmp_path / "runs.csv"
    df.to_csv(path, index=False)
    table = load_trajectories(path, time_column="t", trajectory_column="run")
    assert table.states == ["x", "y"] and table.labels == ["0", "1"]
    assert table.t is not None and [len(tk) for tk in table.t] == [20, 20]
    with pytest.raises(ValidationError, match="does not increase at line 22"):
        load_trajectories(path, time_column="t")
    with pytest.raises(UnknownNameError, match="did you mean 'run'"):
        load_trajectories(path, time_column="t", trajectory_column="runs")


# -- documentation ---------------------------------------------------------------------------------
def test_docs_dynamics_example_runs(capsys):
    # the Python example of the "Dynamics" section of docs/equations.md runs and finds Lotka-Volterra
    doc = (Path(__file__).resolve().parents[3] / "docs" / "equations.md").read_text(encoding="utf-8")
    section = doc.split("## Dynamics", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace("time_limit=60", "time_limit=2")  # keep the test short
    exec(compile(code, "docs/equations.md", "exec"), {})
    out = capsys.readouterr().out
    assert "{'x': -x**2 - 2*x*y + 3*x, 'y': -x*y - y**2 + 2*y}" in out
    assert "dx/dt = " in out and "dy/dt = " in out
