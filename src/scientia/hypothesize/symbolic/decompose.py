"""Separable structure found with a fitted neural surrogate, as AI Feynman does.

Udrescu & Tegmark (Science Advances 2020) fit a neural network ``f̂ ≈ f`` to the data and ask it
questions the data alone cannot answer, because it can be evaluated anywhere. A split of the
inputs into parts ``A`` and ``B`` is

* **additively separable**, ``f = g(x_A) + h(x_B)``, when ``f(a, b) + f(a', b') = f(a, b') + f(a', b)``
  for all pairs of points, and
* **multiplicatively separable**, ``f = g(x_A) · h(x_B)``, when the same holds for ``log |f|``.

When a split holds, each part is a smaller problem that an engine solves far more often: its data
are the surrogate's values with the other part held at its median, ``g(x_A) = f̂(x_A, b̄)``. The
parts' equations are combined (``g + h − f̂(ā, b̄)`` or ``g · h / f̂(ā, b̄)``) and their constants
refitted on the real data by the estimator, like every other candidate.

Why our own: neither Operon nor PySR looks for separability, and AI Feynman's code (Fortran and
scripts driving it) does not install as a library. The surrogate is scikit-learn's
``MLPRegressor``; the tests are a few hundred surrogate evaluations per split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np
import sympy as sp

from scientia.seeding import Seed, rng

__all__ = ["Split", "Surrogate", "combine", "find_split", "fit_surrogates", "part_data"]


@dataclass(frozen=True)
class Surrogate:
    """A fitted smooth stand-in for ``f`` (``kind="add"``) or for ``log |f|`` (``kind="mul"``).

    Attributes
    ----------
    kind : {"add", "mul"}
        Which separability it tests: a product is a sum in ``log |f|``.
    model : callable
        ``model(X)`` of shape ``(n, d) -> (n,)``: ``f``, or ``log |f|``.
    sign : float
        The sign of ``f`` (``mul`` needs one sign throughout).
    relative_error : float
        Validation RMSE divided by the standard deviation of the fitted target (0 = perfect).
    """

    kind: Literal["add", "mul"]
    model: Callable[[np.ndarray], np.ndarray]
    sign: float
    relative_error: float

    def values(self, X: np.ndarray) -> np.ndarray:
        """The surrogate's ``f`` at ``X``."""
        out = self.model(X)
        return out if self.kind == "add" else self.sign * np.exp(out)


@dataclass(frozen=True)
class Split:
    """A separable split of the inputs.

    Attributes
    ----------
    kind : {"add", "mul"}
    left, right : tuple of int
        Input columns of each part (disjoint, together all columns).
    violation : float
        How far from exactly separable the surrogate is, relative to its spread (0 = exact).
    surrogate : Surrogate or None
        The surrogate that showed it (gives the parts' data).
    """

    kind: Literal["add", "mul"]
    left: tuple[int, ...]
    right: tuple[int, ...]
    violation: float
    surrogate: Surrogate | None = field(default=None, repr=False, compare=False)


