"""What the ODE-system estimators share (:class:`ODEModel`): input checks, the polishing of each
state's front against the error of the derivatives, ``predict``, ``simulate`` and the exports.

The estimators themselves, :class:`~scientia.hypothesize.symbolic.dynamics.ODESearch` and
:class:`~scientia.hypothesize.symbolic.dynamics.SINDy`, live in
:mod:`scientia.hypothesize.symbolic.dynamics`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp
from sklearn.base import BaseEstimator, RegressorMixin

from scientia.errors import UnknownNameError, ValidationError
from scientia.hypothesize.symbolic._odepolish import decimal_text, derivative_error, polish_front
from scientia.hypothesize.symbolic.expressions import compile_expr, symbols_for
from scientia.hypothesize.symbolic.front import Equation
from scientia.hypothesize.symbolic.trajectories import (
    Trajectories,
    check_derivative_options,
    estimate_derivatives,
)
from scientia.seeding import child_seeds

__all__ = ["ODEModel"]


class _Diverged(Exception):
    def __init__(self, t: float) -> None:
        self.t = t


class ODEModel(RegressorMixin, BaseEstimator):
    """Base of the ODE-system estimators: data checks, polishing, predict, simulate, export.

    Subclasses define ``fit`` (calling :meth:`_data`, then :meth:`_polished` and
    :meth:`_set_fitted` for each state) and the parameters ``derivative`` and
    ``derivative_options``.
    """

    derivative: str
    derivative_options: Mapping[str, Any] | None

    def _data(
        self, X: Any, dXdt: Any, t: Any, state_names: Sequence[str] | None, dXdt_error: Any = None
    ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        """States ``(n, d)``, their derivatives ``(n, d)`` (given or estimated), the state names and
        the mean squared error of each derivative ``(d,)``: ``dXdt_error`` if given, else estimated
        (0 for measured derivatives)."""
        opts = check_derivative_options(self.derivative, self.derivative_options)
        if (dXdt is None) == (t is None):
            which = "both" if dXdt is not None else "neither"
            raise ValidationError(
                f"got {which} of t and dXdt: give the times t (the derivatives are then estimated "
                "along each trajectory) or the measured derivatives dXdt"
            )
        traj = Trajectories.build(X, t, state_names)
        states = traj.stacked()
        if dXdt is not None:
            deriv = Trajectories.build(dXdt, None, what="dXdt").stacked()
            if deriv.shape != states.shape:
                raise ValidationError(
                    f"dXdt has shape {deriv.shape} and X {states.shape}; need one derivative per state and row"
                )
            error = np.zeros(states.shape[1])
        else:
            assert traj.t is not None
            est = estimate_derivatives(traj.X, traj.t, self.derivative, **opts)
            deriv = np.concatenate(est) if isinstance(est, list) else est
            error = derivative_error(traj.X, traj.t, deriv, self.derivative, opts)
        if len(states) < 3:
            raise ValidationError(f"need at least 3 rows of states, got {len(states)}")
        if dXdt_error is not None:
            try:
                given = np.broadcast_to(np.asarray(dXdt_error, dtype=float), error.shape).copy()
            except (TypeError, ValueError):
                given = np.full(error.shape, np.nan)
            if not (np.all(np.isfinite(given)) and np.all(given >= 0)):
                raise ValidationError(
                    f"dXdt_error must be one non-negative number or one per state ({len(error)}), got {dXdt_error!r}"
                )
            error = given
        return states, deriv, traj.names, error

    def _polished(
        self,
        exprs: Sequence[sp.Expr],
        names: list[str],
        X: np.ndarray,
        y: np.ndarray,
        error: float,
        seconds: float,
    ) -> tuple[pd.DataFrame, int]:
        """The front after :func:`~._odepolish.polish_front`, as a DataFrame, and its chosen row."""
        seed = child_seeds(self.__dict__.get("seed"), 1)[0]
        front, best = polish_front(exprs, names, X, y, error, seconds=seconds, seed=seed)
        if self.__dict__.get("selection") == "accuracy":
            best = int(np.argmin([loss for _, loss, _ in front]))
        var = float(np.var(y)) or 1.0
        frame = pd.DataFrame(
            {
                "complexity": [c for c, _, _ in front],
                "loss": [loss for _, loss, _ in front],
                "r2": [1.0 - loss / var for _, loss, _ in front],
                "equation": [decimal_text(e) for _, _, e in front],
                "sympy": [e for _, _, e in front],
            }
        )
        return frame, best

    def _set_fitted(self, names: list[str], fronts: list[pd.DataFrame], best: list[int]) -> None:
        self.state_names_ = list(names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.equations_: dict[str, pd.DataFrame] = dict(zip(names, fronts, strict=True))
        self.best_: dict[str, Equation] = {}
        for name, front, i in zip(names, fronts, best, strict=True):
            row = front.iloc[i]
            self.best_[name] = Equation(
                int(row.complexity), float(row.loss), float(row.r2), row.equation, row.sympy
            )
        self._exprs = [self.best_[n].sympy for n in names]
        self.__dict__.pop("_fns", None)

    # -- use -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "equations_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _state(self, state: str | int) -> int:
        names = self.state_names_
        if isinstance(state, (int, np.integer)):
            if not -len(names) <= state < len(names):
                raise ValidationError(f"state index {state} out of range; the system has {len(names)} states")
            return int(state) % len(names)
        if state not in names:
            raise UnknownNameError.for_name("state", state, names)
        return names.index(state)

    def sympy(self, state: str | int | None = None) -> Any:
        """The chosen equation of ``state`` (name or index) as SymPy, or a dict of all of them."""
        self._check_fitted()
        if state is None:
            return dict(zip(self.state_names_, self._exprs, strict=True))
        return self._exprs[self._state(state)]

    def latex(self, state: str | int, precision: int = 3) -> str:
        """LaTeX of the right-hand side of ``state``, constants to ``precision`` digits."""
        from scientia.hypothesize.symbolic.export import latex

        return latex(self.sympy(state), precision)

    def _compiled(self) -> list[Callable[[np.ndarray], np.ndarray]]:
        fns = self.__dict__.get("_fns")
        if fns is None:
            xs = symbols_for(self.n_features_in_)
            by_name = {n: x for n, x in zip(self.state_names_, xs, strict=True)}
            fns = [
                compile_expr(e.xreplace({s: by_name[s.name] for s in e.free_symbols}), len(xs))
                for e in self._exprs
            ]
            self.__dict__["_fns"] = fns
        return fns

    def predict(self, X: Any) -> np.ndarray:
        """The derivatives ``(n, d)`` given by the discovered equations at the states ``X`` ``(n, d)``."""
        self._check_fitted()
        names = list(self.state_names_)
        if isinstance(X, pd.DataFrame):
            missing = [n for n in names if n not in X.columns]
            if missing:
                raise ValidationError(
                    f"X has no column for state {missing[0]!r} (states: {', '.join(names)})"
                )
            X = X[names]
        Xa = Trajectories.build(X, None, names).stacked()
        return np.column_stack([f(Xa) for f in self._compiled()])

    def simulate(
        self, x0: Any, t: Any, *, method: str = "LSODA", rtol: float = 1e-8, atol: float = 1e-10
    ) -> np.ndarray:
        """Integrate the discovered system from ``x0`` ``(d,)``; the states at the times ``t`` ``(m,)``.

        Returns an array ``(m, d)`` (``x0`` in its first row). If the solution stops (it blows up,
        or an equation cannot be evaluated there) the rows after that are NaN and a
        ``RuntimeWarning`` says where.
        """
        from scipy.integrate import solve_ivp

        self._check_fitted()
        d = self.n_features_in_
        x0 = np.asarray(x0, dtype=float).reshape(-1)
        if x0.shape != (d,) or not np.all(np.isfinite(x0)):
            raise ValidationError(f"x0 must hold {d} finite values (one per state), got {x0.tolist()}")
        tt = _time_grid(t)
        fns = self._compiled()

        def rhs(now: float, x: np.ndarray) -> np.ndarray:
            row = x.reshape(1, -1)
            out = np.array([f(row)[0] for f in fns])
            if not np.all(np.isfinite(out)):
                raise _Diverged(now)
            return out

        out = np.full((len(tt), d), np.nan)
        out[0] = x0
        if len(tt) == 1:
            return out
        message, upto = "", tt
        for _ in range(2):  # a second try stops before the point where an equation failed
            try:
                sol = solve_ivp(
                    rhs, (upto[0], upto[-1]), x0, t_eval=upto, method=method, rtol=rtol, atol=atol
                )
            except _Diverged as exc:
                message = f"an equation is not finite near t = {exc.t:g}"
                upto = tt[tt < exc.t]
                if len(upto) < 2:
                    break
                continue
            out[: sol.y.shape[1]] = sol.y.T
            if not sol.success:
                message = str(sol.message)
            break
        reached = int(np.sum(np.all(np.isfinite(out), axis=1)))
        if reached < len(tt):
            warnings.warn(
                f"the integration stopped after t = {tt[reached - 1]:g} ({message or 'failed'}); "
                "later states are NaN",
                RuntimeWarning,
                stacklevel=2,
            )
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fns", None)  # compiled functions do not pickle; rebuilt on demand
        return state


def _time_grid(t: Any) -> np.ndarray:
    try:
        tt = np.asarray(t, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValidationError("t must be an array of times") from None
    if len(tt) == 0:
        raise ValidationError("t is empty; give the times at which to return the states")
    times = Trajectories.build(np.zeros((len(tt), 1)), tt).t
    assert times is not None
    return times[0]
