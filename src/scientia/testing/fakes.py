"""Small fakes for testing plugins: a quadratic evaluator and a ready-made campaign state.

They work with any :class:`~scientia.protocols.Space`, through its encoded coordinates, so a
plugin author can test a new proposer or surrogate without a lab, a simulator or a data file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from scientia.seeding import Seed, rng
from scientia.types import Candidate, Observation, utcnow

__all__ = ["QuadraticEvaluator", "distinct_sample", "make_state"]


class QuadraticEvaluator:
    """A cheap evaluator: ``y = -sum((encode(c) - optimum) ** 2)``, largest at ``optimum``.

    Parameters
    ----------
    space : Space
        The space whose encoding gives the coordinates.
    outcome : str
        The outcome name.
    optimum : float or ndarray, shape (dim,), optional
        Where the function peaks, in encoded coordinates ([0, 1] per column). The default,
        evenly spaced values from 0.2 to 0.8 across the columns, also separates the rows of a
        one-hot encoding (a single value for every column would give them all the same ``y``).
    noise : float
        Standard deviation of Gaussian noise added to each value.
    fail_ids : iterable of str
        Candidate ids that give a ``failed`` observation (to test failure handling).
    seed : int, Generator or None
        Seeds the noise.

    Attributes
    ----------
    calls : int
        Number of candidates evaluated so far.

    Examples
    --------
    >>> from scientia.spaces import ParameterSpace, Real
    >>> space = ParameterSpace([Real("x", 0.0, 1.0)])
    >>> QuadraticEvaluator(space, optimum=0.5).evaluate([space.candidate({"x": 0.5})])[0].outcomes
    {'y': 0.0}
    """

    def __init__(
        self,
        space: Any,
        outcome: str = "y",
        optimum: float | np.ndarray | None = None,
        noise: float = 0.0,
        fail_ids: Iterable[str] = (),
        seed: Seed = None,
    ) -> None:
        self.space = space
        self.outcome = outcome
        self.optimum = optimum
        self.noise = noise
        self.fail_ids = set(fail_ids)
        self._rng = rng(seed)
        self.calls = 0

    def value(self, candidate: Candidate) -> float:
        """The noiseless value at ``candidate``."""
        x = np.asarray(self.space.encode([candidate]), dtype=float)[0]
        optimum = np.linspace(0.2, 0.8, len(x)) if self.optimum is None else self.optimum
        return 0.0 - float(np.sum((x - np.asarray(optimum, dtype=float)) ** 2))  # 0.0, not -0.0

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]:
        """Return one observation per candidate, in order."""
        out = []
        for c in candidates:
            self.calls += 1
            meta = {"evaluator": "quadratic", "measured_at": utcnow()}
            if c.id in self.fail_ids:
                out.append(Observation(c, {}, status="failed", metadata={**meta, "error": "told to fail"}))
                continue
            y = self.value(c)
            if self.noise:
                y += float(self._rng.normal(0.0, self.noise))
            out.append(Observation(c, {self.outcome: y}, metadata=meta))
        return out


def distinct_sample(space: Any, k: int, seed: Seed = 0) -> list[Candidate]:
    """Return ``k`` distinct candidates of ``space`` (sampling more as needed).

    Raises
    ------
    ValueError
        If the space does not seem to hold ``k`` distinct candidates.
    """
    gen = rng(seed)
    found: dict[str, Candidate] = {}
    for _ in range(20):
        for c in space.sample(max(2 * k, 16), gen):
            found.setdefault(c.id, c)
        if len(found) >= k:
            return list(found.values())[:k]
    raise ValueError(f"could not draw {k} distinct candidates from the space; use a larger space")


def make_state(
    space: Any,
    *,
    n_observed: int = 8,
    n_failed: int = 1,
    n_pending: int = 2,
    n_excluded: int = 1,
    objective: str = "y",
    direction: Literal["max", "min"] = "max",
    seed: Seed = 0,
) -> Any:
    """A campaign snapshot with observed, failed, pending and excluded candidates.

    The ``ok`` observations come from :class:`QuadraticEvaluator` (negated when
    ``direction="min"``); every candidate is distinct, so a proposer must avoid all of them.

    Returns
    -------
    CampaignState
    """
    from scientia.campaign.state import CampaignState, Objective

    total = n_observed + n_failed + n_pending + n_excluded
    cands = distinct_sample(space, total, seed) if total else []
    ok_c = cands[:n_observed]
    failed_c = cands[n_observed : n_observed + n_failed]
    pending_c = cands[n_observed + n_failed : n_observed + n_failed + n_pending]
    excluded_c = cands[n_observed + n_failed + n_pending :]
    ev = QuadraticEvaluator(space, objective, fail_ids=[c.id for c in failed_c])
    observations = ev.evaluate([*ok_c, *failed_c])
    if direction == "min":
        observations = [
            Observation(o.candidate, {k: -v for k, v in o.outcomes.items()}, status=o.status)
            for o in observations
        ]
    return CampaignState(
        space=space,
        objectives=(Objective(objective, direction),),
        observations=tuple(observations),
        pending=tuple(pending_c),
        excluded=frozenset(c.id for c in excluded_c),
        round=1 if observations else 0,
    )
