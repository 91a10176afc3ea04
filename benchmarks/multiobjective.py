"""Closed-loop multi-objective Bayesian optimisation on two real lookup tables from Olympus.

Tables (read from ``<data-dir>/reaction_optimisation/olympus``; Olympus, MIT license, see that
folder's README; goals as in its ``olympus_configs.json``, checked at load time):

* ``dye_lasers`` (3,458 rows = 14 x 13 x 19, computed; Seifrid et al., ACS Cent. Sci. 8, 122
  (2022)): parameters ``frag_a``, ``frag_b``, ``frag_c`` (SMILES); objectives ``peak_score``
  (max), ``spectral_overlap`` (min), ``fluo_rate`` (max).
* ``redoxmers`` (1,408 rows = 2 x 8 x 8 x 11, computed; Agarwal et al., Chem. Mater. 33, 8133
  (2021)): parameters ``r1_label``, ``r3_label``, ``r4_label``, ``r5_label`` (substituent
  labels); objectives ``abs_lam_diff``, ``ered``, ``gsol`` (all min). ``redoxmers_descriptors.csv``
  (label -> Mordred descriptors, 4 for R1 and 7 for the others) is joined onto the table as one
  numeric column per (parameter, descriptor).

Protocol
--------
* Seeds ``0..S-1`` (default ``S = 20``). For each (table, seed) the starting rows are identical for
  every method: :func:`starting_rows` draws 5 distinct row indices with
  ``np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(table_name)]))`` (the rule of
  ``reaction_bo.py``).
* Batch 5, budget 50 experiments in total, the 5 starting rows included. No row is measured
  twice. A method returns, in experiment order, the row indices it measured (starting rows
  first); the trace is those indices, their outcomes and the wall time of each proposal round.
* Methods (stages, ``--methods``): ``random`` (seeded sampling without replacement after the start
  rows); ``scientia`` (:func:`run_scientia`: a real campaign with ledger, pool space and emulator;
  GP surrogate and qLogNEHVI from the ``bo`` proposer, reference point inferred from the observed
  front since no ``threshold`` is given; SMILES featurised with RDKit descriptors, labels encoded
  by the joined descriptor columns via ``descriptor_columns``); ``baybe`` (:func:`run_baybe`:
  BayBE defaults, ``ParetoObjective`` over one ``NumericalTarget`` per objective with
  ``minimize`` set from the goal, hence qLogNEHVI with BayBE's inferred reference point; one
  ``SubstanceParameter`` per SMILES column (Mordred descriptors, default decorrelation) or one
  ``CategoricalParameter`` per label column (BayBE's default one-hot encoding; the descriptor
  table is not given to BayBE); search space = the rows present in the table; default
  ``TwoPhaseMetaRecommender``; no re-recommending measured/recommended/pending points).
* Each (method, table, seed) trace is written as soon as it finishes to
  ``<out>/multiobjective/traces/<method>/<table>/seed_<k>.json`` with the versions of the
  producing environment (the virtualenv's folder name, never a machine path); reruns skip traces
  that exist with the same budget, batch and start rows unless ``--force``. Stages loop over
  seeds outside and tables inside so partial results cover both.
* Reference point and true front, once per table from the full table, the same for every
  method: outcomes are sign-adjusted (bigger is better); the true Pareto set is every row that no
  other row dominates (``scientia.campaign.pareto.pareto_mask``); the reference point is the
  nadir of the true front (per objective, the worst value among the true Pareto rows); the true
  hypervolume is that of the whole table above this point (``hypervolume``, exact). Rows that do
  not dominate the reference point add no volume.
* Summary (``<out>/multiobjective.{json,md,png}``): per table x method, the hypervolume ratio
  (HV of the measured rows / true HV) after 10, 20, 30, 40 and 50 experiments (and the budget,
  if different): median and 95% bootstrap interval of the median (10,000 resamples) over seeds;
  the median number of true Pareto rows measured by the budget; the median seconds per proposal
  round (pooled over rounds) and in the last round; the number of seeds. Paired comparisons of
  the HV ratio at the budget on the seeds common to both methods: ratio of medians and a
  two-sided Wilcoxon signed-rank p-value (p = 1 when every paired difference is zero), for
  scientia vs BayBE, scientia vs random and BayBE vs random. The plot shows the HV ratio after
  every batch: median over seeds with the interquartile band, one panel per table.
* Target: scientia's median HV ratio after 50 experiments >= BayBE's (paired seeds, ratio of
  medians >= 1) on both tables. A target whose methods have no traces (or whose budget is below
  50) is "not measured", never passed; one measured on fewer seeds than requested is incomplete.

BayBE (``baybe[chem]==0.15.0``) pins an rdkit release different from the project environment's, so
its stage runs from a separate virtualenv with ``PYTHONPATH=src``. That environment cannot import
``scientia.campaign`` (no pydantic), so there the stage only writes traces; summarise from the
project environment with ``--summarise-only``.

Usage::

    python benchmarks/multiobjective.py --methods random,scientia --seeds 20
    PYTHONPATH=src <baybe-venv>/bin/python benchmarks/multiobjective.py --methods baybe --seeds 20
    python benchmarks/multiobjective.py --summarise-only --seeds 20
    python benchmarks/multiobjective.py --smoke   # CI: 2 seeds, budget 15, no BayBE, temp dir

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

TABLES = ("dye_lasers", "redoxmers")
METHODS = ("random", "scientia", "baybe")
OURS = "scientia"
N_START = 5
TARGET_AT = 50
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
COLORS = {"random": "grey", "scientia": "tab:blue", "baybe": "tab:orange"}
# parameters, how they are described, objectives -> direction (checked against olympus_configs.json)
SPECS = {
    "dye_lasers": {
        "params": ("frag_a", "frag_b", "frag_c"),
        "kind": "smiles",
        "objectives": {"peak_score": "max", "spectral_overlap": "min", "fluo_rate": "max"},
    },
    "redoxmers": {
        "params": ("r1_label", "r3_label", "r4_label", "r5_label"),
        "kind": "labels",
        "objectives": {"abs_lam_diff": "min", "ered": "min", "gsol": "min"},
    },
}


class StageUnavailableError(RuntimeError):
    """A method cannot run in this environment (missing package or function)."""


# -- data ----------------------------------------------------------------------------------------
def load_table(name: str, data_dir: Path) -> dict:
    """Return one table and its description.

    Returns
    -------
    dict
        ``df`` (index ``0..n-1``; for labelled tables with one extra numeric column per
        (parameter, descriptor), named ``<parameter>:<descriptor>``), ``params``, ``kind``
        (``"smiles"`` or ``"labels"``), ``objectives`` (name -> ``"max"`` / ``"min"``),
        ``descriptor_columns`` (parameter -> columns; empty for SMILES) and ``sha256`` (of the
        table's CSV file).
    """
    import pandas as pd

    folder = data_dir / "reaction_optimisation" / "olympus"
    path = folder / f"{name}.csv"
    if not path.exists():
        raise SystemExit(f"no table at {path}; pass --data-dir (the folder holding reaction_optimisation/)")
    spec = SPECS[name]
    cfg = json.loads((folder / "olympus_configs.json").read_text())[name]
    goals = dict(zip((m["name"] for m in cfg["measurements"]), cfg["default_goal"], strict=True))
    expected = {k: "max" if v == "maximize" else "min" for k, v in goals.items()}
    if expected != spec["objectives"] or [p["name"] for p in cfg["parameters"]] != list(spec["params"]):
        raise ValueError(f"{name}: olympus_configs.json disagrees with SPECS ({expected})")
    df = pd.read_csv(path)
    params = list(spec["params"])
    dcols: dict[str, list[str]] = {}
    if spec["kind"] == "labels":
        desc = pd.read_csv(folder / f"{name}_descriptors.csv", header=None, names=["p", "v", "d", "x"])
        for p in params:
            wide = desc[desc["p"] == p].pivot(index="v", columns="d", values="x")
            wide.columns = [f"{p}:{c}" for c in wide.columns]
            missing = sorted(set(df[p]) - set(wide.index))
            if missing:
                raise ValueError(f"{name}: no descriptors for {p} = {missing}")
            df = df.merge(wide, left_on=p, right_index=True, how="left")
            dcols[p] = list(wide.columns)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"df": df.reset_index(drop=True), "params": params, "kind": spec["kind"],
            "objectives": dict(spec["objectives"]), "descriptor_columns": dcols, "sha256": digest}  # fmt: skip


def starting_rows(n_rows: int, seed: int, table_name: str, n_start: int = N_START) -> list[int]:
    """Return the start rows shared by every method for one (table, seed).

    Parameters
    ----------
    n_rows : int
        Number of rows in the table.
    seed : int
        Benchmark seed.
    table_name : str
        Table name; its CRC-32 makes the draw differ between tables.
    n_start : int, optional
        Number of distinct rows to draw.

    Returns
    -------
    list of int
        Row indices, in draw order.
    """
    ss = np.random.SeedSequence([seed, zlib.crc32(table_name.encode())])
    return [int(i) for i in np.random.default_rng(ss).choice(n_rows, size=n_start, replace=False)]


def _rounds(n_done: int, budget: int, batch: int):
    """Yield the size of each proposal round after the ``n_done`` start rows."""
    while n_done < budget:
        size = min(batch, budget - n_done)
        yield size
        n_done += size


# -- methods -------------------------------------------------------------------------------------
def run_random(tab, start_idx, seed, budget, batch, table):
    """Seeded sampling without replacement after the start rows.

    Returns ``(indices, seconds per round, meta)`` like every ``run_*`` function.
    """
    ss = np.random.SeedSequence([seed, zlib.crc32(table.encode()), 1])
    order = np.random.default_rng(ss).permutation(np.setdiff1d(np.arange(len(tab["df"])), start_idx))
    indices, seconds = list(start_idx), []
    for size in _rounds(len(indices), budget, batch):
        t0 = time.perf_counter()
        indices += order[len(indices) - len(start_idx) :][:size].tolist()
        seconds.append(time.perf_counter() - t0)
    return indices, seconds, {}


def run_scientia(tab, start_idx, seed, budget, batch):
    """Run a scientia campaign with several objectives over the rows of a table.

    The pattern of ``scientia.benchmarking.run_pool_campaign`` with ``[[objectives]]`` for every
    outcome: the table is written to a temporary CSV, the space is a pool over its rows, the
    evaluator is the emulator on the same file, the start rows are observed first and then
    ``Campaign.run(budget)`` proposes with GP + qLogNEHVI.

    Parameters
    ----------
    tab : dict
        A table from :func:`load_table`.
    start_idx : list of int
        Start rows, measured first.
    seed, budget, batch : int
        Seed, total experiments (start rows included) and batch size.

    Returns
    -------
    tuple of (list of int, list of float, dict)
        Row indices in experiment order, seconds per proposal round, metadata.
    """
    try:
        import torch

        from scientia.campaign import Campaign
        from scientia.types import Candidate, Observation
    except ImportError as exc:
        raise StageUnavailableError(f"scientia.campaign is not importable: {exc}") from exc

    torch.set_num_threads(1)
    df, cols, objectives = tab["df"], tab["params"], tab["objectives"]
    dcols = tab["descriptor_columns"]
    described = [c for p in cols for c in dcols.get(p, [])]
    key = {Candidate({c: r[c] for c in cols}).id: i for i, r in enumerate(df[cols].to_dict("records"))}
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "table.csv"
        df[[*cols, *described, *objectives]].to_csv(table, index=False)
        cfg = {
            "name": "multiobjective-benchmark",
            "seed": seed,
            "batch_size": batch,
            "space": {
                "kind": "pool",
                "table": str(table),
                "columns": cols,
                "descriptors": "rdkit" if tab["kind"] == "smiles" else None,
                "descriptor_columns": dcols,
                "encoding": "auto",
                "max_components": 8,
            },
            "objectives": [{"name": k, "direction": v} for k, v in objectives.items()],
            "surrogate": {"kind": "gp", "options": {}},
            "proposer": {"kind": "bo", "n_initial": len(start_idx), "options": {}},
            "evaluator": {"kind": "emulator", "table": str(table)},
        }
        camp = Campaign.create(cfg, str(Path(tmp) / "ledger.sqlite"))
        start = [
            Observation(
                Candidate({c: df.iloc[i][c] for c in cols}),
                {k: float(df.iloc[i][k]) for k in objectives},
            )
            for i in start_idx
        ]
        camp.observe(start, actor="benchmark", source="start")
        camp.run(budget)
        rows = [key[o.candidate_id] for o in camp.observations()]
        events = camp.ledger.events(camp.id, kinds=["proposal"])
        seconds = [e.payload["seconds"] for e in events if e.payload["id"].endswith(".0")]
        strategies = sorted({e.payload["strategy"] for e in events})
        coverage = proposal_coverage(camp.calibration())
        camp.ledger.close()
    encoding = "rdkit descriptors" if tab["kind"] == "smiles" else "descriptor columns"
    meta = {"encoding": encoding, "strategies": strategies, "coverage": coverage}
    return rows, [float(s) for s in seconds], meta


def run_baybe(tab, start_idx, seed, budget, batch):
    """Run BayBE's default campaign with a ``ParetoObjective`` over the rows present in a table.

    Returns ``(indices, seconds per recommendation, meta)``; ``meta`` records the set-up time,
    the recommender, the acquisition function and, per parameter, its encoding.
    """
    try:
        import torch
        from baybe import Campaign
        from baybe.objectives import ParetoObjective
        from baybe.parameters import CategoricalParameter, SubstanceParameter
        from baybe.searchspace import SearchSpace
        from baybe.settings import active_settings
        from baybe.targets import NumericalTarget
    except ImportError as exc:
        raise StageUnavailableError(f"baybe[chem] is not importable: {exc}") from exc

    torch.set_num_threads(1)
    active_settings.random_seed = int(seed)  # 0.15's replacement of utils.random.set_random_seed
    df, params, objectives = tab["df"], tab["params"], tab["objectives"]
    outcomes = list(objectives)
    t0 = time.perf_counter()
    if tab["kind"] == "smiles":
        parameters = [SubstanceParameter(name=c, data={s: s for s in df[c].unique()}) for c in params]
    else:
        parameters = [CategoricalParameter(name=c, values=tuple(sorted(df[c].unique()))) for c in params]
    targets = [NumericalTarget(k, minimize=v == "min") for k, v in objectives.items()]
    campaign = Campaign(
        searchspace=SearchSpace.from_dataframe(df[params], parameters),  # only rows present
        objective=ParetoObjective(targets=targets),
        allow_recommending_already_measured=False,
        allow_recommending_already_recommended=False,
        allow_recommending_pending_experiments=False,
    )
    setup = time.perf_counter() - t0
    row_of = {r: i for i, r in enumerate(df[params].itertuples(index=False, name=None))}
    indices = list(start_idx)
    campaign.add_measurements(df.loc[indices, [*params, *outcomes]].reset_index(drop=True))
    seconds = []
    for size in _rounds(len(indices), budget, batch):
        t0 = time.perf_counter()
        rec = campaign.recommend(batch_size=size)
        seconds.append(time.perf_counter() - t0)
        rows = [row_of[r] for r in rec[params].itertuples(index=False, name=None)]
        indices += rows
        campaign.add_measurements(df.loc[rows, [*params, *outcomes]].reset_index(drop=True))
    r = campaign.recommender
    names = [type(getattr(r, a, None)).__name__ for a in ("initial_recommender", "recommender")]
    acqf = getattr(getattr(r, "recommender", None), "acquisition_function", None)
    meta = {"setup_seconds": setup, "recommender": f"{type(r).__name__}({' -> '.join(names)})"}
    meta["acquisition"] = type(acqf).__name__ if acqf is not None else "default (qLogNEHVI)"
    meta["encodings"] = {
        p.name: [str(p.encoding), getattr(p, "decorrelate", None), int(p.comp_df.shape[1])]
        for p in parameters
    }
    return indices, seconds, meta


@functools.cache
def environment(method: str) -> dict:
    """Versions of the producing environment and scientia's git commit, if available.

    Only the virtualenv's folder name is recorded, never a path. Read once per process, when the
    code that runs was loaded: later edits to the work tree do not change what a stage records.
    """
    pkgs = ["numpy", "pandas", "scipy", "torch", "botorch", "gpytorch", "rdkit"]
    pkgs += ["baybe", "scikit-fingerprints", "mordredcommunity"] if method == "baybe" else ["scientia"]
    return versions(pkgs)


# -- hypervolume ---------------------------------------------------------------------------------
@functools.cache
def _pareto():
    """``scientia.campaign.pareto`` if importable here (not in BayBE's environment), else None."""
    try:
        from scientia.campaign import pareto
    except ImportError:
        return None
    return pareto


def reference(tab) -> dict:
    """Sign-adjusted outcomes, true Pareto mask, reference point (nadir of the true front) and
    true hypervolume of one table (see the protocol); computed once and kept in ``tab``."""
    if "reference" in tab:
        return tab["reference"]
    pareto = _pareto()
    signs = np.array([1.0 if d == "max" else -1.0 for d in tab["objectives"].values()])
    Y = tab["df"][list(tab["objectives"])].to_numpy(float) * signs
    mask = pareto.pareto_mask(Y)
    ref = Y[mask].min(axis=0)
    tab["reference"] = {"Y": Y, "mask": mask, "ref": ref, "hv": pareto.hypervolume(Y, ref), "signs": signs}
    return tab["reference"]


def hv_ratio(ref: dict, idx) -> float:
    """Hypervolume of the rows ``idx`` over the true hypervolume."""
    return _pareto().hypervolume(ref["Y"][list(idx)], ref["ref"]) / ref["hv"]


def checkpoints(budget: int) -> list[int]:
    """Experiment counts at which the HV ratio is reported: 10, 20, ... and the budget."""
    return sorted({*range(10, budget + 1, 10), budget})


# -- stages --------------------------------------------------------------------------------------
def trace_path(out: Path, method: str, table: str, seed: int) -> Path:
    """Return the path of one trace file."""
    return out / "multiobjective" / "traces" / method / table / f"seed_{seed}.json"


def _load_trace(path: Path, budget: int, batch: int, start: list[int] | None = None):
    """Return the trace at ``path`` if it exists and matches the protocol settings, else None."""
    if not path.exists():
        return None
    tr = json.loads(path.read_text())
    ok = tr.get("budget") == budget and tr.get("batch") == batch
    return tr if ok and (start is None or tr.get("start_rows") == start) else None


def _run_one(method, tab, start, seed, budget, batch, table):
    """Dispatch one run and check that its trace obeys the protocol."""
    if method == "random":
        idx, secs, meta = run_random(tab, start, seed, budget, batch, table)
    elif method == "baybe":
        idx, secs, meta = run_baybe(tab, start, seed, budget, batch)
    else:
        idx, secs, meta = run_scientia(tab, start, seed, budget, batch)
    n_exp = min(budget, len(tab["df"]))
    if idx[: len(start)] != start or len(set(idx)) != len(idx) or len(idx) != n_exp:
        msg = f"{len(idx)} rows ({len(set(idx))} distinct, {n_exp} expected), starting {idx[:5]}"
        raise ValueError(f"invalid trace: {msg}; expected start rows {start}")
    return [int(i) for i in idx], secs, meta


def run_stage(method, tables, seeds, budget, batch, out, force) -> int:
    """Run one method over seeds (outer loop) and tables (inner); return the failure count."""
    failures = 0
    for seed in range(seeds):
        for table, tab in tables.items():
            df = tab["df"]
            start = starting_rows(len(df), seed, table)
            path = trace_path(out, method, table, seed)
            if not force and _load_trace(path, budget, batch, start) is not None:
                continue
            t0 = time.perf_counter()
            try:
                idx, secs, meta = _run_one(method, tab, start, seed, budget, batch, table)
            except StageUnavailableError as exc:
                print(f"[{method}] stage skipped: {exc}", flush=True)
                return failures + 1
            except Exception as exc:  # noqa: BLE001 - one failed run must not stop the stage
                print(f"[{method}] {table} seed {seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
                failures += 1
                continue
            outcomes = {k: df[k].to_numpy()[idx].tolist() for k in tab["objectives"]}
            tr = {"method": method, "table": table, "seed": seed, "budget": budget, "batch": batch}
            tr |= {"n_rows": len(df), "table_sha256": tab["sha256"], "objectives": tab["objectives"]}
            tr |= {"start_rows": start, "indices": idx, "outcomes": outcomes}
            tr |= {"proposal_seconds": secs, "total_seconds": time.perf_counter() - t0}
            tr |= {"meta": meta, "environment": environment(method), "argv": public_argv(sys.argv[1:])}
            tr["finished"] = datetime.now(UTC).isoformat()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".tmp").write_text(json.dumps(tr, indent=1))
            path.with_suffix(".tmp").replace(path)  # atomic: a killed run leaves no partial trace
            quality = ""
            if _pareto() is not None:
                ref = reference(tab)
                found = int(ref["mask"][idx].sum())
                quality = f"HV ratio {hv_ratio(ref, idx):.3f}, {found} true Pareto rows | "
            print(
                f"[{method}] {table} seed {seed}: {quality}"
                f"{np.median(secs) if secs else 0:.2f} s/round, {tr['total_seconds']:.1f} s",
                flush=True,
            )
    return failures


# -- summary -------------------------------------------------------------------------------------
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
    return {"n": len(common), "median_a": ma, "median_b": mb,
            "ratio_of_medians": ma / mb if mb > 0 else None, "wilcoxon_p": p}  # fmt: skip


def _method_row(trs, ref, budget, batch):
    """Summary row of one table x method, and its HV-ratio curve (seeds x positions)."""
    positions = sorted({*range(N_START, budget + 1, batch), *checkpoints(budget)})
    curve = np.array([[hv_ratio(ref, t["indices"][:k]) for k in positions] for t in trs])
    row = {"n_seeds": len(trs), "seeds": [t["seed"] for t in trs], "hv_ratio": {}}
    for k in checkpoints(budget):
        vals = curve[:, positions.index(k)]
        row["hv_ratio"][str(k)] = {"median": float(np.median(vals)), "ci95": _median_ci(vals),
                                   "per_seed": [round(float(v), 6) for v in vals]}  # fmt: skip
    found = [int(ref["mask"][t["indices"]].sum()) for t in trs]
    row |= {"median_pareto_found": float(np.median(found)), "pareto_found": found}
    secs = [s for t in trs for s in t["proposal_seconds"]]
    row["median_seconds_per_round"] = float(np.median(secs)) if secs else None
    last = [t["proposal_seconds"][-1] for t in trs if t["proposal_seconds"]]
    row["median_seconds_last_round"] = float(np.median(last)) if last else None
    row["proposal_coverage90"] = pooled_coverage(trs)
    row["environment"] = trs[-1]["environment"]
    return row, (positions, curve)


def summarise(out: Path, tables: dict, seeds: int, budget: int, batch: int) -> dict:
    """Summarise every method's traces; write ``multiobjective.{json,md,png}`` under ``out``."""
    summary, curves, final, commands = {}, {}, {}, set()
    pairs = [(OURS, "baybe"), (OURS, "random"), ("baybe", "random")]
    for table, tab in tables.items():
        ref = reference(tab)
        summary[table] = {
            "n_rows": len(tab["df"]),
            "objectives": tab["objectives"],
            "encoding": {"scientia": "rdkit descriptors" if tab["kind"] == "smiles" else
                         "descriptor columns", "baybe": "SubstanceParameter (Mordred)"
                         if tab["kind"] == "smiles" else "CategoricalParameter (one-hot)"},
            "reference_point": dict(zip(tab["objectives"], (ref["ref"] * ref["signs"]).tolist(), strict=True)),
            "reference_rule": "nadir of the true Pareto front",
            "true_hypervolume": ref["hv"],
            "n_true_pareto": int(ref["mask"].sum()),
            "methods": {},
            "paired": {},
        }  # fmt: skip
        for method in METHODS:
            paths = {s: trace_path(out, method, table, s) for s in range(seeds)}
            starts = {s: starting_rows(len(tab["df"]), s, table) for s in paths}
            trs = [t for s, p in paths.items() if (t := _load_trace(p, budget, batch, starts[s]))]
            if not trs:
                continue
            commands.update(" ".join(t.get("argv", [])) for t in trs)
            row, curves[(table, method)] = _method_row(trs, ref, budget, batch)
            summary[table]["methods"][method] = row
            final[(table, method)] = dict(
                zip(row["seeds"], row["hv_ratio"][str(budget)]["per_seed"], strict=True)
            )
        for a, b in pairs:
            if (table, a) in final and (table, b) in final:
                cmp = _paired(final[(table, a)], final[(table, b)])
                summary[table]["paired"][f"{a}_vs_{b}_hv_ratio_at_{budget}"] = cmp
    result = {
        "protocol": {"seeds": seeds, "budget": budget, "batch": batch, "n_start": N_START,
                     "checkpoints": checkpoints(budget),
                     "reference_point": "nadir of the true Pareto front of the full table"},
        "summary": summary,
        "targets": evaluate_targets(summary, final, seeds, budget),
        "generated": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "multiobjective.json").write_text(json.dumps(result, indent=1))
    _write_markdown(out / "multiobjective.md", result, sorted(commands))
    _plot(out / "multiobjective.png", curves, list(tables), budget)
    return result


def evaluate_targets(summary, final, seeds, budget) -> dict:
    """Evaluate the issue's target; a target lacking traces is "not measured", never passed."""
    desc = f"median HV ratio after {TARGET_AT} experiments: scientia >= BayBE (paired seeds), both tables"
    per = {}
    for t in TABLES:  # the target is over both tables, whatever --tables says
        missing = [m for m in (OURS, "baybe") if (t, m) not in final]
        if missing or budget < TARGET_AT:
            per[t] = {"status": "not measured", "missing": missing}
            if budget < TARGET_AT:
                per[t]["reason"] = f"budget {budget} < {TARGET_AT}"
            continue
        methods = summary[t]["methods"]
        a, b = (
            {s: v for s, v in zip(methods[m]["seeds"], methods[m]["hv_ratio"][str(TARGET_AT)]["per_seed"],
                                  strict=True)}
            for m in (OURS, "baybe")
        )  # fmt: skip
        cmp = _paired(a, b)
        ok = cmp["median_a"] >= cmp["median_b"]
        per[t] = {"status": "passed" if ok else "failed", "n_seeds": cmp["n"], **cmp}
        per[t]["complete"] = cmp["n"] == seeds
    st = {v["status"] for v in per.values()}
    status = next((x for x in ("not measured", "failed") if x in st), "passed")
    complete = status != "not measured" and all(v.get("complete", False) for v in per.values())
    name = f"hv_ratio_at_{TARGET_AT}_ge_baybe"
    return {
        name: {"description": desc, "status": status, "complete": complete, "tables": per},
        "proposal_coverage90_in_range": coverage_target(summary, TABLES, OURS, seeds),
    }


def _write_markdown(path: Path, result: dict, commands: list[str]) -> None:
    """Write the Markdown report: results table, paired comparisons, targets, commands."""
    p = result["protocol"]
    ks = p["checkpoints"]
    lines = [
        f"# Multi-objective BO benchmark (budget {p['budget']}, batch {p['batch']}, "
        f"seeds 0..{p['seeds'] - 1}, {p['n_start']} shared start rows)\n",
        "Hypervolume ratio = HV of the measured rows / HV of the full table, reference point = "
        "nadir of the true Pareto front; median [95% bootstrap CI] over seeds.\n",
        "| table | method | n | " + " | ".join(f"HV ratio @{k}" for k in ks)
        + f" | true Pareto rows found by {p['budget']} | s / round | 90% coverage |",
        "|---|---|---|" + "---|" * len(ks) + "---|---|---|",
    ]  # fmt: skip
    for table, s in result["summary"].items():
        for m, r in s["methods"].items():
            cells = []
            for k in ks:
                h = r["hv_ratio"][str(k)]
                cells.append(f"{h['median']:.3f} [{h['ci95'][0]:.3f}, {h['ci95'][1]:.3f}]")
            sec = r["median_seconds_per_round"]
            lines.append(
                f"| {table} | {m} | {r['n_seeds']} | {' | '.join(cells)} "
                f"| {r['median_pareto_found']:g} of {s['n_true_pareto']} "
                f"| {'n/a' if sec is None else f'{sec:.3g}'} "
                f"| {coverage_text(r.get('proposal_coverage90'))} |"
            )
    lines += [
        "\n90% coverage: the fraction of measured proposals' outcomes (every objective) inside "
        "the 90% interval the campaign showed with them, pooled over seeds (n predictions; "
        "seeds run before this was recorded are left out).\n"
    ]
    lines += ["\nTables (reference point in the outcomes' own units):\n"]
    for table, s in result["summary"].items():
        goals = ", ".join(f"{k} ({v})" for k, v in s["objectives"].items())
        refp = ", ".join(f"{k} = {v:.4g}" for k, v in s["reference_point"].items())
        enc = "; ".join(f"{k}: {v}" for k, v in s["encoding"].items())
        lines.append(
            f"- **{table}** ({s['n_rows']} rows): {goals}; reference {refp}; true HV "
            f"{s['true_hypervolume']:.4g}; {s['n_true_pareto']} true Pareto rows; encodings — {enc}"
        )
    lines += [
        f"\nPaired comparisons of the HV ratio at {p['budget']} on common seeds:\n",
        "| table | comparison | n | median a | median b | ratio a/b | Wilcoxon p |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)

    for table, s in result["summary"].items():
        for name, c in s["paired"].items():
            lines.append(
                f"| {table} | {name} | {c['n']} | {fmt(c['median_a'], '.3f')} | {fmt(c['median_b'], '.3f')} "
                f"| {fmt(c['ratio_of_medians'], '.3f')} | {fmt(c['wilcoxon_p'], '.3g')} |"
            )
    lines.append("\n## Targets\n")
    for name, t in result["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        note = " (provisional: fewer seeds than requested)" if partial else ""
        lines.append(f"- **{name}**: {t['status']}{note} — {t['description']}")
    script = "python benchmarks/multiobjective.py"
    traces = "\n".join(f"{script} {c}" for c in commands)
    lines.append(
        f"\n## Reproduce\n\nSummary written by:\n\n```\n{script} {' '.join(public_argv(sys.argv[1:]))}\n"
        "```\n\nTraces produced by (one line per distinct invocation; each trace records its "
        f"environment):\n\n```\n{traces}\n```\n"
    )
    path.write_text("\n".join(lines))


def _plot(path: Path, curves, table_names, budget) -> None:
    """HV ratio vs experiments: median and IQR band across seeds, a panel per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(table_names)
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.2), squeeze=False)
    for ax, table in zip(axes[0], table_names, strict=True):
        for method in METHODS:
            if (table, method) not in curves:
                continue
            x, c = curves[(table, method)]
            q1, med, q3 = np.percentile(c, [25, 50, 75], axis=0)
            ax.plot(x, med, color=COLORS[method], marker=".", label=f"{method} (n={len(c)})")
            ax.fill_between(x, q1, q3, color=COLORS[method], alpha=0.2, linewidth=0)
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set(title=table, xlabel="experiments", ylabel="hypervolume ratio", xlim=(N_START, budget))
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 if any stage or run failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma list of stages")
    ap.add_argument("--tables", default=",".join(TABLES), help="comma list of tables")
    ap.add_argument("--seeds", type=int, default=20, help="run seeds 0..N-1 (default 20)")
    ap.add_argument("--budget", type=int, default=50, help="experiments incl. the 5 start rows")
    ap.add_argument("--batch", type=int, default=5, help="experiments per proposal round")
    ap.add_argument("--data-dir", "--data", type=Path, default=DEFAULT_DATA,
                    help="folder holding reaction_optimisation/olympus (default ../shared/data)")  # fmt: skip
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun traces that already exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise traces")
    smoke = "CI mode: 2 seeds, budget 15, random + scientia, temporary --out"
    ap.add_argument("--smoke", action="store_true", help=smoke)
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.budget, a.methods = 2, 15, "random,scientia"
        a.out = a.out or Path(tempfile.mkdtemp(prefix="multiobjective_smoke_"))
    out = a.out or DEFAULT_OUT
    methods, table_names = a.methods.split(","), a.tables.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(table_names) - set(TABLES))
    if unknown:
        ap.error(f"unknown method/table: {unknown}")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before a stage imports torch
    tables = {t: load_table(t, a.data_dir) for t in table_names}
    failures = 0
    if not a.summarise_only:
        for method in methods:
            environment(method)  # the commit and versions of the code loaded now, not later
        for method in methods:
            failures += run_stage(method, tables, a.seeds, a.budget, a.batch, out, a.force)
    if _pareto() is None:
        print(
            "summary skipped: scientia.campaign is not importable in this environment; run "
            "`python benchmarks/multiobjective.py --summarise-only` from the project's environment"
        )
        return 1 if failures else 0
    res = summarise(out, tables, a.seeds, a.budget, a.batch)
    for name, t in res["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        print(f"target {name}: {t['status']}{' (provisional: fewer seeds)' if partial else ''}")
    print(f"wrote {out / 'multiobjective.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
