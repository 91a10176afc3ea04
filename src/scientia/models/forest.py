"""Random-forest surrogate: the spread of the trees' predictions is its uncertainty.

A robust alternative to the GP for many observations, discontinuous responses or many
categorical dimensions; the std is the across-tree standard deviation (plus a small floor).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scientia.seeding import Seed, child_seeds
from scientia.types import Prediction

__all__ = ["ForestSurrogate"]


class ForestSurrogate:
    """Extremely randomised trees, one ensemble per outcome.

    Parameters
    ----------
    n_estimators : int
    min_samples_leaf : int
    """

    def __init__(self, n_estimators: int = 200, min_samples_leaf: int = 1) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> ForestSurrogate:
        from sklearn.ensemble import ExtraTreesRegressor

        start = time.perf_counter()
        Y = np.asarray(Y, dtype=float)
        if Y.ndim == 1:
            Y = Y[:, None]
        seeds = child_seeds(seed, Y.shape[1])
        self.models_ = [
            ExtraTreesRegressor(
                n_estimators=self.n_estimators,
                min_samples_leaf=self.min_samples_leaf,
                random_state=seeds[j] % 2**31,
                n_jobs=1,
            ).fit(X, Y[:, j])
            for j in range(Y.shape[1])
        ]
        self.scale_ = np.where(Y.std(0) > 0, Y.std(0), 1.0)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X: np.ndarray, observation_noise: bool = False) -> Prediction:
        """Mean and spread of the trees' predictions (``observation_noise`` changes nothing:
        the spread of trees grown on noisy data already reflects it)."""
        means, stds = [], []
        for j, model in enumerate(self.models_):
            per_tree = np.stack([t.predict(X) for t in model.estimators_])
            means.append(per_tree.mean(0))
            stds.append(per_tree.std(0) + 1e-3 * self.scale_[j])
        return Prediction(np.stack(means, 1), np.stack(stds, 1))

    def summary(self) -> dict[str, Any]:
        return {"kind": "forest", "n_estimators": self.n_estimators, "seconds": self.fit_seconds_}
