"""A campaign's history, rebuilt from its ledger events and kept up to date incrementally.

The ledger is append-only, so a campaign only needs to read the events it has not seen yet
(``seq > last``) to bring its picture up to date: a page showing a campaign with thousands of
observations reads a handful of new events instead of replaying everything on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scientia.proposers.base import Proposal
from scientia.types import Candidate, Observation

__all__ = ["History", "QueueItem", "Status"]

Status = Literal["awaiting", "approved", "rejected", "observed"]


@dataclass(frozen=True)
class QueueItem:
    """A proposal with where it stands.

    Attributes
    ----------
    proposal : Proposal
        As proposed (``candidate`` is the edited one when a reviewer changed it).
    status : {"awaiting", "approved", "rejected", "observed"}
        ``awaiting`` a reviewer's decision (campaigns with ``review = "human"``), ``approved``
        (by a person, or automatically), ``rejected`` or ``observed``.
    decision : dict, optional
        The review event's payload (decision, reason, original candidate), with ``actor`` and
        ``at``.
    """

    proposal: Proposal
    status: Status
    decision: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.proposal.to_dict(), "status": self.status, "decision": self.decision}


@dataclass
class History:
    """Everything a campaign's events say, in ledger order."""

    human_review: bool
    last_seq: int = 0
    proposals: dict[str, Proposal] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)
    n_events: int = 0

    def apply(self, events: list[Any]) -> None:
        """Fold events (in sequence order, all after ``last_seq``) into the history."""
        for e in events:
            self.n_events += 1
            self.last_seq = e.seq
            if e.kind == "proposal":
                p = Proposal.from_dict(e.payload)
                self.proposals[p.id] = p
            elif e.kind == "observation":
                obs = Observation.from_dict(e.payload)
                self.observations.append(obs)
                if obs.proposal_id:
                    self.answered.add(obs.proposal_id)
            elif e.kind == "review":
                pid = e.payload["proposal_id"]
                if pid in self.decisions:  # the first decision stands (dedup keys make this rare)
                    continue
                self.decisions[pid] = {**e.payload, "actor": e.actor, "at": e.created_at}
                if e.payload.get("decision") == "edit":
                    old = self.proposals[pid]
                    new = Candidate.from_dict(e.payload["candidate"])
                    # the model's prediction was for the original candidate: keep it with the
                    # decision, not with the edited experiment
                    self.decisions[pid]["original_prediction"] = {"mean": old.mean, "std": old.std}
                    self.proposals[pid] = Proposal(new, old.strategy, None, None, None, old.reason, old.id)

    def status(self, pid: str) -> Status:
        if pid in self.answered:
            return "observed"
        decision = self.decisions.get(pid, {}).get("decision")
        if decision == "reject":
            return "rejected"
        if decision in ("approve", "edit") or not self.human_review:
            return "approved"
        return "awaiting"

    def items(self) -> list[QueueItem]:
        return [QueueItem(p, self.status(pid), self.decisions.get(pid)) for pid, p in self.proposals.items()]

    def open_proposals(self) -> list[Proposal]:
        """Proposals neither observed nor rejected (awaiting review or approved), oldest first."""
        return [p for pid, p in self.proposals.items() if self.status(pid) in ("awaiting", "approved")]

    def rejected_candidates(self) -> frozenset[str]:
        """Ids of candidates a reviewer rejected (as proposed, before any edit)."""
        out = set()
        for pid, d in self.decisions.items():
            if d.get("decision") == "reject" and pid in self.proposals:
                out.add(self.proposals[pid].candidate.id)
        return frozenset(out)

    @property
    def rounds(self) -> int:
        return len({pid.split(".")[0] for pid in self.proposals})
