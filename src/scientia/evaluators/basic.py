"""The three basic evaluators.

* :class:`FunctionEvaluator` calls a Python function; an exception becomes a ``failed``
  observation carrying the error text, never a crash of the loop.
* :class:`EmulatorEvaluator` answers from a real measured table (e.g. a full-factorial HTE
  screen): each row can be measured at most once, as in the lab.
* :class:`ManualEvaluator` marks campaigns whose experiments a person runs: proposals are exported
  and results imported (``scientia suggest`` / ``scientia observe``).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scientia.errors import ConfigError, EvaluationError
from scientia.types import Candidate, Observation, utcnow

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EmulatorEvaluator", "FunctionEvaluator", "ManualEvaluator", "load_callable"]


def load_callable(ref: str) -> Callable[..., Any]:
    """Load ``"package.module:function"`` or ``"path/to/file.py:function"``."""
    module, sep, attr = ref.rpartition(":")
    if not sep or not module or not attr:
        raise ConfigError(f"function {ref!r} must look like 'module:function' or 'file.py:function'")
    try:
        if module.endswith(".py"):
            spec = importlib.util.spec_from_file_location(Path(module).stem, module)
            if spec is None or spec.loader is None:
                raise ConfigError(f"cannot load {module!r}")
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(module)
    except (ImportError, FileNotFoundError) as exc:
        raise ConfigError(f"cannot import {module!r} for function {ref!r}: {exc}") from None
    try:
        fn = getattr(mod, attr)
    except AttributeError:
        raise ConfigError(f"{module!r} has no function {attr!r}") from None
    if not callable(fn):
        raise ConfigError(f"{ref!r} is not callable")
    return fn  # type: ignore[no-any-return]


class FunctionEvaluator:
    """Evaluate candidates by calling ``fn(params) -> float | dict[str, float]``.

    Parameters
    ----------
    fn : callable or str
        The function, or a ``"module:function"`` reference.
    outcomes : sequence of str
        Outcome names; a float return value is assigned to the first.
    """

    def __init__(self, fn: Callable[[dict[str, Any]], Any] | str, outcomes: Sequence[str]) -> None:
        self.fn = load_callable(fn) if isinstance(fn, str) else fn
        self.outcomes = list(outcomes)

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        out = []
        for c in candidates:
            meta: dict[str, Any] = {"evaluator": "function", "measured_at": utcnow()}
            try:
                value = self.fn(dict(c.params))
                outcomes = (
                    {str(k): float(v) for k, v in value.items()}
                    if isinstance(value, Mapping)
                    else {self.outcomes[0]: float(value)}
                )
                if any(not math.isfinite(v) for v in outcomes.values()):
                    raise EvaluationError(f"non-finite outcome {outcomes}")
                out.append(Observation(c, outcomes, metadata=meta))
            except Exception as exc:  # noqa: BLE001 - a failed experiment is data, not a crash
                meta["error"] = f"{type(exc).__name__}: {exc}"
                meta["traceback"] = traceback.format_exc(limit=3)
                out.append(Observation(c, {}, status="failed", metadata=meta))
        return out


class EmulatorEvaluator:
    """Answer from a measured table; each row at most once.

    Parameters
    ----------
    table : DataFrame
        Rows with the parameter columns and the outcome columns.
    parameters : sequence of str
        Columns that identify a row.
    outcomes : sequence of str
        Columns returned as outcomes.
    noise : float, optional
        Standard deviation of Gaussian noise added to every returned outcome (a noisy lab
        emulated from a clean table); the table's value is kept as ``metadata["true"]``. The draw
        depends only on ``seed`` and the row, so a resumed campaign measures the same values.
    seed : int
    """

    def __init__(
        self,
        table: pd.DataFrame,
        parameters: Sequence[str],
        outcomes: Sequence[str],
        noise: float | None = None,
        seed: int = 0,
    ) -> None:
        if noise is not None and not (math.isfinite(noise) and noise >= 0):
            raise ConfigError(f"emulator noise must be a standard deviation >= 0; got {noise!r}")
        self.noise = noise
        self.seed = seed
        missing = [c for c in [*parameters, *outcomes] if c not in table.columns]
        if missing:
            raise ConfigError(f"emulator table has no column {missing[0]!r}")
        self.parameters = list(parameters)
        self.outcomes = list(outcomes)
        self._rows: dict[str, dict[str, float]] = {}
        for rec in table[self.parameters + self.outcomes].to_dict("records"):
            cid = Candidate({p: rec[p] for p in self.parameters}).id
            self._rows.setdefault(cid, {o: float(rec[o]) for o in self.outcomes})
        self.used: set[str] = set()

    def mark_used(self, candidate_ids: Iterable[str]) -> None:
        """Mark rows measured earlier (when a campaign is resumed from its ledger)."""
        self.used.update(candidate_ids)

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        out = []
        for c in candidates:
            meta: dict[str, Any] = {"evaluator": "emulator", "measured_at": utcnow()}
            if c.id not in self._rows:
                meta["error"] = "no measurement for this combination in the emulator table"
                out.append(Observation(c, {}, status="failed", metadata=meta))
                continue
            if c.id in self.used:
                raise EvaluationError(
                    f"row {dict(c.params)} was already measured; the emulator answers each row once"
                )
            self.used.add(c.id)
            values = dict(self._rows[c.id])
            if self.noise:
                import numpy as np

                gen = np.random.default_rng([self.seed, int(c.id, 16) % 2**63])
                meta["true"] = values
                values = {k: v + float(gen.normal(0.0, self.noise)) for k, v in values.items()}
            out.append(Observation(c, values, metadata=meta))
        return out


class ManualEvaluator:
    """A person runs the experiments: the loop cannot evaluate by itself."""

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        raise EvaluationError(
            "this campaign's experiments are run by hand: export proposals with "
            "`scientia suggest` and import results with `scientia observe`"
        )
