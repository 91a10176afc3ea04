"""The campaign: suggest → (review) → evaluate → observe, recorded in the ledger.

A :class:`Campaign` holds no state of its own beyond its components: everything it knows is
rebuilt by replaying its ledger events, so it can be killed at any moment and opened again.
``run(budget)`` first evaluates proposals left pending by an interrupted run, then proposes
more; each observation is committed on its own with a dedup key tied to its proposal, so a
restart neither loses nor duplicates one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scientia.campaign import build
from scientia.campaign.build import build_evaluator, build_proposer, build_space, table_hash
from scientia.campaign.calibration import Calibration, calibration
from scientia.campaign.history import History, QueueItem
from scientia.campaign.state import CampaignState, Objective
from scientia.config import CampaignConfig, StopConfig, parse_config
from scientia.errors import ConfigError, EvaluationError, LedgerError, UnknownNameError, ValidationError
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
        self.objectives = tuple(
            Objective(o.name, o.direction, o.threshold, o.role) for o in self.config.objectives
        )
        self.proposer = build_proposer(self.config)
        self._evaluator = evaluator
        self._history: History | None = None
        self._sources: tuple[tuple[str, tuple[Observation, ...]], ...] | None = None
        self._history_lock = threading.Lock()
        self.stop_reason: str | None = None  # why the last ``run`` ended

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
            evaluator = build_evaluator(cfg, space)
        if isinstance(ledger, str):
            ledger = Ledger(ledger)
        payload_cfg = cfg.model_dump(mode="json")
        extra = {"table_hash": table_hash(table), "table_rows": len(table)} if table is not None else None
        for t in cfg.transfer:  # a source that cannot be read fails before the campaign exists
            if t.campaign is not None:
                ledger.campaign_id(t.campaign)
            else:
                build.read_table(None, t.table)
        cid = ledger.create_campaign(cfg.name, payload_cfg, package_versions(), extra)
        summary = getattr(evaluator, "summary", None)
        if callable(summary):  # e.g. a model emulator's cross-validated error
            ledger.append(cid, "note", {"evaluator": summary()})
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

    # -- history -------------------------------------------------------------------------------
    def history(self) -> History:
        """The campaign's events folded into proposals, decisions and observations.

        Kept between calls and brought up to date by reading only the events appended since
        (by this or any other process).
        """
        with self._history_lock:  # threads sharing a campaign (a web server) fold events once
            if self._history is None:
                self._history = History(human_review=self.config.review == "human")
            h = self._history
            h.apply(self.ledger.events(self.id, since=h.last_seq))
            return h

    def state(self) -> CampaignState:
        """The campaign's state as proposers see it (open proposals count as pending)."""
        h = self.history()
        pending = tuple(p.candidate for p in h.open_proposals())
        return CampaignState(
            self.space,
            self.objectives,
            tuple(h.observations),
            pending,
            h.rejected_candidates(),
            h.rounds,
            self.sources(),
        )

    def sources(self) -> tuple[tuple[str, tuple[Observation, ...]], ...]:
        """The ``[[transfer]]`` sources' observations (read once; campaigns as they are now)."""
        if self._sources is None:
            self._sources = tuple(load_source(self, t) for t in self.config.transfer)
        return self._sources

    def pending_proposals(self) -> list[Proposal]:
        """Proposals recorded but neither observed nor rejected, oldest first (awaiting review
        included)."""
        return self.history().open_proposals()

    def queue(self, status: str | None = None) -> list[QueueItem]:
        """Every proposal with its status, oldest first; ``status`` keeps one kind."""
        if status is not None and status not in _STATUSES:
            raise ValidationError(f"unknown status {status!r}; expected one of {', '.join(_STATUSES)}")
        items = self.history().items()
        return [i for i in items if status is None or i.status == status]

    def review(
        self,
        proposal_id: str,
        decision: str,
        *,
        reason: str | None = None,
        changes: Mapping[str, Any] | None = None,
        actor: str = "user",
    ) -> QueueItem:
        """Approve, edit or reject a proposal; the decision is recorded in the ledger.

        ``edit`` applies ``changes`` (parameter -> value) to the proposed candidate, checks the
        result against the space and approves it. ``reject`` needs a ``reason``; a rejected
        candidate is never proposed again in this campaign. A proposal is decided once: a
        second decision (e.g. from another browser) is refused, naming the first.
        """
        if decision not in _DECISIONS:
            raise ValidationError(f"unknown decision {decision!r}; expected one of {', '.join(_DECISIONS)}")
        h = self.history()
        if proposal_id not in h.proposals:
            raise UnknownNameError.for_name("proposal", proposal_id, h.proposals)
        current = h.status(proposal_id)
        if proposal_id in h.decisions or current in ("observed", "rejected"):
            raise ValidationError(f"proposal {proposal_id!r} is already {_describe(h, proposal_id)}")
        payload: dict[str, Any] = {"proposal_id": proposal_id, "decision": decision}
        proposal = h.proposals[proposal_id]
        if decision == "reject":
            reason = (reason or "").strip()
            if not reason:
                raise ValidationError("a rejection needs a reason (it is kept in the ledger for the record)")
            payload["candidate"] = proposal.candidate.to_dict()
        if decision == "edit":
            if not changes:
                raise ValidationError("an edit needs at least one changed parameter value")
            unknown = [k for k in changes if k not in self.space.names]
            if unknown:
                raise UnknownNameError.for_name("parameter", unknown[0], self.space.names)
            edited = self.space.candidate({**proposal.candidate.params, **changes})
            if edited.id == proposal.candidate.id:
                raise ValidationError("the edit changes nothing; approve the proposal instead")
            if edited.id in h.rejected_candidates():
                raise ValidationError("the edited experiment was rejected earlier in this campaign")
            payload["original"] = proposal.candidate.to_dict()
            payload["candidate"] = edited.to_dict()
        if reason:
            if len(reason) > _MAX_REASON:
                raise ValidationError(f"the reason is longer than {_MAX_REASON} characters")
            payload["reason"] = reason
        if (
            self.ledger.append(self.id, "review", payload, actor=actor, dedup_key=f"review:{proposal_id}")
            is None
        ):
            h = self.history()
            raise ValidationError(f"proposal {proposal_id!r} is already {_describe(h, proposal_id)}")
        h = self.history()
        return QueueItem(h.proposals[proposal_id], h.status(proposal_id), h.decisions.get(proposal_id))

    def observations(self) -> list[Observation]:
        return list(self.history().observations)

    def pareto(self) -> list[Observation]:
        """The observations on the Pareto front of the objectives (the best ones for one)."""
        return self.state().pareto()

    def calibration(self) -> list[Calibration]:
        """How the campaign's past predictions fared, per objective (see
        :mod:`scientia.campaign.calibration`); new proposals' std is rescaled accordingly."""
        h = self.history()
        return [calibration(h, o) for o in self.objectives]

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
        scales = {c.objective: c.scale for c in self.calibration() if c.scale != 1.0}
        stamped = []
        for i, p in enumerate(proposals):
            std, applied = p.std, None
            if p.std and scales:
                std = {k: v * scales.get(k, 1.0) for k, v in p.std.items()}
                applied = {k: scales[k] for k in p.std if k in scales}
            stamped.append(
                Proposal(
                    p.candidate, p.strategy, p.mean, std, p.acquisition, p.reason, f"r{rnd:04d}.{i}", applied
                )
            )
        events = []
        fit = getattr(self.proposer, "last_fit_", None)
        if fit and stamped[0].strategy.startswith("bo"):
            events.append(NewEvent("model_fitted", {"round": rnd, "n_train": len(state.ok), **fit}, actor))
        events += [
            NewEvent("proposal", {**p.to_dict(), "round": rnd, "seconds": seconds}, actor, f"proposal:{p.id}")
            for p in stamped
        ]
        try:
            self.ledger.append_many(self.id, events)
        except ValidationError:
            raise ValidationError(
                f"another proposal round (r{rnd:04d}) was recorded in campaign {self.name!r} at the "
                "same time; nothing was written, ask again for proposals"
            ) from None
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
        h = self.history()
        todo = [p for p in h.open_proposals() if h.status(p.id) == "approved"]
        if not todo and not h.open_proposals():
            todo = self.suggest(min(self.config.batch_size, remaining))
            if self.config.review == "human":
                return []  # the new proposals wait for a reviewer
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
        self,
        budget: int | None = None,
        callback: Callable[[Progress], None] | None = None,
        stop: StopConfig | None = None,
    ) -> CampaignState:
        """Run the closed loop until the campaign holds ``budget`` observations.

        ``budget`` counts every observation of the campaign (also those of earlier runs), so
        running again after an interruption finishes the same campaign. The stopping rules
        (``stop``, default: the config's ``[stop]``) may end the run earlier: a target value
        reached, too little expected improvement left, or a wall-clock limit. Why the run
        ended is in :attr:`stop_reason` (and, for a rule, in a ledger ``note`` event).
        """
        budget = budget or self.config.budget
        if budget is None:
            raise ValidationError("run needs a budget (argument or `budget` in the config)")
        if self.config.review == "human":
            raise ValidationError(
                f"campaign {self.name!r} waits for a person to review proposals (review = 'human'); "
                "decide them with `scientia queue`"
            )
        ec = self.config.evaluator
        if ec.workers > 1 or ec.backend == "ray":
            from scientia.campaign.parallel import run_async

            return run_async(self, budget, callback, stop)
        self._sync_evaluator()
        obj = self.objectives[0]
        started = time.monotonic()
        self.stop_reason = "budget"
        while True:
            state = self.state()
            before = len(state.observations)
            if before >= budget:
                break
            top = state.best()
            best = top.outcomes[obj.name] if top else None
            new = self.step(budget)
            if not new and not self.pending_proposals():
                self.stop_reason = "exhausted"
                break
            if callback is not None:
                for k, o in enumerate(new):  # best as it was after each observation
                    v = o.outcomes.get(obj.name)
                    if o.status == "ok" and v is not None and (best is None or obj.better(v, best)):
                        best = v
                    callback(Progress(before + k + 1, budget, best, o))
            reason = self._stop_rule(stop or self.config.stop, new, started)
            if reason is not None:
                self.stop_reason = reason
                self.ledger.append(self.id, "note", {"stopped": reason, "observations": before + len(new)})
                break
        return self.state()

    def _stop_rule(self, rules: StopConfig, new: list[Observation], started: float) -> str | None:
        """The first stopping rule that holds after a batch, as a sentence."""
        obj = self.objectives[0]
        h = self.history()
        if rules.target is not None:
            hits = [
                o.outcomes[obj.name]
                for o in h.observations
                if o.status == "ok"
                and obj.name in o.outcomes
                and not obj.better(rules.target, o.outcomes[obj.name])
            ]
            if hits:
                return (
                    f"target {obj.name} {'>=' if obj.direction == 'max' else '<='} {rules.target:g} reached"
                )
        if rules.min_expected_improvement is not None and new:
            ei = batch_expected_improvement(h, obj, [o.proposal_id for o in new])
            if ei is not None and ei < rules.min_expected_improvement:
                return (
                    f"the last batch expected to improve {obj.name} by {ei:.2%} of its observed range, "
                    f"less than min_expected_improvement = {rules.min_expected_improvement:g}"
                )
        if rules.max_minutes is not None and time.monotonic() - started >= 60 * rules.max_minutes:
            return f"wall clock: ran {rules.max_minutes:g} minutes"
        return None

    # -- views -----------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Observations as a table: parameters, outcomes, status, proposal and prediction."""
        import pandas as pd

        by_id = self.history().proposals
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


