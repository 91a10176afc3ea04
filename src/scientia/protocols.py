"""The roles of the discovery loop as ``typing.Protocol`` classes.

Every implementation passes the matching ``check_*`` conformance function in
:mod:`scientia.testing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from scientia.seeding import Seed
from scientia.types import Candidate, Observation, Prediction

if TYPE_CHECKING:
    from scientia.campaign.state import CampaignState
    from scientia.proposers.base import Proposal

__all__ = ["Detector", "Evaluator", "Proposer", "Space", "Surrogate"]


@runtime_checkable
class Space(Protocol):
    """Where candidates live: sample, check, and encode to / decode from a model matrix."""

    def sample(self, n: int, seed: Seed = None) -> list[Candidate]: ...
    def contains(self, candidate: Candidate) -> bool: ...
    def encode(self, candidates: Sequence[Candidate]) -> np.ndarray: ...
    def decode(self, X: np.ndarray) -> list[Candidate]: ...
    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Surrogate(Protocol):
    """A model of outcomes given encoded inputs, with uncertainty.

    ``fit(X (n, d), Y (n, m), seed)`` returns the fitted model; ``predict(X)`` returns a
    :class:`~scientia.types.Prediction` with ``mean`` and ``std`` of shape (n, m). A surrogate
    that can tell its latent uncertainty from that of a new measurement accepts
    ``predict(X, observation_noise=True)`` for the latter (proposals show that one).
    """

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> Surrogate: ...
    def predict(self, X: np.ndarray) -> Prediction: ...


@runtime_checkable
class Proposer(Protocol):
    """Chooses the next candidates from a snapshot of the campaign."""

    name: str

    def propose(self, state: CampaignState, n: int, seed: Seed = None) -> list[Proposal]: ...


@runtime_checkable
class Evaluator(Protocol):
    """Measures candidates; a failed experiment is an ``Observation(status="failed")``."""

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Observation]: ...


@runtime_checkable
class Detector(Protocol):
    """A rare-event trigger: learn the background, score events, flag the rare ones.

    ``fit(X (n, d), seed)`` learns the background and calibrates the threshold; ``score(X)``
    returns shape (n,), higher = more anomalous; ``flag(X)`` returns a boolean mask (n,) of the
    events whose score exceeds ``threshold_``.
    """

    rate: float

    def fit(self, X: np.ndarray, seed: Seed = None) -> Detector: ...
    def score(self, X: np.ndarray) -> np.ndarray: ...
    def flag(self, X: np.ndarray) -> np.ndarray: ...
