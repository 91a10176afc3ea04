"""Core value objects: :class:`Candidate`, :class:`Observation`, :class:`Prediction`.

They are frozen dataclasses with numpy at the boundaries; torch only lives inside models.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from scientia.errors import ValidationError

__all__ = ["Candidate", "Observation", "Prediction", "Status", "utcnow"]

Status = Literal["ok", "failed", "censored"]
_STATUSES = ("ok", "failed", "censored")


def utcnow() -> str:
    """Return the current UTC time as an ISO-8601 string."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """Turn numpy scalars into plain Python values so that hashing and JSON are stable."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # 3 and 3.0 are the same experiment
        return int(value)
    return value


@dataclass(frozen=True)
class Candidate:
    """A point of a space in human-readable form, with a stable content-hash id.

    Parameters
    ----------
    params : mapping
        Parameter name to value (float, int or str).
    """

    params: Mapping[str, Any]
    id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        clean = {str(k): _plain(v) for k, v in sorted(self.params.items())}
        object.__setattr__(self, "params", clean)
        if not self.id:
            object.__setattr__(self, "id", self.hash_params(clean))

    @staticmethod
    def hash_params(params: Mapping[str, Any]) -> str:
        """Return the content hash (16 hex digits) of a parameter mapping."""
        text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        # consistent with ==, which compares params (a dict, so the generated hash would fail)
        return hash(tuple(self.params.items()))

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {"id": self.id, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        """Inverse of :meth:`to_dict`."""
        return cls(params=data["params"])


@dataclass(frozen=True)
class Observation:
    """The measured outcome of one experiment on one candidate.

    Parameters
    ----------
    candidate : Candidate
        What was measured.
    outcomes : mapping
        Outcome name to value; may be empty when ``status`` is ``"failed"``.
    noise : mapping, optional
        Outcome name to the standard deviation of its measurement noise, if known.
    status : {"ok", "failed", "censored"}
        ``failed`` experiments carry no usable outcome but are kept in the ledger.
    metadata : mapping
        Who or what measured it, when, and anything else worth keeping.
    proposal_id : str, optional
        The proposal this observation answers, if any; the ledger refuses a second observation
        for the same proposal.
    """

    candidate: Candidate
    outcomes: Mapping[str, float]
    noise: Mapping[str, float] | None = None
    status: Status = "ok"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    proposal_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValidationError(
                f"observation status must be one of {', '.join(_STATUSES)}; got {self.status!r}"
            )
        outcomes = {str(k): float(v) for k, v in self.outcomes.items()}
        if self.status == "ok":
            bad = [k for k, v in outcomes.items() if not math.isfinite(v)]
            if bad:
                raise ValidationError(
                    f"outcome {bad[0]!r} is not a finite number; mark the observation "
                    "status='failed' if the experiment gave no value"
                )
        object.__setattr__(self, "outcomes", outcomes)
        if self.noise is not None:
            noise = {str(k): float(v) for k, v in self.noise.items()}
            bad = [k for k, v in noise.items() if not (math.isfinite(v) and v >= 0)]
            if bad:
                raise ValidationError(
                    f"noise of {bad[0]!r} must be a finite standard deviation >= 0; got {noise[bad[0]]!r}"
                )
            object.__setattr__(self, "noise", noise or None)

    @property
    def candidate_id(self) -> str:
        """The id of the measured candidate."""
        return self.candidate.id

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {
            "candidate": self.candidate.to_dict(),
            "outcomes": dict(self.outcomes),
            "noise": dict(self.noise) if self.noise else None,
            "status": self.status,
            "metadata": dict(self.metadata),
            "proposal_id": self.proposal_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            candidate=Candidate.from_dict(data["candidate"]),
            outcomes={k: (math.nan if v is None else v) for k, v in data["outcomes"].items()},
            noise=data.get("noise"),
            status=data.get("status", "ok"),
            metadata=data.get("metadata") or {},
            proposal_id=data.get("proposal_id"),
        )


@dataclass(frozen=True)
class Prediction:
    """A predictive distribution summarised by its mean and standard deviation.

    Parameters
    ----------
    mean : ndarray, shape (n, m)
        Predictive mean for ``n`` points and ``m`` outcomes.
    std : ndarray, shape (n, m)
        Predictive standard deviation (same shape, non-negative).
    samples : ndarray, shape (s, n, m), optional
        Joint posterior samples, when the model provides them.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=float)
        std = np.asarray(self.std, dtype=float)
        if mean.ndim == 1:
            mean = mean[:, None]
        if std.ndim == 1:
            std = std[:, None]
        if mean.shape != std.shape:
            raise ValidationError(f"mean shape {mean.shape} differs from std shape {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ValidationError("a prediction's mean and std must be finite numbers")
        if np.any(std < 0):
            raise ValidationError("std must be non-negative")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    def quantile(self, q: float) -> np.ndarray:
        """Return the ``q`` quantile of a Gaussian with this mean and std, shape (n, m)."""
        from scipy.stats import norm

        if not 0 < q < 1:
            raise ValidationError(f"quantile q must lie in (0, 1); got {q}")

        return self.mean + norm.ppf(q) * self.std

    def interval(self, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Return the central ``level`` interval ``(lower, upper)``, each of shape (n, m)."""
        if not 0 < level < 1:
            raise ValidationError(f"interval level must lie in (0, 1); got {level}")
        alpha = (1 - level) / 2
        return self.quantile(alpha), self.quantile(1 - alpha)