def batch_expected_improvement(
    h: History, obj: Objective, proposal_ids: Sequence[str | None]
) -> float | None:
    """Largest expected improvement of a just-measured batch, as predicted when it was proposed.

    From each proposal's predicted mean and std against the best value observed before the
    batch, as a fraction of the observed range of ``obj``; None when the proposals carry no
    prediction (e.g. a space-filling batch) or too little was observed.
    """
    from scipy.stats import norm

    batch = {pid for pid in proposal_ids if pid}
    before = [
        obj.sign * o.outcomes[obj.name]
        for o in h.observations
        if o.status == "ok" and obj.name in o.outcomes and o.proposal_id not in batch
    ]
    if len(before) < 2 or max(before) == min(before):
        return None
    span, best = max(before) - min(before), max(before)
    out = []
    for pid in batch:
        p = h.proposals.get(pid)
        if p is None or not p.mean or not p.std or obj.name not in p.mean:
            continue
        mu, sd = obj.sign * p.mean[obj.name], max(p.std[obj.name], 1e-12)
        z = (mu - best) / sd
        out.append(float(sd * (z * norm.cdf(z) + norm.pdf(z))) / span)
    return max(out) if out else None


_STATUSES = ("awaiting", "approved", "rejected", "observed")
_DECISIONS = ("approve", "edit", "reject")
_MAX_REASON = 2000


