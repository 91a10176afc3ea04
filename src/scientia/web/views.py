"""What the pages show, folded from a campaign's ledger events and cached between requests.

A :class:`CampaignView` reads its campaign's events once, then on each request only the events
appended since (``seq > last``, by this process or any other). Everything derived from them —
the observations table, the figures, the summary, the CSV download — is computed when the
last sequence number changes and reused until it does, so a page of a campaign with thousands of
observations costs one indexed query and a template render.

This module holds no web framework code: it turns events into plain, JSON-ready data that the
HTML pages and their JSON twins both show.
"""

from __future__ import annotations

import gzip
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scientia.campaign.history import History
from scientia.campaign.state import CampaignState, Objective
from scientia.errors import ValidationError, did_you_mean
from scientia.report.figures import campaign_figures, coverage, figure_json
from scientia.types import Observation

if TYPE_CHECKING:
    import pandas as pd

    from scientia.config import CampaignConfig
    from scientia.ledger.store import Event, Ledger

__all__ = ["PAGE_SIZE", "CampaignView", "ObservationFilter", "fmt", "parameter_domains"]

PAGE_SIZE = 50
LOG_PAGE_SIZE = 100
_SORTS = ("seq", "-seq", "value", "-value")


def fmt(value: Any, digits: int = 4) -> str:
    """A compact human form of a parameter or outcome value (``—`` for none)."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def _json_value(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN as ``None``."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def parameter_domains(space: Any) -> list[dict[str, Any]]:
    """Each parameter's name, kind and allowed values, for edit forms and the JSON twins."""
    out = []
    for p in space.parameters:
        d: dict[str, Any] = {"name": p.name, "kind": p.kind}
        if p.kind == "real":
            d.update(low=p.low, high=p.high, log=p.log, text=f"real in [{p.low:g}, {p.high:g}]")
        elif p.kind == "integer":
            d.update(low=p.low, high=p.high, text=f"integer in [{p.low}, {p.high}]")
        elif p.kind == "ordinal":
            d.update(options=list(p.values), text="one of " + ", ".join(map(str, p.values)))
        else:
            shown = ", ".join(p.choices[:8]) + (
                f", … ({len(p.choices)} choices)" if len(p.choices) > 8 else ""
            )
            d.update(options=list(p.choices), text=f"categorical: {shown}")
        out.append(d)
    return out


