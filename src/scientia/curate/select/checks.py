"""Conformance check for the :class:`~scientia.curate.select.Detector` role.

``check_detector(factory)`` runs any detector through the contract on small synthetic data and
raises :class:`AssertionError` naming the rule that was broken; a plugin author calls it from
their own tests exactly as the built-ins do::

    from scientia.curate.select import check_detector
    def test_my_detector():
        check_detector(lambda: MyDetector(rate=0.01))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scientia.errors import ScientiaError

__all__ = ["check_detector"]


def _require(cond: Any, where: str, what: str) -> None:
    if not cond:
        raise AssertionError(f"{where}: {what}")


def _auc(neg: np.ndarray, pos: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def check_detector(factory: Callable[[], Any], n_background: int = 3000, d: int = 4) -> None:
    """Check the detector contract on synthetic Gaussian background with injected outliers.

    Parameters
    ----------
    factory : callable
        Returns a new, unfitted detector with ``rate`` of about 0.01–0.05.
    n_background : int
        Background size (keep it small: the check runs in every test suite).
    d : int
        Number of features.

    Raises
    ------
    AssertionError
        Naming the broken rule, what was expected and what came back.
    """
    where = getattr(factory, "__name__", None) or type(factory()).__name__
    gen = np.random.default_rng(12345)
    background = gen.normal(size=(n_background, d))
    fresh = gen.normal(size=(n_background, d))
    outliers = gen.normal(size=(50, d)) * 0.5 + 6.0

    det = factory()
    for name in ("fit", "score", "flag"):
        _require(callable(getattr(det, name, None)), where, f"has no method {name}()")
    _require(0 < float(det.rate) < 1, where, f"rate must lie in (0, 1); got {det.rate!r}")
    try:
        det.score(fresh[:5])
    except ScientiaError:
        pass
    else:
        raise AssertionError(f"{where}: score() before fit() must raise a ScientiaError")

    state: Any = np.random.get_state()
    fitted = det.fit(background, seed=0)
    after: Any = np.random.get_state()
    _require(fitted is det, where, "fit() must return self")
    _require(
        np.array_equal(state[1], after[1]) and state[2:] == after[2:],
        where,
        "fit() touched numpy's global RNG; draw from the seed's Generator instead",
    )
    _require(np.isfinite(getattr(det, "threshold_", np.nan)), where, "fit() must set a finite threshold_")

    s_in = det.score(fresh)
    _require(
        isinstance(s_in, np.ndarray) and s_in.shape == (n_background,),
        where,
        f"score() must return an array of shape ({n_background},); got {getattr(s_in, 'shape', type(s_in))}",
    )
    _require(np.isfinite(s_in).all(), where, "score() returned NaN or infinite values")
    s_out = det.score(outliers)
    auc = _auc(s_in, s_out)
    _require(auc > 0.95, where, f"injected outliers must score above inliers (AUC > 0.95); got {auc:.3f}")

    mask = det.flag(fresh)
    _require(
        mask.dtype == bool and mask.shape == (n_background,), where, "flag() must return a bool mask (n,)"
    )
    _require(np.array_equal(mask, s_in > det.threshold_), where, "flag() must equal score() > threshold_")
    rate = float(mask.mean())
    tol = 3 * np.sqrt(det.rate * (1 - det.rate) / n_background) + 0.01
    _require(
        abs(rate - det.rate) <= tol,
        where,
        f"accept rate on fresh background should be near {det.rate:g} (±{tol:.3f}); got {rate:.4f}",
    )
    _require(det.flag(outliers).mean() > 0.9, where, "flag() must flag most injected outliers")

    again = factory().fit(background, seed=0).score(fresh[:100])
    _require(np.allclose(again, s_in[:100]), where, "the same seed must give the same scores")
    try:
        det.score(fresh[:, :-1])
    except ScientiaError:
        pass
    else:
        raise AssertionError(f"{where}: score() with the wrong number of features must raise a ScientiaError")
