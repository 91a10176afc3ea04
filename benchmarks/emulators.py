"""Closed-loop Bayesian optimisation on continuous spaces, with emulators of three Olympus tables.

Tables (read from ``<data-dir>/reaction_optimisation/olympus``; Olympus, MIT license, see that
folder's README; names, bounds and goals checked against its ``olympus_configs.json`` at load):

* ``hplc`` (1,386 rows; Roch et al. 2018): ``sample_loop`` [0, 0.08], ``additional_volume``
  [0, 0.06], ``tubing_volume`` [0.1, 0.9], ``sample_flow`` [0.5, 2.5], ``push_speed`` [80, 150],
  ``wait_time`` [0.5, 10], all real -> ``peak_area`` (max).
* ``photo_pce10`` (1,040 rows; Langner, Häse et al. 2020): ``mat_1`` .. ``mat_4`` in [0, 1] ->
  ``degradation`` (min). Olympus declares the parameters a simplex and every row of the table
  adds up to 1 (checked at load, to 1e-9), so the space is the 3-simplex: a ``mixture``
  constraint for scientia, a ``ContinuousLinearConstraint`` ``sum == 1`` for BayBE, Dirichlet(1,
  1, 1, 1) (uniform on the simplex) for random and the start points.
* ``crossed_barrel`` (600 rows; Gongora et al. 2020): ``n`` (number of struts) is integer in
  the data (6, 8, 10, 12; checked at load) and is modelled as an integer in [6, 12] everywhere
  (scientia ``integer``, BayBE ``NumericalDiscreteParameter`` 6..12, which makes its search space
  hybrid, uniform integers for random); odd ``n`` are interpolated by the emulator. ``theta``
  [0, 200], ``r`` [1.5, 2.5], ``t`` [0.7, 1.4] real -> ``toughness`` (max).

Protocol
--------
* Emulator, once per table and frozen: scientia's ``ModelEmulator`` (``scientia.evaluators``)
  fitted to the whole table with ``seed = 0``, once as a GP and once as extra trees; each
  reports its 5-fold cross-validated RMSE and R² (``cv_``); the one with the lower CV RMSE is
  kept. It answers noise-free with its predictive mean, which is the ground truth of this
  benchmark: every value in a trace, the start points and the reference optimum are that mean.
  (Extra trees without bootstrap reproduce their training rows exactly, so a forest emulator's
  optimum is usually the best measured row, a narrow peak; a GP's may lie between rows.)
  The choice, both CV errors, the reference optimum and the emulator's values at 64 fixed
  probe points (scrambled Sobol, seed 12345) go to ``<out>/emulators/emulator/<table>.json``,
  written by the first process that needs it. Every later process (another stage, the BayBE
  virtualenv) refits the chosen model with the same code, seed and rows and refuses to run
  unless its probe values agree with the record (relative 1e-7): the function every method
  queries is the same. A refit, not a pickle, because the two environments differ and pickled
  models break across versions; the two environments share the numerical packages' versions.
* Reference optimum: the emulator at ``2**18`` scrambled-Sobol points of the space (integers by
  floor, the simplex by sorted spacings) plus the table's own rows; the best 10 are polished
  (SciPy L-BFGS-B in the box, SLSQP on the simplex, integers held fixed; then a shrinking local
  random search with projection onto the space, which also serves piecewise-constant forests)
  and the best polished value is the optimum, recorded with its location. Simple regret after
  ``t`` experiments = optimum - best value among the first ``t`` (sign-adjusted for ``min``),
  clipped at 0; a run that beats the reference optimum is counted and reported (it would mean
  the search missed the optimum). Normalised regret divides by optimum - median emulator value
  over the Sobol points.
* Seeds ``0..S-1`` (default ``S = 20``). The 5 start points of (table, seed) are shared by every
  method: :func:`start_points` draws them uniformly from the space with
  ``np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(table_name)]))``; each method
  is given them, with their emulator values, as its first 5 experiments.
* Batch 5, budget 50 experiments in total, start points included. Methods (stages,
  ``--methods``): ``random`` (uniform draws from the space, seeded with
  ``SeedSequence([seed, crc32(table), 1])``); ``scientia`` (:func:`run_scientia`: a real campaign
  with ledger: declared parameters (and the mixture constraint), ``[evaluator] kind = "model"``
  answered by the frozen emulator object, GP surrogate and qLogNEI from the default ``bo``
  proposer; the start points are observed first); ``baybe`` (:func:`run_baybe`: BayBE defaults,
  ``NumericalContinuousParameter`` per real with the same bounds, the constraints above,
  ``NumericalTarget`` with ``minimize`` from the goal, default ``TwoPhaseMetaRecommender``, hence
  its ``BotorchRecommender`` with qLogEI after the start points).
* Each (method, table, seed) trace is written as soon as it finishes to
  ``<out>/emulators/traces/<method>/<table>/seed_<k>.json`` with the points, their emulator
  values, the wall time of each proposal round and the versions of the producing environment
  (the virtualenv's folder name, never a path); reruns skip traces that exist with the same
  budget, batch, start points and emulator unless ``--force``. Stages loop over seeds outside
  and tables inside so partial results cover all tables.
* Summary (``<out>/emulators.{json,md,png}``): per table, the emulator (both CV errors, the
  choice) and the reference optimum; per table x method the median simple regret and its 95%
  bootstrap interval (10,000 resamples) after 10, 20, 30 and 50 experiments (and the budget),
  the median normalised regret, the median seconds per proposal round (pooled, and in the last
  round) and the number of seeds. Paired comparisons at 30 experiments on the seeds common to
  both methods: ratio of median regrets and a two-sided Wilcoxon signed-rank p-value (p = 1
  when every difference is zero), for scientia vs random, scientia vs BayBE, BayBE vs random.
  The plot shows the median regret (interquartile band) against experiments, a panel per table.
* Targets, on every table: scientia's median regret after 30 experiments < random's, and <=
  BayBE's (paired seeds). A target whose methods have no traces (or whose budget is below 30)
  is "not measured", never passed; one measured on fewer seeds than requested is incomplete.

BayBE (``baybe==0.15.0``) lives in a virtualenv of its own; run its stage from there with
``PYTHONPATH=src`` (``scientia.evaluators`` and ``scientia.spaces`` import without pydantic, so
the emulator is refitted there and checked against the record).

Usage::

    python benchmarks/emulators.py --methods random,scientia --seeds 20
    PYTHONPATH=src <baybe-venv>/bin/python benchmarks/emulators.py --methods baybe --seeds 20
    python benchmarks/emulators.py --summarise-only --seeds 20
    python benchmarks/emulators.py --smoke   # CI: 2 seeds, budget 15, no BayBE, small emulators

The exit status is 1 when any stage or run failed (the other stages still run).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from _common import coverage_target, coverage_text, pooled_coverage, proposal_coverage, public_argv, versions

TABLES = ("hplc", "photo_pce10", "crossed_barrel")
METHODS = ("random", "scientia", "baybe")
OURS = "scientia"
N_START = 5
TARGET_AT = 30
EMULATOR_SEED = 0
N_REFERENCE = 2**18  # Sobol points of the reference search
N_PROBE = 64  # probe points that pin the emulator down across processes
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
COLORS = {"random": "grey", "scientia": "tab:blue", "baybe": "tab:orange"}
# parameter -> (kind, low, high); outcome and goal; the mixture's components (checked at load)
SPECS: dict[str, dict] = {
    "hplc": {
        "params": {"sample_loop": ("real", 0.0, 0.08), "additional_volume": ("real", 0.0, 0.06),
                   "tubing_volume": ("real", 0.1, 0.9), "sample_flow": ("real", 0.5, 2.5),
                   "push_speed": ("real", 80.0, 150.0), "wait_time": ("real", 0.5, 10.0)},
        "outcome": "peak_area", "direction": "max", "mixture": (),
    },
    "photo_pce10": {
        "params": {f"mat_{i}": ("real", 0.0, 1.0) for i in range(1, 5)},
        "outcome": "degradation", "direction": "min", "mixture": ("mat_1", "mat_2", "mat_3", "mat_4"),
    },
    "crossed_barrel": {
        "params": {"n": ("integer", 6, 12), "theta": ("real", 0.0, 200.0), "r": ("real", 1.5, 2.5),
                   "t": ("real", 0.7, 1.4)},
        "outcome": "toughness", "direction": "max", "mixture": (),
    },
}  # fmt: skip


class StageUnavailableError(RuntimeError):
    """A method cannot run in this environment (missing package or function)."""


class EmulatorMismatchError(RuntimeError):
    """A refitted emulator does not reproduce the frozen record's probe values."""


