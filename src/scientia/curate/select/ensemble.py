"""Ensembles of detectors whose scores are put on a common scale by the background, then averaged.

Detectors fail on different data: isolation forests miss anomalies hidden in joint structure,
kNN distances are fooled by clustered anomalies and by heavy-tailed features, per-feature tail
methods see nothing but marginals. Averaging scores only helps if they share a scale, so each
member's scores are mapped through its own background score distribution first (Aggarwal &
Sathe 2015 discuss score normalisation for outlier ensembles; Zimek, Campello, Sander 2014,
"Ensembles for unsupervised outlier detection: challenges and research questions", SIGKDD
Explorations 15(1)).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from scientia.curate.select._base import BaseDetector, CalibrationWarning
from scientia.errors import ValidationError
from scientia.seeding import child_seeds

__all__ = ["EnsembleDetector", "default_members"]

Normalisation = Literal["zscore", "robust", "tail"]
Combination = Literal["mean", "median", "max"]


def default_members() -> list[BaseDetector]:
    """The default members: an isolation forest and two kNN detectors of different reach.

    * :class:`~scientia.curate.select.IsolationForestDetector` with 300 trees (global, axis
      aligned; strong where distances are uninformative);
    * :class:`~scientia.curate.select.KNNDetector` with its defaults: distance to the 10th
      neighbour in 10 random references of 512 events, robust scaling (local; clustered
      anomalies cannot vouch for each other in a small reference);
    * :class:`~scientia.curate.select.KNNDetector` with the mean distance to 20 neighbours in
      one reference of up to 20,000 events, robust scaling (smoother, more global).
    """
    from scientia.curate.select.forest import IsolationForestDetector
    from scientia.curate.select.knn import KNNDetector

    return [
        IsolationForestDetector(n_estimators=300),
        KNNDetector(),
        KNNDetector(n_neighbors=20, aggregate="mean", max_samples=20000, n_estimators=1),
    ]


class _Scale:
    """A monotone map of one member's scores learnt from its background scores (m,)."""

    def __init__(self, background: np.ndarray, how: str) -> None:
        s = np.sort(np.asarray(background, dtype=np.float64))
        self.how = how
        self.sorted = s
        if how == "zscore":
            self.centre, self.spread = float(s.mean()), float(s.std())
        elif how in ("robust", "tail"):
            self.centre = float(np.median(s))
            self.spread = float(np.quantile(s, 0.9)) - self.centre
        else:
            raise ValidationError(f"normalise must be 'zscore', 'robust' or 'tail'; got {how!r}")
        if not self.spread > 0:
            self.spread = float(s[-1] - s[0]) or 1.0

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        x = np.asarray(scores, dtype=np.float64)
        if self.how != "tail":
            return (x - self.centre) / self.spread
        # -log of the background's tail probability, continued linearly past its largest score
        s, m = self.sorted, self.sorted.size
        above = m - np.searchsorted(s, x, side="left")
        out = np.log(m + 1.0) - np.log(above + 1.0)
        past = x > s[-1]
        if past.any():
            out[past] += (x[past] - s[-1]) / self.spread
        return out


class EnsembleDetector(BaseDetector):
    """Average of several detectors' scores after normalising each by its background distribution.

    Every member is fitted on the fitting part of the background (with its own holdout turned
    off); its scores on the calibration part define a monotone map to a common scale:

    * ``"zscore"``: ``(s - mean) / std``;
    * ``"robust"``: ``(s - median) / (q90 - median)``;
    * ``"tail"``: ``-log P_background(S >= s)``, the surprise of the score, continued linearly
      (in robust units) beyond the largest background score so extreme events stay ordered.

    The normalised scores are combined by ``combine`` — by default their median, so that one
    member failing on a dataset (a kNN fooled by clustered anomalies, a forest blind to joint
    structure) is outvoted rather than averaged in — and the threshold is calibrated on the
    combined scores of the same calibration events.

    Parameters
    ----------
    detectors : sequence of detectors, optional
        Unfitted members (copied, never modified); default :func:`default_members`.
    normalise : {"tail", "zscore", "robust"}
        Per-member normalisation.
    combine : {"median", "mean", "max"}
        How normalised member scores are combined.
    rate : float
        Target accept rate of :meth:`flag` (fraction of background flagged).
    holdout : float
        Fraction of the background used only for normalisation and calibration.

    Attributes
    ----------
    members_ : list of detectors
        The fitted members.
    scales_ : list
        One fitted normalisation per member.
    """

    def __init__(
        self,
        detectors: Sequence[Any] | None = None,
        normalise: Normalisation = "tail",
        combine: Combination = "median",
        rate: float = 1e-3,
        holdout: float = 0.2,
    ) -> None:
        super().__init__(rate=rate, holdout=holdout)
        self.detectors = detectors
        self.normalise = normalise
        self.combine = combine

    def _fit_calibrate(self, X_fit: np.ndarray, X_cal: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        if self.combine not in ("mean", "median", "max"):
            raise ValidationError(f"combine must be 'mean', 'median' or 'max'; got {self.combine!r}")
        members = list(self.detectors) if self.detectors is not None else default_members()
        if not members:
            raise ValidationError("an ensemble needs at least one detector; pass detectors=[...]")
        self.members_ = []
        seeds = child_seeds(gen, len(members))
        member_cal = []
        for det, seed in zip(members, seeds, strict=True):
            det = copy.deepcopy(det)
            if hasattr(det, "holdout"):
                det.holdout = 0.0
            with warnings.catch_warnings():  # members' own thresholds are never used
                warnings.simplefilter("ignore", CalibrationWarning)
                det.fit(X_fit, seed=seed)
            self.members_.append(det)
            member_cal.append(det.score(X_cal))
        self.scales_ = [_Scale(s, self.normalise) for s in member_cal]
        return self._combine(member_cal)

    def _combine(self, member_scores: list[np.ndarray]) -> np.ndarray:
        Z = np.stack([scale(s) for scale, s in zip(self.scales_, member_scores, strict=True)])
        if self.combine == "median":
            return np.median(Z, axis=0)
        if self.combine == "max":
            return Z.max(axis=0)
        return Z.mean(axis=0)

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._combine([det.score(X) for det in self.members_])

    def member_scores(self, X: Any) -> np.ndarray:
        """Return each member's normalised scores, shape (n_members, n)."""
        self._check_fitted()
        return np.stack([scale(det.score(X)) for scale, det in zip(self.scales_, self.members_, strict=True)])