def _mlp(
    X: np.ndarray, t: np.ndarray, gen: np.random.Generator
) -> tuple[Callable[[np.ndarray], np.ndarray], float]:
    """A small tanh MLP fitted to ``t`` (inputs and target standardised inside) and its relative
    validation error on the first fifth of the rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    mx, sx = X.mean(axis=0), X.std(axis=0) + 1e-12
    mt, st = float(t.mean()), float(t.std()) + 1e-12
    cut = max(1, len(t) // 5)
    net = MLPRegressor(
        hidden_layer_sizes=(64, 64),
        activation="tanh",
        learning_rate_init=3e-3,
        max_iter=400,
        tol=1e-7,
        n_iter_no_change=30,
        random_state=int(gen.integers(2**31)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit((X[cut:] - mx) / sx, (t[cut:] - mt) / st)

    def model(Z: np.ndarray) -> np.ndarray:
        return np.asarray(net.predict((np.asarray(Z, float) - mx) / sx), float) * st + mt

    return model, float(np.sqrt(np.mean((model(X[:cut]) - t[:cut]) ** 2)) / st)


def fit_surrogates(X: np.ndarray, y: np.ndarray, seed: Seed = None, max_rows: int = 2000) -> list[Surrogate]:
    """Surrogates for ``f`` and, when ``y`` keeps one sign, for ``log |f|`` (at most ``max_rows`` rows)."""
    gen = rng(seed)
    rows = gen.permutation(len(y))[:max_rows]
    X, y = np.asarray(X, float)[rows], np.asarray(y, float)[rows]
    model, err = _mlp(X, y, gen)
    out = [Surrogate("add", model, 1.0, err)]
    if np.all(y > 0) or np.all(y < 0):
        model, err = _mlp(X, np.log(np.abs(y)), gen)
        out.append(Surrogate("mul", model, float(np.sign(y[0])), err))
    return out


def _violation(model: Callable[[np.ndarray], np.ndarray], X: np.ndarray, left: tuple[int, ...],
               pairs: np.ndarray) -> float:  # fmt: skip
    """RMS of ``m(a,b) + m(a',b') − m(a,b') − m(a',b)`` over pairs of rows, relative to ``m``'s spread."""
    i, j = pairs.T
    cross1, cross2 = X[i].copy(), X[j].copy()
    cross1[:, left], cross2[:, left] = X[j][:, left], X[i][:, left]  # (a', b) and (a, b')
    vals = [model(Z) for Z in (X[i], X[j], cross1, cross2)]
    spread = float(np.std(np.concatenate(vals[:2])))
    if not spread > 0:
        return float("inf")
    e = vals[0] + vals[1] - vals[2] - vals[3]
    return float(np.sqrt(np.mean(e**2)) / spread)


def find_split(
    surrogates: Sequence[Surrogate], X: np.ndarray, seed: Seed = None, n_pairs: int = 400, max_inputs: int = 8
) -> Split | None:
    """The most separable split of the inputs, if any is separable within the surrogate's error.

    Every split into two non-empty parts is tried (for ``d <= max_inputs``) with every surrogate
    (sum, and product when ``f`` keeps one sign). A split counts when its violation is below
    ``max(4 × relative_error, 0.02)``: the four-point test adds four surrogate errors.
    """
    X = np.asarray(X, float)
    d = X.shape[1]
    if d < 2 or d > max_inputs:
        return None
    pairs = rng(seed).integers(0, len(X), size=(n_pairs, 2))
    best: Split | None = None
    for sur in surrogates:
        tol = max(4.0 * sur.relative_error, 0.02)
        for k in range(1, d // 2 + 1):
            for left in combinations(range(d), k):
                if 2 * k == d and 0 not in left:
                    continue  # the same split seen from the other side
                v = _violation(sur.model, X, left, pairs)
                if v < tol and (best is None or v < best.violation):
                    right = tuple(c for c in range(d) if c not in left)
                    best = Split(sur.kind, left, right, v, sur)
    return best


def part_data(
    split: Split, X: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], float]:
    """Data for each part (the surrogate with the other part at its median) and ``f̂(median)``.

    Returns
    -------
    (X_left, y_left), (X_right, y_right), anchor
        ``X_left`` holds only the left columns; ``anchor`` is the surrogate at the median point.
    """
    if split.surrogate is None:
        raise ValueError("the split carries no surrogate to give its parts' data")
    X = np.asarray(X, float)
    med = np.median(X, axis=0)
    out = []
    for part in (split.left, split.right):
        Z = np.broadcast_to(med, X.shape).copy()
        Z[:, part] = X[:, part]
        out.append((X[:, part], split.surrogate.values(Z)))
    anchor = float(split.surrogate.values(med[None, :])[0])
    return out[0], out[1], anchor


def combine(split: Split, left: sp.Expr, right: sp.Expr, anchor: float, symbols: list[sp.Symbol]) -> sp.Expr:
    """The whole equation from the parts' equations, each written in ``x0 … x{k-1}`` of its part."""
    loc = [sp.Symbol(f"x{i}") for i in range(max(len(split.left), len(split.right)))]
    g = left.xreplace({loc[i]: symbols[c] for i, c in enumerate(split.left)})
    h = right.xreplace({loc[i]: symbols[c] for i, c in enumerate(split.right)})
    if split.kind == "add":
        return g + h - sp.Float(anchor)
    return g * h / sp.Float(anchor) if anchor != 0 else g * h
