"""Bayesian optimisation: a surrogate, then batch qLogNEI (BoTorch) over any kind of space.

* Pools: sequential greedy batch selection over the unobserved rows
  (``optimize_acqf_discrete``), so no row is proposed twice.
* Continuous spaces: multi-start gradient optimisation of the batch, with linear inequality
  constraints passed to BoTorch in encoded coordinates.
* Mixed spaces: the discrete parameters' combinations are enumerated (``optimize_acqf_mixed``)
  when there are few (and no linear constraints); otherwise a large random feasible candidate
  set is scored with the same batch acquisition.

Several objectives use qLogNEHVI (batch noisy expected hypervolume improvement) with the
objectives' thresholds as the reference point (inferred from the observed front where missing).

Pending experiments are passed to the acquisition as ``X_pending``. Surrogates that are not
BoTorch models (the forest) are used through analytic log-EI on their mean and std: the batch is
the best-scoring distinct candidates, never within 1e-3 (encoded distance) of an observed or
pending experiment.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scientia.campaign.state import CampaignState
from scientia.errors import ConfigError
from scientia.proposers.base import Proposal, fill_random, predict_outcome, prediction_dicts
from scientia.proposers.simple import RandomProposer, SpaceFillingProposer
from scientia.seeding import Seed, child_seeds, rng
from scientia.spaces.parameters import Categorical, Integer, Ordinal, Real
from scientia.spaces.space import PoolSpace
from scientia.types import Candidate

__all__ = ["BOProposer"]

_ACQUISITIONS = ("qlognei", "qlogei", "qucb", "qlognehvi")


class BOProposer:
    """Batch Bayesian optimisation.

    Parameters
    ----------
    surrogate : str or Surrogate
        Registered surrogate name (``"gp"``, ``"forest"``) or an instance.
    acquisition : {"qlognei", "qlogei", "qucb"}
    n_initial : int
        Below this many ``ok`` observations, propose a space-filling design instead.
    surrogate_options : dict, optional
        Keyword arguments for a surrogate given by name.
    mc_samples : int
        Quasi-Monte-Carlo samples for the batch acquisition.
    num_restarts, raw_samples : int
        Multi-start settings for continuous optimisation.
    max_enumerate : int
        Largest number of discrete combinations enumerated in a mixed space.
    n_candidates : int
        Size of the random candidate set when enumeration is too large.
    beta : float
        Exploration weight for ``qucb``.
    learn_feasibility : bool
        When some experiments failed, fit a second GP to success (1) / failure (0) over every
        experiment and keep proposals where it predicts success (> 0.5), as a soft constraint of
        the acquisition (a GP on the indicator: simple, and enough to steer away from regions
        that fail; a proper GP classifier would add little with a few dozen points). Not with
        ``qucb``, which takes no constraints.
    min_feasibility : float
        Finite candidate sets (pools, enumerated or sampled spaces) drop candidates whose chance
        of meeting the outcome constraints and of succeeding is below this, while ``n`` others
        remain (batch acquisitions alone let likely failures fill up a batch).
    prescreen : int
        In pools larger than this, the batch acquisition is optimised over the ``prescreen``
        rows with the highest single-point log-EI (one cheap batched posterior), which keeps a
        proposal over thousands of rows to about a second; 0 scores every row.
    """

    name = "bo"

    def __init__(
        self,
        surrogate: Any = "gp",
        acquisition: str = "qlognei",
        n_initial: int = 5,
        surrogate_options: dict[str, Any] | None = None,
        mc_samples: int = 128,
        num_restarts: int = 8,
        raw_samples: int = 256,
        max_enumerate: int = 8,
        n_candidates: int = 4096,
        beta: float = 2.0,
        prescreen: int = 512,
        learn_feasibility: bool = True,
        min_feasibility: float = 0.1,
    ) -> None:
        if acquisition not in _ACQUISITIONS:
            raise ConfigError(
                f"unknown acquisition {acquisition!r}; expected one of {', '.join(_ACQUISITIONS)}"
            )
        self.surrogate = surrogate
        self.acquisition = acquisition
        self.n_initial = n_initial
        self.surrogate_options = surrogate_options or {}
        self.mc_samples = mc_samples
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples
        self.max_enumerate = max_enumerate
        self.n_candidates = n_candidates
        self.beta = beta
        self.prescreen = prescreen
        self.learn_feasibility = learn_feasibility
        self.min_feasibility = min_feasibility
        self._feasibility: Any = None
        self.last_fit_: dict[str, Any] | None = None
        self._objectives: tuple[Any, ...] = ()

    def _make_surrogate(self) -> Any:
        if isinstance(self.surrogate, str):
            from scientia.models import surrogates

            return surrogates.create(self.surrogate, **self.surrogate_options)
        return self.surrogate

    def propose(self, state: CampaignState, n: int, seed: Seed = None) -> list[Proposal]:
        """Fit the surrogate to the campaign's data and choose ``n`` candidates."""
        fit_seed, acq_seed, fill_seed = child_seeds(seed, 3)
        ok = state.ok
        if len(ok) < max(2, self.n_initial):
            return SpaceFillingProposer().propose(state, n, fill_seed)
        X, Y = state.training_data()
        surrogate = self._make_surrogate()
        noise = state.training_noise()
        sources = state.source_data()
        if sources:
            if not hasattr(surrogate, "fit_transfer"):
                raise ConfigError(
                    "[[transfer]] needs a surrogate that can learn from several tasks (kind = 'gp')"
                )
            if len(state.objectives) > 1:
                raise ConfigError("[[transfer]] works with one objective; list one [[objectives]] entry")
            model = surrogate.fit_transfer(X, Y, sources, seed=fit_seed)
        elif noise is not None and _accepts(surrogate.fit, "noise"):
            model = surrogate.fit(X, Y, seed=fit_seed, noise=noise)
        else:
            model = surrogate.fit(X, Y, seed=fit_seed)
        if len(state.objectives) > 1 and not hasattr(model, "model_"):
            raise ConfigError(
                "several objectives or outcome constraints need a BoTorch surrogate (surrogate kind = 'gp')"
            )
        self._feasibility = None
        if self.learn_feasibility and self.acquisition != "qucb" and hasattr(model, "model_"):
            self._feasibility = _feasibility_model(state, fit_seed)
        self.last_fit_ = model.summary() if hasattr(model, "summary") else None
        if hasattr(model, "model_"):
            import torch

            with torch.random.fork_rng():  # optimiser restarts draw from torch's RNG
                torch.manual_seed(acq_seed % 2**63)
                self._objectives = state.objectives
                proposals = self._botorch(model, state, X, Y, n, acq_seed)
        else:
            proposals = self._analytic(model, state, Y, n, acq_seed)
        if len(proposals) < n:  # constraints or a small pool left too few: top up at random
            extra = RandomProposer().propose(state, n, fill_seed)
            taken = {p.candidate.id for p in proposals}
            proposals += [p for p in extra if p.candidate.id not in taken][: n - len(proposals)]
        return proposals

    # -- BoTorch acquisition -----------------------------------------------------------------
    def _acqf(self, model: Any, X: np.ndarray, Y: np.ndarray, pending: Any, seed: int) -> Any:
        import torch
        from botorch.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
        from botorch.acquisition.monte_carlo import qUpperConfidenceBound
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.models import ModelListGP
        from botorch.sampling import SobolQMCNormalSampler

        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([self.mc_samples]), seed=seed)
        tX = torch.as_tensor(X, dtype=torch.float64)
        objs = self._objectives
        opt = [j for j, o in enumerate(objs) if not o.is_constraint]
        # outcome constraints (and the learned chance of success) as BoTorch constraint callables:
        # feasible where the callable is <= 0, on sign-adjusted outcomes (bigger is better)
        constraints = [_at_least(j, o.sign * o.threshold) for j, o in enumerate(objs) if o.is_constraint]
        base = model.model_
        if self._feasibility is not None:
            parts: list[Any] = list(base.models) if isinstance(base, ModelListGP) else [base]
            base = ModelListGP(*parts, self._feasibility.model_)
            constraints.append(_at_least(len(parts), 0.5))
        if len(opt) > 1:
            from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
            from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective

            return qLogNoisyExpectedHypervolumeImprovement(
                base,
                ref_point=reference_point([objs[j] for j in opt], Y[:, opt]).tolist(),
                X_baseline=tX,
                sampler=sampler,
                objective=IdentityMCMultiOutputObjective(outcomes=opt)
                if base.num_outputs > len(opt)
                else None,
                constraints=constraints or None,
                prune_baseline=True,
                X_pending=pending,
            )
        objective = GenericMCObjective(_output(opt[0])) if base.num_outputs > 1 else None
        extra: dict[str, Any] = {"objective": objective, "constraints": constraints or None}
        if self.acquisition == "qlognei":
            return qLogNoisyExpectedImprovement(
                base, X_baseline=tX, sampler=sampler, prune_baseline=True, X_pending=pending, **extra
            )
        if self.acquisition == "qlogei":
            feasible = np.all(
                [Y[:, j] >= o.sign * o.threshold for j, o in enumerate(objs) if o.is_constraint], axis=0
            )
            with torch.no_grad():
                mean = model.model_.posterior(tX).mean[..., opt[0]].numpy()
            best = float(mean[feasible].max()) if np.any(feasible) else float(mean.min())
            return qLogExpectedImprovement(base, best_f=best, sampler=sampler, X_pending=pending, **extra)
        if constraints:
            raise ConfigError("qucb cannot respect outcome constraints; use qlognei or qlogei")
        return qUpperConfidenceBound(base, beta=self.beta, sampler=sampler, X_pending=pending)

    def _botorch(
        self, model: Any, state: CampaignState, X: np.ndarray, Y: np.ndarray, n: int, seed: int
    ) -> list[Proposal]:
        import torch
        from botorch.optim import optimize_acqf, optimize_acqf_discrete, optimize_acqf_mixed

        space = state.space
        pending = (
            torch.as_tensor(space.encode(list(state.pending)), dtype=torch.float64) if state.pending else None
        )
        acq = self._acqf(model, X, Y, pending, seed)
        n_opt = sum(not o.is_constraint for o in self._objectives)
        strategy = f"bo:{self.acquisition}" if n_opt == 1 else "bo:qlognehvi"
        taken = state.taken_ids()
        if isinstance(space, PoolSpace):
            idx, choices = state.available_pool()
            if not idx:
                return []
            keep = self._likely_feasible(model, choices, n)
            idx, choices = [idx[k] for k in keep], choices[keep]
            if self.prescreen and len(idx) > self.prescreen:
                keep = _prescreen(
                    _optimised_model(model.model_, self._objectives), X, choices, self.prescreen
                )
                idx, choices = [idx[k] for k in keep], choices[keep]
            cand, values = optimize_acqf_discrete(
                acq, q=min(n, len(idx)), choices=torch.as_tensor(choices), max_batch_size=2048
            )
            Xc = cand.numpy()
            # map back to pool rows exactly (no rounding issues)
            rows = [idx[int(np.argmin(((choices - x) ** 2).sum(1)))] for x in Xc]
            cands = [space.pool[r] for r in rows]
        else:
            d = space.dim
            bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
            ineq = [
                (torch.tensor(i), torch.tensor(c, dtype=torch.float64), r)
                for i, c, r in space.linear_constraints_encoded()
            ] or None
            eq = [
                (torch.tensor(i), torch.tensor(c, dtype=torch.float64), r)
                for i, c, r in space.linear_constraints_encoded(equalities=True)
            ] or None
            discrete = [p for p in space.parameters if not isinstance(p, Real)]
            combos = math.prod(_n_levels(p) for p in discrete) if discrete else 0
            if not discrete:
                cand, values = optimize_acqf(  # type: ignore[assignment]
                    acq,
                    bounds=bounds,
                    q=n,
                    num_restarts=self.num_restarts,
                    raw_samples=self.raw_samples,
                    inequality_constraints=ineq,
                    equality_constraints=eq,
                    # start points that meet the equalities (BoTorch's default ignores them)
                    ic_generator=_polytope_initial_conditions if eq else None,  # type: ignore[arg-type]
                )
            elif (
                len(discrete) < len(space.parameters) and combos <= self.max_enumerate and not ineq and not eq
            ):
                # one continuous optimisation per combination and batch slot (SLSQP under linear
                # constraints is too slow for that: those spaces score a candidate set instead)
                cand, values = optimize_acqf_mixed(  # type: ignore[assignment]
                    acq,
                    bounds=bounds,
                    q=n,
                    num_restarts=self.num_restarts,
                    raw_samples=self.raw_samples,
                    fixed_features_list=_fixed_features(space, discrete),
                )
            else:
                cand, values = self._discrete_set(model, acq, state, n, seed, combos)
            cands = space.decode(cand.detach().numpy())
            if not cands:
                return []
        values_np = (
            np.atleast_1d(values.detach().numpy()).reshape(-1)
            if values is not None
            else np.full(len(cands), np.nan)
        )
        pred = predict_outcome(model, space.encode(cands))
        names = [o.name for o in state.objectives]
        signs = [o.sign for o in state.objectives]
        out: list[Proposal] = []
        for i, (c, (mean, std)) in enumerate(zip(cands, prediction_dicts(pred, names, signs), strict=True)):
            if c.id in taken or not space.feasible(c.params) or any(p.candidate.id == c.id for p in out):
                continue
            acq_v = float(values_np[i]) if values_np.size == len(cands) else float(values_np[0])
            out.append(
                Proposal(
                    c,
                    strategy,
                    mean=mean,
                    std=std,
                    acquisition=acq_v,
                    reason=_reason(strategy.removeprefix("bo:"), len(state.ok), len(state.pending)),
                )
            )
        return out

    def _likely_feasible(self, model: Any, choices: np.ndarray, n: int) -> np.ndarray:
        """Positions of the candidates not predicted to break a constraint.

        Batch acquisitions pick the 2nd..nth point of a batch by what it adds to the first; once
        the first dominates, a candidate sure to fail adds as little as one that would succeed,
        so the soft constraint alone lets failures into the batch. Candidates whose chance of
        meeting every outcome constraint and of succeeding (the feasibility model) is below
        ``min_feasibility`` are dropped beforehand, as long as ``n`` others remain.
        """
        from scipy.stats import norm

        cons = [(j, o) for j, o in enumerate(self._objectives) if o.is_constraint]
        if not cons and self._feasibility is None:
            return np.arange(len(choices))
        logp = np.zeros(len(choices))
        if cons:
            pred = model.predict(choices)  # sign-adjusted outcomes
            for j, o in cons:
                z = (pred.mean[:, j] - o.sign * o.threshold) / np.maximum(pred.std[:, j], 1e-12)
                logp += norm.logcdf(z)
        if self._feasibility is not None:
            pf = self._feasibility.predict(choices)
            logp += norm.logcdf((pf.mean[:, 0] - 0.5) / np.maximum(pf.std[:, 0], 1e-12))
        keep = np.flatnonzero(logp >= np.log(self.min_feasibility))
        return keep if len(keep) >= n else np.argsort(-logp, kind="stable")[: max(n, len(keep))]

    def _discrete_set(
        self, model: Any, acq: Any, state: CampaignState, n: int, seed: int, combos: int
    ) -> Any:
        """Score a finite candidate set: every combination when all parameters are discrete and
        there are few of them, else a random feasible sample."""
        import torch
        from botorch.optim import optimize_acqf_discrete

        space = state.space
        taken = state.taken_ids()
        if all(not isinstance(p, Real) for p in space.parameters) and combos <= self.n_candidates:
            grid = itertools.product(*[_levels(p) for p in space.parameters])
            names = space.names
            cands = [Candidate(dict(zip(names, g, strict=True))) for g in grid]
            cands = [c for c in cands if space.feasible(c.params) and c.id not in taken]
        else:
            cands = [c for c in space.sample(self.n_candidates, rng(seed)) if c.id not in taken]
        unique = list({c.id: c for c in cands}.values())
        if not unique:  # every point is taken: nothing left to propose
            return torch.empty(0, space.dim, dtype=torch.float64), None
        encoded = space.encode(unique)
        choices = torch.as_tensor(encoded[self._likely_feasible(model, encoded, n)], dtype=torch.float64)
        return optimize_acqf_discrete(acq, q=min(n, len(choices)), choices=choices, max_batch_size=2048)

    # -- analytic fallback for non-BoTorch surrogates ------------------------------------------
    def _analytic(self, model: Any, state: CampaignState, Y: np.ndarray, n: int, seed: int) -> list[Proposal]:
        from scipy.stats import norm

        space = state.space
        if isinstance(space, PoolSpace):
            idx, Xc = state.available_pool()
            cands = [space.pool[i] for i in idx]
        else:
            taken = state.taken_ids()
            cands = [c for c in space.sample(self.n_candidates, rng(seed)) if c.id not in taken]
            cands = list({c.id: c for c in cands}.values())
            Xc = space.encode(cands)
        if not cands:
            return []
        # never (nearly) repeat an observed or pending experiment
        known = [o.candidate for o in state.observations] + list(state.pending)
        if known:
            near = _sqdist_min(Xc, space.encode(known)) < 1e-6
            cands = [c for c, skip in zip(cands, near, strict=True) if not skip]
            Xc = Xc[~near]
        if not cands:
            return []
        pred = predict_outcome(model, Xc)
        mu, sd = pred.mean[:, 0], np.maximum(pred.std[:, 0], 1e-9)
        best = float(Y[:, 0].max())
        if self.acquisition == "qucb":
            score = mu + math.sqrt(self.beta) * sd
        else:
            z = (mu - best) / sd
            score = np.log(np.maximum(sd * (z * norm.cdf(z) + norm.pdf(z)), 1e-300))
        order = np.argsort(-score)
        # diversity: skip candidates very close (encoded) to ones already chosen
        chosen: list[int] = []
        for j in order:
            if len(chosen) >= n:
                break
            if all(np.sum((Xc[j] - Xc[k]) ** 2) > 1e-6 for k in chosen):
                chosen.append(int(j))
        names = [o.name for o in state.objectives]
        signs = [o.sign for o in state.objectives]
        sub = type(pred)(pred.mean[chosen], pred.std[chosen])
        out = []
        for j, (mean, std) in zip(chosen, prediction_dicts(sub, names, signs), strict=True):
            out.append(
                Proposal(
                    cands[j],
                    f"bo:{self.acquisition}-analytic",
                    mean=mean,
                    std=std,
                    acquisition=float(score[j]),
                    reason=_reason(self.acquisition, len(state.ok), len(state.pending)),
                )
            )
        return fill_random(out, [], n, self.name, "")