@dataclass(frozen=True)
class ObservationFilter:
    """Filters of the observations table (all optional) and the page to show.

    ``low``, ``high`` and the ``value`` sorts apply to ``objective`` (default: the first).
    """

    objective: str | None = None
    status: str | None = None
    actor: str | None = None
    proposal: str | None = None
    low: float | None = None
    high: float | None = None
    sort: str = "seq"
    page: int = 1
    size: int = PAGE_SIZE

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CampaignView:
    """The read side of one campaign: events folded into tables and figures, cached.

    Parameters
    ----------
    campaign_id : int
    name : str
    config : CampaignConfig
    space : ParameterSpace
        The campaign's space (read only: parameter names and domains).

    Notes
    -----
    Call :meth:`sync` (holding :attr:`lock`) before reading; the methods that return page data
    expect the lock to be held, so that another request cannot fold new events in halfway.
    """

    def __init__(self, campaign_id: int, name: str, config: CampaignConfig, space: Any) -> None:
        self.id = campaign_id
        self.name = name
        self.config = config
        self.space = space
        self.objectives = tuple(
            Objective(o.name, o.direction, o.threshold, o.role) for o in config.objectives
        )
        self.optimised = tuple(o for o in self.objectives if not o.is_constraint)
        self.parameters = list(space.names)
        self.domains = parameter_domains(space)
        self.lock = threading.Lock()
        self.history = History(human_review=config.review == "human")
        self.rows: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.created_at = ""
        self.versions: dict[str, str] = {}
        self._cache: dict[str, Any] = {}

    @property
    def last_seq(self) -> int:
        return self.history.last_seq

    # -- folding events ----------------------------------------------------------------------
    def sync(self, ledger: Ledger) -> bool:
        """Read the events appended since the last call; return whether there were any."""
        new = ledger.events(self.id, since=self.history.last_seq)
        if not new:
            return False
        self.history.apply(new)
        for e in new:
            self.log.append(self._log_row(e))
            if e.kind == "observation":
                self.rows.append(self._observation_row(e))
            elif e.kind == "campaign_created":
                self.created_at = e.created_at
                self.versions = dict(e.payload.get("versions") or {})
        self._cache.clear()
        return True

    def _observation_row(self, e: Event) -> dict[str, Any]:
        o = Observation.from_dict(e.payload)
        row: dict[str, Any] = {"seq": e.seq, **{n: o.candidate.params.get(n) for n in self.parameters}}
        for obj in self.objectives:
            row[obj.name] = o.outcomes.get(obj.name, math.nan)
        p = self.history.proposals.get(o.proposal_id or "")
        row.update(
            status=o.status,
            proposal_id=o.proposal_id,
            actor=e.actor,
            recorded_at=e.created_at,
            strategy=p.strategy if p else None,
        )
        for obj in self.objectives:
            row[f"predicted_{obj.name}"] = p.mean.get(obj.name, math.nan) if p and p.mean else math.nan
            row[f"predicted_{obj.name}_std"] = p.std.get(obj.name, math.nan) if p and p.std else math.nan
        return row

    def _log_row(self, e: Event) -> dict[str, Any]:
        return {
            "seq": e.seq,
            "kind": e.kind,
            "actor": e.actor,
            "at": e.created_at,
            "summary": self._summarise(e),
            "payload": e.payload,
        }

    def _params(self, params: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={fmt(v)}" for k, v in params.items())

    def _summarise(self, e: Event) -> str:
        p = e.payload
        if e.kind == "campaign_created":
            return f"campaign created (seed {p.get('config', {}).get('seed')})"
        if e.kind == "proposal":
            text = f"proposed {p.get('id')} by {p.get('strategy')}: {self._params(p['candidate']['params'])}"
            mean, std = p.get("mean") or {}, p.get("std") or {}
            preds = [f"{k} {fmt(v)} ± {fmt(std.get(k), 2)}" for k, v in mean.items()]
            return text + (f"; predicted {', '.join(preds)}" if preds else "")
        if e.kind == "review":
            word = {"approve": "approved", "edit": "edited and approved", "reject": "rejected"}
            text = f"{word.get(p.get('decision', ''), p.get('decision'))} {p.get('proposal_id')}"
            if p.get("decision") == "edit" and p.get("original"):
                old, new = p["original"]["params"], p["candidate"]["params"]
                changed = [f"{k} {fmt(old.get(k))} → {fmt(v)}" for k, v in new.items() if old.get(k) != v]
                text += f" ({', '.join(changed)})"
            if p.get("reason"):
                text += f": {p['reason']}"
            return text
        if e.kind == "observation":
            outcomes = ", ".join(f"{k}={fmt(v)}" for k, v in (p.get("outcomes") or {}).items())
            where = p.get("proposal_id") or "no proposal"
            meta = p.get("metadata") or {}
            source = f" from {meta['file']}" if meta.get("file") else ""
            return f"observed ({where}, {p.get('status', 'ok')}): {outcomes or '—'}{source}"
        if e.kind == "model_fitted":
            return f"model fitted on {p.get('n_train')} observations (round {p.get('round')})"
        if e.kind == "error":
            return f"error: {p.get('message')}"
        return str(p.get("text") or p)

    # -- derived, cached ---------------------------------------------------------------------
    def _cached(self, key: str, build: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def frame(self) -> pd.DataFrame:
        """Observations in ledger order, in the layout of ``Campaign.to_frame()``."""

        def build() -> pd.DataFrame:
            import pandas as pd

            cols = ["seq", *self.parameters, *(o.name for o in self.objectives), "status", "proposal_id"]
            cols += ["actor", "recorded_at", "strategy"]
            for o in self.objectives:
                cols += [f"predicted_{o.name}", f"predicted_{o.name}_std"]
            return pd.DataFrame(self.rows, columns=cols)

        return self._cached("frame", build)  # type: ignore[no-any-return]

    def objective(self, name: str | None = None) -> Objective:
        """The objective called ``name`` (default: the first); a name not in the campaign is an error."""
        if name is None:
            return self.objectives[0]
        for o in self.objectives:
            if o.name == name:
                return o
        names = [o.name for o in self.objectives]
        raise ValidationError(f"objective: {name!r} is not one of this campaign's{did_you_mean(name, names)}")

    def figures(self, objective: str | None = None) -> dict[str, Any]:
        """The figures of :func:`~scientia.report.figures.campaign_figures`, the best-so-far,
        predicted and effects ones showing ``objective`` (default: the first); with two or more
        objectives to optimise, the Pareto figure too."""
        obj = self.objective(objective)

        def build() -> dict[str, Any]:
            return campaign_figures(
                self.frame(),
                obj.name,
                obj.direction,
                self.parameters,
                objectives=self.objectives,
                front=self.pareto_seqs(),
            )

        return self._cached(f"figures:{obj.name}", build)  # type: ignore[no-any-return]

    def figures_json(self, objective: str | None = None) -> str:
        """The campaign's figures as JSON safe to put in a ``<script>`` element."""
        obj = self.objective(objective)
        return self._cached(  # type: ignore[no-any-return]
            f"figures_json:{obj.name}", lambda: figure_json(self.figures(obj.name))
        )

    def figures_payload(self, objective: str | None = None) -> tuple[bytes, bytes]:
        """The figures as JSON bytes and gzip-compressed, built once per ledger state."""
        obj = self.objective(objective)

        def build() -> tuple[bytes, bytes]:
            raw = self.figures_json(obj.name).encode()
            return raw, gzip.compress(raw, compresslevel=1, mtime=0)

        return self._cached(f"figures_payload:{obj.name}", build)  # type: ignore[no-any-return]

    def pareto_seqs(self) -> list[int]:
        """Ledger ``seq`` of the Pareto-optimal observations, in ledger order, as
        ``Campaign.pareto()`` decides them; empty unless two or more objectives are optimised."""

        def build() -> list[int]:
            if len(self.optimised) < 2:
                return []
            observations = tuple(self.history.observations)  # one per row, in the same order
            front = CampaignState(self.space, self.objectives, observations).pareto()
            seq_of = {id(o): r["seq"] for o, r in zip(observations, self.rows, strict=True)}
            return [seq_of[id(o)] for o in front]

        return self._cached("pareto_seqs", build)  # type: ignore[no-any-return]

    def pareto(self) -> dict[str, Any] | None:
        """The Pareto front of a campaign with two or more objectives to optimise (else None),
        JSON-ready: the objectives traded off, how many of how many successful experiments are
        on it, and its observations (parameters and outcomes), best first by the first objective."""

        def build() -> dict[str, Any] | None:
            if len(self.optimised) < 2:
                return None
            front = set(self.pareto_seqs())
            first = self.objectives[0]
            rows = sorted(
                (r for r in self.rows if r["seq"] in front),
                key=lambda r: (-first.sign * r[first.name], r["seq"]),
            )
            ok = sum(
                1
                for r in self.rows
                if r["status"] == "ok" and all(math.isfinite(r[o.name]) for o in self.objectives)
            )
            return {
                "objectives": [o.to_dict() for o in self.optimised],
                "size": len(rows),
                "ok": ok,
                "rows": [
                    {
                        "seq": r["seq"],
                        "outcomes": {o.name: _json_value(r[o.name]) for o in self.objectives},
                        "params": {n: _json_value(r[n]) for n in self.parameters},
                        "proposal_id": r["proposal_id"],
                        "actor": r["actor"],
                        "recorded_at": r["recorded_at"],
                    }
                    for r in rows
                ],
            }

        return self._cached("pareto", build)  # type: ignore[no-any-return]

    def csv_payload(self) -> tuple[bytes, bytes]:
        """All observations as CSV bytes and gzip-compressed, built once per ledger state."""

        def build() -> tuple[bytes, bytes]:
            raw = self.csv().encode()
            return raw, gzip.compress(raw, compresslevel=1, mtime=0)

        return self._cached("csv_payload", build)  # type: ignore[no-any-return]

    def csv(self, rows: pd.DataFrame | None = None) -> str:
        """The observations (all, or the given filtered rows) as CSV text."""
        if rows is not None:
            return str(rows.to_csv(index=False))
        return self._cached("csv", lambda: self.frame().to_csv(index=False))  # type: ignore[no-any-return]

    def counts(self) -> dict[str, int]:
        def build() -> dict[str, int]:
            h = self.history
            statuses = [h.status(pid) for pid in h.proposals]
            ok = sum(1 for r in self.rows if r["status"] == "ok")
            out = {"observations": len(self.rows), "ok": ok, "failed": len(self.rows) - ok}
            out["proposals"] = len(statuses)
            for s in ("awaiting", "approved", "rejected"):
                out[s] = statuses.count(s)
            out["events"] = len(self.log)
            return out

        return self._cached("counts", build)  # type: ignore[no-any-return]

    def best(self) -> dict[str, Any] | None:
        """The best successful observation of the first objective among those that meet every
        outcome constraint (as ``scientia status`` ranks them)."""

        def build() -> dict[str, Any] | None:
            obj = self.objectives[0]
            constraints = [c for c in self.objectives if c.is_constraint]
            best: dict[str, Any] | None = None
            for r in self.rows:
                v = r[obj.name]
                if r["status"] != "ok" or not math.isfinite(v):
                    continue
                if not all(math.isfinite(r[c.name]) and c.meets(r[c.name]) for c in constraints):
                    continue
                if best is None or obj.better(v, best[obj.name]):
                    best = r
            if best is None:
                return None
            return {
                "objective": obj.name,
                "value": best[obj.name],
                "outcomes": {o.name: _json_value(best[o.name]) for o in self.objectives},
                "params": {n: _json_value(best[n]) for n in self.parameters},
                "seq": best["seq"],
                "proposal_id": best["proposal_id"],
                "actor": best["actor"],
                "recorded_at": best["recorded_at"],
            }

        return self._cached("best", build)  # type: ignore[no-any-return]

    def summary(self) -> dict[str, Any]:
        """The campaign's settings, counts, best result and calibration, JSON-ready."""

        def build() -> dict[str, Any]:
            cfg = self.config
            obj = self.objectives[0]
            inside, total = coverage(self.frame(), obj.name) if self.rows else (0, 0)
            return {
                "id": self.id,
                "name": self.name,
                "description": cfg.description,
                "created_at": self.created_at,
                "review": cfg.review,
                "seed": cfg.seed,
                "batch_size": cfg.batch_size,
                "proposer": cfg.proposer.kind,
                "acquisition": cfg.proposer.acquisition if cfg.proposer.kind == "bo" else None,
                "surrogate": cfg.surrogate.kind if cfg.proposer.kind == "bo" else None,
                "evaluator": cfg.evaluator.kind,
                "objectives": [o.to_dict() for o in self.objectives],
                "parameters": self.domains,
                "constraints": [c.describe() for c in getattr(self.space, "constraints", [])],
                "pool_size": len(self.space.pool) if hasattr(self.space, "pool") else None,
                "counts": self.counts(),
                "best": self.best(),
                "coverage": {"inside": inside, "total": total},
                "last_seq": self.last_seq,
            }

        return self._cached("summary", build)  # type: ignore[no-any-return]

    # -- pages -------------------------------------------------------------------------------
    def observations(self, f: ObservationFilter) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The filtered observations (all matching rows) and one page of them, JSON-ready."""
        frame = self.frame()
        obj = self.objective(f.objective).name
        mask = None

        def both(m: Any) -> Any:
            return m if mask is None else mask & m

        if f.status:
            mask = both(frame["status"] == f.status)
        if f.actor:
            mask = both(frame["actor"] == f.actor)
        if f.proposal:
            mask = both(frame["proposal_id"].fillna("").str.contains(f.proposal, regex=False))
        if f.low is not None:
            mask = both(frame[obj] >= f.low)
        if f.high is not None:
            mask = both(frame[obj] <= f.high)
        rows = frame if mask is None else frame[mask]
        if f.sort in ("value", "-value"):
            rows = rows.sort_values(obj, ascending=f.sort == "value", na_position="last", kind="stable")
        elif f.sort == "-seq":
            rows = rows.iloc[::-1]
        total = len(rows)
        pages = max(1, math.ceil(total / f.size))
        page = min(max(1, f.page), pages)
        shown = rows.iloc[(page - 1) * f.size : page * f.size]
        columns = [str(c) for c in frame.columns]
        records = [[_json_value(v) for v in rec] for rec in shown.itertuples(index=False, name=None)]
        actors = self._cached("actors", lambda: sorted({str(r["actor"]) for r in self.rows}))
        return rows, {
            "columns": columns,
            "rows": records,
            "total": total,
            "page": page,
            "pages": pages,
            "size": f.size,
            "filters": f.to_dict(),
            "actors": actors,
            "sorts": list(_SORTS),
        }

    def queue(self, show: str = "open", page: int = 1) -> dict[str, Any]:
        """Proposals with their status: open ones (oldest first), then decided ones (newest first)."""

        def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            items = [it.to_dict() for it in self.history.items()]
            return (
                [it for it in items if it["status"] in ("awaiting", "approved")],
                [it for it in reversed(items) if it["status"] in ("rejected", "observed")],
            )

        open_items, closed = self._cached("queue", build)
        pages = max(1, math.ceil(len(closed) / PAGE_SIZE))
        page = min(max(1, page), pages)
        return {
            "open": open_items,
            "decided": closed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] if show == "all" else [],
            "decided_total": len(closed),
            "show": show,
            "page": page,
            "pages": pages,
        }

    def audit(self, kinds: Sequence[str] = (), actor: str | None = None, page: int = 1) -> dict[str, Any]:
        """Ledger events, newest first, optionally of some kinds or one actor, one page."""
        rows = self.log
        if kinds:
            rows = [r for r in rows if r["kind"] in kinds]
        if actor:
            rows = [r for r in rows if r["actor"] == actor]
        total = len(rows)
        pages = max(1, math.ceil(total / LOG_PAGE_SIZE))
        page = min(max(1, page), pages)
        end = total - (page - 1) * LOG_PAGE_SIZE
        shown = list(reversed(rows[max(0, end - LOG_PAGE_SIZE) : end]))
        return {
            "events": shown,
            "total": total,
            "page": page,
            "pages": pages,
            "kinds": sorted({r["kind"] for r in self.log}),
            "actors": sorted({r["actor"] for r in self.log}),
            "filters": {"kind": list(kinds), "actor": actor},
        }
