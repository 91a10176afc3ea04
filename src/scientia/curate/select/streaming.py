"""A streaming trigger: score batches of events as they arrive and keep the rare ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from scientia.errors import ValidationError

__all__ = ["StreamingTrigger", "TriggerBatch", "TriggerStats"]


@dataclass(frozen=True)
class TriggerStats:
    """Counters of a :class:`StreamingTrigger` so far.

    Attributes
    ----------
    n_seen : int
        Events scored.
    n_accepted : int
        Events whose score exceeded the threshold.
    accept_rate : float
        ``n_accepted / n_seen`` (NaN before the first event).
    target_rate : float
        The accept rate the threshold was calibrated for.
    events_per_second : float
        Events scored per second of scoring time (NaN before the first batch).
    seconds : float
        Total scoring time.
    threshold : float
        The threshold in use.
    """

    n_seen: int
    n_accepted: int
    accept_rate: float
    target_rate: float
    events_per_second: float
    seconds: float
    threshold: float


@dataclass(frozen=True)
class TriggerBatch:
    """The result of one batch: scores (n,), the accepted mask (n,) and the counters after it."""

    scores: np.ndarray
    accepted: np.ndarray
    stats: TriggerStats

    @property
    def indices(self) -> np.ndarray:
        """Positions of the accepted events within the batch, shape (k,)."""
        return np.flatnonzero(self.accepted)


class StreamingTrigger:
    """Score batches with a fitted detector at a calibrated threshold; count what passes.

    Parameters
    ----------
    detector : fitted detector
        Anything with ``score(X) -> (n,)`` and a ``threshold_`` (e.g. a
        :class:`~scientia.curate.select.BaseDetector` after ``fit``).
    rate : float, optional
        Accept rate to run at; default the detector's own. Another rate re-reads the threshold
        from the detector's background scores (``threshold_at``) without refitting.

    Examples
    --------
    >>> import numpy as np
    >>> from scientia.curate.select import ECODDetector, StreamingTrigger
    >>> gen = np.random.default_rng(0)
    >>> det = ECODDetector(rate=0.01).fit(gen.normal(size=(5000, 4)), seed=0)
    >>> trigger = StreamingTrigger(det)
    >>> for _ in range(5):
    ...     _ = trigger.process(gen.normal(size=(1000, 4)))
    >>> trigger.stats().n_seen
    5000
    """

    def __init__(self, detector: Any, rate: float | None = None) -> None:
        if not hasattr(detector, "threshold_"):
            raise ValidationError(
                f"the detector {type(detector).__name__} is not fitted (no threshold_); "
                "call detector.fit(background) before streaming"
            )
        self.detector = detector
        self.rate = float(detector.rate if rate is None else rate)
        self.threshold = float(detector.threshold_ if rate is None else detector.threshold_at(rate))
        self.reset()

    def reset(self) -> None:
        """Zero the counters."""
        self.n_seen = 0
        self.n_accepted = 0
        self.seconds = 0.0

    def process(self, batch: Any) -> TriggerBatch:
        """Score one batch (shape (n, d)) and return its scores, accepted mask and counters."""
        start = time.perf_counter()
        scores = self.detector.score(batch)
        accepted = scores > self.threshold
        self.seconds += time.perf_counter() - start
        self.n_seen += int(scores.shape[0])
        self.n_accepted += int(accepted.sum())
        return TriggerBatch(scores=scores, accepted=accepted, stats=self.stats())

    def run(
        self, batches: Iterable[Any], callback: Callable[[TriggerBatch], None] | None = None
    ) -> TriggerStats:
        """Process every batch of ``batches`` in turn; ``callback`` sees each result.

        Returns the counters after the last batch. Use the callback to keep accepted events or
        to draw progress (the library itself never prints).
        """
        for batch in batches:
            result = self.process(batch)
            if callback is not None:
                callback(result)
        return self.stats()

    def stats(self) -> TriggerStats:
        """Return the counters so far."""
        n = self.n_seen
        return TriggerStats(
            n_seen=n,
            n_accepted=self.n_accepted,
            accept_rate=self.n_accepted / n if n else float("nan"),
            target_rate=self.rate,
            events_per_second=n / self.seconds if self.seconds > 0 else float("nan"),
            seconds=self.seconds,
            threshold=self.threshold,
        )
