"""The calibration every detector shares (the :class:`Detector` role is in :mod:`scientia.protocols`).

A detector learns what ordinary ("background") data looks like, scores new data (higher = more
anomalous) and flags the events whose score exceeds a threshold set so that a chosen fraction of
background events — the *accept rate* of a trigger — would be flagged.

Calibration
-----------
The threshold is the conformal ``(1 - rate)`` quantile of background scores: with ``m`` sorted
calibration scores ``s_(1) <= … <= s_(m)`` it is ``s_(k)`` with ``k = ceil((m + 1)(1 - rate))``,
and an event is flagged when its score is strictly above it. For background events exchangeable
with the calibration set this flags at most ``rate`` of them on average, and at least
``rate - 1 / (m + 1)``. Scores of the data a model was fitted on are optimistic (too low), so by
default a ``holdout`` fraction of the background is kept out of fitting and used only to calibrate.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from scientia.errors import ValidationError
from scientia.protocols import Detector  # the role lives with the others; re-exported here
from scientia.seeding import Seed, rng

__all__ = [
    "BaseDetector",
    "CalibrationWarning",
    "Detector",
    "NotFittedError",
    "as_matrix",
    "conformal_threshold",
]


class NotFittedError(ValidationError):
    """A detector was used before :meth:`~BaseDetector.fit`."""


class CalibrationWarning(UserWarning):
    """The calibration set is too small to resolve the requested accept rate."""


def as_matrix(X: Any, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite float64 matrix of shape (n, d), or raise a one-line error.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Numeric data; a 1-D array is read as one feature.
    name : str
        What to call the data in error messages.
    n_features : int, optional
        Required number of columns (the number seen in ``fit``).
    """
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{name} must be numeric; got values that are not numbers ({exc}); "
            "drop or encode the non-numeric columns"
        ) from None
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ValidationError(f"{name} must be a matrix of shape (n, d); got an array of shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValidationError(f"{name} is empty (shape {A.shape}); give at least one row and one column")
    if n_features is not None and A.shape[1] != n_features:
        raise ValidationError(
            f"{name} has {A.shape[1]} features but the detector was fitted on {n_features}; "
            "score data with the same columns as the background"
        )
    if not np.isfinite(A).all():
        rows = np.flatnonzero(~np.isfinite(A).all(axis=1))
        raise ValidationError(
            f"{name} has {rows.size} rows with NaN or infinite values (first: row {rows[0]}); "
            "drop or impute them first"
        )
    return A


def conformal_threshold(scores: np.ndarray, rate: float) -> float:
    """Return the score above which ``rate`` of background events lie (conformal quantile).

    Parameters
    ----------
    scores : ndarray, shape (m,)
        Scores of held-out background events.
    rate : float
        Target fraction of background events flagged, in (0, 1).

    Returns
    -------
    float
        ``s_(k)`` with ``k = ceil((m + 1)(1 - rate))``; the largest score when ``k > m`` (then a
        :class:`CalibrationWarning` says the calibration set is too small).
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))
    m = s.size
    k = math.ceil((m + 1) * (1.0 - rate) - 1e-9)
    if k > m:
        warnings.warn(
            f"{m} calibration events cannot resolve an accept rate of {rate:g} (need at least "
            f"{math.ceil(1 / rate) - 1}); the threshold is the largest background score, so fewer "
            "events than the target will be flagged — give more background data or a larger rate",
            CalibrationWarning,
            stacklevel=3,
        )
        return float(s[-1])
    return float(s[max(k, 1) - 1])


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not 0.0 < rate < 1.0:
        raise ValidationError(f"rate must lie in (0, 1), e.g. 1e-3; got {rate:g}")
    return rate


class BaseDetector:
    """Shared machinery: input validation, held-out calibration of the threshold, flagging.

    Subclasses implement ``_fit(X, gen)`` and ``_score(X)`` on validated float64 matrices.

    Parameters
    ----------
    rate : float
        Target accept rate: the fraction of background events that :meth:`flag` marks.
    holdout : float
        Fraction of the background kept out of fitting and used to calibrate the threshold
        (0 calibrates on the fitting data itself, which is optimistic for most models). With
        fewer than 20 background rows nothing is held out.

    Attributes
    ----------
    threshold_ : float
        Scores strictly above it are flagged.
    background_scores_ : ndarray, shape (m,)
        Sorted scores of the calibration events.
    n_features_in_ : int
        Number of features seen in ``fit``.
    """

    def __init__(self, rate: float = 1e-3, holdout: float = 0.2) -> None:
        self.rate = rate
        self.holdout = holdout

    # -- to implement ---------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, gen: np.random.Generator) -> None:
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit_calibrate(self, X_fit: np.ndarray, X_cal: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        """Fit on ``X_fit`` and return the scores of ``X_cal`` (may be the same array)."""
        self._fit(X_fit, gen)
        return self._score(X_cal)

    # -- public API -----------------------------------------------------------------------------
    def fit(self, X: Any, seed: Seed = None) -> BaseDetector:
        """Learn the background ``X`` (shape (n, d)) and calibrate the threshold.

        Parameters
        ----------
        X : array-like, shape (n, d)
            Background events (mostly ordinary; a few anomalies do little harm).
        seed : int, Generator or None
            Seed for the held-out split and any randomness of the model.

        Returns
        -------
        self
        """
        _check_rate(self.rate)
        if not 0.0 <= float(self.holdout) < 1.0:
            raise ValidationError(f"holdout must lie in [0, 1), e.g. 0.2; got {self.holdout!r}")
        A = as_matrix(X, "background data")
        if A.shape[0] < 2:
            raise ValidationError(f"background data has {A.shape[0]} row; give at least 2")
        gen = rng(seed)
        n = A.shape[0]
        n_cal = round(float(self.holdout) * n) if n >= 20 else 0
        self.n_features_in_ = A.shape[1]
        if n_cal > 0:
            perm = gen.permutation(n)
            fit_part, cal_part = A[perm[n_cal:]], A[perm[:n_cal]]
        else:
            fit_part = cal_part = A
        cal_scores = self._fit_calibrate(fit_part, cal_part, gen)
        self._fitted = True
        self._set_background(cal_scores)
        return self

    def calibrate(self, X: Any, rate: float | None = None) -> BaseDetector:
        """Re-calibrate the threshold on fresh background ``X`` (shape (m, d)), model unchanged.

        Parameters
        ----------
        X : array-like, shape (m, d)
            Background events not used for fitting.
        rate : float, optional
            New target accept rate (default: keep ``self.rate``).

        Returns
        -------
        self
        """
        self._check_fitted()
        if rate is not None:
            self.rate = _check_rate(rate)
        self._set_background(self._score(as_matrix(X, "calibration data", self.n_features_in_)))
        return self

    def score(self, X: Any) -> np.ndarray:
        """Return anomaly scores, shape (n,), higher = more anomalous."""
        self._check_fitted()
        return np.asarray(self._score(as_matrix(X, "X", self.n_features_in_)), dtype=np.float64)

    def flag(self, X: Any) -> np.ndarray:
        """Return a boolean mask, shape (n,), of the events scored above ``threshold_``."""
        return self.score(X) > self.threshold_

    def threshold_at(self, rate: float) -> float:
        """Return the threshold for another accept ``rate`` from the stored background scores."""
        self._check_fitted()
        return conformal_threshold(self.background_scores_, _check_rate(rate))

    # -- helpers --------------------------------------------------------------------------------
    def _set_background(self, cal_scores: np.ndarray) -> None:
        s = np.sort(np.asarray(cal_scores, dtype=np.float64))
        self.background_scores_ = s
        self.threshold_ = conformal_threshold(s, _check_rate(self.rate))

    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(background) first")

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {p: getattr(self, p) for p in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