# -- data and space ------------------------------------------------------------------------------
def load_table(name: str, data_dir: Path) -> dict:
    """Return one table, its description and checks of the space it implies.

    Returns
    -------
    dict
        ``name``, ``df`` (index ``0..n-1``), ``path``, ``sha256`` (of the CSV file), ``names``
        (parameters in order), ``kinds``, ``low``, ``high`` (arrays, shape (d,)), ``outcome``,
        ``direction``, ``sign`` (+1 max, -1 min) and ``mixture`` (column indices, maybe empty).
    """
    import pandas as pd

    folder = data_dir / "reaction_optimisation" / "olympus"
    path = folder / f"{name}.csv"
    if not path.exists():
        raise SystemExit(f"no table at {path}; pass --data-dir (the folder holding reaction_optimisation/)")
    spec = SPECS[name]
    cfg = json.loads((folder / "olympus_configs.json").read_text())[name]
    declared = {p["name"]: (float(p["low"]), float(p["high"])) for p in cfg["parameters"]}
    ours = {k: (float(lo), float(hi)) for k, (_, lo, hi) in spec["params"].items()}
    goal = "max" if cfg["default_goal"] == "maximize" else "min"
    measured = [m["name"] for m in cfg["measurements"]]
    simplex = cfg.get("constraints", {}).get("parameters") == "simplex"
    if declared != ours or measured != [spec["outcome"]] or goal != spec["direction"]:
        raise ValueError(f"{name}: olympus_configs.json disagrees with SPECS ({declared}, {goal})")
    if simplex != bool(spec["mixture"]):
        raise ValueError(f"{name}: olympus_configs.json says simplex={simplex}, SPECS disagrees")
    df = pd.read_csv(path)
    names = list(spec["params"])
    kinds = [spec["params"][k][0] for k in names]
    low = np.array([spec["params"][k][1] for k in names], float)
    high = np.array([spec["params"][k][2] for k in names], float)
    P = df[names].to_numpy(float)
    if np.any(low - P > 1e-9) or np.any(P - high > 1e-9):
        raise ValueError(f"{name}: rows outside the declared bounds")
    for j, k in enumerate(kinds):
        if k == "integer" and not np.all(P[:, j] == np.round(P[:, j])):
            raise ValueError(f"{name}: parameter {names[j]!r} is declared integer but has fractions")
    mix = [names.index(c) for c in spec["mixture"]]
    if mix:
        off = float(np.max(np.abs(P[:, mix].sum(axis=1) - 1.0)))
        if off > 1e-9 or np.any(low[mix] != 0) or np.any(high[mix] < 1):
            raise ValueError(f"{name}: the mixture rows do not add up to 1 (max deviation {off:g})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": name, "df": df.reset_index(drop=True), "path": path, "sha256": digest,
            "names": names, "kinds": kinds, "low": low, "high": high, "outcome": spec["outcome"],
            "direction": spec["direction"], "sign": 1.0 if spec["direction"] == "max" else -1.0,
            "mixture": mix}  # fmt: skip


def _free(tab) -> list[int]:
    """Columns that are neither integer nor part of the mixture."""
    return [j for j, k in enumerate(tab["kinds"]) if k == "real" and j not in tab["mixture"]]


def _from_unit(tab, U: np.ndarray) -> np.ndarray:
    """Map points of the unit cube, shape (n, d - 1) with a mixture else (n, d), into the space.

    Reals scale linearly, integers by floor (each level gets an equal share), and a mixture of
    ``k`` components takes ``k - 1`` coordinates whose sorted spacings are uniform on the simplex.
    """
    n, d = len(U), len(tab["names"])
    P = np.empty((n, d))
    mix = tab["mixture"]
    others = [j for j in range(d) if j not in mix]
    lo, hi = tab["low"], tab["high"]
    for c, j in enumerate(others):
        if tab["kinds"][j] == "integer":
            P[:, j] = np.minimum(lo[j] + np.floor(U[:, c] * (hi[j] - lo[j] + 1)), hi[j])
        else:
            P[:, j] = lo[j] + U[:, c] * (hi[j] - lo[j])
    if mix:
        cuts = np.sort(U[:, len(others) :], axis=1)
        edges = np.hstack([np.zeros((n, 1)), cuts, np.ones((n, 1))])
        P[:, mix] = np.diff(edges, axis=1)
    return P


def _unit_dim(tab) -> int:
    return len(tab["names"]) - (1 if tab["mixture"] else 0)


