"""The Operon engine (C++, through ``pyoperon``): NSGA-II on accuracy and length, LM constants.

Operon is driven through its scikit-learn wrapper ``pyoperon.sklearn.SymbolicRegressor`` with
``objectives=["r2", "length"]`` (so it keeps a Pareto front), Levenberg–Marquardt local search on
the coefficients and one thread. The budget is run in short increments with ``warm_start=True``
(the population carries over): one wall-clock second each, or ``chunk`` generations when a
generation count is given, and the CPU time of this process is checked between increments. After
each increment its front is converted to SymPy from Operon's own infix format and reported.

Operon stores coefficients in single precision; the estimator re-fits them in double precision.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np
import sympy as sp

from scientia.errors import ConfigError
from scientia.hypothesize.symbolic.engines import CpuClock, Report, SearchProblem
from scientia.hypothesize.symbolic.expressions import symbols_for
from scientia.seeding import Seed, child_seeds, rng

__all__ = ["OperonEngine", "operon_to_sympy"]

_EXACT = 1e-9  # normalised MSE at which Operon's single-precision fit counts as exact
_MAX_FAILURES = 50  # failed pyoperon increments (non-finite front models) tolerated in one search

# our operator names -> Operon's symbol names
_SYMBOLS = {
    "add": "add",
    "sub": "sub",
    "mul": "mul",
    "div": "div",
    "pow": "pow",
    "square": "square",
    "sqrt": "sqrt",
    "exp": "exp",
    "log": "log",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
    "asin": "asin",
    "acos": "acos",
    "atan": "atan",
    "abs": "abs",
}
_SYMPY_NAMES = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "abs": sp.Abs,
    "cbrt": lambda a: sp.sign(a) * sp.Abs(a) ** sp.Rational(1, 3),
}


def operon_to_sympy(text: str, n_vars: int) -> sp.Expr | None:
    """Parse Operon's infix format (variables named ``x0 …``) into SymPy; None if it has NaN/inf."""
    from sympy.parsing.sympy_parser import parse_expr

    if re.search(r"\b(nan|inf)\b", text, re.I):
        return None
    local: dict[str, Any] = {f"x{i}": s for i, s in enumerate(symbols_for(n_vars))}
    local.update(_SYMPY_NAMES)
    expr = parse_expr(text.replace("^", "**"), local_dict=local, evaluate=True)
    return expr if isinstance(expr, sp.Expr) else None


