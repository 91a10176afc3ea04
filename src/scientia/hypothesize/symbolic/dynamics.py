"""Equations of ODE systems from trajectories: ``dx_i/dt = f_i(x)``, one state at a time.

Two estimators share one interface — ``fit``, ``predict`` (the derivatives), ``simulate`` (the
discovered system integrated with :func:`scipy.integrate.solve_ivp`), ``sympy`` — and take either
trajectories with their times, ``fit(X, t=t)`` (derivatives estimated along each trajectory with
:func:`~scientia.hypothesize.symbolic.trajectories.estimate_derivatives`), or states with measured
derivatives, ``fit(X, dXdt)``:

* :class:`ODESearch` — the equation search (:class:`~scientia.hypothesize.symbolic.EquationSearch`,
  any engine) run for each state's derivative, the CPU budget shared across the states;
* :class:`SINDy` — the baseline of Brunton, Proctor & Kutz (2016): sparse regression (sequentially
  thresholded least squares, STLSQ) over a library of monomials up to ``degree`` and the sines and
  cosines of each state, through `pysindy <https://pysindy.readthedocs.io>`_ (``pip install
  'scientia[sr]'``); its constants are then polished and snapped to simple numbers exactly as the
  equation search polishes its front, so both are scored on the same footing.

Both then polish each state's equations against the error of the derivatives (the shared base
class is in :mod:`~scientia.hypothesize.symbolic._odemodel`, the polishing in
:mod:`~scientia.hypothesize.symbolic._odepolish`): with estimated derivatives that error is
estimated (``derivative_error_``), constants are snapped to short decimals or integers when that
costs less than the error, and the chosen equation is the simplest that fits to about that error,
not an overfit of the estimation error.

SINDy can only find what its library holds (polynomials and single sines/cosines: not a ratio such
as ``x*y/(1 + x**2)``, nor ``sin(x - y)``); the search has no library, at the price of CPU time.
Measured on the SRBench Strogatz systems — see ``docs/equations.md`` ("Dynamics") for the table.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

from scientia.errors import ConfigError
from scientia.hypothesize.symbolic._odemodel import ODEModel
from scientia.hypothesize.symbolic.engines import engines
from scientia.hypothesize.symbolic.estimator import DEFAULT_ENGINE, EquationSearch, SearchProgress
from scientia.hypothesize.symbolic.expressions import (
    DEFAULT_OPERATORS,
    check_operators,
    compile_expr,
    symbols_for,
)
from scientia.hypothesize.symbolic.front import refine
from scientia.hypothesize.symbolic.trajectories import estimate_derivatives
from scientia.seeding import Seed, child_seeds, rng

__all__ = ["ODESearch", "SINDy", "estimate_derivatives"]

StateCallback = Callable[[str, SearchProgress], Any]


class ODESearch(ODEModel):
    """Discover ``dx_i/dt = f_i(x)`` with an equation search for each state's derivative.

    Parameters
    ----------
    engine : {"operon", "gp"} or a registered name
        The engine of each :class:`~scientia.hypothesize.symbolic.EquationSearch`.
    time_limit : float
        CPU seconds of the engines for the whole system, split evenly across the states; a search
        that stops early (Operon stops on an exact fit) leaves its unused time to the states after
        it. Each search adds its polishing (see ``EquationSearch``).
    generations, operators, max_complexity, selection, engine_options
        Passed to each ``EquationSearch``.
    derivative : {"savgol", "finite_difference", "spline"}
        How derivatives are estimated when ``fit`` is given times (see
        :func:`~scientia.hypothesize.symbolic.trajectories.estimate_derivatives`).
    derivative_options : dict, optional
        ``window``/``order`` for ``savgol``, ``smoothing`` for ``spline``.
    seed : int, numpy.random.Generator or None
        Each state's search gets a child seed.

    Attributes
    ----------
    equations_ : dict of str to pandas.DataFrame
        The Pareto front of each state's derivative (columns as ``EquationSearch.equations_``).
    best_ : dict of str to Equation
        The chosen equation of each state (used by ``predict`` and ``simulate``).
    estimators_ : list of EquationSearch
        The fitted search of each state (its own front, before the polishing against the error of
        the derivatives).
    derivative_error_ : ndarray of shape (d,)
        Mean squared error of each derivative: estimated for estimated derivatives, else
        ``dXdt_error`` (0 when not given).
    state_names_ : list of str
    search_seconds_, fit_seconds_ : float
        CPU seconds of the engines, and of the whole fit.

    Examples
    --------
    >>> t = np.linspace(0, 5, 201)
    >>> X = np.c_[np.exp(-t), 2 * np.exp(-2 * t)]  # x' = -x, y' = -2 y
    >>> model = ODESearch(engine="gp", time_limit=4, seed=0).fit(X, t=t, state_names=["x", "y"])
    >>> model.sympy()  # doctest: +SKIP
    {'x': -x, 'y': -2*y}
    """

    def __init__(
        self,
        engine: str = DEFAULT_ENGINE,
        time_limit: float = 60.0,
        generations: int | None = None,
        operators: Sequence[str] = DEFAULT_OPERATORS,
        max_complexity: int = 30,
        selection: str = "best",
        engine_options: Mapping[str, Any] | None = None,
        derivative: str = "savgol",
        derivative_options: Mapping[str, Any] | None = None,
        seed: Seed = None,
    ) -> None:
        self.engine = engine
        self.time_limit = time_limit
        self.generations = generations
        self.operators = operators
        self.max_complexity = max_complexity
        self.selection = selection
        self.engine_options = engine_options
        self.derivative = derivative
        self.derivative_options = derivative_options
        self.seed = seed

    def fit(
        self,
        X: Any,
        dXdt: Any = None,
        *,
        t: Any = None,
        state_names: Sequence[str] | None = None,
        dXdt_error: Any = None,
        callback: StateCallback | None = None,
    ) -> ODESearch:
        """Search an equation for the derivative of each state.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d), or a list of them (one per trajectory)
            The states; a DataFrame's columns name them.
        dXdt : array-like of shape (n, d), or a list of them, optional
            Measured derivatives, in the layout of ``X``. Give this or ``t``.
        t : array-like of shape (n,), a list of them, or float, optional
            Sampling times of each trajectory (or a uniform step): derivatives are estimated.
        state_names : sequence of str, optional
            Default: the DataFrame's columns, else ``x0 … x{d-1}``.
        dXdt_error : float or array-like of shape (d,), optional
            Mean squared error of the derivatives, when known (noisy measurements, or derivatives
            estimated elsewhere); by default estimated when derivatives are estimated, else 0. It
            sets how far constants may be snapped and the loss floor of the selection.
        callback : callable, optional
            ``callback(state, SearchProgress)`` whenever a search's front improves.
        """
        start = time.process_time()
        if not (isinstance(self.time_limit, (int, float)) and self.time_limit > 0):
            raise ConfigError(f"time_limit must be positive (CPU seconds), got {self.time_limit!r}")
        engines.get(self.engine)  # an unknown engine fails before derivatives are estimated
        check_operators(self.operators)
        states, deriv, names, error = self._data(X, dXdt, t, state_names, dXdt_error)
        self.derivative_error_ = error
        d = len(names)
        frame = pd.DataFrame(states, columns=names)
        fronts, chosen = [], []
        self.estimators_: list[EquationSearch] = []
        total, used = float(self.time_limit), 0.0
        for i, (name, seed) in enumerate(zip(names, child_seeds(self.seed, d), strict=True)):
            # an equal share of what is left: a search that stops early (an exact fit) passes its
            # unused time on to the states after it
            share = max((total - used) / (d - i), 0.5 * total / d)
            est = EquationSearch(
                engine=self.engine,
                time_limit=share,
                generations=self.generations,
                operators=self.operators,
                max_complexity=self.max_complexity,
                selection=self.selection,
                engine_options=self.engine_options,
                seed=seed,
            )
            cb = None if callback is None else (lambda p, name=name: callback(name, p))
            est.fit(frame, pd.Series(deriv[:, i], name=f"d{name}/dt"), callback=cb)
            self.estimators_.append(est)
            used += est.search_seconds_
            front, best = self._polished(
                list(est.equations_["sympy"]),
                names,
                states,
                deriv[:, i],
                float(error[i]),
                max(1.0, 0.1 * share),
            )
            fronts.append(front)
            chosen.append(best)
        self._set_fitted(names, fronts, chosen)
        self.search_seconds_ = float(sum(est.search_seconds_ for est in self.estimators_))
        self.fit_seconds_ = time.process_time() - start
        return self


class SINDy(ODEModel):
    """The SINDy baseline: sparse regression of each derivative on a library of candidate terms.

    Parameters
    ----------
    degree : int
        Largest total degree of the monomials (with a constant term).
    n_frequencies : int
        ``sin(k x_i)`` and ``cos(k x_i)`` of every state for ``k = 1 … n_frequencies``; 0 for a
        polynomial library only.
    threshold : float
        STLSQ's threshold: coefficients smaller in magnitude are set to zero.
    alpha : float
        Ridge penalty of each least-squares step (the final fit on the chosen terms is unpenalised).
    max_iter : int
        STLSQ iterations.
    polish : bool
        Refit the kept coefficients and snap them to integers or halves when that costs no
        accuracy (as ``EquationSearch`` does), then to short decimals within the error of the
        derivatives (as :class:`ODESearch` does).
    derivative, derivative_options
        As for :class:`ODESearch`.
    seed : int, numpy.random.Generator or None
        Rows used for polishing (at most 1,000).

    Attributes
    ----------
    equations_ : dict of str to pandas.DataFrame
        One row per state, with the columns of ``EquationSearch.equations_``.
    best_ : dict of str to Equation
    derivative_error_ : ndarray of shape (d,)
        As for :class:`ODESearch`.
    coefficients_ : ndarray of shape (d, p)
        STLSQ's coefficients (before polishing) of the library terms ``library_``.
    library_ : list of str
        The library terms in the state names.
    fit_seconds_ : float

    Examples
    --------
    >>> t = np.linspace(0, 5, 201)
    >>> X = np.c_[np.exp(-t), 2 * np.exp(-2 * t)]
    >>> SINDy().fit(X, t=t, state_names=["x", "y"]).sympy()  # doctest: +SKIP
    {'x': -x, 'y': -2*y}
    """

    def __init__(
        self,
        degree: int = 3,
        n_frequencies: int = 1,
        threshold: float = 0.05,
        alpha: float = 0.0,
        max_iter: int = 20,
        polish: bool = True,
        derivative: str = "savgol",
        derivative_options: Mapping[str, Any] | None = None,
        seed: Seed = None,
    ) -> None:
        self.degree = degree
        self.n_frequencies = n_frequencies
        self.threshold = threshold
        self.alpha = alpha
        self.max_iter = max_iter
        self.polish = polish
        self.derivative = derivative
        self.derivative_options = derivative_options
        self.seed = seed

    def _validate(self) -> None:
        def whole(v: Any, low: int) -> bool:
            return bool(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low)

        if not whole(self.degree, 1):
            raise ConfigError(f"degree must be an integer >= 1, got {self.degree!r}")
        if not whole(self.n_frequencies, 0):
            raise ConfigError(f"n_frequencies must be an integer >= 0, got {self.n_frequencies!r}")
        if not whole(self.max_iter, 1):
            raise ConfigError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        for key in ("threshold", "alpha"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ConfigError(f"{key} must be a non-negative number, got {v!r}")

    def fit(
        self,
        X: Any,
        dXdt: Any = None,
        *,
        t: Any = None,
        state_names: Sequence[str] | None = None,
        dXdt_error: Any = None,
    ) -> SINDy:
        """Fit a sparse equation for each state's derivative (arguments as :meth:`ODESearch.fit`)."""
        start = time.process_time()
        self._validate()
        try:
            import pysindy as ps
        except ImportError:
            raise ConfigError("SINDy needs pysindy: pip install 'scientia[sr]'") from None
        states, deriv, names, error = self._data(X, dXdt, t, state_names, dXdt_error)
        self.derivative_error_ = error
        d = len(names)
        xs = symbols_for(d)
        library = ps.PolynomialLibrary(degree=int(self.degree))
        if self.n_frequencies > 0:
            library = library + ps.FourierLibrary(n_frequencies=int(self.n_frequencies))
        optimizer = ps.STLSQ(
            threshold=float(self.threshold), alpha=float(self.alpha), max_iter=int(self.max_iter)
        )
        model = ps.SINDy(optimizer=optimizer, feature_library=library)
        with warnings.catch_warnings():  # STLSQ warns when it does not converge or drops every term
            warnings.simplefilter("ignore")
            model.fit(states, t=1.0, x_dot=deriv, feature_names=[str(x) for x in xs])
        terms = [_term(name, xs) for name in model.get_feature_names()]
        _check_terms(terms, model.feature_library.transform(states[:8]), states[:8])
        coef = np.asarray(model.coefficients(), dtype=float)
        rows = rng(self.seed).choice(len(states), size=min(len(states), 1000), replace=False)
        display = dict(zip(xs, [sp.Symbol(n) for n in names], strict=True))
        fronts = []
        for i in range(d):
            expr = sp.Add(*[sp.Float(c) * term for c, term in zip(coef[i], terms, strict=True) if c != 0])
            if self.polish and expr.atoms(sp.Float):
                out = refine(expr, states[rows], deriv[rows, i])
                expr = out[0] if out is not None else expr
            shown = expr.xreplace(display)
            seconds = 2.0 if self.polish else 0.0
            front, best = self._polished([shown], names, states, deriv[:, i], float(error[i]), seconds)
            fronts.append(front.iloc[[best]].reset_index(drop=True))
        self.coefficients_ = coef
        self.library_ = [str(term.xreplace(display)) for term in terms]
        self._set_fitted(names, fronts, [0] * d)
        self.fit_seconds_ = time.process_time() - start
        return self


def _term(name: str, xs: list[sp.Symbol]) -> sp.Expr:
    """A pysindy feature name (``"x0^2 x1"``, ``"sin(1 x0)"``, ``"1"``) as SymPy in ``xs``."""
    text = name.replace("^", "**").replace(" ", "*")
    return sp.sympify(text, locals={str(x): x for x in xs})


def _check_terms(terms: list[sp.Expr], values: np.ndarray, X: np.ndarray) -> None:
    """Guard against a change in pysindy's feature names: the parsed terms reproduce its values."""
    mine = np.column_stack([compile_expr(term, X.shape[1])(X) for term in terms])
    if mine.shape != values.shape or not np.allclose(mine, values, rtol=1e-8, atol=1e-10):
        raise RuntimeError(f"could not read pysindy's library terms {terms}")  # pragma: no cover
