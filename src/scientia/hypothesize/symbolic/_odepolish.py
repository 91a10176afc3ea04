"""Polishing the equations of an ODE system against the error of estimated derivatives.

When derivatives are estimated from trajectories the target itself carries an error, and two
decisions of a plain equation search go wrong: constants are not snapped to the true values because
that costs more training loss than the tiny tolerance of exact data allows, and an overfitted
equation wins the selection because it explains the estimation error. Here

* :func:`derivative_error` estimates the mean squared error of each derivative estimate by
  comparing it with a more accurate estimator (Savitzky–Golay of two more degrees) — an
  order-of-magnitude figure, exact for smooth data and about right for noise;
* :func:`polish_front` snaps the constants of each equation to the shortest decimal (1 to 3
  significant digits) or integer that keeps the loss within that error, rebuilds the
  complexity–loss front, and chooses the best equation with losses floored at twice that error
  (the true equation's loss is about the error itself; below it a lower loss means nothing).

With measured derivatives the error is 0 and only the decimal snapping (at the usual tight
tolerance) changes anything.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from scientia.hypothesize.symbolic.expressions import (
    compile_expr,
    complexity,
    fit_constants,
    mse,
    round_floats,
    symbols_for,
)
from scientia.hypothesize.symbolic.front import pareto, select_best
from scientia.hypothesize.symbolic.trajectories import estimate_derivatives

__all__ = ["decimal_text", "derivative_error", "polish_front"]


def derivative_error(
    X: list[np.ndarray], t: list[np.ndarray], estimate: np.ndarray, method: str, opts: dict[str, Any]
) -> np.ndarray:
    """Mean squared error ``(d,)`` of the stacked ``estimate`` of ``dX/dt``, estimated (0 if unknown)."""
    if method == "savgol":
        order = int(opts["order"]) + 2
        window = max(int(opts["window"]), order + 2 + (order % 2))
    else:
        order, window = 6, 9
    if min(len(x) for x in X) < window:
        return np.zeros(X[0].shape[1])
    ref = estimate_derivatives(X, t, "savgol", window=window, order=order)
    ref_all = np.concatenate(ref) if isinstance(ref, list) else ref
    return np.asarray(np.mean((estimate - ref_all) ** 2, axis=0), dtype=float)


def _decimals(v: float) -> list[sp.Number]:
    """Simple numbers for ``v``: 0 (drop the term), then ``v`` to 1, 2 and 3 significant digits
    (integers or exact decimals), each within 2% of ``v``."""
    out: list[sp.Number] = [sp.Integer(0)]  # first: is the term needed at all?
    if not math.isfinite(v) or v == 0:
        return []
    for digits in (1, 2, 3):
        r = float(f"{v:.{digits - 1}e}")
        cand = sp.Integer(int(r)) if r == int(r) else sp.Rational(repr(r))
        if abs(float(cand) - v) <= 0.02 * abs(v) and cand not in out:
            out.append(cand)
    return out


def _snap(expr: sp.Expr, X: np.ndarray, y: np.ndarray, tol: float, deadline: float) -> sp.Expr:
    """Replace constants of ``expr`` (largest first) by simple numbers while the MSE stays ``<= tol``."""
    for _ in range(8):  # each pass snaps at most one constant
        changed = False
        for f in sorted(expr.atoms(sp.Float), key=lambda a: -abs(float(a))):
            if time.process_time() > deadline:
                return expr
            for target in _decimals(float(f)):
                cand = expr.xreplace({f: target})
                if cand.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                    continue
                try:
                    if cand.atoms(sp.Float):
                        cand, loss = fit_constants(cand, X, y, max_nfev=20)
                    else:
                        loss = mse(y, compile_expr(cand, X.shape[1])(X, ()))
                except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                    continue
                if loss <= tol:
                    expr, changed = cand, True
                    break
            if changed:
                break
        if not changed:
            break
    return expr


def polish_front(
    exprs: Sequence[sp.Expr],
    names: Sequence[str],
    X: np.ndarray,
    y: np.ndarray,
    error: float,
    *,
    seconds: float,
    seed: int = 0,
) -> tuple[list[tuple[int, float, sp.Expr]], int]:
    """Snap each equation's constants within ``error`` and choose the best with that loss floor.

    Parameters
    ----------
    exprs : sequence of sympy.Expr
        Equations in the symbols ``names`` (a front, simplest first).
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
        The (estimated) derivative.
    error : float
        Estimated mean squared error of ``y`` (0 for measured derivatives).
    seconds : float
        CPU budget of the snapping (equations left unsnapped when it runs out).

    Returns
    -------
    front : list of (complexity, loss, expr)
        The non-dominated equations, by increasing complexity, in the symbols ``names``.
    best : int
        The chosen row of ``front``.
    """
    xs = symbols_for(len(names))
    inward = {sp.Symbol(n): x for n, x in zip(names, xs, strict=True)}
    outward = {x: sp.Symbol(n) for n, x in zip(names, xs, strict=True)}
    rows = np.random.default_rng(seed).choice(len(y), size=min(len(y), 1000), replace=False)
    Xr, yr = X[rows], y[rows]
    var = float(np.var(y)) or 1.0
    deadline = time.process_time() + seconds
    entries: dict[str, tuple[int, float, sp.Expr]] = {}
    for shown in exprs:  # the snapped equation replaces the original: it is as good, within the error
        cand = _snapped(shown.xreplace(inward), Xr, yr, error, var, deadline)
        try:
            loss = mse(y, compile_expr(cand, X.shape[1])(X, ()))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if math.isfinite(loss):
            entries.setdefault(str(cand), (complexity(cand), loss, cand))
    found = list(entries.values())
    front = sorted((found[i] for i in pareto([(c, loss) for c, loss, _ in found])), key=lambda e: e[0])
    floor = max(2.0 * error, 1e-12 * var, 1e-300)  # the true equation's loss is about the error
    best = select_best([c for c, _, _ in front], [loss for _, loss, _ in front], floor)
    return [(c, loss, e.xreplace(outward)) for c, loss, e in front], best


def _snapped(
    expr: sp.Expr, X: np.ndarray, y: np.ndarray, error: float, var: float, deadline: float
) -> sp.Expr:
    if not expr.atoms(sp.Float) or time.process_time() > deadline:
        return expr
    try:
        base = mse(y, compile_expr(expr, X.shape[1])(X, ()))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return expr
    if not math.isfinite(base):
        return expr
    return _snap(expr, X, y, base * (1 + 1e-4) + 1e-10 * var + error, deadline)


def decimal_text(expr: sp.Expr, digits: int = 6) -> str:
    """``expr`` as text with fractions other than halves written as decimals (``0.075*y``, not
    ``3*y/40``), exponents kept (``sqrt(x)``), other constants to ``digits`` digits."""

    def walk(e: sp.Expr) -> sp.Expr:
        if e.is_Pow:
            return sp.Pow(walk(e.base), e.exp)
        if e.is_Rational and not e.is_Integer and e.q > 2:
            return sp.Float(e, digits)
        if e.args:
            return e.func(*[walk(a) for a in e.args])
        return e

    return str(round_floats(walk(expr), digits))
