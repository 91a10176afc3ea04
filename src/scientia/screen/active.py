"""Active-learning virtual screening of a pool of molecules with an expensive oracle.

Pool-based active learning as in MolPAL (Graff, Shakhnovich and Coley, *Chem. Sci.* 12, 7866
(2021)): evaluate a random initial batch (default 1% of the pool), fit a surrogate on what was
measured, evaluate the next batch (1%) chosen by an acquisition function on the surrogate's
prediction of the rest of the pool, and repeat until the budget (6%) is spent.

Every step is a scientia campaign in a ledger, run by the campaign loop itself:

* the space is one categorical parameter ``smiles`` whose choices are the pool (readable SMILES,
  duplicates dropped, in input order), the objective is the oracle's value, and the proposer is
  :class:`~scientia.screen.acquire.PoolProposer` (registered as ``active-screen``);
* each round is one ``Campaign.suggest(n)`` — its proposals carry the predicted mean and std, the
  acquisition value and a reason — followed by ``Campaign.step``, which evaluates them and
  records one observation each (a molecule the oracle cannot score is a ``failed`` observation);
* a ``model_fitted`` event records each fit and a ``note`` each finished round.

A run killed at any point is resumed from the ledger (:meth:`ActiveScreen.resume`, or
:meth:`ActiveScreen.run` again with the same settings and campaign name): proposals already made
are evaluated, nothing is evaluated twice.

The oracle is a function of a list of SMILES returning one number per molecule (called once per
batch, NaN for a failure), or a lookup table (a ``dict`` or ``pandas.Series`` from SMILES to value)
for retrospective studies. :func:`top_k_found` measures such a study as MolPAL does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.screen.acquire import (
    ACQUISITIONS,
    PROPOSER,
    PoolFeatures,
    PoolProposer,
    default_featurizer,
    pool_choices,
)
from scientia.screen.features import Featurizer, Reject
from scientia.screen.oracle import PARAMETER, Oracle, OracleEvaluator, top_k_found, top_k_smiles_found

if TYPE_CHECKING:
    import pandas as pd

    from scientia.campaign import Campaign
    from scientia.ledger import Ledger

__all__ = ["ActiveScreen", "OracleEvaluator", "RoundReport", "top_k_found", "top_k_smiles_found"]


@dataclass(frozen=True)
class RoundReport:
    """One finished round of an active screen (passed to ``on_round``).

    Attributes
    ----------
    round : int
        0 for the initial batch.
    strategy : str
        ``active-screen:random`` or ``active-screen:<acquisition>``.
    smiles : tuple of str
        The molecules evaluated in this round, in proposal order (best acquisition first).
    values : tuple of float
        Their oracle values (NaN where the oracle failed).
    n_evaluated, budget : int
        Molecules evaluated so far, in all rounds, and in all.
    best : float or None
        The best value evaluated so far.
    propose_seconds, evaluate_seconds : float or None
        Time to fit and acquire, and to evaluate (None for rounds run before a resume).
    """

    round: int
    strategy: str
    smiles: tuple[str, ...]
    values: tuple[float, ...]
    n_evaluated: int
    budget: int
    best: float | None
    propose_seconds: float | None = None
    evaluate_seconds: float | None = None

    @property
    def n_failed(self) -> int:
        return sum(1 for v in self.values if math.isnan(v))


class ActiveScreen:
    """Pool-based active-learning screening, recorded as a scientia campaign.

    Parameters
    ----------
    model : str
        The surrogate: ``ensemble`` (deep ensemble of fingerprint MLPs; default), ``gp`` (Tanimoto
        GP) or ``forest`` (MolPAL's random forest; cheap).
    acquisition : {"greedy", "ucb", "thompson", "random"}
        See :mod:`scientia.screen.acquire`.
    beta : float
        UCB's weight of the std (default 2, as MolPAL).
    model_options : dict, optional
        Keyword arguments of the model, e.g. ``{"n_members": 5, "epochs": 40}``.
    features : Featurizer, optional
        Default: Morgan counts (radius 2, 2,048 bits) and twelve cheap RDKit descriptors
        (:func:`~scientia.screen.acquire.default_featurizer`).
    init_fraction, batch_fraction, budget_fraction : float
        The initial random batch, each later batch and the whole budget as fractions of the pool
        (MolPAL: 0.01, 0.01, 0.06); rounded, at least 1.
    init_size, batch_size, budget : int, optional
        The same as numbers of molecules (they override the fractions).
    direction : {"max", "min"}
        Whether high (default) or low oracle values are hits (docking scores: ``min``).
    objective : str
        The name of the oracle's value in the ledger.
    seed : int
        Seeds the initial batch, every fit and Thompson draw (one seed, one screen).
    name : str
        The campaign's name in the ledger.
    chunk_size : int
        Molecules featurized and predicted at a time.

    Attributes
    ----------
    campaign_ : Campaign
        The campaign in the ledger.
    pool_ : tuple of str
        The screened pool: readable SMILES, first occurrence of each, in input order.
    rejects_ : list of Reject
        Unreadable SMILES, with their position in the input (from 1) and RDKit's reason.
    n_duplicates_ : int
        Repeated SMILES dropped from the input.
    sizes_ : list of int
        The planned size of every round.
    rounds_ : list of RoundReport
        Every finished round (also those of earlier runs of the same campaign).
    """

    def __init__(
        self,
        model: str = "ensemble",
        acquisition: str = "greedy",
        *,
        beta: float = 2.0,
        model_options: dict[str, Any] | None = None,
        features: Featurizer | None = None,
        init_fraction: float = 0.01,
        batch_fraction: float = 0.01,
        budget_fraction: float = 0.06,
        init_size: int | None = None,
        batch_size: int | None = None,
        budget: int | None = None,
        direction: str = "max",
        objective: str = "score",
        seed: int = 0,
        name: str = "active-screen",
        chunk_size: int = 4096,
    ) -> None:
        self.model = model
        self.acquisition = acquisition
        self.beta = beta
        self.model_options = model_options
        self.features = features
        self.init_fraction = init_fraction
        self.batch_fraction = batch_fraction
        self.budget_fraction = budget_fraction
        self.init_size = init_size
        self.batch_size = batch_size
        self.budget = budget
        self.direction = direction
        self.objective = objective
        self.seed = seed
        self.name = name
        self.chunk_size = chunk_size

    # -- planning ---------------------------------------------------------------------------------
    def plan(self, n_pool: int) -> list[int]:
        """The size of every round for a pool of ``n_pool`` molecules (the last may be smaller)."""
        init = _count(self.init_size, self.init_fraction, n_pool, "init")
        batch = _count(self.batch_size, self.batch_fraction, n_pool, "batch")
        budget = min(_count(self.budget, self.budget_fraction, n_pool, "budget"), n_pool)
        sizes = [min(init, budget)]
        while sum(sizes) < budget:
            sizes.append(min(batch, budget - sum(sizes)))
        return sizes

    def _check(self) -> None:
        if self.acquisition not in ACQUISITIONS:
            raise UnknownNameError.for_name("acquisition", self.acquisition, ACQUISITIONS)
        if self.direction not in ("max", "min"):
            raise UnknownNameError.for_name("direction", self.direction, ("max", "min"))
        if not self.objective or self.objective == PARAMETER:
            raise ConfigError(f"the objective needs a name other than {PARAMETER!r}; got {self.objective!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise ConfigError(f"seed must be an integer; got {self.seed!r}")

    def _options(self, n_initial: int) -> dict[str, Any]:
        """The proposer's options, as stored in the campaign's config."""
        return {
            "model": self.model,
            "model_options": dict(self.model_options or {}),
            "features": (self.features or default_featurizer()).to_dict(),
            "acquisition": self.acquisition,
            "beta": float(self.beta),
            "n_initial": n_initial,
            "chunk_size": self.chunk_size,
        }

    def _config(self, pool: Sequence[str], sizes: list[int]) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": f"active-learning screen of {len(pool):,} molecules "
            f"({self.acquisition}, {self.model} surrogate; scientia.screen.active)",
            "seed": int(self.seed),
            "batch_size": min(max(sizes[1:] or sizes), 1000),  # informative: rounds set their own size
            "budget": sum(sizes),
            "space": {
                "kind": "parameters",
                "parameters": [{"name": PARAMETER, "kind": "categorical", "choices": list(pool)}],
            },
            "objectives": [{"name": self.objective, "direction": self.direction}],
            "proposer": {
                "kind": PROPOSER,
                "n_initial": sizes[0],
                "acquisition": self.acquisition,
                "options": self._options(sizes[0]),
            },
            "evaluator": {"kind": "manual"},
        }

    # -- running ----------------------------------------------------------------------------------
    def run(
        self,
        smiles: Sequence[str],
        oracle: Oracle,
        ledger: str | Ledger,
        *,
        on_round: Callable[[RoundReport], None] | None = None,
        on_featurize: Callable[[int, int], None] | None = None,
        pool_features: PoolFeatures | None = None,
    ) -> ActiveScreen:
        """Screen ``smiles`` with ``oracle``, recording every step in ``ledger``.

        Parameters
        ----------
        smiles : sequence of str, length n
            The pool. Unreadable SMILES are left out (``rejects_``), repeats dropped.
        oracle : callable or mapping
            See :class:`OracleEvaluator`.
        ledger : str or Ledger
            A SQLite file (created if missing) or an open ledger. If it already holds a campaign
            named ``name`` with the same settings and pool, that screen is resumed; with other
            settings, it is an error.
        on_round : callable, optional
            Called with a :class:`RoundReport` after every round.
        on_featurize : callable, optional
            Called with (molecules featurized, pool size) while the pool is featurized.
        pool_features : PoolFeatures, optional
            The pool's features computed earlier with :func:`~scientia.screen.acquire.featurize_pool`
            and this screen's featurizer, for ``smiles`` without repeats (e.g. to screen one pool
            several times); not recomputed.
        """
        from scientia.campaign import Campaign
        from scientia.ledger import Ledger

        self._check()
        evaluator = OracleEvaluator(oracle, self.objective)
        store = _existing(ledger)
        stored = _stored_config(store, self.name) if store is not None else None
        if stored is not None:  # refuse other settings before spending time on the pool
            _same_settings(self.name, stored, self._config([], [1]), pool=False)
        texts = ["" if s is None else str(s) for s in smiles]
        unique = list(dict.fromkeys(texts))
        proposer = PoolProposer(**self._options(1))  # checks the options
        if pool_features is not None:
            if pool_features.smiles != tuple(unique):
                raise ValidationError("pool_features were computed for other SMILES than this pool's")
            proposer.attach(pool_features)
        feats = proposer.features(unique, on_featurize)
        positions = {s: i for i, s in reversed(list(enumerate(texts, start=1)))}
        rejects = [Reject(positions[r.smiles], r.smiles, r.reason) for r in feats.rejects]
        pool = [s for s, ok in zip(unique, feats.readable, strict=True) if ok]
        if not pool:
            raise ValidationError(f"none of the {len(texts):,} SMILES of the pool can be read")
        sizes = self.plan(len(pool))
        cfg = self._config(pool, sizes)
        if store is not None and stored is not None:
            _same_settings(self.name, stored, cfg, pool=True)
            campaign = Campaign.open(store, self.name, evaluator)
        else:
            campaign = Campaign.create(cfg, store or Ledger(str(ledger)), evaluator)
            campaign.ledger.append(
                campaign.id,
                "note",
                {"active_screen": {"pool": len(pool), "unreadable": len(rejects),
                                   "duplicates": len(texts) - len(unique), "rounds": sizes}},
            )  # fmt: skip
        self.rejects_ = rejects
        self.n_duplicates_ = len(texts) - len(unique)
        rows = np.flatnonzero(feats.readable)
        campaign.proposer.attach(
            PoolFeatures(tuple(pool), feats.X[rows], np.ones(len(pool), dtype=bool), [],
                         {s: i for i, s in enumerate(pool)})
        )  # fmt: skip
        return self._loop(campaign, evaluator, sizes, on_round)

    @classmethod
    def resume(
        cls,
        ledger: str | Ledger,
        name: str,
        oracle: Oracle,
        *,
        on_round: Callable[[RoundReport], None] | None = None,
        on_featurize: Callable[[int, int], None] | None = None,
    ) -> ActiveScreen:
        """Open the screen ``name`` in ``ledger`` and finish it (the settings come from the ledger).

        The pool is featurized again (its stored SMILES are the readable ones, so ``rejects_`` is
        empty); proposals left pending are evaluated first.
        """
        from scientia.campaign import Campaign
        from scientia.ledger import Ledger

        store = Ledger(ledger, create=False) if isinstance(ledger, str) else ledger
        evaluator = OracleEvaluator(oracle, "")
        campaign = Campaign.open(store, name, evaluator)
        cfg = campaign.config
        if cfg.proposer.kind != PROPOSER:
            raise ValidationError(
                f"campaign {name!r} is not an active screen (its proposer is {cfg.proposer.kind!r})"
            )
        options, obj = cfg.proposer.options, campaign.objectives[0]
        evaluator.objective = obj.name
        self = cls(
            options["model"], options["acquisition"], beta=options["beta"],
            model_options=options["model_options"], features=Featurizer.from_dict(options["features"]),
            direction=obj.direction, objective=obj.name, seed=cfg.seed, name=cfg.name,
            chunk_size=options["chunk_size"],
        )  # fmt: skip
        campaign.proposer.features(pool_choices(campaign.space), on_featurize)
        notes = [e.payload["active_screen"] for e in store.events(campaign.id, kinds=["note"])
                 if "active_screen" in e.payload]  # fmt: skip
        sizes = notes[0]["rounds"] if notes else [options["n_initial"], cfg.batch_size]
        self.rejects_, self.n_duplicates_ = [], notes[0]["duplicates"] if notes else 0
        return self._loop(campaign, evaluator, list(sizes), on_round)

    def _loop(
        self,
        campaign: Campaign,
        evaluator: OracleEvaluator,
        sizes: list[int],
        on_round: Callable[[RoundReport], None] | None,
    ) -> ActiveScreen:
        self.campaign_ = campaign
        self.pool_ = pool_choices(campaign.space)
        self.sizes_ = sizes
        budget = sum(sizes)
        obj = campaign.objectives[0]
        while True:
            h = campaign.history()
            done = len(h.observations)
            todo = h.open_proposals()
            propose_seconds = None
            if not todo:
                if done >= budget:
                    break
                n = _next_size(sizes, done)
                t0 = time.perf_counter()
                todo = campaign.suggest(n)
                propose_seconds = time.perf_counter() - t0
                if not todo:
                    break  # the pool is exhausted
                fit = campaign.proposer.last_fit_
                if fit:
                    payload = {"round": _round_of(todo[0]), "n_train": fit["n_train"], **fit}
                    campaign.ledger.append(campaign.id, "model_fitted", payload)
            t0 = time.perf_counter()
            evaluator.prefetch([str(p.candidate.params[PARAMETER]) for p in todo])
            new = campaign.step(budget)
            evaluate_seconds = time.perf_counter() - t0
            rnd = _round_of(todo[0])
            note = {"round": rnd, "evaluated": len(new), "propose_seconds": propose_seconds,
                    "evaluate_seconds": round(evaluate_seconds, 3)}  # fmt: skip
            campaign.ledger.append(campaign.id, "note", {"active_round": note})
            if on_round is not None:
                reports = _reports(campaign, obj)
                if reports:
                    r = reports[-1]
                    on_round(_with_times(r, propose_seconds, evaluate_seconds))
            if not new:
                break
        self.rounds_ = _reports(campaign, obj)
        return self

    # -- results ----------------------------------------------------------------------------------
    def results(self) -> pd.DataFrame:
        """Every evaluated molecule in order: ``order``, ``round``, ``smiles``, the objective,
        ``status``, ``predicted``, ``predicted_std``, ``acquisition``, ``strategy``."""
        import pandas as pd

        h = self.campaign_.history()
        name = self.campaign_.objectives[0].name
        rows = []
        for k, o in enumerate(h.observations, start=1):
            p = h.proposals.get(o.proposal_id or "")
            rows.append({
                "order": k,
                "round": _round_of(p) if p else None,
                "smiles": o.candidate.params[PARAMETER],
                name: o.outcomes.get(name, np.nan),
                "status": o.status,
                "predicted": (p.mean or {}).get(name, np.nan) if p else np.nan,
                "predicted_std": (p.std or {}).get(name, np.nan) if p else np.nan,
                "acquisition": p.acquisition if p and p.acquisition is not None else np.nan,
                "strategy": p.strategy if p else None,
            })  # fmt: skip
        cols = ["order", "round", "smiles", name, "status", "predicted", "predicted_std", "acquisition",
                "strategy"]  # fmt: skip
        return pd.DataFrame(rows, columns=cols)


def _count(size: int | None, fraction: float, n: int, what: str) -> int:
    if size is not None:
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ConfigError(f"{what} size must be a whole number >= 1; got {size!r}")
        return int(size)
    if not (isinstance(fraction, int | float) and 0 < fraction <= 1):
        raise ConfigError(f"{what} fraction must lie in (0, 1]; got {fraction!r}")
    return max(1, round(fraction * n))


def _next_size(sizes: list[int], done: int) -> int:
    """The size of the round that follows ``done`` evaluations."""
    total = 0
    for s in sizes:
        total += s
        if done < total:
            return total - done
    return 0


def _round_of(p: Any) -> int:
    """The round of a proposal from its id (``r0003.17`` -> 3)."""
    return int(p.id.split(".")[0][1:])


def _existing(ledger: str | Ledger) -> Ledger | None:
    """The ledger if it exists (a path that is no file yet is None: nothing to resume)."""
    from scientia.ledger import Ledger

    if not isinstance(ledger, str):
        return ledger
    if "://" not in ledger and not Path(ledger).is_file():
        return None
    return Ledger(ledger, create=False)


def _stored_config(store: Ledger, name: str) -> dict[str, Any] | None:
    """The config of campaign ``name`` as stored, or None when there is no such campaign."""
    if name not in {c["name"] for c in store.campaigns()}:
        return None
    events = store.events(store.campaign_id(name), kinds=["campaign_created"])
    return dict(events[0].payload["config"])


def _same_settings(name: str, stored: dict[str, Any], cfg: dict[str, Any], pool: bool) -> None:
    """Refuse to resume campaign ``name`` when its stored settings differ from ``cfg``, naming the
    first difference; without ``pool`` only what does not depend on the pool is compared."""
    old = stored.get("proposer", {}).get("options", {})
    new = cfg["proposer"]["options"]
    keys = [k for k in new if pool or k != "n_initial"]
    differs = [
        ("proposer", stored.get("proposer", {}).get("kind") != PROPOSER),
        ("objective", stored.get("objectives") != [{**o, "threshold": None, "role": "optimise"}
                                                   for o in cfg["objectives"]]),
        *((k.replace("_", " "), old.get(k) != new[k]) for k in keys),
        ("seed", stored.get("seed") != cfg["seed"]),
        ("pool", pool and stored.get("space", {}).get("parameters", [{}])[0].get("choices") != cfg["space"]
         ["parameters"][0]["choices"]),
        ("budget", pool and stored.get("budget") != cfg["budget"]),
    ]  # fmt: skip
    what = next((w for w, diff in differs if diff), None)
    if what is not None:
        raise ValidationError(
            f"campaign {name!r} already holds a screen with a different {what}; choose another "
            "name, or resume it as it is with ActiveScreen.resume"
        )


def _reports(campaign: Campaign, obj: Any) -> list[RoundReport]:
    """One report per round from the ledger (rounds in proposal order)."""
    h = campaign.history()
    budget = campaign.config.budget or 0
    by_round: dict[int, list[tuple[str, float]]] = {}
    strategy: dict[int, str] = {}
    best: float | None = None
    n = 0
    out = []
    for o in h.observations:
        p = h.proposals.get(o.proposal_id or "")
        rnd = _round_of(p) if p else -1
        v = float(o.outcomes[obj.name]) if o.status == "ok" and obj.name in o.outcomes else math.nan
        by_round.setdefault(rnd, []).append((str(o.candidate.params[PARAMETER]), v))
        strategy.setdefault(rnd, p.strategy if p else "")
    for rnd in sorted(by_round):
        items = by_round[rnd]
        n += len(items)
        for _, v in items:
            if not math.isnan(v) and (best is None or obj.better(v, best)):
                best = v
        out.append(RoundReport(rnd, strategy[rnd], tuple(s for s, _ in items), tuple(v for _, v in items),
                               n, budget, best))  # fmt: skip
    return out


def _with_times(r: RoundReport, propose: float | None, evaluate: float) -> RoundReport:
    from dataclasses import replace

    return replace(r, propose_seconds=propose, evaluate_seconds=evaluate)
