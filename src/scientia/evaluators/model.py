"""An emulator fitted to a measured table: experiments anywhere in a continuous space.

A lookup table answers only the points it holds. For continuous spaces (flow rates, fractions,
temperatures) benchmarks and rehearsals need an answer everywhere, so this evaluator fits a
regression model to the table — a GP, or an extra-trees ensemble for tables whose outcome is
not smooth — and answers with its prediction (optionally plus noise drawn from the model's own
residual spread, seeded per candidate). How good the emulator is comes first: its 5-fold
cross-validated RMSE and R² are computed when it is built and kept in :attr:`cv_`, and a
campaign records them in its ledger, so a benchmark on an emulator can say how far to trust it
(Olympus, Häse et al. 2021, does the same with Bayesian neural networks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scientia.errors import ConfigError
from scientia.types import Candidate, Observation, utcnow

if TYPE_CHECKING:
    import pandas as pd

    from scientia.spaces.space import ParameterSpace

__all__ = ["ModelEmulator"]


class ModelEmulator:
    """Answer experiments with a model fitted to a measured table.

    Parameters
    ----------
    table : DataFrame
        Measured rows: every parameter column of ``space`` and every outcome column.
    space : ParameterSpace
        Used to encode the table's rows and the candidates alike.
    outcomes : sequence of str
    model : {"gp", "forest"}
    noise : bool
        Add Gaussian noise with the model's cross-validated RMSE to each answer (a noisy lab).
    seed : int
    """

    def __init__(
        self,
        table: pd.DataFrame,
        space: ParameterSpace,
        outcomes: Sequence[str],
        model: str = "gp",
        noise: bool = False,
        seed: int = 0,
    ) -> None:
        missing = [c for c in [*space.names, *outcomes] if c not in table.columns]
        if missing:
            raise ConfigError(f"emulator table has no column {missing[0]!r}")
        if model not in ("gp", "forest"):
            raise ConfigError(f"emulator model must be gp or forest; got {model!r}")
        rows = table[[*space.names, *outcomes]].dropna()
        if len(rows) < 10:
            raise ConfigError(f"an emulator needs at least 10 complete rows; the table has {len(rows)}")
        self.space, self.outcomes, self.kind, self.noise, self.seed = (
            space,
            list(outcomes),
            model,
            noise,
            seed,
        )
        cands = [Candidate({n: r[n] for n in space.names}) for r in rows.to_dict("records")]
        self.X = space.encode(cands)
        self.Y = rows[self.outcomes].to_numpy(dtype=float)
        self.cv_ = self._cross_validate()
        self.model_ = self._fit(self.X, self.Y)

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> Any:
        from scientia.models import surrogates

        return surrogates.create(self.kind).fit(X, Y, seed=self.seed)

    def _cross_validate(self, folds: int = 5) -> dict[str, dict[str, float]]:
        """5-fold cross-validated RMSE and R² per outcome."""
        gen = np.random.default_rng(self.seed)
        order = gen.permutation(len(self.X))
        pred = np.empty_like(self.Y)
        for k in range(folds):
            test = order[k::folds]
            train = np.setdiff1d(order, test)
            pred[test] = self._fit(self.X[train], self.Y[train]).predict(self.X[test]).mean
        out = {}
        for j, name in enumerate(self.outcomes):
            err = pred[:, j] - self.Y[:, j]
            var = float(np.var(self.Y[:, j]))
            out[name] = {
                "rmse": float(np.sqrt(np.mean(err**2))),
                "r2": float(1 - np.mean(err**2) / var) if var > 0 else float("nan"),
                "n": len(self.Y),
            }
        return out

    def summary(self) -> dict[str, Any]:
        return {"emulator": self.kind, "cv": self.cv_, "noise": self.noise}

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        if not candidates:
            return []
        mean = self.model_.predict(self.space.encode(list(candidates))).mean
        out = []
        for c, row in zip(candidates, mean, strict=True):
            values = {name: float(v) for name, v in zip(self.outcomes, row, strict=True)}
            meta: dict[str, Any] = {"evaluator": f"model:{self.kind}", "measured_at": utcnow()}
            if self.noise:
                gen = np.random.default_rng([self.seed, int(c.id, 16) % 2**63])
                meta["true"] = dict(values)
                values = {k: v + float(gen.normal(0, self.cv_[k]["rmse"])) for k, v in values.items()}
            if any(not math.isfinite(v) for v in values.values()):
                out.append(
                    Observation(c, {}, status="failed", metadata={**meta, "error": "non-finite prediction"})
                )
                continue
            out.append(Observation(c, values, metadata=meta))
        return out
