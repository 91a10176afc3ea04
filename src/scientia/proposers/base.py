"""The :class:`Proposal` value object and helpers shared by proposers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scientia.types import Candidate, Prediction

__all__ = ["Proposal", "fill_random"]


@dataclass(frozen=True)
class Proposal:
    """A proposed experiment with the reason for it.

    Attributes
    ----------
    candidate : Candidate
    strategy : str
        The proposer's name and mode, e.g. ``"bo:qlognei"`` or ``"space-filling"``.
    mean, std : mapping of outcome name to float, optional
        The surrogate's prediction for this candidate (in the outcome's own units).
    acquisition : float, optional
        The acquisition value when it was chosen.
    reason : str
    id : str
        Assigned by the campaign when the proposal is recorded.
    calibration : mapping of outcome name to float, optional
        The factor the campaign applied to the model's ``std`` after checking how its
        earlier predictions fared (see :mod:`scientia.campaign.calibration`); None if not applied.
    """

    candidate: Candidate
    strategy: str
    mean: Mapping[str, float] | None = None
    std: Mapping[str, float] | None = None
    acquisition: float | None = None
    reason: str = ""
    id: str = field(default="")
    calibration: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "candidate": self.candidate.to_dict(),
            "strategy": self.strategy,
            "mean": dict(self.mean) if self.mean else None,
            "std": dict(self.std) if self.std else None,
            "acquisition": self.acquisition,
            "reason": self.reason,
            "calibration": dict(self.calibration) if self.calibration else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proposal:
        return cls(
            candidate=Candidate.from_dict(data["candidate"]),
            strategy=data["strategy"],
            mean=data.get("mean"),
            std=data.get("std"),
            acquisition=data.get("acquisition"),
            reason=data.get("reason", ""),
            id=data.get("id", ""),
            calibration=data.get("calibration"),
        )


def predict_outcome(model: Any, X: Any) -> Prediction:
    """The model's prediction of a new measurement at ``X`` (with observation noise when the
    surrogate can add it; see :class:`scientia.protocols.Surrogate`)."""
    import inspect

    try:
        accepts = "observation_noise" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        accepts = False
    return model.predict(X, observation_noise=True) if accepts else model.predict(X)


def prediction_dicts(
    pred: Prediction, names: Sequence[str], signs: Sequence[float]
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Turn a sign-adjusted Prediction into per-row (mean, std) dicts in outcome units."""
    out = []
    for i in range(len(pred)):
        mean = {n: float(s * pred.mean[i, j]) for j, (n, s) in enumerate(zip(names, signs, strict=True))}
        std = {n: float(pred.std[i, j]) for j, n in enumerate(names)}
        out.append((mean, std))
    return out


def fill_random(
    chosen: list[Proposal], candidates: Sequence[Candidate], n: int, strategy: str, reason: str
) -> list[Proposal]:
    """Append proposals from ``candidates`` (skipping duplicates) until there are ``n``."""
    seen = {p.candidate.id for p in chosen}
    for c in candidates:
        if len(chosen) >= n:
            break
        if c.id not in seen:
            chosen.append(Proposal(c, strategy, reason=reason))
            seen.add(c.id)
    return chosen
