"""Transfer learning: experiments to a top-5% row with and without related campaigns' data.

Does a campaign find a good row sooner when it learns from related earlier campaigns
(``[[transfer]]`` sources: the GP becomes BoTorch's ``MultiTaskGP``), and does it slow down when
the "related" data are unrelated (negative transfer)?

Data (read from ``<data>/reaction_optimisation``, default ``../shared/data`` beside the
repository, ``--data`` to override; provenance and licences in that folder's README):

* Olympus ``olympus/oer_plate_{3496,3851,3860,4098}.csv`` (2,121 / 2,119 / 2,120 / 2,121 rows;
  high-throughput OER screens of the Gregoire group): six metal-load fractions summing to 1 ->
  ``overpotential`` (minimise; the goal is checked against ``olympus_configs.json``). The plates
  use different element sets (11 metals in all), so every plate is put in one union space: a
  ``<metal>_load`` column for each of the 11 metals, 0 where a plate lacks the metal. Four
  targets, rotating: each plate in turn is the target (pool = its own rows) and the other three
  are the sources.
* Summit ``summit/reizman_suzuki_case_{1,2,3,4}.csv`` (96 / 96 / 96 / 97 rows; Reizman et al.,
  React. Chem. Eng. 2016): ``catalyst`` (8 precatalysts, one-hot), ``t_res``, ``temperature``,
  ``catalyst_loading`` -> ``yld`` (maximise; ``ton`` is dropped). One target, case 4 (pool = its
  rows), with cases 1-3 as sources. Case 4 measures two parameter combinations twice; rows with
  equal parameters are averaged into one (the pool and the emulator key rows by their
  parameters), which leaves 95 rows.

Protocol
--------
* Seeds ``0..S-1`` (default ``S = 20``). For each (target, seed) the 5 start rows are the same for
  every method: :func:`starting_rows` draws distinct target rows with
  ``np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(target)]))`` (the rule of
  ``reaction_bo.py``).
* Batch 5; budget 50 experiments for the OER targets and 40 for Reizman case 4 (whose pool has 95
  rows), the start rows included (``--budget`` sets one budget for every target). No row is
  measured twice. The trace is the measured row indices in experiment order (start rows first),
  their objective values and the wall time of each proposal round.
* Methods (stages, ``--methods``):

  - ``random``: seeded sampling without replacement after the start rows (the house baseline).
  - ``none``: scientia's defaults with no transfer (:func:`run_scientia`): a pool space over the
    target's rows (numeric columns as reals over the pool's range; ``catalyst`` one-hot), GP
    (ARD RBF kernel, learned noise) and qLogNEI from the ``bo`` proposer, the emulator on the
    target table; the start rows are observed first, then ``Campaign.run(budget)``.
  - ``transfer``: the same campaign with one ``[[transfer]]`` table source per other plate / case
    (written to a temporary folder). Each source is subsampled to at most ``N_SRC`` rows
    (``--max-source-rows``, one value for every target; default 50 per OER plate, i.e. 150
    source rows, and 100 per Reizman case, i.e. the whole 96-row cases) with
    ``SeedSequence([zlib.crc32(source), N_SRC])``: the same rows for every target, seed and
    method. Why so few: a multi-task GP is an exact GP over target and source rows together, and
    scientia fits its hyperparameters from scratch every round until L-BFGS converges, which
    for this model takes 500-2,000 iterations. Measured on the 2-core benchmark machine (busy,
    load 4-7), one round of 5 with 45 target rows took 30 s with 50 rows per plate, 48 s with
    100 and 123 s with 200 (the fit alone up to 312 s at load 6); a Reizman round with the 288
    case rows took 32 s; a round without transfer about 4 s. The 6,300 rows of three whole
    plates are out of reach. Numeric source values are clipped to the target pool's parameter
    ranges, because the engine drops source rows outside them (the Reizman cases' measured
    catalyst loadings reach 2.516 mol % where case 4's stop at 2.510: 45 of 288 rows); each
    trace records how many rows were clipped and how many each source contributed.
  - ``unrelated``: the negative-transfer check. The same sources, rows and inputs as
    ``transfer``, but each source's objective column is shuffled across its rows (permutation
    seeded by ``SeedSequence([zlib.crc32(source), N_SRC, 1])``). The sources keep their size,
    inputs and distribution of outcomes but carry no information about how outcomes depend on
    inputs, so the multi-task GP should learn a task correlation near zero; any slow-down
    relative to ``none`` is the cost of trusting unrelated data. (Shuffling is chosen over a
    different chemistry's table because it keeps everything else about the sources fixed.)

* Top-5% rows are the ``ceil(0.05 n)`` best rows of the target (lowest overpotential, highest
  yield); the threshold is the value of the k-th best row and ties count as hits. "Experiments to
  top-5%" is the 1-based position of the first trace entry at or beyond the threshold; a run that
  never hits is censored at its budget (value = budget) and flagged as not hit.
* Each (method, target, seed) trace is written when it finishes to
  ``<out>/transfer/traces/<method>/<target>/seed_<k>.json`` with the versions of the producing
  environment (the virtualenv's folder name, never a machine path); reruns skip traces that exist
  with the same budget, batch, start rows and source size unless ``--force``. Stages loop over
  seeds outside and targets inside so partial results cover every target.
* Summary (``<out>/transfer.{json,md,png}``): per target x method the median experiments to
  top-5% with a 95% bootstrap interval of the median (10,000 resamples), the fraction of seeds
  hitting top-5% within the budget, the median seconds per proposal round (pooled over rounds)
  and in the last round, and the number of seeds. Paired comparisons on the seeds common to both
  methods (``transfer`` vs ``none``, ``unrelated`` vs ``none``, ``transfer`` vs ``unrelated``,
  ``none`` vs ``random``), per target and pooled over the four OER rotations: ratio of medians
  and a two-sided Wilcoxon signed-rank p-value (p = 1 when every paired difference is zero;
  censored values enter as the budget). Negative-transfer rate: the fraction of paired seeds on
  which ``unrelated`` (and, separately, ``transfer``) needed more experiments than ``none``
  (fewer and equal are reported too).
* Targets: (1) ``transfer_fewer_on_oer``: pooled over the four OER rotations (paired
  (rotation, seed) runs), the median experiments to top-5% with transfer is lower than without;
  per-rotation ratios are reported beside it. (2) ``negative_transfer_rate_reported``: the rates
  of ``unrelated`` and ``transfer`` vs ``none`` are measured on all five targets. A target whose
  methods have no traces is "not measured", never passed; one measured on fewer seeds than
  requested is marked incomplete.

Usage::

    python benchmarks/transfer.py --methods random,none --seeds 20       # some stages, summary
    python benchmarks/transfer.py --methods transfer,unrelated --seeds 20
    python benchmarks/transfer.py --summarise-only --seeds 20            # summary from traces
    python benchmarks/transfer.py --smoke   # CI: 2 seeds, budget 15, 2 targets, 50-row sources

The exit status is 1 when any stage or run failed (the other stages still run).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from _common import coverage_target, coverage_text, pooled_coverage, proposal_coverage, public_argv, versions

OER_PLATES = ("3496", "3851", "3860", "4098")
REIZMAN_CASES = ("1", "2", "3", "4")
TARGETS = (*(f"oer_plate_{p}" for p in OER_PLATES), "reizman_case_4")
OER_TARGETS = TARGETS[:4]
METHODS = ("random", "none", "transfer", "unrelated")
WITH_SOURCES = ("transfer", "unrelated")
N_START = 5
TOP = 5  # percent
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
COLORS = {"random": "grey", "none": "tab:blue", "transfer": "tab:green", "unrelated": "tab:red"}
FAMILIES = {
    "oer": {"objective": "overpotential", "direction": "min", "budget": 50, "max_source_rows": 50},
    "reizman": {"objective": "yld", "direction": "max", "budget": 40, "max_source_rows": 100,
                "params": ["catalyst", "t_res", "temperature", "catalyst_loading"]},
}  # fmt: skip
PAIRS = (("transfer", "none"), ("unrelated", "none"), ("transfer", "unrelated"), ("none", "random"))


class StageUnavailableError(RuntimeError):
    """A method cannot run in this environment (missing package or function)."""


# -- data ----------------------------------------------------------------------------------------
def family_of(target: str) -> str:
    """``"oer"`` or ``"reizman"``."""
    return "oer" if target.startswith("oer_") else "reizman"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def load_family(family: str, data_dir: Path) -> dict:
    """Read every table of a family into one parameter space.

    Returns
    -------
    dict
        ``tables`` (member name -> DataFrame with the parameter columns and the objective, in the
        file's row order), ``params`` (list of str) and ``sha256`` (member name -> file digest).
        For the OER plates the parameters are the union of the plates' ``*_load`` columns (in
        order of first appearance), 0 where a plate lacks the metal.
    """
    import pandas as pd

    spec = FAMILIES[family]
    root = data_dir / "reaction_optimisation"
    if family == "oer":
        files = {f"oer_plate_{p}": root / "olympus" / f"oer_plate_{p}.csv" for p in OER_PLATES}
    else:
        files = {f"reizman_case_{c}": root / "summit" / f"reizman_suzuki_case_{c}.csv" for c in REIZMAN_CASES}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise SystemExit(f"no table at {missing[0]}; pass --data (the folder holding reaction_optimisation/)")
    raw = {k: pd.read_csv(p) for k, p in files.items()}
    obj = spec["objective"]
    if family == "oer":
        cfg = json.loads((root / "olympus" / "olympus_configs.json").read_text())
        for k in raw:
            goal = cfg[k]["default_goal"]  # one objective: a string
            if cfg[k]["measurements"][0]["name"] != obj or goal != "minimize":
                raise ValueError(f"{k}: olympus_configs.json says {goal} {cfg[k]['measurements']}")
        params = list(dict.fromkeys(c for df in raw.values() for c in df.columns if c.endswith("_load")))
        tables = {k: df.reindex(columns=[*params, obj], fill_value=0.0) for k, df in raw.items()}
        for k, df in tables.items():
            if not np.allclose(df[params].sum(axis=1), 1.0, atol=1e-6):
                raise ValueError(f"{k}: metal loads do not sum to 1 in the union space")
    else:
        params = list(spec["params"])
        tables = {k: df[[*params, obj]].copy() for k, df in raw.items()}
    return {"tables": tables, "params": params, "sha256": {k: _sha(p) for k, p in files.items()}}


def _dedupe(df, params, objective):
    """Average rows with equal parameters (first-appearance order); index ``0..n-1``."""
    return df.groupby(params, sort=False, as_index=False)[objective].mean().reset_index(drop=True)


def subsample(df, n: int, label: str):
    """At most ``n`` rows of a source, drawn with ``SeedSequence([crc32(label), n])``."""
    if len(df) <= n:
        return df.reset_index(drop=True)
    take = np.random.default_rng(np.random.SeedSequence([zlib.crc32(label.encode()), n]))
    return df.iloc[np.sort(take.choice(len(df), size=n, replace=False))].reset_index(drop=True)


def shuffle_objective(df, objective: str, n: int, label: str):
    """The source with its objective column permuted across rows (inputs unchanged)."""
    perm = np.random.default_rng(np.random.SeedSequence([zlib.crc32(label.encode()), n, 1]))
    out = df.copy()
    out[objective] = df[objective].to_numpy()[perm.permutation(len(df))]
    return out


def load_target(target: str, data_dir: Path, max_source_rows: int | None = None) -> dict:
    """One target with its sources (see the protocol in the module docstring).

    Returns
    -------
    dict
        ``df`` (the target's rows, duplicates averaged, index ``0..n-1``), ``params``,
        ``objective``, ``direction``, ``sign`` (+1 maximise, -1 minimise), ``budget`` (default),
        ``max_source_rows``, ``sources`` (method -> list of ``(name, DataFrame)``, for
        ``transfer`` and ``unrelated``), ``n_clipped`` (source rows whose numeric values were
        clipped to the pool's ranges), ``sha256`` (file digests of target and sources).
    """
    from scientia.spaces import PoolSpace, Real

    fam = family_of(target)
    spec, data = FAMILIES[fam], load_family(fam, data_dir)
    params, obj = data["params"], spec["objective"]
    n_src = max_source_rows or spec["max_source_rows"]
    df = _dedupe(data["tables"][target], params, obj)
    space = PoolSpace.from_table(df, params)  # the ranges the campaign's pool space will have
    ranges = {p.name: (p.low, p.high) for p in space.parameters if isinstance(p, Real)}
    sources = {m: [] for m in WITH_SOURCES}
    n_clipped = 0
    for name, sdf in data["tables"].items():
        if name == target:
            continue
        sub = subsample(sdf, n_src, name)
        clipped = sub.copy()
        for col, (lo, hi) in ranges.items():
            clipped[col] = sub[col].clip(lo, hi)
        n_clipped += int((clipped[list(ranges)] != sub[list(ranges)]).any(axis=1).sum())
        sources["transfer"].append((name, clipped))
        sources["unrelated"].append((f"{name} (shuffled)", shuffle_objective(clipped, obj, n_src, name)))
    sign = 1.0 if spec["direction"] == "max" else -1.0
    return {"df": df, "params": params, "objective": obj, "direction": spec["direction"], "sign": sign,
            "budget": spec["budget"], "max_source_rows": n_src, "sources": sources,
            "n_clipped": n_clipped, "sha256": data["sha256"]}  # fmt: skip


def starting_rows(n_rows: int, seed: int, target: str, n_start: int = N_START) -> list[int]:
    """Return the start rows shared by every method for one (target, seed).

    Parameters
    ----------
    n_rows : int
        Number of rows in the target's pool.
    seed : int
        Benchmark seed.
    target : str
        Target name; its CRC-32 makes the draw differ between targets.
    n_start : int, optional
        Number of distinct rows to draw.

    Returns
    -------
    list of int
        Row indices, in draw order.
    """
    ss = np.random.SeedSequence([seed, zlib.crc32(target.encode())])
    return [int(i) for i in np.random.default_rng(ss).choice(n_rows, size=n_start, replace=False)]


def _rounds(n_done: int, budget: int, batch: int):
    """Yield the size of each proposal round after the ``n_done`` start rows."""
    while n_done < budget:
        size = min(batch, budget - n_done)
        yield size
        n_done += size


# -- methods -------------------------------------------------------------------------------------
def run_random(tgt, start_idx, seed, budget, batch, target):
    """Seeded sampling without replacement after the start rows.

    Returns ``(indices, seconds per round, meta)`` like every ``run_*`` function.
    """
    ss = np.random.SeedSequence([seed, zlib.crc32(target.encode()), 1])
    rest = np.setdiff1d(np.arange(len(tgt["df"])), start_idx)
    order = np.random.default_rng(ss).permutation(rest)
    indices, seconds = list(start_idx), []
    for size in _rounds(len(indices), budget, batch):
        t0 = time.perf_counter()
        indices += order[len(indices) - len(start_idx) :][:size].tolist()
        seconds.append(time.perf_counter() - t0)
    return indices, seconds, {}


def run_scientia(tgt, start_idx, seed, budget, batch, sources=()):
    """Run a scientia campaign over the target's rows, with ``[[transfer]]`` table sources.

    Parameters
    ----------
    tgt : dict
        A target from :func:`load_target`.
    start_idx : list of int
        Start rows, measured first.
    seed, budget, batch : int
        Seed, total experiments (start rows included) and batch size.
    sources : sequence of (str, DataFrame)
        Transfer sources (name, rows with the parameter columns and the objective); none for
        a campaign without transfer.

    Returns
    -------
    tuple of (list of int, list of float, dict)
        Row indices in experiment order, seconds per proposal round, metadata (fit seconds per
        round, rows each source contributed).
    """
    try:
        import torch

        from scientia.campaign import Campaign
        from scientia.types import Candidate, Observation
    except ImportError as exc:
        raise StageUnavailableError(f"scientia.campaign is not importable: {exc}") from exc

    torch.set_num_threads(1)
    df, cols, obj = tgt["df"], tgt["params"], tgt["objective"]
    key = {Candidate({c: r[c] for c in cols}).id: i for i, r in enumerate(df[cols].to_dict("records"))}
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "target.csv"
        df[[*cols, obj]].to_csv(table, index=False)
        transfer = []
        for k, (name, sdf) in enumerate(sources):
            path = Path(tmp) / f"source_{k}.csv"
            sdf[[*cols, obj]].to_csv(path, index=False)
            transfer.append({"table": str(path), "name": name})
        cfg = {
            "name": "transfer-benchmark",
            "seed": seed,
            "batch_size": batch,
            "space": {"kind": "pool", "table": str(table), "columns": cols},
            "objectives": [{"name": obj, "direction": tgt["direction"]}],
            "surrogate": {"kind": "gp", "options": {}},
            "proposer": {"kind": "bo", "n_initial": len(start_idx), "acquisition": "qlognei"},
            "evaluator": {"kind": "emulator", "table": str(table)},
            "transfer": transfer,
        }
        camp = Campaign.create(cfg, str(Path(tmp) / "ledger.sqlite"))
        start = [
            Observation(Candidate({c: df.iloc[i][c] for c in cols}), {obj: float(df.iloc[i][obj])})
            for i in start_idx
        ]
        camp.observe(start, actor="benchmark", source="start")
        camp.run(budget)
        rows = [key[o.candidate_id] for o in camp.observations()]
        events = camp.ledger.events(camp.id, kinds=["proposal"])
        seconds = [e.payload["seconds"] for e in events if e.payload["id"].endswith(".0")]
        fits = camp.ledger.events(camp.id, kinds=["model_fitted"])
        coverage = proposal_coverage(camp.calibration())
        camp.ledger.close()
    meta = {"fit_seconds": [float(e.payload.get("seconds", float("nan"))) for e in fits]}
    meta["coverage"] = coverage
    meta["source_rows"] = fits[0].payload.get("transfer", {}) if fits else {}
    meta["task_correlation"] = fits[-1].payload.get("task_correlation", {}) if fits else {}
    return rows, [float(s) for s in seconds], meta


@functools.cache
def environment(method: str) -> dict:
    """Versions of the producing environment and scientia's git commit, if available.

    Only the virtualenv's folder name is recorded, never a path. Read once per process, when the
    code that runs was loaded: later edits to the work tree do not change what a stage records.
    """
    pkgs = ["numpy", "pandas", "scipy", "torch", "botorch", "gpytorch", "scientia"]
    return versions(pkgs)


# -- metric --------------------------------------------------------------------------------------
def threshold(tgt) -> float:
    """Sign-adjusted value of the k-th best row, ``k = ceil(TOP/100 * n)`` (ties count as hits)."""
    s = np.sort(tgt["sign"] * tgt["df"][tgt["objective"]].to_numpy(float))[::-1]
    return float(s[math.ceil(TOP / 100 * len(s)) - 1])


def hit_position(values, sign: float, thr: float, budget: int) -> tuple[int, bool]:
    """Return the 1-based position of the first value at or beyond ``thr``, or ``(budget, False)``."""
    hits = np.flatnonzero(sign * np.asarray(values, float) >= thr)
    return (int(hits[0]) + 1, True) if hits.size else (budget, False)


# -- stages --------------------------------------------------------------------------------------
def trace_path(out: Path, method: str, target: str, seed: int) -> Path:
    """Return the path of one trace file."""
    return out / "transfer" / "traces" / method / target / f"seed_{seed}.json"


def _protocol(method, budget, batch, tgt) -> dict:
    """The settings a stored trace must match to be reused."""
    n_src = tgt["max_source_rows"] if method in WITH_SOURCES else None
    return {"budget": budget, "batch": batch, "max_source_rows": n_src}


def _load_trace(path: Path, protocol: dict, start: list[int]):
    """Return the trace at ``path`` if it exists and matches the protocol, else None."""
    if not path.exists():
        return None
    tr = json.loads(path.read_text())
    ok = all(tr.get(k) == v for k, v in protocol.items()) and tr.get("start_rows") == start
    return tr if ok else None


def _run_one(method, tgt, start, seed, budget, batch, target):
    """Dispatch one run and check that its trace obeys the protocol."""
    if method == "random":
        idx, secs, meta = run_random(tgt, start, seed, budget, batch, target)
    else:
        idx, secs, meta = run_scientia(tgt, start, seed, budget, batch, tgt["sources"].get(method, ()))
        if method in WITH_SOURCES:
            meta["n_clipped"] = tgt["n_clipped"]
    n_exp = min(budget, len(tgt["df"]))
    if idx[: len(start)] != start or len(set(idx)) != len(idx) or len(idx) != n_exp:
        msg = f"{len(idx)} rows ({len(set(idx))} distinct, {n_exp} expected), starting {idx[:5]}"
        raise ValueError(f"invalid trace: {msg}; expected start rows {start}")
    return [int(i) for i in idx], secs, meta


def run_stage(method, targets, seeds, budgets, batch, out, force) -> int:
    """Run one method over seeds (outer loop) and targets (inner); return the failure count."""
    failures = 0
    for seed in range(seeds):
        for target, tgt in targets.items():
            budget, df = budgets[target], tgt["df"]
            start = starting_rows(len(df), seed, target)
            path, proto = trace_path(out, method, target, seed), _protocol(method, budget, batch, tgt)
            if not force and _load_trace(path, proto, start) is not None:
                continue
            t0 = time.perf_counter()
            try:
                idx, secs, meta = _run_one(method, tgt, start, seed, budget, batch, target)
            except StageUnavailableError as exc:
                print(f"[{method}] stage skipped: {exc}", flush=True)
                return failures + 1
            except Exception as exc:  # noqa: BLE001 - one failed run must not stop the stage
                print(f"[{method}] {target} seed {seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
                failures += 1
                continue
            values = df[tgt["objective"]].to_numpy()[idx].tolist()
            tr = {"method": method, "target": target, "seed": seed, **proto, "n_rows": len(df)}
            tr |= {"objective": tgt["objective"], "direction": tgt["direction"], "sha256": tgt["sha256"]}
            tr |= {"start_rows": start, "indices": idx, "values": values}
            tr |= {"proposal_seconds": secs, "total_seconds": time.perf_counter() - t0}
            tr |= {"meta": meta, "environment": environment(method), "argv": public_argv(sys.argv[1:])}
            tr["finished"] = datetime.now(UTC).isoformat()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".tmp").write_text(json.dumps(tr, indent=1))
            path.with_suffix(".tmp").replace(path)  # atomic: a killed run leaves no partial trace
            pos, hit = hit_position(values, tgt["sign"], threshold(tgt), budget)
            best = tgt["sign"] * np.max(tgt["sign"] * np.asarray(values))
            print(
                f"[{method}] {target} seed {seed}: top-{TOP}% {f'@{pos}' if hit else 'miss'}, "
                f"best {best:.4g} | {np.median(secs) if secs else 0:.2f} s/round, "
                f"{tr['total_seconds']:.1f} s",
                flush=True,
            )
    return failures


# -- summary -------------------------------------------------------------------------------------
def _median_ci(x, n_boot: int = 10_000, seed: int = 0) -> list[float]:
    """Return the 95% percentile bootstrap interval of the median of ``x``."""
    x = np.asarray(x, float)
    boot = np.median(np.random.default_rng(seed).choice(x, (n_boot, x.size)), axis=1)
    return np.percentile(boot, [2.5, 97.5]).tolist()


def paired(a: dict, b: dict) -> dict:
    """Compare two ``{key: experiments}`` maps on their common keys.

    Returns the ratio of medians (a / b), a two-sided Wilcoxon signed-rank p (1 when every
    difference is zero) and the fractions of keys where ``a`` needed more, fewer or as many
    experiments as ``b`` (the first is the negative-transfer rate when ``b`` is ``none``).
    """
    from scipy.stats import wilcoxon

    common = sorted(set(a) & set(b))
    if not common:
        return {"n": 0, "median_a": None, "median_b": None, "ratio_of_medians": None,
                "wilcoxon_p": None, "frac_more": None, "frac_fewer": None, "frac_equal": None}  # fmt: skip
    x, y = np.array([a[k] for k in common], float), np.array([b[k] for k in common], float)
    p = 1.0 if np.all(x == y) else float(wilcoxon(x, y).pvalue)
    ma, mb = float(np.median(x)), float(np.median(y))  # positions are >= 1
    return {"n": len(common), "median_a": ma, "median_b": mb, "ratio_of_medians": ma / mb,
            "wilcoxon_p": p, "frac_more": float(np.mean(x > y)), "frac_fewer": float(np.mean(x < y)),
            "frac_equal": float(np.mean(x == y))}  # fmt: skip


def _method_row(trs, tgt, thr, budget):
    """Summary row of one target x method and its {seed: experiments to top-5%} map."""
    ph = [hit_position(t["values"], tgt["sign"], thr, budget) for t in trs]
    vals = [p for p, _ in ph]
    row = {"n_seeds": len(trs), "seeds": [t["seed"] for t in trs]}
    row |= {"median_to_top5": float(np.median(vals)), "median_to_top5_ci95": _median_ci(vals)}
    row |= {"hit_top5_fraction": float(np.mean([h for _, h in ph])), "top5_positions": vals}
    secs = [s for t in trs for s in t["proposal_seconds"]]
    row["median_seconds_per_round"] = float(np.median(secs)) if secs else None
    last = [t["proposal_seconds"][-1] for t in trs if t["proposal_seconds"]]
    row["median_seconds_last_round"] = float(np.median(last)) if last else None
    rows = [t["meta"].get("source_rows") for t in trs if t["meta"].get("source_rows")]
    if rows:
        row["source_rows"] = rows[-1]
        row["n_clipped"] = trs[-1]["meta"].get("n_clipped")
    corr = [t["meta"].get("task_correlation") or {} for t in trs]
    names = sorted({k for c in corr for k in c})
    if names:  # the target-source correlation the last fit of each seed learned
        row["task_correlation_median"] = {k: float(np.median([c[k] for c in corr if k in c])) for k in names}
    row["proposal_coverage90"] = pooled_coverage(trs)
    row["environment"] = trs[-1]["environment"]
    return row, {t["seed"]: v for t, v in zip(trs, vals, strict=True)}


def summarise(out: Path, targets: dict, seeds: int, budgets: dict, batch: int) -> dict:
    """Summarise every method's traces; write ``transfer.{json,md,png}`` under ``out``."""
    summary, curves, pos, commands = {}, {}, {}, set()
    for target, tgt in targets.items():
        budget, thr = budgets[target], threshold(tgt)
        summary[target] = {
            "n_rows": len(tgt["df"]), "objective": tgt["objective"], "direction": tgt["direction"],
            "budget": budget, "top5_threshold": tgt["sign"] * thr,
            "n_top5_rows": int(np.sum(tgt["sign"] * tgt["df"][tgt["objective"]].to_numpy(float) >= thr)),
            "sources": [n for n, _ in tgt["sources"]["transfer"]],
            "max_source_rows": tgt["max_source_rows"], "methods": {}, "paired": {},
        }  # fmt: skip
        for method in METHODS:
            proto = _protocol(method, budget, batch, tgt)
            starts = {s: starting_rows(len(tgt["df"]), s, target) for s in range(seeds)}
            paths = {s: trace_path(out, method, target, s) for s in range(seeds)}
            trs = [t for s, p in paths.items() if (t := _load_trace(p, proto, starts[s]))]
            if not trs:
                continue
            commands.update(" ".join(t.get("argv", [])) for t in trs)
            row, pos[(target, method)] = _method_row(trs, tgt, thr, budget)
            summary[target]["methods"][method] = row
            best = [tgt["sign"] * np.maximum.accumulate(tgt["sign"] * np.asarray(t["values"])) for t in trs]
            curves[(target, method)] = np.array(best)
        for a, b in PAIRS:
            if (target, a) in pos and (target, b) in pos:
                summary[target]["paired"][f"{a}_vs_{b}"] = paired(pos[(target, a)], pos[(target, b)])
    pooled = {}
    oer = [t for t in OER_TARGETS if t in targets]
    for a, b in PAIRS:
        have = [t for t in oer if (t, a) in pos and (t, b) in pos]
        if have:
            pa = {(t, s): v for t in have for s, v in pos[(t, a)].items()}
            pb = {(t, s): v for t in have for s, v in pos[(t, b)].items()}
            pooled[f"{a}_vs_{b}"] = {"targets": have, **paired(pa, pb)}
    result = {
        "protocol": {"seeds": seeds, "budgets": budgets, "batch": batch, "n_start": N_START,
                     "top_percent": TOP, "censoring": "runs that never hit count as the budget"},
        "summary": summary,
        "pooled_oer": pooled,
        "targets": evaluate_targets(summary, pooled, seeds),
        "generated": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "transfer.json").write_text(json.dumps(result, indent=1))
    _write_markdown(out / "transfer.md", result, sorted(commands))
    _plot(out / "transfer.png", curves, summary)
    return result


def evaluate_targets(summary, pooled, seeds) -> dict:
    """Evaluate the issue's targets; a target lacking traces is "not measured", never passed."""
    targets = {}
    need = ("transfer", "none")
    missing = {t: [m for m in need if m not in summary.get(t, {}).get("methods", {})] for t in OER_TARGETS}
    missing = {t: m for t, m in missing.items() if m}
    desc = f"median experiments to top-{TOP}%, pooled over the four OER rotations: transfer < none"
    if missing:
        targets["transfer_fewer_on_oer"] = {"description": desc, "status": "not measured",
                                            "complete": False, "missing": missing}  # fmt: skip
    else:
        c = pooled["transfer_vs_none"]
        per = {t: summary[t]["paired"]["transfer_vs_none"]["ratio_of_medians"] for t in OER_TARGETS}
        n = min(summary[t]["paired"]["transfer_vs_none"]["n"] for t in OER_TARGETS)
        targets["transfer_fewer_on_oer"] = {
            "description": desc, "status": "passed" if c["median_a"] < c["median_b"] else "failed",
            "complete": n == seeds, "pooled": c, "ratio_per_rotation": per,
            "rotations_with_fewer": sum(r < 1 for r in per.values()),
        }  # fmt: skip
    desc = "negative-transfer rate (paired seeds needing more experiments than none) reported, all targets"
    need = ("none", "transfer", "unrelated")
    missing = {t: [m for m in need if m not in summary.get(t, {}).get("methods", {})] for t in TARGETS}
    missing = {t: m for t, m in missing.items() if m}
    if missing:
        targets["negative_transfer_rate_reported"] = {"description": desc, "status": "not measured",
                                                      "complete": False, "missing": missing}  # fmt: skip
    else:
        rates = {
            t: {m: summary[t]["paired"][f"{m}_vs_none"]["frac_more"] for m in ("unrelated", "transfer")}
            for t in TARGETS
        }
        n = min(summary[t]["paired"][f"{m}_vs_none"]["n"] for t in TARGETS for m in ("unrelated", "transfer"))
        targets["negative_transfer_rate_reported"] = {
            "description": desc, "status": "passed", "complete": n == seeds, "rates": rates,
        }  # fmt: skip
    targets["proposal_coverage90_in_range"] = coverage_target(summary, TARGETS, "transfer", seeds)
    return targets


def _write_markdown(path: Path, result: dict, commands: list[str]) -> None:
    """Write the Markdown report: results table, paired comparisons, targets, commands."""
    p = result["protocol"]

    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)

    lines = [
        f"# Transfer benchmark (batch {p['batch']}, seeds 0..{p['seeds'] - 1}, {p['n_start']} shared "
        f"start rows, experiments to the first top-{TOP}% row)\n",
        "Median [95% bootstrap CI] over seeds; runs that never hit count as the budget.\n",
        f"| target | budget | method | n | exp. to top-{TOP}% | hit | s / round | last round s "
        "| source rows used (median learned correlation ρ) | 90% coverage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target, s in result["summary"].items():
        for m, r in s["methods"].items():
            lo, hi = r["median_to_top5_ci95"]
            src = r.get("source_rows")
            corr = r.get("task_correlation_median") or {}
            src = (
                ", ".join(f"{k}: {v}" + (f" (ρ {corr[k]:.2f})" if k in corr else "") for k, v in src.items())
                if src
                else "—"
            )
            lines.append(
                f"| {target} | {s['budget']} | {m} | {r['n_seeds']} | {r['median_to_top5']:g} "
                f"[{lo:g}, {hi:g}] | {r['hit_top5_fraction']:.0%} "
                f"| {fmt(r['median_seconds_per_round'], '.3g')} "
                f"| {fmt(r['median_seconds_last_round'], '.3g')} "
                f"| {src} | {coverage_text(r.get('proposal_coverage90'))} |"
            )
    lines += [
        "\nTargets: " + "; ".join(
            f"{t} ({s['n_rows']} rows, {s['direction']} {s['objective']}, top-{TOP}% threshold "
            f"{s['top5_threshold']:.4g}, {s['n_top5_rows']} rows)" for t, s in result["summary"].items()
        ),
        "\nPaired comparisons on common seeds (OER pooled = the four rotations' (rotation, seed) "
        "pairs). \"more\" is the fraction of pairs where a needed more experiments than b — for "
        "`b = none` the negative-transfer rate.\n",
        "| target | comparison | n | median a | median b | ratio a/b | Wilcoxon p | more | fewer | equal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    rows = [(t, s["paired"]) for t, s in result["summary"].items()] + [("OER pooled", result["pooled_oer"])]
    for target, pairs in rows:
        for name, c in pairs.items():
            if not c["n"]:
                continue
            lines.append(
                f"| {target} | {name} | {c['n']} | {c['median_a']:g} | {c['median_b']:g} "
                f"| {c['ratio_of_medians']:.2f} | {c['wilcoxon_p']:.3g} | {c['frac_more']:.0%} "
                f"| {c['frac_fewer']:.0%} | {c['frac_equal']:.0%} |"
            )
    lines.append("\n## Targets\n")
    for name, t in result["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        note = " (provisional: fewer seeds than requested)" if partial else ""
        lines.append(f"- **{name}**: {t['status']}{note} — {t['description']}")
        if "ratio_per_rotation" in t:
            per = ", ".join(f"{k} {v:.2f}" for k, v in t["ratio_per_rotation"].items())
            lines.append(f"  - ratio transfer/none per rotation: {per}")
        if "rates" in t:
            per = "; ".join(f"{k}: unrelated {v['unrelated']:.0%}, transfer {v['transfer']:.0%}"
                            for k, v in t["rates"].items())  # fmt: skip
            lines.append(f"  - negative-transfer rate: {per}")
        if "missing" in t:
            lines.append(f"  - missing: {t['missing']}")
    script = "python benchmarks/transfer.py"
    traces = "\n".join(f"{script} {c}" for c in commands)
    lines.append(
        f"\n## Reproduce\n\nSummary written by:\n\n```\n{script} {' '.join(public_argv(sys.argv[1:]))}\n"
        "```\n\nTraces produced by (one line per distinct invocation; each trace records its "
        f"environment):\n\n```\n{traces}\n```\n"
    )
    path.write_text("\n".join(lines))


def _plot(path: Path, curves, summary) -> None:
    """Best value so far vs experiments: median and IQR band across seeds, a panel per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, target in zip(axes.flat, names, strict=False):
        s = summary[target]
        x = np.arange(1, s["budget"] + 1)
        for method in METHODS:
            c = curves.get((target, method))
            if c is None or not len(c):
                continue
            q1, med, q3 = np.percentile(c, [25, 50, 75], axis=0)
            ax.plot(x, med, color=COLORS[method], label=f"{method} (n={len(c)})")
            ax.fill_between(x, q1, q3, color=COLORS[method], alpha=0.2, linewidth=0)
        ax.axhline(s["top5_threshold"], color="k", ls=":", lw=0.8, label=f"top-{TOP}% threshold")
        ax.axvline(N_START + 0.5, color="k", lw=0.5, alpha=0.5)  # shared start rows to the left
        word = "lowest" if s["direction"] == "min" else "highest"
        ax.set(title=target, xlabel="experiments", ylabel=f"{word} {s['objective']} so far",
               xlim=(1, s["budget"]))  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 if any stage or run failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma list of stages")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma list of targets")
    ap.add_argument("--seeds", type=int, default=20, help="run seeds 0..N-1 (default 20)")
    ap.add_argument(
        "--budget", type=int, help="experiments incl. the 5 start rows (default 50 OER, 40 Reizman)"
    )
    ap.add_argument("--batch", type=int, default=5, help="experiments per proposal round")
    ap.add_argument(
        "--max-source-rows", type=int, help="rows kept per source, every target (default 50 OER, 100 Reizman)"
    )
    ap.add_argument("--data", "--data-dir", type=Path, default=DEFAULT_DATA,
                    help="folder holding reaction_optimisation/ (default ../shared/data)")  # fmt: skip
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun traces that already exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise traces")
    smoke = "CI mode: 2 seeds, budget 15, oer_plate_3496 + reizman_case_4, 50-row sources, temporary --out"
    ap.add_argument("--smoke", action="store_true", help=smoke)
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.budget, a.max_source_rows = 2, 15, 50  # Reizman sources: 50 of 96 rows
        a.targets = "oer_plate_3496,reizman_case_4"
        a.out = a.out or Path(tempfile.mkdtemp(prefix="transfer_smoke_"))
    out = a.out or DEFAULT_OUT
    methods, target_names = a.methods.split(","), a.targets.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(target_names) - set(TARGETS))
    if unknown:
        ap.error(f"unknown method/target: {unknown}")
    if a.max_source_rows is not None and a.max_source_rows < 1:
        ap.error("--max-source-rows must be at least 1")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before a stage imports torch
    targets = {t: load_target(t, a.data, a.max_source_rows) for t in target_names}
    budgets = {t: a.budget or tgt["budget"] for t, tgt in targets.items()}
    failures = 0
    if not a.summarise_only:
        for method in methods:
            environment(method)  # the commit and versions of the code loaded now, not later
        for method in methods:
            failures += run_stage(method, targets, a.seeds, budgets, a.batch, out, a.force)
    res = summarise(out, targets, a.seeds, budgets, a.batch)
    for name, t in res["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        print(f"target {name}: {t['status']}{' (provisional: fewer seeds)' if partial else ''}")
    print(f"wrote {out / 'transfer.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
