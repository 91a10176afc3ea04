"""The campaign: suggest → (review) → evaluate → observe, recorded in the ledger.

A :class:`Campaign` holds no state of its own beyond its components: everything it knows is
rebuilt by replaying its ledger events, so it can be killed at any moment and opened again.
``run(budget)`` first evaluates proposals left pending by an interrupted run, then proposes
more; each observation is committed on its own with a dedup key tied to its proposal, so a
restart neither loses nor duplicates one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scientia.campaign.build import build_evaluator, build_proposer, build_space, table_hash
from scientia.campaign.state import CampaignState, Objective
from scientia.config import CampaignConfig, parse_config
from scientia.errors import EvaluationError, LedgerError, ValidationError
from scientia.ledger.store import Ledger, NewEvent
from scientia.proposers.base import Proposal
from scientia.types import Candidate, Observation
from scientia.versions import package_versions

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Campaign", "Progress"]


@dataclass(frozen=True)
class Progress:
    """Passed to ``run``'s callback after every observation."""

    done: int
    budget: int
    best: float | None
    observation: Observation


class Campaign:
    """A closed-loop campaign backed by a ledger.

    Use :meth:`create` for a new campaign and :meth:`open` to resume one.
    """

    def __init__(self, ledger: Ledger, campaign_id: int, evaluator: Any = None) -> None:
        self.ledger = ledger
        self.id = campaign_id
        self.name = ledger.campaign_name(campaign_id)
        created = ledger.events(campaign_id, kinds=["campaign_created"])
        if not created:
            raise LedgerError(f"campaign {self.name!r} has no creation event; the ledger is damaged")
        payload = created[0].payload
        self.config: CampaignConfig = parse_config(payload["config"], f"campaign {self.name!r}")
        self.versions: dict[str, str] = payload.get("versions", {})
        self.space, table = build_space(self.config)
        stored_hash = payload.get("table_hash")
        if table is not None and stored_hash and table_hash(table) != stored_hash:
            raise LedgerError(
                f"campaign {self.name!r}: its pool table changed since the campaign was created; "
                "restore the original file or start a new campaign"
            )
        self.objectives = tuple(Objective(o.name, o.direction) for o in self.config.objectives)
        self.proposer = build_proposer(self.config)
        self._evaluator = evaluator

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def create(
        cls, config: CampaignConfig | Mapping[str, Any], ledger: Ledger | str, evaluator: Any = None
    ) -> Campaign:
        """Validate ``config``, check it builds, and record the campaign in ``ledger``."""
        cfg = config if isinstance(config, CampaignConfig) else parse_config(config)
        space, table = build_space(cfg)  # fail before anything (even a ledger file) is written
        build_proposer(cfg)
        if evaluator is None:
            build_evaluator(cfg, space)
        if isinstance(ledger, str):
            ledger = Ledger(ledger)
        payload_cfg = cfg.model_dump(mode="json")
        extra = {"table_hash": table_hash(table), "table_rows": len(table)} if table is not None else None
        cid = ledger.create_campaign(cfg.name, payload_cfg, package_versions(), extra)
        return cls(ledger, cid, evaluator)

    @classmethod
    def open(cls, ledger: Ledger | str, ref: str | int, evaluator: Any = None) -> Campaign:
        """Open an existing campaign by name or id."""
        if isinstance(ledger, str):
            ledger = Ledger(ledger, create=False)
        return cls(ledger, ledger.campaign_id(ref), evaluator)

    @property
    def evaluator(self) -> Any:
        if self._evaluator is None:
            self._evaluator = build_evaluator(self.config, self.space)
        return self._evaluator

    # -- replay --------------------------------------------------------------------------------
    def _replay(self) -> tuple[list[Proposal], list[Observation], set[str], set[str]]:
        proposals: list[Proposal] = []
        observations: list[Observation] = []
        rejected: set[str] = set()  # proposal ids
        answered: set[str] = set()  # proposal ids with an observation
        for e in self.ledger.events(self.id):
            if e.kind == "proposal":
                proposals.append(Proposal.from_dict(e.payload))
            elif e.kind == "observation":
                obs = Observation.from_dict(e.payload)
                observations.append(obs)
                if obs.proposal_id:
                    answered.add(obs.proposal_id)
            elif e.kind == "review" and e.payload.get("decision") == "reject":
                rejected.add(e.payload["proposal_id"])
        return proposals, observations, rejected, answered

    def state(self) -> CampaignState:
        """Rebuild the campaign's state from its ledger."""
        proposals, observations, rejected, answered = self._replay()
        by_id = {p.id: p for p in proposals}
        pending = tuple(p.candidate for p in proposals if p.id not in answered and p.id not in rejected)
        excluded = frozenset(by_id[r].candidate.id for r in rejected if r in by_id)
        rounds = len({p.id.split(".")[0] for p in proposals})
        return CampaignState(self.space, self.objectives, tuple(observations), pending, excluded, rounds)

    def pending_proposals(self) -> list[Proposal]:
        """Proposals recorded but neither observed nor rejected, oldest first."""
        proposals, _, rejected, answered = self._replay()
        return [p for p in proposals if p.id not in answered and p.id not in rejected]

    def observations(self) -> list[Observation]:
        return list(self._replay()[1])

    # -- the loop's steps ----------------------------------------------------------------------
    def suggest(self, n: int | None = None, actor: str = "scientia") -> list[Proposal]:
        """Propose ``n`` new experiments (default: the batch size) and record them."""
        n = n or self.config.batch_size
        if n < 1:
            raise ValidationError(f"the number of suggestions must be at least 1; got {n}")
        state = self.state()
        seed = int(np.random.SeedSequence([self.config.seed, state.round]).generate_state(1)[0])
        start = time.perf_counter()
        proposals = self.proposer.propose(state, n, seed=seed)
        seconds = time.perf_counter() - start
        if not proposals:
            return []
        rnd = state.round
        stamped = [
            Proposal(p.candidate, p.strategy, p.mean, p.std, p.acquisition, p.reason, id=f"r{rnd:04d}.{i}")
            for i, p in enumerate(proposals)
        ]
        events = []
        fit = getattr(self.proposer, "last_fit_", None)
        if fit and stamped[0].strategy.startswith("bo"):
            events.append(NewEvent("model_fitted", {"round": rnd, "n_train": len(state.ok), **fit}, actor))
        events += [
            NewEvent("proposal", {**p.to_dict(), "round": rnd, "seconds": seconds}, actor, f"proposal:{p.id}")
            for p in stamped
        ]
        self.ledger.append_many(self.id, events)
        return stamped

    def observe(
        self, observations: Sequence[Observation], actor: str = "user", source: str | None = None
    ) -> int:
        """Record observations atomically; return how many were written.

        Candidates are validated against the space; an observation that matches a pending
        proposal's candidate is linked to it. ``source`` (e.g. a results file's content hash)
        makes re-importing the same file a no-op.
        """
        objective_names = {o.name for o in self.objectives}
        if source is not None and any(o.metadata.get("source") == source for o in self.observations()):
            return 0  # this source was imported before (its rows may since answer proposals)
        pending = self.pending_proposals()
        explicit = {o.proposal_id for o in observations if o.proposal_id}
        free: dict[str, list[str]] = {}
        for p in pending:
            if p.id not in explicit:  # a row naming its proposal keeps it from being matched twice
                free.setdefault(p.candidate.id, []).append(p.id)
        pending_ids = {p.id for p in pending}
        named: set[str] = set()
        events = []
        for i, obs in enumerate(observations):
            cand = self.space.candidate(obs.candidate.params)
            if obs.status == "ok":
                missing = objective_names - set(obs.outcomes)
                if missing:
                    raise ValidationError(
                        f"observation {i + 1} has no value for objective {sorted(missing)[0]!r}"
                    )
            pid = obs.proposal_id
            if pid is not None and (pid not in pending_ids or pid in named):
                raise ValidationError(
                    f"observation {i + 1} answers proposal {pid!r}, which is not pending in campaign "
                    f"{self.name!r} (unknown, already observed, rejected, or named twice); nothing was written"
                )
            if pid is not None:
                named.add(pid)
            if pid is None and free.get(cand.id):
                pid = free[cand.id].pop(0)
            meta = {**obs.metadata, "source": source} if source is not None else obs.metadata
            obs = Observation(cand, obs.outcomes, obs.noise, obs.status, meta, pid)
            if pid is not None:
                key = f"observation:{pid}"
            elif source is not None:
                key = f"import:{source}:{i}"
            else:
                key = None
            events.append(NewEvent("observation", obs.to_dict(), actor, key))
        written = self.ledger.append_many(self.id, events)
        return sum(1 for w in written if w is not None)

    def _evaluate_one(self, proposal: Proposal) -> Observation:
        try:
            (obs,) = self.evaluator.evaluate([proposal.candidate])
        except EvaluationError as exc:
            self.ledger.append(self.id, "error", {"proposal_id": proposal.id, "message": str(exc)})
            raise
        return Observation(obs.candidate, obs.outcomes, obs.noise, obs.status, obs.metadata, proposal.id)

    def _sync_evaluator(self) -> None:
        mark = getattr(self.evaluator, "mark_used", None)
        if mark is not None:
            mark(o.candidate_id for o in self.observations())

    def step(self, budget: int | None = None) -> list[Observation]:
        """Evaluate pending proposals, or propose a batch and evaluate it."""
        state = self.state()
        remaining = (budget - len(state.observations)) if budget is not None else self.config.batch_size
        if remaining <= 0:
            return []
        todo = self.pending_proposals()
        if not todo:
            todo = self.suggest(min(self.config.batch_size, remaining))
        out = []
        for p in todo[:remaining]:
            obs = self._evaluate_one(p)
            written = self.ledger.append(
                self.id, "observation", obs.to_dict(), actor="evaluator", dedup_key=f"observation:{p.id}"
            )
            if written is not None:
                out.append(obs)
        return out

    def run(
        self, budget: int | None = None, callback: Callable[[Progress], None] | None = None
    ) -> CampaignState:
        """Run the closed loop until the campaign holds ``budget`` observations.

        ``budget`` counts every observation of the campaign (also those of earlier runs), so
        running again after an interruption finishes the same campaign.
        """
        budget = budget or self.config.budget
        if budget is None:
            raise ValidationError("run needs a budget (argument or `budget` in the config)")
        if self.config.review == "human":
            raise ValidationError(
                f"campaign {self.name!r} waits for a person to review proposals (review = 'human'); "
                "decide them with `scientia queue`"
            )
        self._sync_evaluator()
        obj = self.objectives[0]
        while True:
            state = self.state()
            before = len(state.observations)
            if before >= budget:
                break
            top = state.best()
            best = top.outcomes[obj.name] if top else None
            new = self.step(budget)
            if not new and not self.pending_proposals():
                break  # space exhausted
            if callback is not None:
                for k, o in enumerate(new):  # best as it was after each observation
                    v = o.outcomes.get(obj.name)
                    if o.status == "ok" and v is not None and (best is None or obj.better(v, best)):
                        best = v
                    callback(Progress(before + k + 1, budget, best, o))
        return self.state()

    # -- views -----------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Observations as a table: parameters, outcomes, status, proposal and prediction."""
        import pandas as pd

        proposals, _, _, _ = self._replay()
        by_id = {p.id: p for p in proposals}
        rows = []
        for e in self.ledger.events(self.id, kinds=["observation"]):
            o = Observation.from_dict(e.payload)
            row: dict[str, Any] = {"seq": e.seq, **o.candidate.params}
            for obj in self.objectives:
                row[obj.name] = o.outcomes.get(obj.name, np.nan)
            row.update(
                {
                    "status": o.status,
                    "proposal_id": o.proposal_id,
                    "actor": e.actor,
                    "recorded_at": e.created_at,
                }
            )
            p = by_id.get(o.proposal_id or "")
            row["strategy"] = p.strategy if p else None
            for obj in self.objectives:
                row[f"predicted_{obj.name}"] = p.mean.get(obj.name) if p and p.mean else np.nan
                row[f"predicted_{obj.name}_std"] = p.std.get(obj.name) if p and p.std else np.nan
            rows.append(row)
        cols = ["seq", *self.space.names, *[o.name for o in self.objectives]]
        return pd.DataFrame(rows, columns=cols + [c for c in (rows[0] if rows else {}) if c not in cols])


def candidate_rows(space: Any, rows: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """Validate mappings of parameter values as candidates of ``space``."""
    return [space.candidate(r) for r in rows]