def _prescreen(model: Any, X: np.ndarray, choices: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``choices`` with the highest analytic log-EI (with several
    outcomes, the best ``k / m`` rows for each outcome in turn, then the next, until ``k``)."""
    import torch
    from botorch.acquisition.analytic import LogExpectedImprovement

    parts = getattr(model, "models", None)
    if parts is not None and len(parts) > 1:
        orders = [_prescreen(m, X, choices, len(choices)) for m in parts]
        out: list[int] = []
        seen: set[int] = set()
        for rank in range(len(choices)):
            for order in orders:
                j = int(order[rank])
                if j not in seen:
                    seen.add(j)
                    out.append(j)
            if len(out) >= k:
                break
        return np.array(out[:k])
    with torch.no_grad():
        tX = torch.as_tensor(X, dtype=torch.float64)
        best = model.posterior(tX).mean.max().item()
        logei = LogExpectedImprovement(model, best_f=best)
        tc = torch.as_tensor(choices, dtype=torch.float64).unsqueeze(1)
        scores = torch.cat([logei(chunk) for chunk in tc.split(4096)]).numpy()
    return np.argsort(-scores, kind="stable")[:k]


def _polytope_initial_conditions(
    acq_function: Any, bounds: Any, q: int, num_restarts: int, raw_samples: int, **kw: Any
) -> Any:
    """Random restarts on the constraint polytope, best ``num_restarts`` of ``raw_samples`` by
    acquisition value (``optimize_acqf``'s default initialiser does not respect equalities)."""
    import torch
    from botorch.utils.sampling import get_polytope_samples

    opts = kw.get("options") or {}
    X = get_polytope_samples(
        raw_samples * q,
        bounds=bounds,
        inequality_constraints=kw.get("inequality_constraints"),
        equality_constraints=kw.get("equality_constraints"),
        seed=opts.get("seed"),
        n_burnin=200,
        n_thinning=4,
    ).reshape(raw_samples, q, -1)
    with torch.no_grad():
        values = torch.cat([acq_function(x) for x in X.split(64)])
    return X[values.topk(min(num_restarts, raw_samples)).indices]


def _output(j: int) -> Any:
    """An MC objective picking output ``j``."""

    def pick(Z: Any, X: Any = None) -> Any:
        return Z[..., j]

    return pick


def _at_least(j: int, bound: float) -> Any:
    """A BoTorch constraint callable: output ``j`` should be at least ``bound``."""

    def constraint(Z: Any) -> Any:
        return bound - Z[..., j]

    return constraint


def _optimised_model(model: Any, objectives: Sequence[Any]) -> Any:
    """The sub-model(s) of the outcomes to optimise (for pre-screening)."""
    parts = getattr(model, "models", None)
    if parts is None:
        return model
    keep = [m for m, o in zip(parts, objectives, strict=False) if not o.is_constraint]
    if len(keep) == 1:
        return keep[0]
    from botorch.models import ModelListGP

    return ModelListGP(*keep)


def _feasibility_model(state: CampaignState, seed: int) -> Any:
    """A GP on success (1) / failure (0) of every experiment, or None if nothing failed."""
    obs = [o for o in state.observations if state.space.contains(o.candidate)]
    failed = [o.status == "failed" for o in obs]
    if not any(failed) or all(failed):
        return None
    from scientia.models.gp import GPSurrogate

    X = state.space.encode([o.candidate for o in obs])
    y = 1.0 - np.asarray(failed, dtype=float)[:, None]
    return GPSurrogate().fit(X, y, seed=seed)


def _accepts(fn: Any, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def reference_point(objectives: Sequence[Any], Y: np.ndarray) -> np.ndarray:
    """The hypervolume reference point in sign-adjusted units (bigger is better): each
    objective's threshold where given, else BoTorch's rule (the nadir of the observed Pareto
    front, pushed 10% of its range further out)."""
    import torch
    from botorch.utils.multi_objective.hypervolume import infer_reference_point
    from botorch.utils.multi_objective.pareto import is_non_dominated

    tY = torch.as_tensor(Y, dtype=torch.float64)
    inferred = infer_reference_point(tY[is_non_dominated(tY)]).numpy()
    return np.array(
        [o.sign * o.threshold if o.threshold is not None else inferred[j] for j, o in enumerate(objectives)]
    )


def _sqdist_min(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """For each row of A (n, d), the squared distance to the nearest row of B (m, d)."""
    return np.min(((A[:, None, :] - B[None, :, :]) ** 2).sum(-1), axis=1)


def _levels(p: Any) -> list[Any]:
    if isinstance(p, Categorical):
        return list(p.choices)
    if isinstance(p, Ordinal):
        return list(p.values)
    return list(range(p.low, p.high + 1))


def _n_levels(p: Any) -> int:
    if isinstance(p, Categorical):
        return len(p.choices)
    if isinstance(p, Ordinal):
        return len(p.values)
    if isinstance(p, Integer):
        return p.high - p.low + 1
    return 10**9


def _fixed_features(space: Any, discrete: list[Any]) -> list[dict[int, float]]:
    """Every combination of the discrete parameters as BoTorch fixed-feature dicts."""
    sl = space.slices()
    levels = []
    for p in discrete:
        rows = [(v, p.encode([v])[0]) for v in _levels(p)]
        levels.append([(p.name, v, enc) for v, enc in rows])
    out = []
    for combo in itertools.product(*levels):
        params = {name: v for name, v, _ in combo}
        excluded = [c for c in space.constraints if c.kind == "excluded" and set(c.values) <= set(params)]
        if any(not c.satisfied(params) for c in excluded):
            continue
        fixed: dict[int, float] = {}
        for name, _, enc in combo:
            for k, col in enumerate(range(sl[name].start, sl[name].stop)):
                fixed[col] = float(enc[k])
        out.append(fixed)
    return out


def _reason(acq: str, n_obs: int, n_pending: int) -> str:
    what = {
        "qlognei": "noisy expected improvement",
        "qlogei": "expected improvement",
        "qucb": "upper confidence bound",
        "qlognehvi": "noisy expected hypervolume improvement",
    }[acq]
    extra = f", {n_pending} pending" if n_pending else ""
    return f"highest {what} given {n_obs} observations{extra}"