def sample_uniform(tab, gen: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` points uniformly from the space (Dirichlet(1, ..., 1) on a mixture), shape (n, d)."""
    P = _from_unit(tab, gen.random((n, _unit_dim(tab))))
    if tab["mixture"]:
        P[:, tab["mixture"]] = gen.dirichlet(np.ones(len(tab["mixture"])), n)
    return P


def sobol_points(tab, n: int, seed: int) -> np.ndarray:
    """``n`` scrambled-Sobol points mapped into the space, shape (n, d)."""
    from scipy.stats import qmc

    return _from_unit(tab, qmc.Sobol(_unit_dim(tab), scramble=True, seed=seed).random(n))


def project(tab, P: np.ndarray) -> np.ndarray:
    """Nearest points of the space: clipped to the bounds, integers rounded, a mixture projected
    (Euclidean) onto the simplex."""
    P = np.clip(np.atleast_2d(P).astype(float), tab["low"], tab["high"])
    for j, k in enumerate(tab["kinds"]):
        if k == "integer":
            P[:, j] = np.round(P[:, j])
    mix = tab["mixture"]
    if mix:
        V = P[:, mix]
        U = -np.sort(-V, axis=1)
        css = np.cumsum(U, axis=1) - 1.0
        ks = np.arange(1, V.shape[1] + 1)
        rho = np.max(np.where(U - css / ks > 0, ks, 0), axis=1)
        theta = css[np.arange(len(V)), rho - 1] / rho
        P[:, mix] = np.maximum(V - theta[:, None], 0.0)
    return P


def start_points(tab, seed: int, table_name: str, n_start: int = N_START) -> np.ndarray:
    """Return the start points shared by every method for one (table, seed), shape (n_start, d)."""
    ss = np.random.SeedSequence([seed, zlib.crc32(table_name.encode())])
    return sample_uniform(tab, np.random.default_rng(ss), n_start)


def violation(tab, P: np.ndarray) -> float:
    """Largest violation of the space by the points: bounds, integrality, mixture sum."""
    P = np.atleast_2d(np.asarray(P, float))
    v = [np.max(np.maximum(tab["low"] - P, 0)), np.max(np.maximum(P - tab["high"], 0))]
    ints = [j for j, k in enumerate(tab["kinds"]) if k == "integer"]
    if ints:
        v.append(np.max(np.abs(P[:, ints] - np.round(P[:, ints]))))
    if tab["mixture"]:
        v.append(np.max(np.abs(P[:, tab["mixture"]].sum(axis=1) - 1.0)))
    return float(max(v))


def as_params(tab, p) -> dict:
    """One point as a parameter mapping (integers as ``int``)."""
    return {n: round(float(v)) if k == "integer" else float(v)
            for n, k, v in zip(tab["names"], tab["kinds"], p, strict=True)}  # fmt: skip


def scientia_space(tab):
    """The space as a scientia ``ParameterSpace`` (with the mixture constraint)."""
    from scientia.spaces.constraints import mixture
    from scientia.spaces.parameters import Integer, Real
    from scientia.spaces.space import ParameterSpace

    params = [
        Integer(n, int(lo), int(hi)) if k == "integer" else Real(n, float(lo), float(hi))
        for n, k, lo, hi in zip(tab["names"], tab["kinds"], tab["low"], tab["high"], strict=True)
    ]
    mix = [tab["names"][j] for j in tab["mixture"]]
    return ParameterSpace(params, [mixture(mix)] if mix else [])


# -- the frozen emulator -------------------------------------------------------------------------
def _encode(emu, P: np.ndarray) -> np.ndarray:
    """Encode points (n, d) with the emulator's space, column by column as ``space.encode`` does."""
    P = np.atleast_2d(P)
    return np.hstack([p.encode(P[:, j]) for j, p in enumerate(emu.space.parameters)]).astype(float)


def emulate(emu, P: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """The emulator's answer at points (n, d): its predictive mean, as ``ModelEmulator.evaluate``."""
    X = _encode(emu, P)
    return np.concatenate([emu.model_.predict(X[i : i + chunk]).mean[:, 0] for i in range(0, len(X), chunk)])


def _screen(emu, P: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """:func:`emulate` without computing the GP's predictive variance (the reference search)."""
    if emu.kind != "gp":
        return emulate(emu, P)
    import gpytorch
    import torch

    X = torch.as_tensor(_encode(emu, P), dtype=torch.float64)
    out = []
    with torch.no_grad(), gpytorch.settings.skip_posterior_variances(True):
        for i in range(0, len(X), chunk):
            out.append(emu.model_.model_.posterior(X[i : i + chunk]).mean.numpy().reshape(-1))
    return np.concatenate(out)


def fit_emulator(tab, kind: str, rows: int | None = None):
    """Fit scientia's ``ModelEmulator`` (with its 5-fold CV) to the table, or to ``rows`` of it
    drawn with the emulator seed (smoke runs)."""
    from scientia.evaluators import ModelEmulator

    df = tab["df"]
    if rows is not None and rows < len(df):
        df = df.sample(n=rows, random_state=EMULATOR_SEED)
    return ModelEmulator(
        df, scientia_space(tab), [tab["outcome"]], model=kind, noise=False, seed=EMULATOR_SEED
    )


def probe_points(tab) -> np.ndarray:
    """The fixed points at which a refitted emulator must reproduce the record, shape (64, d)."""
    return sobol_points(tab, N_PROBE, seed=12345)


def _polish(tab, emu, p0: np.ndarray, gen: np.random.Generator, n_local: int) -> tuple[np.ndarray, float]:
    """Improve one start point of the reference search; return the point and its sign-adjusted value."""
    from scipy.optimize import minimize

    s, free, mix = tab["sign"], _free(tab), tab["mixture"]
    cont = free + list(mix)
    lo, hi = tab["low"][cont], tab["high"][cont]

    def f(z):
        p = p0.copy()
        p[cont] = lo + z * (hi - lo)
        return -s * float(_screen(emu, p[None])[0])

    best, val = p0.copy(), s * float(_screen(emu, p0[None])[0])
    if emu.kind == "gp":  # gradient-based polish of a smooth emulator (a forest's gradient is 0)
        z0, box, opts = (p0[cont] - lo) / (hi - lo), [(0.0, 1.0)] * len(cont), {"maxiter": 200}
        if mix:  # the mixture's columns come last; their bounds are [0, 1], so z is x there
            eq = {"type": "eq", "fun": lambda z: z[len(free) :].sum() - 1.0}
            res = minimize(f, z0, method="SLSQP", bounds=box, constraints=[eq], options=opts)
        else:
            res = minimize(f, z0, method="L-BFGS-B", bounds=box, options=opts)
        p = p0.copy()
        p[cont] = lo + np.clip(res.x, 0, 1) * (hi - lo)
        p = project(tab, p)[0]
        v = s * float(_screen(emu, p[None])[0])
        if v > val:
            best, val = p, v
    for it in range(n_local):  # shrinking local random search: works on forests' plateaus too
        step = 0.1 * 0.85**it * (hi - lo)
        trial = np.repeat(best[None], 256, axis=0)
        trial[:, cont] += gen.normal(size=(256, len(cont))) * step
        trial = project(tab, trial)
        v = s * _screen(emu, trial)
        if v.max() > val:
            best, val = trial[int(np.argmax(v))], float(v.max())
    return best, val


def reference_optimum(tab, emu, n_points: int = N_REFERENCE, n_starts: int = 10, n_local: int = 40) -> dict:
    """The best emulator value found by a large search (see the module docstring)."""
    t0 = time.perf_counter()
    s, df = tab["sign"], tab["df"]
    P = np.vstack([sobol_points(tab, n_points, seed=EMULATOR_SEED), df[tab["names"]].to_numpy(float)])
    v = s * _screen(emu, P)
    gen = np.random.default_rng(EMULATOR_SEED)
    polished = [_polish(tab, emu, P[i], gen, n_local) for i in np.argsort(-v)[:n_starts]]
    best, _ = max(polished, key=lambda t: t[1])
    value = float(emulate(emu, best[None])[0])  # the canonical answer, as every method sees it
    sobol_v = v[:n_points]
    row = int(np.argmax(s * df[tab["outcome"]].to_numpy(float)))
    return {
        "value": value,
        "params": as_params(tab, best),
        "search": {"sobol_points": n_points, "table_rows": len(df), "polished_starts": n_starts,
                   "local_search_rounds": n_local, "seconds": round(time.perf_counter() - t0, 1)},
        "best_screened": float(s * v.max()),
        "median_over_space": float(s * np.median(sobol_v)),
        "regret_scale": float(s * value - np.median(sobol_v)),
        "best_measured_row": {"params": as_params(tab, df.loc[row, tab["names"]].to_numpy(float)),
                              "measured": float(df.loc[row, tab["outcome"]]),
                              "emulated": float(emulate(emu, df.loc[[row], tab["names"]].to_numpy(float))[0])},
    }  # fmt: skip


def record_path(out: Path, table: str) -> Path:
    """Where the frozen emulator of a table is described."""
    return out / "emulators" / "emulator" / f"{table}.json"


def _emulator_key(tab, rows: int | None, n_reference: int) -> dict:
    key = {"table": tab["name"], "table_sha256": tab["sha256"], "rows": rows, "seed": EMULATOR_SEED,
           "reference_points": n_reference}  # fmt: skip
    return key


def frozen_emulator(tab, out: Path, rows: int | None = None, n_reference: int = N_REFERENCE, log=print):
    """Return ``(emulator, record)``: refit and check the recorded emulator, or choose, fit and
    record it (both models' CV, the choice, probe values and the reference optimum)."""
    path = record_path(out, tab["name"])
    key = _emulator_key(tab, rows, n_reference)
    rec = json.loads(path.read_text()) if path.exists() else None
    if rec is not None and all(rec.get(k) == v for k, v in key.items()):
        t0 = time.perf_counter()
        emu = fit_emulator(tab, rec["model"], rows)
        got, want = emulate(emu, probe_points(tab)), np.asarray(rec["probe_values"])
        scale = max(float(np.max(np.abs(want))), 1e-12)
        if not np.allclose(got, want, rtol=1e-7, atol=1e-9 * scale):
            dev = float(np.max(np.abs(got - want)))
            raise EmulatorMismatchError(
                f"{tab['name']}: the refitted {rec['model']} emulator differs from {path.name} at the "
                f"probe points (max |difference| {dev:.3g}); this environment's numerical packages "
                f"differ from the record's ({rec['environment']}); rerun the stages in matching environments"
            )
        log(
            f"[emulator] {tab['name']}: refitted {rec['model']} matches the record ({time.perf_counter() - t0:.0f} s)"
        )
        return emu, rec
    t0 = time.perf_counter()
    fits = {k: fit_emulator(tab, k, rows) for k in ("gp", "forest")}
    cv = {k: e.cv_[tab["outcome"]] for k, e in fits.items()}
    choice = min(cv, key=lambda k: cv[k]["rmse"])
    emu = fits[choice]
    fit_s = time.perf_counter() - t0
    ref = reference_optimum(tab, emu, n_reference, *((10, 40) if n_reference >= 2**16 else (3, 10)))
    ident = hashlib.sha256(json.dumps({**key, "model": choice}, sort_keys=True).encode()).hexdigest()[:16]
    rec = {**key, "emulator_id": ident, "model": choice, "chosen_by": "lower 5-fold CV RMSE",
           "n_rows_fitted": int(cv[choice]["n"]), "cv": cv, "fit_seconds": round(fit_s, 1),
           "probe_values": emulate(emu, probe_points(tab)).tolist(), "reference": ref,
           "environment": environment("emulator"), "created": datetime.now(UTC).isoformat()}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps(rec, indent=1))
    path.with_suffix(".tmp").replace(path)
    cvs = ", ".join(f"{k} RMSE {c['rmse']:.4g} R² {c['r2']:.3f}" for k, c in cv.items())
    log(
        f"[emulator] {tab['name']}: {cvs} -> {choice}; optimum {ref['value']:.5g} ({time.perf_counter() - t0:.0f} s)"
    )
    return emu, rec


# -- methods -------------------------------------------------------------------------------------
def _rounds(n_done: int, budget: int, batch: int):
    """Yield the size of each proposal round after the ``n_done`` start points."""
    while n_done < budget:
        size = min(batch, budget - n_done)
        yield size
        n_done += size


def run_random(tab, emu, start, seed, budget, batch):
    """Uniform draws from the space after the start points.

    Returns ``(points (n, d), values (n,), seconds per round, meta)`` like every ``run_*``.
    """
    gen = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(tab["name"].encode()), 1]))
    points, seconds = [np.asarray(start, float)], []
    for size in _rounds(len(start), budget, batch):
        t0 = time.perf_counter()
        points.append(sample_uniform(tab, gen, size))
        seconds.append(time.perf_counter() - t0)
    P = np.vstack(points)
    return P, emulate(emu, P), seconds, {}


def run_scientia(tab, emu, start, seed, budget, batch):
    """Run scientia's default campaign over the declared space, answered by the frozen emulator.

    Parameters
    ----------
    tab : dict
        A table from :func:`load_table`.
    emu : ModelEmulator
        The frozen emulator, passed to ``Campaign.create`` as the evaluator (the config says
        ``[evaluator] kind = "model"`` with the same table and model).
    start : ndarray, shape (5, d)
        Start points, observed first with their emulator values.
    seed, budget, batch : int

    Returns
    -------
    tuple
        Points (n, d) and values (n,) in experiment order, seconds per proposal round, metadata.
    """
    try:
        import torch

        from scientia.campaign import Campaign
        from scientia.types import Candidate, Observation
    except ImportError as exc:
        raise StageUnavailableError(f"scientia.campaign is not importable: {exc}") from exc

    torch.set_num_threads(1)
    names, outcome = tab["names"], tab["outcome"]
    params = [{"name": n, "kind": k, "low": int(lo) if k == "integer" else float(lo),
               "high": int(hi) if k == "integer" else float(hi)}
              for n, k, lo, hi in zip(names, tab["kinds"], tab["low"], tab["high"], strict=True)]  # fmt: skip
    mix = [names[j] for j in tab["mixture"]]
    cfg = {
        "name": "emulator-benchmark",
        "seed": seed,
        "batch_size": batch,
        "space": {"kind": "parameters", "parameters": params,
                  "constraints": [{"kind": "mixture", "parameters": mix, "total": 1.0}] if mix else []},
        "objectives": [{"name": outcome, "direction": tab["direction"]}],
        "surrogate": {"kind": "gp", "options": {}},
        "proposer": {"kind": "bo", "n_initial": N_START, "acquisition": "qlognei", "options": {}},
        "evaluator": {"kind": "model", "table": str(tab["path"]), "model": emu.kind},
    }  # fmt: skip
    values = emulate(emu, start)
    with tempfile.TemporaryDirectory() as tmp:
        camp = Campaign.create(cfg, str(Path(tmp) / "ledger.sqlite"), evaluator=emu)
        obs = [
            Observation(Candidate(as_params(tab, p)), {outcome: float(v)})
            for p, v in zip(start, values, strict=True)
        ]
        camp.observe(obs, actor="benchmark", source="start")
        camp.run(budget)
        done = camp.observations()
        events = camp.ledger.events(camp.id, kinds=["proposal"])
        seconds = [e.payload["seconds"] for e in events if e.payload["id"].endswith(".0")]
        strategies = sorted({e.payload["strategy"] for e in events})
        coverage = proposal_coverage(camp.calibration())
        camp.ledger.close()
    if any(o.status != "ok" for o in done):
        raise ValueError(f"{sum(o.status != 'ok' for o in done)} failed observations")
    P = np.array([[o.candidate.params[n] for n in names] for o in done], float)
    Y = np.array([o.outcomes[outcome] for o in done], float)
    meta = {"strategies": strategies, "evaluator": emu.summary(), "coverage": coverage}
    return P, Y, [float(s) for s in seconds], meta


def run_baybe(tab, emu, start, seed, budget, batch):
    """Run BayBE's default campaign over the same space (continuous, or hybrid with the integer).

    Returns ``(points, values, seconds per recommendation, meta)``; ``meta`` records the set-up
    time, the recommender and the acquisition function.
    """
    try:
        import pandas as pd
        import torch
        from baybe import Campaign
        from baybe.constraints import ContinuousLinearConstraint
        from baybe.parameters import NumericalContinuousParameter, NumericalDiscreteParameter
        from baybe.searchspace import SearchSpace
        from baybe.settings import active_settings
        from baybe.targets import NumericalTarget
    except ImportError as exc:
        raise StageUnavailableError(f"baybe is not importable: {exc}") from exc

    torch.set_num_threads(1)
    active_settings.random_seed = int(seed)  # 0.15's replacement of utils.random.set_random_seed
    names, outcome = tab["names"], tab["outcome"]
    t0 = time.perf_counter()
    parameters = [
        NumericalDiscreteParameter(n, values=tuple(float(v) for v in range(int(lo), int(hi) + 1)))
        if k == "integer"
        else NumericalContinuousParameter(n, bounds=(float(lo), float(hi)))
        for n, k, lo, hi in zip(names, tab["kinds"], tab["low"], tab["high"], strict=True)
    ]
    mix = [names[j] for j in tab["mixture"]]
    constraints = (
        [ContinuousLinearConstraint(parameters=mix, operator="=", coefficients=[1.0] * len(mix), rhs=1.0)]
        if mix
        else []
    )
    campaign = Campaign(
        searchspace=SearchSpace.from_product(parameters=parameters, constraints=constraints),
        objective=NumericalTarget(outcome, minimize=tab["direction"] == "min"),
    )
    setup = time.perf_counter() - t0

    def measured(P, Y):
        frame = pd.DataFrame(P, columns=names)
        frame[outcome] = Y
        return frame

    P, Y = np.asarray(start, float), emulate(emu, start)
    campaign.add_measurements(measured(P, Y))
    seconds = []
    for size in _rounds(len(P), budget, batch):
        t0 = time.perf_counter()
        rec = campaign.recommend(batch_size=size)
        seconds.append(time.perf_counter() - t0)
        Pn = rec[names].to_numpy(float)
        Yn = emulate(emu, Pn)
        campaign.add_measurements(measured(Pn, Yn))
        P, Y = np.vstack([P, Pn]), np.concatenate([Y, Yn])
    r = campaign.recommender
    inner = [type(getattr(r, a, None)).__name__ for a in ("initial_recommender", "recommender")]
    acqf = getattr(getattr(r, "recommender", None), "acquisition_function", None)
    meta = {"setup_seconds": setup, "recommender": f"{type(r).__name__}({' -> '.join(inner)})",
            "acquisition": type(acqf).__name__ if acqf is not None else "default (qLogEI)",
            "searchspace": campaign.searchspace.type.name}  # fmt: skip
    return P, Y, seconds, meta


# -- bookkeeping ---------------------------------------------------------------------------------
@functools.cache
def environment(method: str) -> dict:
    """Versions of the producing environment and scientia's git commit, if available.

    Only the virtualenv's folder name is recorded, never a path. Read once per process, when the
    code that runs was loaded: later edits to the work tree do not change what a stage records.
    """
    pkgs = ["numpy", "pandas", "scipy", "scikit-learn", "torch", "botorch", "gpytorch"]
    pkgs += ["baybe"] if method == "baybe" else ["scientia"]
    return versions(pkgs)


def trace_path(out: Path, method: str, table: str, seed: int) -> Path:
    """Return the path of one trace file."""
    return out / "emulators" / "traces" / method / table / f"seed_{seed}.json"


def _load_trace(path: Path, budget: int, batch: int, emulator_id: str, start=None):
    """Return the trace at ``path`` if it matches the protocol settings and emulator, else None."""
    if not path.exists():
        return None
    tr = json.loads(path.read_text())
    ok = tr.get("budget") == budget and tr.get("batch") == batch and tr.get("emulator_id") == emulator_id
    if ok and start is not None:
        got = np.asarray(tr.get("start_points", []), float)
        ok = got.shape == np.shape(start) and np.allclose(got, start, rtol=0, atol=1e-12)
    return tr if ok else None


def _run_one(method, tab, emu, start, seed, budget, batch):
    """Dispatch one run and check that its trace obeys the protocol."""
    run = {"random": run_random, "scientia": run_scientia, "baybe": run_baybe}[method]
    P, Y, secs, meta = run(tab, emu, start, seed, budget, batch)
    P, Y = np.asarray(P, float), np.asarray(Y, float)
    bad = violation(tab, P)
    meta["max_violation"] = bad
    if P.shape != (budget, len(tab["names"])) or Y.shape != (budget,) or not np.all(np.isfinite(Y)):
        raise ValueError(f"invalid trace: points {P.shape}, values {Y.shape}, expected {budget} experiments")
    if not np.allclose(P[: len(start)], start, rtol=0, atol=1e-9) or bad > 1e-4:
        raise ValueError(f"invalid trace: start points changed or the space is violated by {bad:.3g}")
    return P, Y, secs, meta


def run_stage(method, tables, seeds, budget, batch, out, force, emulators) -> int:
    """Run one method over seeds (outer loop) and tables (inner); return the failure count.

    ``emulators(table)`` returns ``(emulator, record)``; it is called only when a run is due.
    """
    failures = 0
    for seed in range(seeds):
        for table, tab in tables.items():
            start = start_points(tab, seed, table)
            path = trace_path(out, method, table, seed)
            rec_path = record_path(out, table)
            if not force and rec_path.exists():
                ident = json.loads(rec_path.read_text())["emulator_id"]
                if _load_trace(path, budget, batch, ident, start) is not None:
                    continue
            try:
                emu, rec = emulators(table)
            except EmulatorMismatchError as exc:
                print(f"[{method}] {table}: {exc}", flush=True)
                failures += 1
                continue
            if not force and _load_trace(path, budget, batch, rec["emulator_id"], start) is not None:
                continue
            t0 = time.perf_counter()
            try:
                P, Y, secs, meta = _run_one(method, tab, emu, start, seed, budget, batch)
            except StageUnavailableError as exc:
                print(f"[{method}] stage skipped: {exc}", flush=True)
                return failures + 1
            except Exception as exc:  # noqa: BLE001 - one failed run must not stop the stage
                print(f"[{method}] {table} seed {seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
                failures += 1
                continue
            tr = {"method": method, "table": table, "seed": seed, "budget": budget, "batch": batch}
            tr |= {"emulator_id": rec["emulator_id"], "emulator_model": rec["model"], "params": tab["names"]}
            tr |= {"outcome": tab["outcome"], "direction": tab["direction"], "table_sha256": tab["sha256"]}
            tr |= {"start_points": start.tolist(), "points": P.tolist(), "values": Y.tolist()}
            tr |= {"proposal_seconds": secs, "total_seconds": time.perf_counter() - t0}
            tr |= {"meta": meta, "environment": environment(method), "argv": public_argv(sys.argv[1:])}
            tr["finished"] = datetime.now(UTC).isoformat()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".tmp").write_text(json.dumps(tr, indent=1))
            path.with_suffix(".tmp").replace(path)  # atomic: a killed run leaves no partial trace
            reg = regret_curve(Y, rec["reference"]["value"], tab["sign"])
            at = {k: reg[k - 1] for k in checkpoints(budget)}
            print(
                f"[{method}] {table} seed {seed}: regret "
                + " ".join(f"@{k} {v:.4g}" for k, v in at.items())
                + f" | {np.median(secs) if secs else 0:.2f} s/round, {tr['total_seconds']:.1f} s",
                flush=True,
            )
    return failures


# -- summary -------------------------------------------------------------------------------------
def checkpoints(budget: int) -> list[int]:
    """Experiment counts at which regret is reported: 10, 20, 30, 50 (those within the budget)
    and the budget."""
    return sorted({*(k for k in (10, 20, 30, 50) if k <= budget), budget})


def regret_curve(values, optimum: float, sign: float) -> np.ndarray:
    """Simple regret after each experiment: optimum - best so far (sign-adjusted), clipped at 0."""
    best = np.maximum.accumulate(sign * np.asarray(values, float))
    return np.maximum(sign * optimum - best, 0.0)


def _median_ci(x, n_boot: int = 10_000, seed: int = 0) -> list[float]:
    """Return the 95% percentile bootstrap interval of the median of ``x``."""
    x = np.asarray(x, float)
    boot = np.median(np.random.default_rng(seed).choice(x, (n_boot, x.size)), axis=1)
    return np.percentile(boot, [2.5, 97.5]).tolist()


def _paired(a: dict, b: dict) -> dict:
    """Ratio of medians (a / b) and Wilcoxon p on the seeds common to two {seed: value} maps."""
    from scipy.stats import wilcoxon

    common = sorted(set(a) & set(b))
    if not common:
        return {"n": 0, "median_a": None, "median_b": None, "ratio_of_medians": None, "wilcoxon_p": None}
    x, y = np.array([a[s] for s in common], float), np.array([b[s] for s in common], float)
    p = 1.0 if np.all(x == y) else float(wilcoxon(x, y).pvalue)
    ma, mb = float(np.median(x)), float(np.median(y))
    ratio = ma / mb if mb > 0 else (1.0 if ma == 0 else None)
    return {"n": len(common), "median_a": ma, "median_b": mb, "ratio_of_medians": ratio, "wilcoxon_p": p}


def _method_row(trs, rec, sign, budget):
    """Summary row of one table x method, and its regret curves (seeds x experiments)."""
    opt, scale = rec["reference"]["value"], rec["reference"]["regret_scale"]
    curves = np.array([regret_curve(t["values"], opt, sign) for t in trs])
    beat = [t["seed"] for t in trs if np.max(sign * np.asarray(t["values"])) > sign * opt]
    row = {"n_seeds": len(trs), "seeds": [t["seed"] for t in trs], "regret": {}}
    for k in checkpoints(budget):
        vals = curves[:, k - 1]
        row["regret"][str(k)] = {"median": float(np.median(vals)), "ci95": _median_ci(vals),
                                 "median_normalised": float(np.median(vals)) / scale if scale > 0 else None,
                                 "per_seed": [float(v) for v in vals]}  # fmt: skip
    row["seeds_beating_reference"] = beat
    secs = [s for t in trs for s in t["proposal_seconds"]]
    row["median_seconds_per_round"] = float(np.median(secs)) if secs else None
    last = [t["proposal_seconds"][-1] for t in trs if t["proposal_seconds"]]
    row["median_seconds_last_round"] = float(np.median(last)) if last else None
    row["max_violation"] = max(float(t["meta"].get("max_violation", 0.0)) for t in trs)
    row["proposal_coverage90"] = pooled_coverage(trs)
    row["meta"] = {
        k: v for k, v in trs[-1]["meta"].items() if k not in ("max_violation", "evaluator", "coverage")
    }
    row["environment"] = trs[-1]["environment"]
    return row, curves


def summarise(out: Path, tables: dict, seeds: int, budget: int, batch: int) -> dict:
    """Summarise every method's traces; write ``emulators.{json,md,png}`` under ``out``."""
    summary, curves, at_target, commands = {}, {}, {}, set()
    pairs = [(OURS, "random"), (OURS, "baybe"), ("baybe", "random")]
    for table, tab in tables.items():
        path = record_path(out, table)
        if not path.exists():
            summary[table] = {"emulator": None, "methods": {}, "paired": {}}
            continue
        rec = json.loads(path.read_text())
        summary[table] = {
            "n_rows": len(tab["df"]),
            "parameters": {n: [k, float(lo), float(hi)] for n, k, lo, hi in
                           zip(tab["names"], tab["kinds"], tab["low"], tab["high"], strict=True)},
            "mixture": [tab["names"][j] for j in tab["mixture"]],
            "outcome": tab["outcome"],
            "direction": tab["direction"],
            "emulator": {k: rec[k] for k in ("emulator_id", "model", "chosen_by", "cv", "rows",
                                             "n_rows_fitted", "seed", "fit_seconds", "environment")},
            "reference_optimum": rec["reference"],
            "methods": {},
            "paired": {},
        }  # fmt: skip
        for method in METHODS:
            trs = []
            for s in range(seeds):
                t = _load_trace(trace_path(out, method, table, s), budget, batch, rec["emulator_id"],
                                start_points(tab, s, table))  # fmt: skip
                if t is not None:
                    trs.append(t)
            if not trs:
                continue
            commands.update(" ".join(t.get("argv", [])) for t in trs)
            row, curves[(table, method)] = _method_row(trs, rec, tab["sign"], budget)
            summary[table]["methods"][method] = row
            if budget >= TARGET_AT:
                at_target[(table, method)] = dict(
                    zip(row["seeds"], row["regret"][str(TARGET_AT)]["per_seed"], strict=True)
                )
        for a, b in pairs:
            if (table, a) in at_target and (table, b) in at_target:
                cmp = _paired(at_target[(table, a)], at_target[(table, b)])
                summary[table]["paired"][f"{a}_vs_{b}_regret_at_{TARGET_AT}"] = cmp
    result = {
        "protocol": {"seeds": seeds, "budget": budget, "batch": batch, "n_start": N_START,
                     "checkpoints": checkpoints(budget), "target_at": TARGET_AT,
                     "regret": "reference optimum - best emulator value so far (sign-adjusted), "
                               "clipped at 0; noise-free emulator",
                     "normalised_regret": "regret / (reference optimum - median emulator value "
                                          "over the Sobol points)"},
        "summary": summary,
        "targets": evaluate_targets(at_target, seeds, budget)
        | {"proposal_coverage90_in_range": coverage_target(summary, TABLES, OURS, seeds)},
        "generated": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "emulators.json").write_text(json.dumps(result, indent=1))
    _write_markdown(out / "emulators.md", result, sorted(commands))
    _plot(out / "emulators.png", curves, summary, budget)
    return result


def evaluate_targets(at_target: dict, seeds: int, budget: int) -> dict:
    """Evaluate the issue's targets; a target lacking traces is "not measured", never passed."""
    specs = {
        f"regret_at_{TARGET_AT}_below_random": (
            f"median simple regret after {TARGET_AT} experiments: scientia < random (paired seeds), "
            "every table", "random", lambda a, b: a < b),
        f"regret_at_{TARGET_AT}_le_baybe": (
            f"median simple regret after {TARGET_AT} experiments: scientia <= BayBE (paired seeds), "
            "every table", "baybe", lambda a, b: a <= b),
    }  # fmt: skip
    targets = {}
    for name, (desc, other, ok) in specs.items():
        per = {}
        for t in TABLES:  # every target is over all tables, whatever --tables says
            missing = [m for m in (OURS, other) if (t, m) not in at_target]
            if missing or budget < TARGET_AT:
                per[t] = {"status": "not measured", "missing": missing}
                if budget < TARGET_AT:
                    per[t]["reason"] = f"budget {budget} < {TARGET_AT}"
                continue
            cmp = _paired(at_target[(t, OURS)], at_target[(t, other)])
            passed = cmp["n"] > 0 and ok(cmp["median_a"], cmp["median_b"])
            per[t] = {"status": "passed" if passed else "failed", **cmp, "complete": cmp["n"] == seeds}
        st = {v["status"] for v in per.values()}
        status = next((x for x in ("not measured", "failed") if x in st), "passed")
        complete = status != "not measured" and all(v.get("complete", False) for v in per.values())
        targets[name] = {"description": desc, "status": status, "complete": complete, "tables": per}
    return targets


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _write_markdown(path: Path, result: dict, commands: list[str]) -> None:
    """Write the Markdown report: emulators, results, paired comparisons, targets, commands."""
    p = result["protocol"]
    ks = p["checkpoints"]
    lines = [
        f"# Continuous-space BO on emulators (budget {p['budget']}, batch {p['batch']}, "
        f"seeds 0..{p['seeds'] - 1}, {p['n_start']} shared start points)\n",
        "Each table's emulator is scientia's `ModelEmulator` (GP or extra trees, the lower 5-fold "
        "CV RMSE wins), fitted once and frozen; it answers noise-free and is the ground truth here. "
        "Regret = reference optimum − best value so far (clipped at 0).\n",
        "| table | rows | GP CV RMSE (R²) | forest CV RMSE (R²) | emulator | reference optimum "
        "| best measured row (emulated) | median over space |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for table, s in result["summary"].items():
        if s.get("emulator") is None:
            lines.append(f"| {table} | no emulator record (run a stage first) | | | | | | |")
            continue
        cv, ref = s["emulator"]["cv"], s["reference_optimum"]
        b = ref["best_measured_row"]
        lines.append(
            f"| {table} ({s['direction']} {s['outcome']}) | {s['n_rows']} "
            f"| {cv['gp']['rmse']:.4g} ({cv['gp']['r2']:.3f}) | {cv['forest']['rmse']:.4g} "
            f"({cv['forest']['r2']:.3f}) | {s['emulator']['model']} | {ref['value']:.5g} "
            f"| {b['measured']:.5g} ({b['emulated']:.5g}) | {ref['median_over_space']:.4g} |"
        )
    lines += ["\nReference optima (location):\n"]
    for table, s in result["summary"].items():
        if s.get("emulator") is not None:
            loc = ", ".join(f"{k} = {v:.4g}" for k, v in s["reference_optimum"]["params"].items())
            srch = s["reference_optimum"]["search"]
            lines.append(
                f"- **{table}**: {loc} ({srch['sobol_points']:,} Sobol points + {srch['table_rows']} "
                f"table rows, best {srch['polished_starts']} polished)"
                + (f"; space: mixture {', '.join(s['mixture'])} = 1" if s["mixture"] else "")
            )
    lines += [
        "\nMedian simple regret [95% bootstrap CI] after k experiments; normalised = median / "
        "(optimum − median over the space):\n",
        "| table | method | n | " + " | ".join(f"regret @{k}" for k in ks)
        + f" | normalised @{ks[-1]} | s / round | s last round | 90% coverage |",
        "|---|---|---|" + "---|" * len(ks) + "---|---|---|---|",
    ]  # fmt: skip
    for table, s in result["summary"].items():
        for m, r in s["methods"].items():
            cells = [
                f"{r['regret'][str(k)]['median']:.4g} [{r['regret'][str(k)]['ci95'][0]:.4g}, "
                f"{r['regret'][str(k)]['ci95'][1]:.4g}]"
                for k in ks
            ]
            norm = r["regret"][str(ks[-1])]["median_normalised"]
            lines.append(
                f"| {table} | {m} | {r['n_seeds']} | {' | '.join(cells)} | {_fmt(norm, '.3g')} "
                f"| {_fmt(r['median_seconds_per_round'], '.3g')} | {_fmt(r['median_seconds_last_round'], '.3g')} "
                f"| {coverage_text(r.get('proposal_coverage90'))} |"
            )
    beat = [
        f"{t}/{m}: seeds {r['seeds_beating_reference']}"
        for t, s in result["summary"].items()
        for m, r in s["methods"].items()
        if r["seeds_beating_reference"]
    ]
    lines.append(
        "\nRuns that beat the reference optimum (regret clipped to 0): " + ("; ".join(beat) or "none") + "."
    )
    lines += [
        f"\nPaired comparisons of regret after {p['target_at']} experiments on common seeds:\n",
        "| table | comparison | n | median a | median b | ratio a/b | Wilcoxon p |",
        "|---|---|---|---|---|---|---|",
    ]
    for table, s in result["summary"].items():
        for name, c in s["paired"].items():
            lines.append(
                f"| {table} | {name} | {c['n']} | {_fmt(c['median_a'], '.4g')} | {_fmt(c['median_b'], '.4g')} "
                f"| {_fmt(c['ratio_of_medians'], '.3f')} | {_fmt(c['wilcoxon_p'], '.3g')} |"
            )
    lines.append("\n## Targets\n")
    for name, t in result["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        note = " (provisional: fewer seeds than requested)" if partial else ""
        lines.append(f"- **{name}**: {t['status']}{note} — {t['description']}")
        for table, v in t["tables"].items():
            if v["status"] == "not measured":
                why = v.get("reason") or f"missing {', '.join(v['missing'])}"
                lines.append(f"  - {table}: not measured ({why})")
            elif "coverage90" in v:
                lines.append(f"  - {table}: {v['status']} (coverage {v['coverage90']:.2f}, n = {v['n']})")
            else:
                lines.append(
                    f"  - {table}: {v['status']} (median {v['median_a']:.4g} vs {v['median_b']:.4g}, "
                    f"n = {v['n']}, Wilcoxon p = {v['wilcoxon_p']:.3g})"
                )
    script = "python benchmarks/emulators.py"
    traces = "\n".join(f"{script} {c}" for c in commands)
    lines.append(
        f"\n## Reproduce\n\nSummary written by:\n\n```\n{script} {' '.join(public_argv(sys.argv[1:]))}\n"
        "```\n\nTraces produced by (one line per distinct invocation; each trace records its "
        f"environment; BayBE's stage ran from its own virtualenv with `PYTHONPATH=src`):\n\n```\n{traces}\n```\n"
    )
    path.write_text("\n".join(lines))


