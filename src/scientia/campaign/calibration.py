"""How well a campaign's own predictions fared, and the std scale that would have fixed them.

Every proposal records the model's predicted mean and std for the measurement; once the
experiment is observed, the standardised error ``z = (y - mean) / std`` says whether the model
was over- or under-confident. A campaign tracks the coverage of its central 50% and 90%
intervals and rescales the std of new proposals so that, judged on its own history, 90%
intervals would have held 90% of the outcomes.

The rescaling factor is ``q90(|z|) / 1.645``, shrunk towards 1 when there are few pairs
(``s ** (n / (n + 10))``) and bounded to [0.2, 20]; errors are computed with the std as the model
gave it (before any earlier rescaling), so factors do not compound. This is the simplest
recalibration that targets interval coverage directly (Kuleshov et al., ICML 2018, recalibrate
with an isotonic map; with a few dozen pairs one scale factor is what the data support).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scientia.campaign.history import History
    from scientia.campaign.state import Objective

__all__ = ["Calibration", "calibration"]

Z50, Z90 = 0.6744897501960817, 1.6448536269514722
MIN_PAIRS = 5  # below this the campaign does not rescale
SHRINK = 10.0
BOUNDS = (0.2, 20.0)


@dataclass(frozen=True)
class Calibration:
    """Coverage of a campaign's past predictive intervals for one objective.

    Attributes
    ----------
    objective : str
    n : int
        Observed experiments whose proposal carried a prediction.
    coverage50, coverage90 : float or None
        Fraction of outcomes inside the central 50% / 90% predictive intervals (nan-free;
        None when ``n == 0``). A calibrated model gives about 0.50 and 0.90.
    mean_z, rms_z : float or None
        Mean (bias) and root mean square (spread; 1 when calibrated) of the standardised errors.
    scale : float
        The factor applied to the std of new proposals (1 while ``n < 5``).
    recalibrated_coverage90 : float or None
        Coverage of the 90% intervals of the same history after rescaling by ``scale``.
    shown_coverage50, shown_coverage90 : float or None
        Coverage of the intervals as each proposal showed them, i.e. with the rescaling in force
        when it was made: what a user who trusted the campaign's error bars actually got.
    """

    objective: str
    n: int
    coverage50: float | None
    coverage90: float | None
    mean_z: float | None
    rms_z: float | None
    scale: float
    recalibrated_coverage90: float | None
    shown_coverage50: float | None = None
    shown_coverage90: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line for a terminal or a page."""
        if self.n == 0 or self.coverage90 is None or self.coverage50 is None:
            return f"{self.objective}: no observed proposal with a prediction yet"
        text = (
            f"{self.objective}: {self.n} predictions checked; 90% intervals held "
            f"{self.coverage90:.0%}, 50% intervals {self.coverage50:.0%} (calibrated: 90% and 50%)"
        )
        if self.shown_coverage90 is not None and self.shown_coverage90 != self.coverage90:
            text += f"; after recalibration the 90% intervals shown held {self.shown_coverage90:.0%}"
        if self.scale != 1.0:
            text += f"; new proposals' std scaled by {self.scale:.2f}"
        return text


def standardised_errors(history: History, objective: Objective, shown: bool = False) -> np.ndarray:
    """``(y - mean) / std`` for every ok observation that answers a proposal with a prediction.

    The std is the model's own (before any recalibration), or with ``shown`` the std the proposal
    recorded (after the rescaling in force when it was made).
    """
    z = []
    for o in history.observations:
        p = history.proposals.get(o.proposal_id or "")
        if o.status != "ok" or p is None or not p.mean or not p.std:
            continue
        name = objective.name
        if name not in o.outcomes or name not in p.mean or name not in p.std:
            continue
        std = p.std[name] if shown else p.std[name] / (p.calibration or {}).get(name, 1.0)
        if not (std > 0 and math.isfinite(std)):
            continue
        z.append((o.outcomes[name] - p.mean[name]) / std)
    return np.asarray(z, dtype=float)


def calibration(history: History, objective: Objective) -> Calibration:
    """The calibration of ``objective``'s predictions over a campaign's history."""
    z = standardised_errors(history, objective)
    n = len(z)
    if n == 0:
        return Calibration(objective.name, 0, None, None, None, None, 1.0, None)
    a, shown = np.abs(z), np.abs(standardised_errors(history, objective, shown=True))
    scale = 1.0
    if n >= MIN_PAIRS:
        raw = float(np.quantile(a, 0.9)) / Z90
        if raw > 0:
            scale = float(np.clip(raw ** (n / (n + SHRINK)), *BOUNDS))
    return Calibration(
        objective=objective.name,
        n=n,
        coverage50=float(np.mean(a <= Z50)),
        coverage90=float(np.mean(a <= Z90)),
        mean_z=float(np.mean(z)),
        rms_z=float(np.sqrt(np.mean(z**2))),
        scale=scale,
        recalibrated_coverage90=float(np.mean(a <= Z90 * scale)),
        shown_coverage50=float(np.mean(shown <= Z50)),
        shown_coverage90=float(np.mean(shown <= Z90)),
    )
