"""The engine interface of the equation search, and the registry of engines.

An engine searches expressions for one :class:`SearchProblem` within a CPU-time budget and
returns SymPy expressions in ``x0 … x{d-1}`` (fitted constants as ``Float``); everything after
that — constant polishing, simplification, units, the Pareto front — is shared and lives in
:class:`~scientia.hypothesize.symbolic.EquationSearch`.

Built-in engines (see :data:`engines`): ``"operon"`` (the C++ Operon engine through pyoperon),
``"gp"`` (our vectorised NumPy genetic programming), ``"rl"`` (deep symbolic regression: a PyTorch
policy trained by risk-seeking policy gradient) and ``"hybrid"`` (the policy seeds the GP
population). A third-party engine registers under the entry-point group
``scientia.equation_engines``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import sympy as sp

from scientia.registry import Registry
from scientia.seeding import Seed

__all__ = ["CpuClock", "Engine", "Report", "SearchProblem", "engines"]

Report = Callable[[Sequence[sp.Expr]], bool]
"""Called by an engine with its current front; returning True asks the engine to stop."""


@dataclass(frozen=True)
class SearchProblem:
    """What an engine is asked to fit.

    Attributes
    ----------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    operators : tuple of str
        Names from :data:`~scientia.hypothesize.symbolic.expressions.OPERATORS`.
    max_complexity : int
        Largest expression (engine-side size) worth returning.
    dims : ndarray of shape (d, 7), optional
        Dimension of each input over the SI base (engines may use it to penalise candidates).
    target_dims : ndarray of shape (7,), optional
    """

    X: np.ndarray
    y: np.ndarray
    operators: tuple[str, ...]
    max_complexity: int = 30
    dims: np.ndarray | None = None
    target_dims: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        """Number of input columns ``d``."""
        return int(self.X.shape[1])


@runtime_checkable
class Engine(Protocol):
    """A search engine: fills the front of one problem within a budget."""

    def search(
        self,
        problem: SearchProblem,
        *,
        time_limit: float,
        generations: int | None,
        seed: Seed,
        report: Report | None,
    ) -> list[sp.Expr]:
        """Search for ``time_limit`` CPU seconds (or ``generations`` generations, if given).

        Returns the engine's final candidates (its complexity/loss front); ``report`` is called
        with the current front at least every few seconds, and a True return value stops the search.
        """
        ...


class CpuClock:
    """CPU seconds of this process since creation (the budget is CPU time, not wall time)."""

    def __init__(self) -> None:
        self._start = time.process_time()

    def __call__(self) -> float:
        return time.process_time() - self._start


engines = Registry("equation_engines")
engines.register("gp", "scientia.hypothesize.symbolic.gp:GPEngine")
engines.register("operon", "scientia.hypothesize.symbolic.operon_engine:OperonEngine")
engines.register("rl", "scientia.hypothesize.symbolic.rl:RLEngine")
engines.register("hybrid", "scientia.hypothesize.symbolic.hybrid:HybridEngine")
