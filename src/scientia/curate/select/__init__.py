"""Selection: rare-event triggers that learn the background and flag what does not fit it.

Every detector follows the :class:`Detector` protocol — ``fit(background, seed)``,
``score(X)`` (higher = more anomalous), ``flag(X)`` at a threshold calibrated on held-out
background for a target accept ``rate`` — and is registered by name in :data:`detectors`:

=========== ========================================================================
``ae``       :class:`AutoencoderDetector` (PyTorch MLP, reconstruction error)
``iforest``  :class:`IsolationForestDetector` (scikit-learn)
``ecod``     :class:`ECODDetector` (empirical tail probabilities, Li et al. 2022)
``knn``      :class:`KNNDetector` (distance to the k nearest background events)
``ensemble`` :class:`EnsembleDetector` (background-normalised average of members)
=========== ========================================================================

:class:`StreamingTrigger` applies a fitted detector to batches as they arrive.
"""

from scientia.curate.select._base import (
    BaseDetector,
    CalibrationWarning,
    Detector,
    NotFittedError,
    conformal_threshold,
)
from scientia.curate.select.autoencoder import AutoencoderDetector
from scientia.curate.select.checks import check_detector
from scientia.curate.select.ecod import ECODDetector
from scientia.curate.select.ensemble import EnsembleDetector, default_members
from scientia.curate.select.forest import IsolationForestDetector
from scientia.curate.select.knn import KNNDetector
from scientia.curate.select.streaming import StreamingTrigger, TriggerBatch, TriggerStats
from scientia.registry import Registry

detectors = Registry("detectors")
detectors.register("ae", "scientia.curate.select.autoencoder:AutoencoderDetector")
detectors.register("iforest", "scientia.curate.select.forest:IsolationForestDetector")
detectors.register("ecod", "scientia.curate.select.ecod:ECODDetector")
detectors.register("knn", "scientia.curate.select.knn:KNNDetector")
detectors.register("ensemble", "scientia.curate.select.ensemble:EnsembleDetector")

__all__ = [
    "AutoencoderDetector",
    "BaseDetector",
    "CalibrationWarning",
    "Detector",
    "ECODDetector",
    "EnsembleDetector",
    "IsolationForestDetector",
    "KNNDetector",
    "NotFittedError",
    "StreamingTrigger",
    "TriggerBatch",
    "TriggerStats",
    "check_detector",
    "conformal_threshold",
    "default_members",
    "detectors",
]