def _describe(h: History, pid: str) -> str:
    """'rejected by alice at …' / 'observed' for error messages."""
    d = h.decisions.get(pid)
    word = {"approve": "approved", "edit": "edited and approved", "reject": "rejected"}
    if d is not None:
        return f"{word.get(d['decision'], d['decision'])} by {d['actor']} at {d['at']}"
    return h.status(pid)


def load_source(campaign: Campaign, t: Any) -> tuple[str, tuple[Observation, ...]]:
    """Read one transfer source: an earlier campaign in the same ledger, or a table with the
    space's parameter columns and the objectives. Rows that do not fit the space (a value out
    of range or an unknown choice) are skipped; a missing column is an error."""
    names = campaign.space.names
    outcomes = [o.name for o in campaign.objectives]
    if t.campaign is not None:
        source = Campaign.open(campaign.ledger, t.campaign)
        missing = [n for n in names if n not in source.space.names]
        if missing:
            raise ConfigError(f"transfer source {t.campaign!r} has no parameter {missing[0]!r}")
        rows = [
            ({n: o.candidate.params[n] for n in names}, o) for o in source.observations() if o.status == "ok"
        ]
        records = [(p, dict(o.outcomes)) for p, o in rows]
    else:
        table = build.read_table(None, t.table)
        missing = [c for c in [*names, *outcomes] if c not in table.columns]
        if missing:
            raise ConfigError(f"transfer table {t.table!r} has no column {missing[0]!r}")
        records = [({n: r[n] for n in names}, {o: r[o] for o in outcomes}) for r in table.to_dict("records")]
    out = []
    for params, values in records:
        try:
            clean = {p.name: p.validate(params[p.name]) for p in campaign.space.parameters}
            out.append(Observation(Candidate(clean), {k: float(values[k]) for k in outcomes if k in values}))
        except (ValidationError, ValueError, TypeError):
            continue
    return t.label, tuple(out)


def candidate_rows(space: Any, rows: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """Validate mappings of parameter values as candidates of ``space``."""
    return [space.candidate(r) for r in rows]
