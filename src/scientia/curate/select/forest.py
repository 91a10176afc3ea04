"""Isolation forest trigger (a thin wrapper of scikit-learn's ``IsolationForest``).

Liu, F. T., Ting, K. M., Zhou, Z.-H. (2008). "Isolation Forest." IEEE ICDM, 413–422.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scientia.curate.select._base import BaseDetector
from scientia.seeding import child_seeds

__all__ = ["IsolationForestDetector"]


class IsolationForestDetector(BaseDetector):
    """Isolation forest: events isolated by few random axis-aligned splits are anomalous.

    Wraps :class:`sklearn.ensemble.IsolationForest`; the score is the negated
    ``score_samples`` (so higher = more anomalous). Insensitive to feature scales.

    Parameters
    ----------
    n_estimators : int
        Number of trees.
    max_samples : int
        Background events drawn (without replacement) to grow each tree.
    rate : float
        Target accept rate of :meth:`flag` (fraction of background flagged).
    holdout : float
        Fraction of the background used only to calibrate the threshold.

    Attributes
    ----------
    model_ : sklearn.ensemble.IsolationForest
        The fitted forest.
    """

    def __init__(
        self, n_estimators: int = 200, max_samples: int = 256, rate: float = 1e-3, holdout: float = 0.2
    ) -> None:
        super().__init__(rate=rate, holdout=holdout)
        self.n_estimators = n_estimators
        self.max_samples = max_samples

    def _fit(self, X: np.ndarray, gen: np.random.Generator) -> None:
        from sklearn.ensemble import IsolationForest

        self.model_: Any = IsolationForest(
            n_estimators=int(self.n_estimators),
            max_samples=min(int(self.max_samples), X.shape[0]),
            random_state=child_seeds(gen, 1)[0] % 2**31,
        ).fit(X)

    def _score(self, X: np.ndarray) -> np.ndarray:
        return -self.model_.score_samples(X)