class OperonEngine:
    """Operon's NSGA-II symbolic regression (see the module docstring).

    Parameters
    ----------
    population_size : int
    optimizer_iterations : int
        LM iterations on each offspring's coefficients.
    n_rows : int
        Rows (a fixed random subset) Operon trains on; its cost grows linearly with them and the
        front is refitted on more rows afterwards.
    increment : int
        Wall-clock seconds per warm-started increment (Operon's ``max_time`` is in whole seconds).
    chunk : int
        Generations per increment when the search is bounded by a generation count.
    options : dict, optional
        Further keyword arguments for ``pyoperon.sklearn.SymbolicRegressor``.
    """

    def __init__(
        self,
        population_size: int = 250,
        optimizer_iterations: int = 5,
        n_rows: int = 1000,
        increment: int = 1,
        chunk: int = 10,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.population_size = population_size
        self.optimizer_iterations = optimizer_iterations
        self.n_rows = n_rows
        self.increment = increment
        self.chunk = chunk
        self.options = options

    def _regressor(self, problem: SearchProblem, seed: int, generations: int | None) -> Any:
        try:
            from pyoperon.sklearn import SymbolicRegressor
        except ImportError:
            raise ConfigError(
                "the 'operon' engine needs pyoperon: pip install 'scientia[sr]' (or use engine='gp')"
            ) from None
        symbols = ["constant", "variable"] + [_SYMBOLS[name] for name in problem.operators]
        kwargs: dict[str, Any] = {
            "allowed_symbols": ",".join(symbols),
            "objectives": ["r2", "length"],
            "optimizer": "lm",
            "optimizer_iterations": self.optimizer_iterations,
            "max_length": problem.max_complexity,
            "max_depth": 12,
            "population_size": self.population_size,
            "pool_size": self.population_size,
            "generations": self.chunk if generations is not None else 10**9,
            "max_evaluations": 10**12,
            "max_time": self.increment if generations is None else 10**6,
            "n_threads": 1,
            "random_state": seed,
            "warm_start": True,
        }
        kwargs.update(self.options or {})
        return SymbolicRegressor(**kwargs)

    def search(
        self,
        problem: SearchProblem,
        *,
        time_limit: float,
        generations: int | None = None,
        seed: Seed = None,
        report: Report | None = None,
    ) -> list[sp.Expr]:
        """Run warm-started Operon increments until the CPU budget (or generation count) is spent."""
        clock = CpuClock()
        base_seed = child_seeds(seed, 1)[0]
        reg = self._regressor(problem, base_seed, generations)
        # writable copies: pyoperon's bindings reject read-only arrays (pandas' copy-on-write views)
        n = len(problem.y)
        rows = np.sort(rng(base_seed).choice(n, size=min(n, self.n_rows), replace=False))
        X = np.array(problem.X[rows], dtype=float, order="F", copy=True)
        y = np.array(problem.y[rows], dtype=float, copy=True)
        names: dict[int, str] | None = None
        self._parsed: dict[str, sp.Expr | None] = {}
        done_generations = increments = failures = 0
        last_key: tuple = ()
        stale = 0
        var = float(np.var(y)) or 1.0
        while True:
            if generations is not None:
                reg.set_params(generations=min(self.chunk, generations - done_generations))
            reg.set_params(random_state=(base_seed + increments) % 2**63)  # fresh randomness each time
            increments += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reg.fit(X, y)
            except ValueError:
                # pyoperon's post-processing rejects a front model that is not finite on the
                # training rows (a division by zero, say); the regressor keeps the population and
                # front of its last good increment, so go on from there with fresh randomness
                failures += 1
                if clock() >= time_limit or failures > _MAX_FAILURES:
                    break
                continue
            done_generations += int(reg.stats_.get("generations", 0))
            if names is None:
                names = {h: f"x{i}" for i, h in enumerate(reg.variables_)}
            front = self._front(reg, names, problem.n_features)
            best = min((m["mean_squared_error"] for m in reg.pareto_front_), default=math.inf)
            key = tuple((m["length"], float(f"{m['mean_squared_error']:.4g}")) for m in reg.pareto_front_)
            stale = stale + 1 if key == last_key else 0
            last_key = key
            done = clock() >= time_limit or (generations is not None and done_generations >= generations)
            done = done or (best / var < _EXACT and stale >= 3)
            if report is not None and report(front) and not done:
                break
            if done:
                break
        self.generations_ = done_generations
        if not hasattr(reg, "pareto_front_"):
            return []
        return self._front(reg, names or {}, problem.n_features, final=True)

    def _front(self, reg: Any, names: dict[int, str], n_vars: int, final: bool = False) -> list[sp.Expr]:
        """Operon's front in SymPy; models equal to 4 digits reuse an earlier parse (parsing is
        the slow part) except for the ``final`` front, parsed at full precision."""
        import pyoperon as op

        out = []
        for model in sorted(reg.pareto_front_, key=lambda m: m["length"]):
            key = op.InfixFormatter.Format(model["tree"], names, 4)
            expr = None if final else self._parsed.get(key)
            if expr is None:
                try:
                    expr = operon_to_sympy(op.InfixFormatter.Format(model["tree"], names, 17), n_vars)
                except (SyntaxError, TypeError, ValueError):  # pragma: no cover - defensive
                    expr = None
                self._parsed[key] = expr
            if expr is not None:
                out.append(expr)
        return out
