"""The complexity–loss Pareto front: collecting candidates, refining them, choosing the best.

:class:`CandidatePool` receives the engines' fronts while they run: it maps each expression back to
the original variables, scores it quickly on a subset of rows, checks its units, and keeps the
distinct ones. :func:`refine` then polishes a shortlist (SymPy simplification, constants by LM or
BFGS, snapping constants to simple numbers) and :func:`pareto` keeps the non-dominated equations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from scientia.hypothesize.symbolic._limits import call_with_limit
from scientia.hypothesize.symbolic.expressions import (
    compile_expr,
    complexity,
    fit_constants,
    fold_constants,
    mse,
    round_floats,
    snap_constants,
)

__all__ = ["CandidatePool", "Equation", "pareto", "refine", "select_best", "simplified"]


@dataclass(frozen=True)
class Equation:
    """One equation of the front.

    Attributes
    ----------
    complexity : int
        Size of the expression (see :func:`~scientia.hypothesize.symbolic.expressions.complexity`).
    loss : float
        Mean squared error on the training data.
    r2 : float
        Coefficient of determination on the training data.
    equation : str
        The expression in the variables' names, constants rounded to 6 significant digits.
    sympy : sympy.Expr
        The expression in the variables' names, constants at full precision.
    """

    complexity: int
    loss: float
    r2: float
    equation: str
    sympy: sp.Expr


def pareto(points: Sequence[tuple[int, float]]) -> list[int]:
    """Indices of the non-dominated ``(complexity, loss)`` points, by increasing complexity.

    Along the result complexity strictly increases and loss strictly decreases; among equal points
    the first wins.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1], i))
    out: list[int] = []
    best = math.inf
    for i in order:
        c, loss = points[i]
        if loss < best and (not out or c > points[out[-1]][0]):
            out.append(i)
            best = loss
    return out


def select_best(complexities: Sequence[int], losses: Sequence[float], floor: float) -> int:
    """PySR's rule: among equations within 1.5x of the lowest loss, the largest drop in
    log-loss per unit of complexity; losses are floored at ``floor`` (numerical precision)."""
    loss = np.maximum(np.asarray(losses, dtype=float), floor)
    c = np.asarray(complexities, dtype=float)
    scores = np.zeros(len(loss))
    for i in range(1, len(loss)):
        scores[i] = -(math.log(loss[i]) - math.log(loss[i - 1])) / max(c[i] - c[i - 1], 1.0)
    ok = loss <= 1.5 * loss.min()
    scores[~ok] = -math.inf
    return int(np.argmax(scores))


class CandidatePool:
    """Distinct candidate expressions with a quick loss, complexity and units flag.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Original inputs (a subset of rows is enough).
    y : ndarray of shape (n,)
    map_back : callable, optional
        Turns an engine expression (in the engine's inputs) into one in the original variables.
    check : callable, optional
        Units check on an expression in the original variables.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        map_back: Callable[[sp.Expr], sp.Expr] | None = None,
        check: Callable[[sp.Expr], bool] | None = None,
    ) -> None:
        self.X, self.y = X, y
        self.map_back = map_back
        self.check = check
        self.entries: dict[str, tuple[int, float, sp.Expr]] = {}
        self._seen: set[str] = set()

    def add(self, exprs: Sequence[sp.Expr]) -> bool:
        """Add an engine's expressions; True if the progress front changed."""
        before = self.front_keys()
        for raw in exprs:
            key = str(raw)
            if key in self._seen:
                continue
            self._seen.add(key)
            expr = self.map_back(raw) if self.map_back is not None else raw
            if not isinstance(expr, sp.Expr) or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
                continue
            if self.check is not None and not self.check(expr):
                continue
            try:
                loss = mse(self.y, compile_expr(expr, self.X.shape[1])(self.X, ()))
            except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
                continue
            if math.isfinite(loss):
                self.entries[str(expr)] = (complexity(expr), loss, expr)
        return self.front_keys() != before

    def front_keys(self) -> list[str]:
        keys = list(self.entries)
        return [keys[i] for i in pareto([self.entries[k][:2] for k in keys])]

    def front(self) -> list[tuple[int, float, sp.Expr]]:
        """The non-dominated ``(complexity, loss, expr)`` seen so far."""
        return [self.entries[k] for k in self.front_keys()]

    def shortlist(self, layers: int = 2, max_size: int = 40) -> list[sp.Expr]:
        """Expressions of the first ``layers`` non-dominated layers (at most ``max_size``),
        the first layer first, each by increasing complexity."""
        rest = dict(self.entries)
        out: list[sp.Expr] = []
        for _ in range(layers):
            keys = list(rest)
            layer = [keys[i] for i in pareto([rest[k][:2] for k in keys])]
            out.extend(rest.pop(k)[2] for k in layer)
            if not rest:
                break
        return out[:max_size]


def simplified(expr: sp.Expr, max_complexity: int = 40, seconds: float = 2.0) -> sp.Expr:
    """SymPy's ``simplify`` when the expression is small enough, it does not grow, and it
    finishes within ``seconds`` (trigonometric simplification can otherwise take minutes)."""
    size = complexity(expr)
    if size > max_complexity:
        return expr
    try:
        new = call_with_limit(lambda: sp.simplify(expr), seconds, expr)
    except (TypeError, ValueError, RecursionError, ZeroDivisionError):  # pragma: no cover
        return expr
    if isinstance(new, sp.Expr) and complexity(new) <= size and not new.has(sp.zoo, sp.nan, sp.I):
        return new
    return expr


def refine(
    expr: sp.Expr,
    X: np.ndarray,
    y: np.ndarray,
    *,
    method: str = "lm",
    check: Callable[[sp.Expr], bool] | None = None,
) -> tuple[sp.Expr, float] | None:
    """Fit the constants, fold near-constant sub-expressions and snap constants to simple numbers.

    Returns the expression and its MSE on ``(X, y)``, or None if the result fails ``check`` or
    cannot be evaluated.
    """
    try:
        expr, loss = fit_constants(expr, X, y, method=method)
        if not math.isfinite(loss) or (check is not None and not check(expr)):
            return None
        tol = 1e-10 * float(np.var(y))
        folded = fold_constants(expr, X)
        if folded != expr:
            cand, new = fit_constants(folded, X, y, method=method)
            if new <= loss * (1 + 1e-4) + tol and (check is None or check(cand)):
                expr, loss = cand, new
        # pull common numeric factors out of sums and products: c1*x*(c2*a - c2*b)/(c3*y + c3*z)
        # becomes one constant times x*(a - b)/(y + z), which snapping can then recognise
        merged = sp.factor_terms(round_floats(expr, 9))  # refitted constants differ in the last digits
        if merged != expr and len(merged.atoms(sp.Float)) < len(expr.atoms(sp.Float)):
            cand, new = fit_constants(merged, X, y, method=method)
            if new <= loss * (1 + 1e-6) + tol and (check is None or check(cand)):
                expr, loss = cand, new
        return snap_constants(expr, X, y, loss, accept=check)
    except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
        return None