def _plot(path: Path, curves, summary, budget) -> None:
    """Median simple regret vs experiments with interquartile bands, a panel per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4.2), squeeze=False)
    x = np.arange(1, budget + 1)
    for ax, table in zip(axes[0], names, strict=True):
        s = summary[table]
        if s.get("emulator") is None:
            ax.set_title(f"{table}: no emulator record")
            continue
        for method in METHODS:
            c = curves.get((table, method))
            if c is None or not len(c):
                continue
            q1, med, q3 = np.percentile(c, [25, 50, 75], axis=0)
            ax.plot(x, med, color=COLORS[method], label=f"{method} (n={len(c)})")
            ax.fill_between(x, q1, q3, color=COLORS[method], alpha=0.2, linewidth=0)
        ax.axvline(TARGET_AT, color="k", lw=0.8, ls=":")
        scale = s["reference_optimum"]["regret_scale"]
        ax.set_yscale("symlog", linthresh=max(1e-2 * scale, 1e-12))  # linear near 0: regret can be 0
        ax.set(title=f"{table} ({s['emulator']['model']} emulator)", xlabel="experiments",
               ylabel=f"simple regret ({s['outcome']})", xlim=(1, budget))  # fmt: skip
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 if any stage or run failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma list of stages")
    ap.add_argument("--tables", default=",".join(TABLES), help="comma list of tables")
    ap.add_argument("--seeds", type=int, default=20, help="run seeds 0..N-1 (default 20)")
    ap.add_argument("--budget", type=int, default=50, help="experiments incl. the 5 start points")
    ap.add_argument("--batch", type=int, default=5, help="experiments per proposal round")
    ap.add_argument("--data-dir", "--data", type=Path, default=DEFAULT_DATA,
                    help="folder holding reaction_optimisation/olympus (default ../shared/data)")  # fmt: skip
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun traces that already exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise traces")
    ap.add_argument("--emulator-rows", type=int, help="fit the emulators to this many rows (checks)")
    ap.add_argument("--reference-points", type=int, default=N_REFERENCE,
                    help=f"Sobol points of the reference-optimum search (default {N_REFERENCE})")  # fmt: skip
    smoke = "CI mode: 2 seeds, budget 15, random + scientia, 200-row emulators, temporary --out"
    ap.add_argument("--smoke", action="store_true", help=smoke)
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.budget, a.methods = 2, 15, "random,scientia"
        a.emulator_rows, a.reference_points = a.emulator_rows or 200, 2**12
        a.out = a.out or Path(tempfile.mkdtemp(prefix="emulators_smoke_"))
    out = a.out or DEFAULT_OUT
    methods, table_names = a.methods.split(","), a.tables.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(table_names) - set(TABLES))
    if unknown:
        ap.error(f"unknown method/table: {unknown}")
    if a.budget <= N_START:
        ap.error(f"--budget must exceed the {N_START} start points")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before a stage imports torch
    tables = {t: load_table(t, a.data_dir) for t in table_names}
    failures = 0
    if not a.summarise_only:
        made: dict = {}

        def emulators(table):  # once per process; a mismatch is remembered, not refitted again
            if table not in made:
                try:
                    made[table] = frozen_emulator(tables[table], out, a.emulator_rows, a.reference_points)
                except EmulatorMismatchError as exc:
                    made[table] = exc
            if isinstance(made[table], Exception):
                raise made[table]
            return made[table]

        for method in [*methods, "emulator"]:
            environment(method)  # the commit and versions of the code loaded now, not later
        for method in methods:
            failures += run_stage(method, tables, a.seeds, a.budget, a.batch, out, a.force, emulators)
    res = summarise(out, tables, a.seeds, a.budget, a.batch)
    for name, t in res["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        print(f"target {name}: {t['status']}{' (provisional: fewer seeds)' if partial else ''}")
    print(f"wrote {out / 'emulators.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
