"""Scoring a discovered equation against the truth, as SRBench does.

:func:`is_symbolic_solution` follows La Cava et al. (2021): a model is a symbolic solution if, once
simplified, it differs from the true expression only by an additive or a multiplicative constant —
``simplify(model - truth)`` is a constant, or ``simplify(model / truth)`` is a non-zero constant.
A numerical screen on random points runs first so that SymPy's (slow) simplification is only asked
to confirm what the numbers already suggest.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from scientia.hypothesize.symbolic._limits import call_with_limit

__all__ = ["is_symbolic_solution", "r2_score"]


def _plain(expr: sp.Expr | str) -> sp.Expr:
    """``expr`` with every symbol replaced by an assumption-free symbol of the same name."""
    expr = sp.sympify(expr)
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


def _screen(model: sp.Expr, truth: sp.Expr, seed: int = 0, n: int = 64) -> bool:
    """False when, on random points, neither the difference nor the ratio is near-constant."""
    syms = sorted(model.free_symbols | truth.free_symbols, key=lambda s: s.name)
    if not syms:
        return True
    gen = np.random.default_rng(seed)
    pts = gen.uniform(0.5, 3.0, size=(n, len(syms)))
    try:
        fm = sp.lambdify(syms, model, modules="numpy")
        ft = sp.lambdify(syms, truth, modules="numpy")
        with np.errstate(all="ignore"):
            m = np.broadcast_to(np.asarray(fm(*pts.T), dtype=complex), (n,))
            t = np.broadcast_to(np.asarray(ft(*pts.T), dtype=complex), (n,))
    except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
        return True  # let SymPy decide
    ok = np.isfinite(m) & np.isfinite(t) & (np.abs(m.imag) < 1e-12) & (np.abs(t.imag) < 1e-12)
    if ok.sum() < 8:
        return True
    m, t = m.real[ok], t.real[ok]
    scale = float(np.mean(np.abs(t))) or 1.0
    diff = m - t
    if float(np.std(diff)) <= 1e-6 * scale:
        return True
    nz = np.abs(t) > 1e-12 * scale
    if nz.sum() >= 8:
        ratio = m[nz] / t[nz]
        if float(np.std(ratio)) <= 1e-6 * max(float(np.mean(np.abs(ratio))), 1e-300):
            return True
    return False


def _constant(expr: sp.Expr) -> bool:
    return not expr.free_symbols and expr.is_finite is not False and not expr.has(sp.nan, sp.zoo)


def is_symbolic_solution(model: sp.Expr | str, truth: sp.Expr | str, seconds: float = 10.0) -> bool:
    """True if ``model`` equals ``truth`` up to an additive or a multiplicative constant.

    Each SymPy simplification gets at most ``seconds``; a check that cannot be decided in time
    counts as not solved.

    Parameters
    ----------
    model, truth : sympy.Expr or str
        Symbols are matched by name.

    Examples
    --------
    >>> is_symbolic_solution("3.1*x*y**2", "x*y**2")
    True
    >>> is_symbolic_solution("x*y**2 + 0.5", "x*y**2")
    True
    >>> is_symbolic_solution("x*y**3", "x*y**2")
    False
    """
    m, t = _plain(model), _plain(truth)
    if not _screen(m, t):
        return False
    try:  # each simplification is bounded: an undecided check counts as not solved
        diff = call_with_limit(lambda: sp.simplify(m - t), seconds, None)
        if diff is not None and _constant(diff):
            return True
        if t == 0:
            return False
        ratio = call_with_limit(lambda: sp.simplify(m / t), seconds, None)
        return ratio is not None and _constant(ratio) and ratio != 0
    except (TypeError, ValueError, RecursionError, ZeroDivisionError):  # pragma: no cover
        return False


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination; ``-inf`` when a prediction is not finite."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if not np.all(np.isfinite(y_pred)):
        return -math.inf
    ss_res = float(np.sum((y_true - y_pred) ** 2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else -math.inf)
