"""Objectives and the frozen snapshot of a campaign that proposers receive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from scientia.campaign.pareto import pareto_mask
from scientia.spaces.space import ParameterSpace, PoolSpace
from scientia.types import Candidate, Observation

__all__ = ["CampaignState", "Objective"]


@dataclass(frozen=True)
class Objective:
    """An outcome to maximise or minimise."""

    name: str
    direction: Literal["max", "min"] = "max"
    threshold: float | None = None  # the worst value worth having (multi-objective reference)
    role: Literal["optimise", "constraint"] = "optimise"

    @property
    def is_constraint(self) -> bool:
        """An outcome to keep on the good side of its threshold, not to optimise."""
        return self.role == "constraint"

    def meets(self, value: float) -> bool:
        """Whether ``value`` is on the good side of the threshold (always, without one)."""
        return self.threshold is None or not self.better(self.threshold, value)

    @property
    def sign(self) -> float:
        """+1 for maximisation, -1 for minimisation (models always maximise ``sign * y``)."""
        return 1.0 if self.direction == "max" else -1.0

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "threshold": self.threshold,
            "role": self.role,
        }


@dataclass(frozen=True)
class CampaignState:
    """What a proposer may know about a campaign at one moment.

    Attributes
    ----------
    space : ParameterSpace
    objectives : tuple of Objective
    observations : tuple of Observation
        All observations so far, in ledger order (failed ones included).
    pending : tuple of Candidate
        Proposed (and approved) but not yet observed.
    excluded : frozenset of str
        Candidate ids that must never be proposed again (e.g. rejected by a reviewer).
    round : int
        Number of proposal rounds so far.
    sources : tuple of (name, observations)
        Data of related earlier campaigns to transfer from (``[[transfer]]`` in the config).
    """

    space: ParameterSpace
    objectives: tuple[Objective, ...]
    observations: tuple[Observation, ...] = ()
    pending: tuple[Candidate, ...] = ()
    excluded: frozenset[str] = field(default_factory=frozenset)
    round: int = 0
    sources: tuple[tuple[str, tuple[Observation, ...]], ...] = ()

    @property
    def ok(self) -> list[Observation]:
        """Observations with status ``ok`` and every objective present."""
        names = [o.name for o in self.objectives]
        return [o for o in self.observations if o.status == "ok" and all(n in o.outcomes for n in names)]

    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Encoded inputs and sign-adjusted outcomes (bigger is better).

        Returns
        -------
        X : ndarray, shape (n, d)
        Y : ndarray, shape (n, m)
            ``sign * outcome`` for each objective.
        """
        ok = self.ok
        X = self.space.encode([o.candidate for o in ok])
        Y = np.array(
            [[obj.sign * o.outcomes[obj.name] for obj in self.objectives] for o in ok], dtype=float
        ).reshape(len(ok), len(self.objectives))
        return X, Y

    def source_data(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """Each transfer source as ``(name, X, Y)``, encoded and sign-adjusted like the
        campaign's own training data; sources without usable rows are left out."""
        out = []
        for name, observations in self.sources:
            ok = [
                o
                for o in observations
                if o.status == "ok" and all(x.name in o.outcomes for x in self.objectives)
            ]
            if ok:
                X = self.space.encode([o.candidate for o in ok])
                Y = np.array(
                    [[x.sign * o.outcomes[x.name] for x in self.objectives] for o in ok], dtype=float
                )
                out.append((name, X, Y))
        return out

    def training_noise(self) -> np.ndarray | None:
        """Known noise variances of the training outcomes, shape (n, m), when every ``ok``
        observation reports the noise of every objective; otherwise None (the model learns it)."""
        ok = self.ok
        names = [o.name for o in self.objectives]
        if not ok or any(o.noise is None or any(n not in o.noise for n in names) for o in ok):
            return None
        return np.array([[o.noise[n] ** 2 for n in names] for o in ok], dtype=float)  # type: ignore[index]

    def taken_ids(self) -> set[str]:
        """Ids that a pool proposer must not propose: observed, pending or excluded."""
        taken = {o.candidate_id for o in self.observations}
        taken.update(c.id for c in self.pending)
        taken.update(self.excluded)
        return taken

    def available_pool(self) -> tuple[list[int], np.ndarray]:
        """For a pool space: indices of the rows still available and their encoded matrix."""
        assert isinstance(self.space, PoolSpace)
        taken = self.taken_ids()
        idx = [i for i, c in enumerate(self.space.pool) if c.id not in taken]
        return idx, self.space.encoded_pool()[idx]

    @property
    def optimised(self) -> tuple[Objective, ...]:
        """The objectives to optimise (outcome constraints left out)."""
        return tuple(o for o in self.objectives if not o.is_constraint)

    def feasible(self, o: Observation) -> bool:
        """Whether an ``ok`` observation meets every outcome constraint."""
        return all(c.meets(o.outcomes[c.name]) for c in self.objectives if c.is_constraint)

    def best(self) -> Observation | None:
        """The best ``ok`` observation for the first objective among those that meet every
        outcome constraint."""
        ok = [o for o in self.ok if self.feasible(o)]
        if not ok:
            return None
        obj = self.objectives[0]
        return max(ok, key=lambda o: obj.sign * o.outcomes[obj.name])

    def pareto(self) -> list[Observation]:
        """The ``ok`` observations no other one beats on every objective (for one objective, the
        best ones), in ledger order. Observations worse than an objective's threshold are left out."""
        ok = [o for o in self.ok if all(obj.meets(o.outcomes[obj.name]) for obj in self.objectives)]
        if not ok:
            return []
        Y = np.array([[obj.sign * o.outcomes[obj.name] for obj in self.optimised] for o in ok], dtype=float)
        return [o for o, keep in zip(ok, pareto_mask(Y), strict=True) if keep]

    def best_so_far(self) -> list[float]:
        """Best value of the first objective after each observation (NaN before the first)."""
        obj = self.objectives[0]
        out: list[float] = []
        best = float("nan")
        names = [c.name for c in self.objectives]
        for o in self.observations:
            if o.status == "ok" and all(n in o.outcomes for n in names) and self.feasible(o):
                v = o.outcomes[obj.name]
                if np.isnan(best) or obj.better(v, best):
                    best = v
            out.append(best)
        return out


def objectives_from(items: Sequence[dict[str, Any]]) -> tuple[Objective, ...]:
    return tuple(
        Objective(i["name"], i.get("direction", "max"), i.get("threshold"), i.get("role", "optimise"))
        for i in items
    )
