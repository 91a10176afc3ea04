"""Calibrated uncertainty for screening models: conformal intervals and isotonic recalibration.

A model's std ranks molecules by how unsure it is, but its scale is rarely right: deep
ensembles are typically over-confident away from their training data, GPs depend on their
noise estimate. These calibrators are fitted on held-out molecules and turn a
:class:`~scientia.types.Prediction` into one whose intervals hold what they promise.

* :class:`ConformalCalibrator` — **split conformal** with normalised scores
  ``s_i = |y_i − μ_i| / σ_i`` on a calibration set (Papadopoulos et al. 2002; Lei et al. 2018).
  The ``level`` interval ``μ ± q̂·σ``, with ``q̂`` the ``⌈(n+1)·level⌉``-th smallest score, covers a
  new exchangeable molecule with probability at least ``level`` (and at most ``level + 1/(n+1)``
  without ties). The calibrated prediction keeps ``μ`` and sets ``σ' = σ·q̂ / z_level``, so that
  ``Prediction.interval(level)`` is exactly the conformal interval; other levels follow the
  Gaussian shape (use :meth:`ConformalCalibrator.interval` for exact conformal ones).
* :class:`CrossConformalRegressor` — **CV+** (Barber, Candès, Ramdas, Tibshirani, Ann. Stat.
  2021): ``K`` models each fitted without one fold; every training molecule gets an out-of-fold
  normalised residual, and the interval for a new molecule combines the ``K`` models'
  predictions with those residuals. No data are set aside; coverage is at least
  ``1 − 2α`` in theory and close to ``1 − α`` in practice. Costs ``K`` fits.
* :class:`IsotonicCalibrator` — a monotone map of the predicted variance to the observed squared
  error, fitted by isotonic regression: ``σ'² = g(σ²)`` with ``g`` non-decreasing (the ranking
  of molecules by uncertainty is kept; the scale is learned per range of σ). A std-only form of
  the isotonic recalibration of Kuleshov, Fenner, Ermon (ICML 2018), chosen so that the result
  is still a Gaussian ``Prediction``.

Why our own and not MAPIE or crepes: they wrap scikit-learn estimators and return intervals
only; we need normalised scores from any model's ``Prediction``, a calibrated ``Prediction``
back, and a JSON form saved next to the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.seeding import Seed, child_seeds, rng
from scientia.types import Prediction

__all__ = [
    "CALIBRATIONS",
    "ConformalCalibrator",
    "CrossConformalRegressor",
    "IsotonicCalibrator",
    "calibrator_from_dict",
]

CALIBRATIONS = ("conformal", "isotonic", "none")


def _z(level: float) -> float:
    from scipy.stats import norm

    if not 0 < level < 1:
        raise ValidationError(f"interval level must lie in (0, 1); got {level}")
    return float(norm.ppf(0.5 + level / 2))


def _check(pred: Prediction, y: np.ndarray) -> np.ndarray:
    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.shape != pred.mean.shape:
        raise ValidationError(
            f"targets of shape {Y.shape} do not match predictions of shape {pred.mean.shape}"
        )
    if not np.all(np.isfinite(Y)):
        raise ValidationError("calibration targets must be finite numbers")
    return Y


def _floor(std: np.ndarray) -> np.ndarray:
    """A tiny floor so that a zero std cannot give an infinite normalised score."""
    scale = float(np.median(std)) if std.size else 1.0
    return np.maximum(std, 1e-9 * max(scale, 1e-12) + 1e-12)


def _conformal_rank(n: int, level: float) -> int:
    """The 1-based rank ``⌈(n + 1)·level⌉`` of the conformal quantile among ``n`` scores."""
    return math.ceil((n + 1) * level - 1e-9)


class ConformalCalibrator:
    """Split-conformal calibration with scores normalised by the predicted std.

    Parameters
    ----------
    level : float
        The central interval the calibrated std is tuned for (default 0.9).

    Attributes
    ----------
    scores_ : ndarray, shape (n, m)
        Sorted normalised absolute residuals of the calibration molecules.
    """

    kind = "conformal"

    def __init__(self, level: float = 0.9) -> None:
        _z(level)
        self.level = level

    def fit(self, pred: Prediction, y: np.ndarray) -> ConformalCalibrator:
        """Learn the score distribution from predictions ``pred`` on held-out targets ``y`` (n, m)."""
        Y = _check(pred, y)
        if _conformal_rank(len(Y), self.level) > len(Y):
            need = math.ceil(self.level / (1 - self.level) - 1e-9)
            raise ValidationError(
                f"{len(Y)} calibration molecules cannot give a {self.level:.0%} conformal interval; "
                f"need at least {need}"
            )
        self.scores_ = np.sort(np.abs(Y - pred.mean) / _floor(pred.std), axis=0)
        return self

    def quantile(self, level: float | None = None) -> np.ndarray:
        """The conformal multiplier ``q̂`` of the std for ``level``, shape (m,); inf if too few scores."""
        level = self.level if level is None else level
        _z(level)
        k = _conformal_rank(len(self.scores_), level)
        if k > len(self.scores_):
            return np.full(self.scores_.shape[1], np.inf)
        return self.scores_[k - 1]

    def interval(self, pred: Prediction, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The conformal ``level`` interval ``(lower, upper)``, each of shape (n, m)."""
        half = self.quantile(level) * pred.std
        return pred.mean - half, pred.mean + half

    def transform(self, pred: Prediction) -> Prediction:
        """Same mean; std scaled so that ``interval(level)`` is the conformal interval."""
        return Prediction(pred.mean, pred.std * (self.quantile() / _z(self.level)))

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the sorted scores, so any level can be recomputed)."""
        return {"kind": self.kind, "level": self.level, "scores": np.round(self.scores_, 6).tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConformalCalibrator:
        """Inverse of :meth:`to_dict`."""
        cal = cls(level=float(data["level"]))
        cal.scores_ = np.asarray(data["scores"], dtype=np.float64).reshape(len(data["scores"]), -1)
        return cal


class IsotonicCalibrator:
    """Recalibrate the std by an isotonic (monotone) map of predicted to observed variance.

    Attributes
    ----------
    knots_ : list of (ndarray, ndarray)
        Per outcome, the breakpoints ``(σ², g(σ²))`` of the fitted step function; predictions
        between them are interpolated, beyond them clipped.
    """

    kind = "isotonic"

    def fit(self, pred: Prediction, y: np.ndarray) -> IsotonicCalibrator:
        """Fit ``g`` on held-out predictions ``pred`` and targets ``y`` (n, m)."""
        from sklearn.isotonic import IsotonicRegression

        Y = _check(pred, y)
        if len(Y) < 5:
            raise ValidationError(f"isotonic recalibration needs at least 5 held-out molecules; got {len(Y)}")
        self.knots_ = []
        for j in range(Y.shape[1]):
            v = pred.std[:, j] ** 2
            r2 = (Y[:, j] - pred.mean[:, j]) ** 2
            iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(v, r2)
            x, g = np.asarray(iso.X_thresholds_), np.asarray(iso.y_thresholds_)
            floor = max(float(np.mean(r2)) * 1e-3, 1e-12)
            self.knots_.append((x, np.maximum(g, floor)))
        return self

    def transform(self, pred: Prediction) -> Prediction:
        """Same mean; std ``sqrt(g(σ²))``."""
        std = np.empty_like(pred.std)
        for j, (x, g) in enumerate(self.knots_):
            std[:, j] = np.sqrt(np.interp(pred.std[:, j] ** 2, x, g))
        return Prediction(pred.mean, std)

    def interval(self, pred: Prediction, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """The Gaussian ``level`` interval of the recalibrated prediction."""
        return self.transform(pred).interval(level)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "knots": [[x.tolist(), g.tolist()] for x, g in self.knots_]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IsotonicCalibrator:
        """Inverse of :meth:`to_dict`."""
        cal = cls()
        cal.knots_ = [(np.asarray(x, float), np.asarray(g, float)) for x, g in data["knots"]]
        return cal


def calibrator_from_dict(data: dict[str, Any] | None) -> ConformalCalibrator | IsotonicCalibrator | None:
    """Rebuild a calibrator from its JSON form (``None`` for an uncalibrated model)."""
    if not data:
        return None
    kind = data.get("kind")
    if kind == "conformal":
        return ConformalCalibrator.from_dict(data)
    if kind == "isotonic":
        return IsotonicCalibrator.from_dict(data)
    raise ConfigError(f"unknown calibration kind {kind!r}; expected conformal or isotonic")


def _group_folds(groups: np.ndarray, n_folds: int, seed: Seed) -> np.ndarray:
    """Fold of each row with whole groups kept together: groups in random order, each to the
    fold with the fewest rows so far (folds stay near equal in size)."""
    if len(groups) == 0:
        return np.zeros(0, dtype=int)
    labels, inverse = np.unique(groups.astype(str), return_inverse=True)
    if len(labels) < n_folds:
        raise ValidationError(f"{len(labels)} groups cannot be split into {n_folds} folds")
    counts = np.bincount(inverse)
    fold_of_group = np.empty(len(labels), dtype=int)
    sizes = np.zeros(n_folds, dtype=int)
    order = rng(seed).permutation(len(labels))
    for g in order[np.argsort(-counts[order], kind="stable")]:  # big groups first, ties at random
        k = int(np.argmin(sizes))
        fold_of_group[g] = k
        sizes[k] += counts[g]
    return fold_of_group[inverse]


class CrossConformalRegressor:
    """CV+ intervals around any regressor that returns a ``Prediction`` (one outcome).

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a fresh, unfitted model with ``fit(X, y, seed)`` and
        ``predict(X) -> Prediction``.
    n_folds : int
        ``K``; every molecule is held out once.
    level : float
        The level the returned ``Prediction``'s std is tuned for.

    Attributes
    ----------
    models_ : list
        The ``K`` fold models.
    fold_ : ndarray of int, shape (n,)
        Fold of each training molecule.
    scores_ : ndarray, shape (n,)
        Out-of-fold normalised residuals ``|y_i − μ_{−k(i)}(x_i)| / σ_{−k(i)}(x_i)``.
    """

    def __init__(self, factory: Callable[[], Any], n_folds: int = 5, level: float = 0.9) -> None:
        if n_folds < 2:
            raise ConfigError(f"CV+ needs at least 2 folds; got {n_folds}")
        _z(level)
        self.factory = factory
        self.n_folds = n_folds
        self.level = level

    def fit(
        self, X: Any, y: np.ndarray, seed: Seed = None, groups: np.ndarray | None = None
    ) -> CrossConformalRegressor:
        """Fit the ``K`` fold models and collect out-of-fold scores.

        ``groups`` (one label per molecule, e.g. its scaffold) keeps every group within one fold,
        so that the out-of-fold residuals are those of unseen groups: what a scaffold- or
        cluster-split test part, and a screen of new chemistry, asks of the intervals.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        n = len(y)
        if n < self.n_folds:
            raise ValidationError(f"{n} molecules cannot be split into {self.n_folds} folds")
        s_split, *s_models = child_seeds(seed, self.n_folds + 1)
        if groups is None:
            self.fold_ = rng(s_split).permutation(np.arange(n) % self.n_folds)
        else:
            self.fold_ = _group_folds(np.asarray(groups), self.n_folds, s_split)
        self.scores_ = np.empty(n)
        self.models_ = []
        for k in range(self.n_folds):
            out = self.fold_ == k
            model = self.factory().fit(X[~out], y[~out], seed=s_models[k])
            p = model.predict(X[out])
            self.scores_[out] = np.abs(y[out] - p.mean[:, 0]) / _floor(p.std[:, 0])
            self.models_.append(model)
        return self

    def interval(self, X: Any, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The CV+ interval, each bound of shape (n, 1).

        ``lower`` is the ``⌊α(n+1)⌋``-th smallest of ``μ_{−k(i)}(x) − R_i σ_{−k(i)}(x)`` over the
        training molecules ``i``, ``upper`` the ``⌈(1−α)(n+1)⌉``-th smallest of
        ``μ_{−k(i)}(x) + R_i σ_{−k(i)}(x)``, with ``α = 1 − level``.
        """
        level = self.level if level is None else level
        _z(level)
        n = len(self.scores_)
        preds = [m.predict(X) for m in self.models_]
        mu = np.stack([p.mean[:, 0] for p in preds])[self.fold_]  # (n, t)
        sd = np.stack([_floor(p.std[:, 0]) for p in preds])[self.fold_]
        lo_vals = mu - self.scores_[:, None] * sd
        hi_vals = mu + self.scores_[:, None] * sd
        k_hi = _conformal_rank(n, level)
        k_lo = n + 1 - k_hi
        if k_hi > n:
            inf = np.full((1, mu.shape[1]), np.inf)
            return -inf.T, inf.T
        lower = np.partition(lo_vals, k_lo - 1, axis=0)[k_lo - 1]
        upper = np.partition(hi_vals, k_hi - 1, axis=0)[k_hi - 1]
        return lower[:, None], upper[:, None]

    def predict(self, X: Any) -> Prediction:
        """Mean of the fold models; std set so that ``interval(level)`` has the CV+ width.

        (The interval ``mean ± z·std`` is centred on the mean; the exact CV+ interval of
        :meth:`interval` can be off-centre, with the same width.)
        """
        mean = np.mean([m.predict(X).mean for m in self.models_], axis=0)
        lower, upper = self.interval(X)
        return Prediction(mean, (upper - lower) / (2 * _z(self.level)))

    # -- persistence ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A flat dict of tensors: the folds, the scores and each fold model's own state."""
        import torch

        state: dict[str, Any] = {
            "cv.fold": torch.as_tensor(self.fold_),
            "cv.scores": torch.as_tensor(self.scores_),
        }
        for k, model in enumerate(self.models_):
            state.update({f"fold{k}/{key}": v for key, v in model.state_dict().items()})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> CrossConformalRegressor:
        """Restore from :meth:`state_dict` (fold models rebuilt by ``factory``)."""
        self.fold_ = state["cv.fold"].numpy()
        self.scores_ = state["cv.scores"].numpy()
        self.models_ = []
        for k in range(self.n_folds):
            prefix = f"fold{k}/"
            sub = {key[len(prefix) :]: v for key, v in state.items() if key.startswith(prefix)}
            self.models_.append(self.factory().load_state_dict(sub))
        return self
