"""Accuracy and calibration metrics for screening models, with bootstrap intervals.

Regression (:func:`regression_metrics`): RMSE, MAE, R², Spearman's ρ, the mean Gaussian
negative log-likelihood (NLL), the coverage and mean width of the central 90% interval, and the
miscalibration area — the area between the observed and the expected fraction of targets
inside central intervals of every level (Tran et al., "Methods for comparing uncertainty
quantifications for material property predictions", 2020; 0 is perfect, 0.5 the worst).

Classification (:func:`classification_metrics`): ROC-AUC, PR-AUC (average precision), the
Brier score, accuracy at 0.5 and the expected calibration error (ECE; Naeini et al., AAAI 2015;
Guo et al., ICML 2017) over 10 equal-width probability bins.

:func:`bootstrap_intervals` resamples the test molecules to put a percentile interval on every
metric: the spread a different test set of the same size would give, not the spread over
training runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scientia.errors import ValidationError
from scientia.seeding import Seed, rng
from scientia.types import Prediction

__all__ = [
    "bootstrap_intervals",
    "calibration_curve",
    "classification_metrics",
    "expected_calibration_error",
    "miscalibration_area",
    "regression_metrics",
]


def _flat(y: np.ndarray, pred: Prediction) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    mean, std = pred.mean.reshape(-1), pred.std.reshape(-1)
    if len(y) != len(mean):
        raise ValidationError(f"{len(y)} targets for {len(mean)} predictions")
    ok = np.isfinite(y)
    return y[ok], mean[ok], std[ok]


def calibration_curve(
    y: np.ndarray, pred: Prediction, levels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected vs observed fraction of targets inside the central Gaussian intervals.

    Returns
    -------
    expected : ndarray, shape (k,)
        The interval levels (default 0.01, 0.02, …, 0.99).
    observed : ndarray, shape (k,)
        The fraction of targets inside each.
    """
    from scipy.stats import norm

    y, mean, std = _flat(y, pred)
    expected = np.linspace(0.01, 0.99, 99) if levels is None else np.asarray(levels, dtype=float)
    z = np.abs(y - mean) / np.maximum(std, 1e-12)
    half = norm.ppf(0.5 + expected / 2)
    observed = (z[None, :] <= half[:, None]).mean(axis=1) if len(z) else np.full(len(expected), np.nan)
    return expected, observed


def miscalibration_area(y: np.ndarray, pred: Prediction) -> float:
    """Mean absolute gap between observed and expected interval coverage (0 = calibrated)."""
    expected, observed = calibration_curve(y, pred)
    return float(np.mean(np.abs(observed - expected)))


def regression_metrics(
    y: np.ndarray, pred: Prediction, interval: tuple[np.ndarray, np.ndarray] | None = None, level: float = 0.9
) -> dict[str, float]:
    """Accuracy and calibration of a regression prediction.

    Parameters
    ----------
    y : ndarray, shape (n,) or (n, m)
        Measured values (NaN entries are skipped).
    pred : Prediction
    interval : (lower, upper), optional
        The ``level`` interval to score (e.g. a conformal one); default the Gaussian one of
        ``pred``.
    level : float

    Returns
    -------
    dict
        ``rmse, mae, r2, spearman, nll, coverage, interval_width, miscalibration_area, n``.
    """
    from scipy.stats import spearmanr

    lower, upper = pred.interval(level) if interval is None else interval
    y_all = np.asarray(y, dtype=np.float64).reshape(-1)
    ok = np.isfinite(y_all)
    lo, hi = np.asarray(lower).reshape(-1)[ok], np.asarray(upper).reshape(-1)[ok]
    y, mean, std = _flat(y, pred)
    if len(y) < 2:
        raise ValidationError("need at least 2 measured values to score a model")
    err = mean - y
    var = np.maximum(std, 1e-12) ** 2
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    rho = spearmanr(y, mean)[0] if np.ptp(mean) > 0 and np.ptp(y) > 0 else np.nan
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": float(1 - np.sum(err**2) / ss_tot) if ss_tot > 0 else float("nan"),
        "spearman": float(rho),
        "nll": float(np.mean(0.5 * np.log(2 * np.pi * var) + err**2 / (2 * var))),
        "coverage": float(np.mean((y >= lo) & (y <= hi))),
        "interval_width": float(np.mean(hi - lo)),
        "miscalibration_area": miscalibration_area(y, Prediction(mean, std)),
        "n": float(len(y)),
    }


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE of binary probabilities: the size-weighted mean |accuracy − confidence| per bin.

    Bins are equal-width on the probability of class 1 (the reliability-diagram form for binary
    tasks).
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    ok = np.isfinite(y)
    y, p = y[ok], p[ok]
    if not len(y):
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(ece)


def classification_metrics(y: np.ndarray, p: np.ndarray | Prediction) -> dict[str, float]:
    """ROC-AUC, PR-AUC, ECE, Brier score and accuracy of binary probabilities.

    Parameters
    ----------
    y : ndarray, shape (n,) or (n, m)
        0/1 labels (NaN skipped); tasks are pooled.
    p : ndarray or Prediction
        Probability of class 1 (a ``Prediction``'s mean).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    probs = p.mean if isinstance(p, Prediction) else np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    probs = probs.reshape(-1)
    ok = np.isfinite(y)
    y, probs = y[ok], probs[ok]
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, probs)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, probs)) if both else float("nan"),
        "ece": expected_calibration_error(y, probs),
        "brier": float(np.mean((probs - y) ** 2)),
        "accuracy": float(np.mean((probs >= 0.5) == (y == 1))),
        "positive_fraction": float(np.mean(y)),
        "n": float(len(y)),
    }


def bootstrap_intervals(
    score: Callable[[np.ndarray], dict[str, float]],
    n: int,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: Seed = 0,
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of every metric returned by ``score(rows)``.

    Parameters
    ----------
    score : callable
        ``score(rows)`` computes the metrics on the test molecules ``rows`` (an index array,
        possibly with repeats).
    n : int
        Number of test molecules.
    n_boot : int
    level : float
    seed : int, Generator or None

    Returns
    -------
    dict
        Metric name to ``[low, high]``; resamples on which a metric is undefined are skipped.
    """
    gen = rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        rows = gen.integers(0, n, n)
        try:
            values: dict[str, Any] = score(rows)
        except ValidationError:
            continue
        for k, v in values.items():
            if np.isfinite(v):
                draws.setdefault(k, []).append(float(v))
    tail = (1 - level) / 2 * 100
    return {k: np.percentile(v, [tail, 100 - tail]).tolist() for k, v in draws.items() if len(v) > 1}
