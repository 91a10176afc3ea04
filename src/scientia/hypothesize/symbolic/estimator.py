"""``EquationSearch``: symbolic regression as a scikit-learn estimator.

The search runs one engine (:data:`~scientia.hypothesize.symbolic.engines.engines`) for a CPU-time
budget, collects the candidates of its Pareto front as it goes, then polishes a shortlist:
SymPy simplification, constants by Levenberg–Marquardt (or BFGS) in double precision, constants
snapped to simple numbers when that costs no accuracy, a units check, and the non-dominated
complexity–loss front. With ``decompose=True`` a neural surrogate first looks for a separable
split of the inputs (:mod:`~scientia.hypothesize.symbolic.decompose`); the parts are searched on
their own and their combinations join the candidates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp
from sklearn.base import BaseEstimator, RegressorMixin

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.hypothesize.symbolic import decompose as D
from scientia.hypothesize.symbolic import units as U
from scientia.hypothesize.symbolic.engines import CpuClock, SearchProblem, engines
from scientia.hypothesize.symbolic.expressions import (
    DEFAULT_OPERATORS,
    check_operators,
    compile_expr,
    complexity,
    round_floats,
    symbols_for,
)
from scientia.hypothesize.symbolic.front import (
    CandidatePool,
    Equation,
    pareto,
    refine,
    select_best,
    simplified,
)
from scientia.seeding import Seed, child_seeds, rng

__all__ = ["DEFAULT_ENGINE", "EquationSearch", "SearchProgress"]

DEFAULT_ENGINE = "operon"


@dataclass(frozen=True)
class SearchProgress:
    """What a progress callback receives while the engine runs.

    Attributes
    ----------
    elapsed : float
        CPU seconds spent by the search so far.
    front : pandas.DataFrame
        The current (unpolished) front: columns ``complexity``, ``loss``, ``equation``.
    """

    elapsed: float
    front: pd.DataFrame


Callback = Callable[[SearchProgress], Any]


class EquationSearch(RegressorMixin, BaseEstimator):
    """Discover equations ``y = f(X)``: a Pareto front of complexity versus loss.

    Parameters
    ----------
    engine : {"operon", "gp", "rl", "hybrid"} or a registered name
        ``operon`` is the C++ Operon engine (``pip install 'scientia[sr]'``); ``gp`` our NumPy
        genetic programming; ``rl`` deep symbolic regression (a PyTorch policy trained by
        risk-seeking policy gradient); ``hybrid`` the policy seeding ``gp``. See
        :mod:`scientia.hypothesize.symbolic` for how they compare.
    time_limit : float
        CPU seconds given to the engine. Polishing the front afterwards has its own budget of
        ``max(2, 0.2 * time_limit)`` CPU seconds (one SymPy ``simplify`` may overrun it).
    generations : int, optional
        Stop after this many generations instead (still bounded by ``time_limit``); with a fixed
        count the same ``seed`` gives the same front.
    operators : sequence of str
        From ``add sub mul div pow square sqrt exp log sin cos tan tanh asin acos atan abs``.
    max_complexity : int
        Largest expression the engine builds (in its own node count).
    dimensionless : bool
        Search in Buckingham-π groups of the inputs (needs ``units`` for every variable and the
        target) and map the result back.
    decompose : bool
        Look for an additively or multiplicatively separable split of the inputs with a fitted
        neural surrogate (AI Feynman's test); if one holds, spend half the budget searching the
        parts (recursively, two levels) and add their combinations to the candidates.
    optimizer : {"lm", "bfgs"}
        How the front's constants are polished.
    simplify : bool
        Simplify the front's expressions with SymPy.
    selection : {"best", "accuracy"}
        How :attr:`best_` is chosen: PySR's score (the steepest drop of log-loss per unit of
        complexity among the equations within 1.5x of the lowest loss) or the lowest loss.
    engine_options : dict, optional
        Keyword arguments for the engine's constructor.
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    equations_ : pandas.DataFrame
        The Pareto front sorted by complexity: ``complexity``, ``loss`` (training MSE), ``r2``,
        ``equation`` (str) and ``sympy`` (expression in the variables' names).
    best_ : Equation
        The selected equation; ``best_index_`` is its row in ``equations_``.
    feature_names_in_ : ndarray of str
    target_name_ : str
    pi_groups_ : PiGroups or None
        The reduction used when ``dimensionless=True``.
    split_ : Split or None
        The separable split found when ``decompose=True`` (columns of the searched inputs).
    search_seconds_ : float
        CPU seconds used by the engine; ``fit_seconds_`` includes polishing.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(1, 3, size=(200, 2))
    >>> model = EquationSearch(engine="gp", time_limit=5, seed=0).fit(X, 2.5 * X[:, 0] * X[:, 1] ** 2)
    >>> print(model.best_.sympy)  # doctest: +SKIP
    5*x0*x1**2/2
    """

    def __init__(
        self,
        engine: str = DEFAULT_ENGINE,
        time_limit: float = 60.0,
        generations: int | None = None,
        operators: Sequence[str] = DEFAULT_OPERATORS,
        max_complexity: int = 30,
        dimensionless: bool = False,
        decompose: bool = False,
        optimizer: str = "lm",
        simplify: bool = True,
        selection: str = "best",
        engine_options: Mapping[str, Any] | None = None,
        seed: Seed = None,
    ) -> None:
        self.engine = engine
        self.time_limit = time_limit
        self.generations = generations
        self.operators = operators
        self.max_complexity = max_complexity
        self.dimensionless = dimensionless
        self.decompose = decompose
        self.optimizer = optimizer
        self.simplify = simplify
        self.selection = selection
        self.engine_options = engine_options
        self.seed = seed

    # -- inputs ----------------------------------------------------------------------------
    def _validate(self) -> None:
        if self.optimizer not in ("lm", "bfgs"):
            raise ConfigError(f"optimizer must be 'lm' or 'bfgs', got {self.optimizer!r}")
        if self.selection not in ("best", "accuracy"):
            raise ConfigError(f"selection must be 'best' or 'accuracy', got {self.selection!r}")
        if not self.time_limit > 0:
            raise ConfigError(f"time_limit must be positive (CPU seconds), got {self.time_limit!r}")
        if int(self.max_complexity) < 3:
            raise ConfigError(f"max_complexity must be at least 3, got {self.max_complexity!r}")

    @staticmethod
    def _matrix(X: Any, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
        if isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns] if names is None else list(names)
            bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            if bad:
                raise ValidationError(f"column {bad[0]!r} is not numeric")
        arr = np.array(X, dtype=float, copy=True)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValidationError(f"X must have shape (n, d) with d >= 1, got {arr.shape}")
        names = [f"x{i}" for i in range(arr.shape[1])] if names is None else list(names)
        if len(names) != arr.shape[1] or len(set(names)) != len(names):
            raise ValidationError(f"need {arr.shape[1]} distinct variable names, got {names}")
        return arr, names

    def _units(
        self, units: Mapping[str, Any], names: list[str], target: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        known = [*names, target]
        for key in units:
            if key not in known:
                raise UnknownNameError(f"units given for unknown variable {key!r}{_dym(key, known)}")
        missing = [n for n in names if n not in units]
        if missing:
            raise ValidationError(f"units missing for variable {missing[0]!r} (give '1' if dimensionless)")
        dims = np.stack([U.as_dims(units[n]) for n in names])
        return dims, (U.as_dims(units[target]) if target in units else None)

    # -- fit -------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        units: Mapping[str, Any] | None = None,
        variable_names: Sequence[str] | None = None,
        callback: Callback | None = None,
    ) -> EquationSearch:
        """Search equations for ``y`` from the columns of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
        y : array-like or Series of shape (n,)
            A Series' name is the target's name (else ``"y"``).
        units : mapping of str to str or sequence of float, optional
            Units of each variable (and of the target, by name): a string such as ``"m/s^2"`` or
            a vector of exponents over ``m kg s A K mol cd``. Candidates that are not
            dimensionally consistent are left out of the front.
        variable_names : sequence of str, optional
            Names of the columns (default: DataFrame columns, else ``x0 … x{d-1}``).
        callback : callable, optional
            Called with a :class:`SearchProgress` whenever the engine's front improves; a True
            return value stops the search early.
        """
        self._validate()
        start_cpu = time.process_time()
        ops = check_operators(self.operators)
        Xa, names = self._matrix(X, variable_names)
        target = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
        ya = np.array(y, dtype=float, copy=True).reshape(-1)
        if len(ya) != len(Xa) or len(ya) < 3:
            raise ValidationError(f"X has {len(Xa)} rows and y {len(ya)}; need the same number, at least 3")
        if not (np.all(np.isfinite(Xa)) and np.all(np.isfinite(ya))):
            raise ValidationError("X and y must be finite (no NaN or infinity)")
        dims, tdims = self._units(units, names, target) if units else (None, None)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.target_name_ = target
        xs = symbols_for(len(names))
        var_dims = dict(zip(xs, dims, strict=True)) if dims is not None else None
        check = (lambda e: U.is_consistent(e, var_dims, tdims)) if var_dims is not None else None

        engine_seed, data_seed = child_seeds(self.seed, 2)
        self.pi_groups_ = None
        map_back = None
        Xs, ys, inner_dims, inner_tdims = Xa, ya, dims, tdims
        if self.dimensionless:
            if dims is None or tdims is None:
                raise ValidationError("dimensionless=True needs units for every variable and the target")
            pi = U.buckingham_pi(dims, tdims, names)
            self.pi_groups_ = pi
            scale = pi.scale_values(Xa)
            Xs, ys = pi.transform(Xa), ya / scale
            if not (np.all(np.isfinite(Xs)) and np.all(np.isfinite(ys))):
                raise ValidationError("the dimensionless groups are not finite on this data (zeros?)")
            inner_dims, inner_tdims = np.zeros((pi.n_groups, 7)), np.zeros(7)
            groups, prefactor = pi.group_exprs(xs), pi.scale_expr(xs)
            inner = symbols_for(pi.n_groups)
            map_back = lambda e: prefactor * e.xreplace(dict(zip(inner, groups, strict=True)))  # noqa: E731

        gen = rng(data_seed)
        quick = gen.choice(len(ya), size=min(len(ya), 1000), replace=False)
        pool = CandidatePool(Xa[quick], ya[quick], map_back=map_back, check=check)
        self._search_cpu = time.process_time()

        def report(exprs: Sequence[sp.Expr]) -> bool:
            changed = pool.add(exprs)
            if callback is None or not changed:
                return False
            return bool(callback(SearchProgress(time.process_time() - self._search_cpu, self._frame(pool))))

        self.split_: D.Split | None = None
        budget = float(self.time_limit)
        if Xs.shape[1] == 0:  # every variable is in the prefactor: y = c * prefactor
            pool.add([sp.Float(float(np.mean(ys)))])
        else:
            if self.decompose and Xs.shape[1] >= 2:
                clock = CpuClock()
                report(self._decomposed(Xs, ys, ops, 0.5 * budget, engine_seed))
                budget = max(0.5, budget - clock())
            problem = SearchProblem(
                Xs, ys, ops, int(self.max_complexity), dims=inner_dims, target_dims=inner_tdims
            )
            eng = engines.create(self.engine, **dict(self.engine_options or {}))
            final = eng.search(
                problem,
                time_limit=budget,
                generations=self.generations,
                seed=engine_seed,
                report=report,
            )
            pool.add(final)
        self.search_seconds_ = time.process_time() - self._search_cpu
        self._finish(pool, Xa, ya, check, gen)
        self.fit_seconds_ = time.process_time() - start_cpu
        return self

    def _decomposed(
        self, X: np.ndarray, y: np.ndarray, ops: tuple[str, ...], budget: float, seed: Seed, depth: int = 0
    ) -> list[sp.Expr]:
        """Candidates built from separable parts (nothing when no split holds), in ``budget`` CPU s."""
        clock = CpuClock()
        s_fit, s_split, s_left, s_right = child_seeds(seed, 4)
        split = D.find_split(D.fit_surrogates(X, y, s_fit), X, s_split)
        if split is None:
            return []
        if depth == 0:
            self.split_ = split
        (XL, yL), (XR, yR), anchor = D.part_data(split, X)
        parts = []
        for (Xp, yp), s, share in (((XL, yL), s_left, 0.5), ((XR, yR), s_right, 1.0)):
            part_clock, part_budget = CpuClock(), max(0.5, share * (budget - clock()))
            s_sub, s_eng = child_seeds(s, 2)
            found: list[sp.Expr] = []
            if depth < 1 and Xp.shape[1] > 1:  # a part may split again (e.g. a product of three)
                found = self._decomposed(Xp, yp, ops, 0.5 * part_budget, s_sub, depth + 1)
            eng = engines.create(self.engine, **dict(self.engine_options or {}))
            problem = SearchProblem(Xp, yp, ops, int(self.max_complexity))
            limit = max(0.5, part_budget - part_clock())
            found += eng.search(
                problem, time_limit=limit, generations=self.generations, seed=s_eng, report=None
            )
            parts.append(_part_front(found, Xp, yp, 8))
        syms = symbols_for(X.shape[1])
        return [D.combine(split, g, h, anchor, syms) for g in parts[0] for h in parts[1]]

    def _frame(self, pool: CandidatePool) -> pd.DataFrame:
        rows = [
            {"complexity": c, "loss": loss, "equation": str(round_floats(self._display(e), 6))}
            for c, loss, e in pool.front()
        ]
        return pd.DataFrame(rows, columns=["complexity", "loss", "equation"])

    def _display(self, expr: sp.Expr) -> sp.Expr:
        xs = symbols_for(self.n_features_in_)
        return expr.xreplace({x: sp.Symbol(n) for x, n in zip(xs, self.feature_names_in_, strict=True)})

    def _finish(
        self,
        pool: CandidatePool,
        X: np.ndarray,
        y: np.ndarray,
        check: Callable[[sp.Expr], bool] | None,
        gen: np.random.Generator,
    ) -> None:
        rows = gen.choice(len(y), size=min(len(y), 1000), replace=False)
        Xr, yr = X[rows], y[rows]

        def full_loss(e: sp.Expr) -> float:  # nan for what cannot be evaluated: left out below
            try:
                return float(np.mean((y - compile_expr(e, X.shape[1])(X, ())) ** 2))
            except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
                return math.nan

        # polishing gets a CPU budget of its own: refining (60%) then simplifying, simplest first
        start = time.process_time()
        budget = max(2.0, 0.2 * float(self.time_limit))
        refined: dict[str, tuple[int, float, sp.Expr]] = {}
        for expr in pool.shortlist():
            if time.process_time() - start < 0.6 * budget:
                out = refine(expr, Xr, yr, method=self.optimizer, check=check)
            else:  # out of time: keep the engine's expression as it is
                out = (expr, 0.0)
            if out is not None and str(out[0]) not in refined:
                loss = full_loss(out[0])
                if math.isfinite(loss):
                    refined[str(out[0])] = (complexity(out[0]), loss, out[0])
        if not refined:
            raise ValidationError(
                "the search found no valid equation (every candidate failed the units check or "
                "could not be evaluated); check the units or give the search more time"
            )
        front = list(refined.values())
        front = [front[i] for i in pareto([(c, loss) for c, loss, _ in front])]
        if self.simplify:  # SymPy's simplify is slow: only on the front, within the budget
            for _, loss, e in list(front):
                if time.process_time() - start > budget:
                    break
                new = simplified(e, max_complexity=30)
                if new != e and (check is None or check(new)):
                    new_loss = full_loss(new)
                    if math.isfinite(new_loss) and new_loss <= loss * (1 + 1e-9) + 1e-14 * float(np.var(y)):
                        front.append((complexity(new), new_loss, new))
            front = [front[i] for i in pareto([(c, loss) for c, loss, _ in front])]
        keep = front
        var = float(np.var(y)) or 1.0
        self._exprs = [e for _, _, e in keep]
        self.equations_ = pd.DataFrame(
            {
                "complexity": [c for c, _, _ in keep],
                "loss": [loss for _, loss, _ in keep],
                "r2": [1.0 - loss / var for _, loss, _ in keep],
                "equation": [str(round_floats(self._display(e), 6)) for e in self._exprs],
                "sympy": [self._display(e) for e in self._exprs],
            }
        )
        losses = self.equations_["loss"].to_numpy()
        if self.selection == "accuracy":
            self.best_index_ = int(np.argmin(losses))
        else:
            floor = max(1e-12 * var, 1e-300)
            self.best_index_ = select_best(self.equations_["complexity"].tolist(), losses.tolist(), floor)
        row = self.equations_.iloc[self.best_index_]
        self.best_ = Equation(int(row.complexity), float(row.loss), float(row.r2), row.equation, row.sympy)

    # -- use -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "equations_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this EquationSearch is not fitted yet; call fit(X, y) first")

    def _row(self, index: int | None) -> int:
        self._check_fitted()
        if index is None:
            return self.best_index_
        n = len(self._exprs)
        if not -n <= index < n:
            raise ValidationError(f"equation index {index} out of range; the front has {n} equations")
        return index % n

    def predict(self, X: Any, index: int | None = None) -> np.ndarray:
        """Predictions of the best equation (or row ``index`` of the front) for ``X`` ``(n, d)``."""
        i = self._row(index)
        Xa = np.asarray(X, dtype=float).reshape(len(X), -1)
        if Xa.shape[1] != self.n_features_in_:
            raise ValidationError(
                f"X has {Xa.shape[1]} columns; the model was fitted on {self.n_features_in_}"
            )
        fns = self.__dict__.setdefault("_fns", {})
        if i not in fns:
            fns[i] = compile_expr(self._exprs[i], self.n_features_in_)
        return np.array(fns[i](Xa, ()), dtype=float)

    def sympy(self, index: int | None = None) -> sp.Expr:
        """The best equation (or row ``index``) as a SymPy expression in the variables' names."""
        return self.equations_["sympy"].iloc[self._row(index)]

    def latex(self, index: int | None = None, precision: int = 3) -> str:
        """LaTeX of the best equation (or row ``index``), constants to ``precision`` digits."""
        from scientia.hypothesize.symbolic.export import latex

        return latex(self.sympy(index), precision)

    def torch_module(self, index: int | None = None, dtype: Any = None) -> Any:
        """A differentiable ``torch.nn.Module`` ``X (n, d) -> (n,)`` with the fitted constants as
        parameters (see :func:`~scientia.hypothesize.symbolic.export.torch_module`)."""
        from scientia.hypothesize.symbolic.export import torch_module

        i = self._row(index)
        return torch_module(self._exprs[i], symbols_for(self.n_features_in_), dtype=dtype)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fns", None)  # compiled functions do not pickle; rebuilt on demand
        return state


def _part_front(exprs: Sequence[sp.Expr], X: np.ndarray, y: np.ndarray, k: int) -> list[sp.Expr]:
    """Up to ``k`` expressions spread along the complexity–loss front of ``exprs`` on ``(X, y)``.

    A part's data come from a surrogate, accurate to about a percent: the lowest loss there is
    often an overfit, and the simpler members of the front are kept as well.
    """
    scored: dict[str, tuple[int, float, sp.Expr]] = {}
    for e in exprs:
        try:
            with np.errstate(all="ignore"):
                loss = float(np.mean((compile_expr(e, X.shape[1])(X, ()) - y) ** 2))
        except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
            continue
        if math.isfinite(loss):
            scored.setdefault(str(e), (complexity(e), loss, e))
    entries = list(scored.values())
    front = sorted((entries[i] for i in pareto([(c, loss) for c, loss, _ in entries])), key=lambda t: t[0])
    picks = np.unique(np.linspace(0, len(front) - 1, min(k, len(front))).round().astype(int))
    return [front[i][2] for i in picks] if front else []


def _dym(name: str, known: Sequence[str]) -> str:
    from scientia.errors import did_you_mean

    return did_you_mean(name, known)
