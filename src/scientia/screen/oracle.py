"""The oracle of an active screen, and how a retrospective screen is scored.

:class:`OracleEvaluator` is a scientia evaluator over SMILES: it asks an expensive oracle (a
docking run, a simulation, a lookup table of known values) for a whole batch of molecules at once
and turns each answer into an :class:`~scientia.types.Observation` — a molecule the oracle cannot
score is a ``failed`` observation, not a crash.

:func:`top_k_found` and :func:`top_k_smiles_found` score a retrospective screen the way MolPAL
does (Graff, Shakhnovich and Coley, *Chem. Sci.* 12, 7866 (2021)): the fraction of the pool's
true top-k found among the molecules evaluated.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scientia.errors import ConfigError, EvaluationError, ValidationError
from scientia.types import Candidate, Observation, utcnow

__all__ = ["PARAMETER", "Oracle", "OracleEvaluator", "top_k_found", "top_k_smiles_found"]

PARAMETER = "smiles"  # the name of the pool's one parameter
Oracle = Any  # a function of a list of SMILES, or a mapping from SMILES to value


class OracleEvaluator:
    """A scientia evaluator over SMILES that asks the oracle for a whole batch at once.

    Parameters
    ----------
    oracle : callable or mapping
        ``oracle(list of SMILES) -> sequence of float`` (one per molecule; NaN or None for a
        failure), or a ``dict`` / ``pandas.Series`` from SMILES to value.
    objective : str
        The outcome's name.
    """

    def __init__(self, oracle: Oracle, objective: str) -> None:
        if getattr(oracle, "ndim", None) == 1 and hasattr(oracle, "to_dict"):  # a pandas Series
            oracle = oracle.to_dict()
        if not (callable(oracle) or isinstance(oracle, Mapping)):
            raise ValidationError(
                "the oracle must be a function of a list of SMILES or a mapping from SMILES to value; "
                f"got {type(oracle).__name__}"
            )
        self.oracle = oracle
        self.objective = objective
        self._cache: dict[str, tuple[float, str]] = {}

    def prefetch(self, smiles: Sequence[str]) -> None:
        """Ask the oracle once for every molecule of ``smiles`` not asked yet."""
        todo = [s for s in dict.fromkeys(smiles) if s not in self._cache]
        if not todo:
            return
        if isinstance(self.oracle, Mapping):
            for s in todo:
                self._cache[s] = _number(self.oracle.get(s), "not in the lookup table")
            return
        try:
            values = list(self.oracle(todo))
        except Exception as exc:
            raise EvaluationError(
                f"the oracle failed on a batch of {len(todo):,} molecules ({type(exc).__name__}: {exc}); "
                "nothing was recorded for them: fix the oracle and resume the screen"
            ) from exc
        if len(values) != len(todo):
            raise EvaluationError(
                f"the oracle returned {len(values):,} values for {len(todo):,} molecules; it must "
                "return one value per molecule, in order"
            )
        for s, v in zip(todo, values, strict=True):
            self._cache[s] = _number(v, "the oracle returned no number")

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        """Observations of ``candidates`` (asking the oracle for those not prefetched)."""
        self.prefetch([str(c.params[PARAMETER]) for c in candidates])
        out = []
        for c in candidates:
            value, error = self._cache[str(c.params[PARAMETER])]
            meta: dict[str, Any] = {"evaluator": "oracle", "measured_at": utcnow()}
            if error:
                out.append(Observation(c, {}, status="failed", metadata={**meta, "error": error}))
            else:
                out.append(Observation(c, {self.objective: value}, metadata=meta))
        return out


def _number(value: Any, missing: str) -> tuple[float, str]:
    """(value, "") for a finite number, else (nan, why)."""
    if value is None:
        return math.nan, missing
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan, f"the oracle returned {value!r}, not a number"
    return (v, "") if math.isfinite(v) else (math.nan, f"the oracle returned {v}")


def top_k_found(found: Sequence[float], pool: Sequence[float], k: int, direction: str = "max") -> float:
    """The fraction of the pool's top-``k`` *scores* among the values found (MolPAL's "scores").

    Ties count once per copy: with the pool's ``k`` best values as a multiset, the result is the
    share of that multiset matched by the ``k`` best values found. NaN values never count.

    Parameters
    ----------
    found : sequence of float
        The oracle values of the evaluated molecules.
    pool : sequence of float
        The values of the whole pool (the truth of a retrospective study).
    k : int
    direction : {"max", "min"}
    """
    if k < 1:
        raise ConfigError(f"k must be >= 1; got {k}")
    sign = 1.0 if direction == "max" else -1.0
    best = _best(pool, k, sign)
    if len(best) < k:
        raise ValidationError(f"the pool has {len(best):,} values, fewer than k = {k:,}")
    missed = Counter(best)
    missed.subtract(_best(found, k, sign))
    return (k - sum(c for c in missed.values() if c > 0)) / k


def top_k_smiles_found(found: Sequence[str], pool: Sequence[str], values: Sequence[float], k: int,
                       direction: str = "max") -> float:  # fmt: skip
    """The fraction of the pool's top-``k`` *molecules* found (MolPAL's "smis"; ties at the k-th
    value broken by pool order)."""
    sign = 1.0 if direction == "max" else -1.0
    v = sign * np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.where(np.isnan(v), -np.inf, v), kind="stable")[:k]
    return len({pool[i] for i in order} & set(found)) / k


def _best(values: Sequence[float], k: int, sign: float) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return (np.sort(-sign * v)[:k] * -sign).tolist()
