"""Equation discovery on the AI Feynman (100 + 20 bonus) equations and the Strogatz ODEs.

Data (``--data-dir``, default ``../shared/data`` beside the repository, folder ``symbolic_regression``):
``FeynmanEquations.csv`` and ``BonusEquations.csv`` (AI Feynman definitions via
florianBachinger/FeynmanEquations-Python, MIT), ``strogatz/d_*.txt`` (lacava/ode-strogatz, GPL-3.0,
read at run time, never bundled), the PMLB metadata (MIT; the Strogatz governing equations) and
SRBench 2021's published summary (GPL-3.0; quoted for reference only).

Protocol
--------
* Feynman: for each equation and seed, 10,000 points drawn uniformly from the published variable
  ranges with ``default_rng(SeedSequence([seed, crc32(name)]))``, the formula evaluated, a random
  75/25 train/test split (as SRBench). Noise: Gaussian with std = level x RMS(y_train), added to the
  training target only, for levels 0, 0.001, 0.01, 0.1. Levels > 0 use a fixed subset of 40
  equations (``default_rng(2021).choice`` over the sorted names).
* Strogatz: each file holds 4 trajectories of 100 states without time stamps (the simulator used
  a variable step) and a ``label`` column equal to the exact right-hand side. So that derivatives
  are *estimated*, each system is re-integrated from the files' 4 initial states on a uniform grid
  (dt = 0.01 for 10 time units, LSODA, rtol 1e-10), the derivative of each state is estimated from
  these trajectories with a Savitzky–Golay filter (window 9, cubic; its R^2 against the exact
  right-hand side is recorded), every 10th point is kept (400 rows per system, as the files) and
  one equation ``d(state)/dt = f(x, y)`` is fitted per state; split and noise as above.
* Methods (stages, ``--methods``), each with ``--budget`` CPU-seconds per (equation, noise, seed):
  ``scientia-operon`` and ``scientia-gp`` (``EquationSearch`` with that engine; the default engine is
  operon) and ``gplearn`` (SRBench's gplearn configuration: population 1000, tournament 20, MAE,
  parsimony 0.001, functions add sub mul div max min log sqrt; run one generation at a time with
  ``warm_start`` until the budget is spent). The budget is CPU time of this process (wall time is
  recorded too); ``scientia-*`` add their front polishing on top, which the reported time includes.
* Metrics: symbolic-solution (the model differs from the truth by an additive or multiplicative
  constant, :func:`scientia.hypothesize.symbolic.is_symbolic_solution`), R^2 on the test split and
  the rate of R^2 > 0.999, model size (:func:`~scientia.hypothesize.symbolic.expressions.complexity`
  of the SymPy model, the same count for every method) and CPU seconds.
* Each (method, noise, dataset, seed) result is written to
  ``<out>/feynman/runs/<method>/<noise>/<dataset>.seed<k>.json`` as soon as it finishes; reruns skip
  results that exist with the same budget and size unless ``--force``.
* Summary: ``<out>/feynman.{json,md,png}`` with rates per method, noise level and group.

Usage::

    python benchmarks/feynman.py --smoke                      # CI: 10 equations, noise 0, 2 s, temp dir
    python benchmarks/feynman.py --methods scientia-operon,scientia-gp --equations 10 --noise 0 \\
        --budget 20 --no-strogatz
    python benchmarks/feynman.py                              # everything (hours)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import sympy as sp

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
METHODS = ("scientia-operon", "scientia-gp", "scientia-rl", "scientia-hybrid", "gplearn")
NOISES = (0.0, 0.001, 0.01, 0.1)
N_POINTS = 10_000
SUBSET = 40
_FUNCS = {"exp": sp.exp, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh, "ln": sp.log,
          "log": sp.log, "arcsin": sp.asin, "arccos": sp.acos, "asin": sp.asin, "acos": sp.acos,
          "tan": sp.tan, "cot": sp.cot, "pi": sp.pi}  # fmt: skip


@dataclass
class Dataset:
    name: str
    group: str  # feynman | bonus | strogatz
    variables: list[str]
    truth: sp.Expr
    ranges: list[tuple[float, float]] | None = None
    X: np.ndarray | None = None  # fixed data (Strogatz)
    y: np.ndarray | None = None
    note: dict | None = None


def parse_formula(text: str, names: list[str]) -> sp.Expr:
    from sympy.parsing.sympy_parser import parse_expr

    local = dict(_FUNCS)
    local.update({n: sp.Symbol(n) for n in names})
    return parse_expr(text, local_dict=local)


def load_feynman(folder: Path) -> list[Dataset]:
    out = []
    for file, group in (("FeynmanEquations.csv", "feynman"), ("BonusEquations.csv", "bonus")):
        for _, row in pd.read_csv(folder / file).iterrows():
            n = int(row["# variables"])
            names = [str(row[f"v{i}_name"]) for i in range(1, n + 1)]
            ranges = [(float(row[f"v{i}_low"]), float(row[f"v{i}_high"])) for i in range(1, n + 1)]
            name = str(row["Filename"])
            out.append(Dataset(name, group, names, parse_formula(str(row["Formula"]), names), ranges))
    return out


def load_strogatz(folder: Path) -> list[Dataset]:
    from scipy.integrate import solve_ivp
    from scipy.signal import savgol_filter

    meta = json.loads((folder / "pmlb_metadata_feynman_strogatz_firstprinciples.json").read_text())
    rhs: dict[str, dict[str, sp.Expr]] = {}
    for entry in meta:
        m = re.search(r"([xy])' = (.+?)\n", entry["description"])
        if entry["dataset"].startswith("strogatz_") and m:
            system = entry["dataset"].removeprefix("strogatz_")[:-1]
            rhs.setdefault(system, {})[m.group(1)] = parse_formula(m.group(2).strip(), ["x", "y"])
    x, y = sp.symbols("x y")
    out = []
    for system, eqs in sorted(rhs.items()):
        files = [folder / "strogatz" / f"d_{system}{k}.txt" for k in (1, 2)]
        if set(eqs) != {"x", "y"} or not all(f.exists() for f in files):
            continue
        f = sp.lambdify([x, y], [eqs["x"], eqs["y"]], modules="numpy")
        starts = pd.read_csv(files[0])[["x", "y"]].to_numpy()[::100]  # 4 trajectories of 100 states
        t = np.arange(1000) * 0.01
        trajs = []
        for x0 in starts:
            sol = solve_ivp(
                lambda _t, s, f=f: f(*s), (0, t[-1]), x0, t_eval=t, rtol=1e-10, atol=1e-12, method="LSODA"
            )
            if sol.success and sol.y.shape[1] == len(t) and np.all(np.isfinite(sol.y)):
                trajs.append(sol.y.T)  # (1000, 2)
        X = np.concatenate([tr[::10] for tr in trajs])  # every 10th state: 100 per trajectory
        for k, state in enumerate(("x", "y")):
            deriv = np.concatenate([savgol_filter(tr[:, k], 9, 3, deriv=1, delta=0.01)[::10] for tr in trajs])
            exact = np.broadcast_to(sp.lambdify([x, y], eqs[state])(X[:, 0], X[:, 1]), deriv.shape)
            agree = 1 - np.sum((exact - deriv) ** 2) / np.sum((exact - exact.mean()) ** 2)
            note = {"trajectories": len(trajs), "r2_savgol_vs_exact": float(agree)}
            name = f"strogatz_{system}{k + 1}"
            out.append(Dataset(name, "strogatz", ["x", "y"], eqs[state], None, X, deriv, note))
    return out


def make_data(ds: Dataset, noise: float, seed: int) -> tuple[np.ndarray, ...]:
    gen = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(ds.name.encode())]))
    if ds.X is None:
        assert ds.ranges is not None
        lo, hi = np.array(ds.ranges).T
        X = gen.uniform(lo, hi, size=(N_POINTS, len(lo)))
        f = sp.lambdify([sp.Symbol(n) for n in ds.variables], ds.truth, modules="numpy")
        y = np.broadcast_to(np.asarray(f(*X.T), dtype=float), (N_POINTS,)).copy()
    else:
        X, y = ds.X, np.asarray(ds.y)
    idx = gen.permutation(len(y))
    k = round(0.75 * len(y))
    tr, te = idx[:k], idx[k:]
    ytr = y[tr].copy()
    if noise > 0:
        ytr += gen.normal(0.0, noise * math.sqrt(float(np.mean(ytr**2))), size=len(ytr))
    return X[tr], ytr, X[te], y[te]


def run_scientia(engine: str, ds: Dataset, Xtr, ytr, budget: float, seed: int) -> tuple[sp.Expr, object]:
    from scientia.hypothesize.symbolic import EquationSearch

    est = EquationSearch(engine=engine, time_limit=budget, seed=seed)
    est.fit(pd.DataFrame(Xtr, columns=ds.variables), ytr)
    return est.best_.sympy, est.predict


def run_gplearn(ds: Dataset, Xtr, ytr, budget: float, seed: int) -> tuple[sp.Expr, object]:
    from gplearn.genetic import SymbolicRegressor

    est = SymbolicRegressor(
        population_size=1000, generations=1, tournament_size=20, init_depth=(2, 6), metric="mean absolute error",
        parsimony_coefficient=0.001, p_crossover=0.9, p_subtree_mutation=0.01, p_hoist_mutation=0.01,
        p_point_mutation=0.01, p_point_replace=0.05, max_samples=1.0, warm_start=True, random_state=seed,
        function_set=("add", "sub", "mul", "div", "max", "min", "log", "sqrt"),
    )  # fmt: skip
    start, g = time.process_time(), 1
    while True:
        est.set_params(generations=g)
        est.fit(Xtr, ytr)
        if time.process_time() - start >= budget:
            break
        g += 1
    syms = {f"X{i}": sp.Symbol(n) for i, n in enumerate(ds.variables)}
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "max": sp.Max, "min": sp.Min, "log": lambda a: sp.log(sp.Abs(a)),
           "sqrt": lambda a: sp.sqrt(sp.Abs(a))}  # fmt: skip
    from sympy.parsing.sympy_parser import parse_expr

    expr = parse_expr(str(est._program), local_dict={**syms, **ops})
    return sp.sympify(expr), est.predict


def run_one(method: str, ds: Dataset, noise: float, seed: int, budget: float) -> dict:
    from scientia.hypothesize.symbolic import is_symbolic_solution, r2_score
    from scientia.hypothesize.symbolic.expressions import complexity

    Xtr, ytr, Xte, yte = make_data(ds, noise, seed)
    cpu, wall = time.process_time(), time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "gplearn":
            expr, predict = run_gplearn(ds, Xtr, ytr, budget, seed)
        else:
            expr, predict = run_scientia(method.removeprefix("scientia-"), ds, Xtr, ytr, budget, seed)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        with np.errstate(all="ignore"):
            r2 = r2_score(yte, predict(Xte))
    t0 = time.process_time()
    solved = is_symbolic_solution(expr, ds.truth)
    return {
        "method": method, "dataset": ds.name, "group": ds.group, "noise": noise, "seed": seed,
        "budget": budget, "n_points": N_POINTS if ds.X is None else len(ds.X), "model": str(expr),
        "truth": str(ds.truth), "size": complexity(expr), "symbolic_solution": bool(solved),
        "r2_test": r2 if math.isfinite(r2) else None, "accuracy_solution": bool(r2 > 0.999),
        "cpu_seconds": cpu, "wall_seconds": wall, "check_seconds": time.process_time() - t0,
        "note": ds.note or {}, "versions": _versions(method),
    }  # fmt: skip


def _versions(method: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("scientia", "numpy", "sympy", "pyoperon" if "operon" in method else None,
                "gplearn" if method == "gplearn" else None):  # fmt: skip
        if pkg:
            try:
                out[pkg] = version(pkg)
            except PackageNotFoundError:
                out[pkg] = None
    return out


def available(method: str) -> bool:
    need = {"scientia-operon": "pyoperon", "gplearn": "gplearn"}.get(method)
    return need is None or importlib.util.find_spec(need) is not None


def noisy_subset(datasets: list[Dataset]) -> set[str]:
    names = sorted(d.name for d in datasets if d.group != "strogatz")
    return set(
        np.random.default_rng(2021).choice(names, size=min(SUBSET, len(names)), replace=False).tolist()
    )


def summarise(out: Path, data_dir: Path | None = None) -> dict:
    rows = []
    for path in sorted((out / "feynman" / "runs").rglob("*.json")):
        rows.append(json.loads(path.read_text()))
    df = pd.DataFrame(rows)
    summary = []
    if len(df):
        df["family"] = np.where(df["group"] == "strogatz", "Strogatz", "Feynman")
        for (method, noise, family, budget_), g in df.groupby(["method", "noise", "family", "budget"]):
            summary.append({
                "method": method, "noise": float(noise), "group": family, "n": len(g), "budget": float(budget_),
                "symbolic_solution_rate": float(g["symbolic_solution"].mean()),
                "accuracy_rate": float(g["accuracy_solution"].mean()),
                "median_size": float(g["size"].median()), "median_cpu_seconds": float(g["cpu_seconds"].median()),
                "median_wall_seconds": float(g["wall_seconds"].median()),
            })  # fmt: skip
    result = {"protocol": __doc__.split("Protocol\n--------\n")[1].split("\nUsage")[0], "summary": summary}
    (out / "feynman.json").write_text(json.dumps(result, indent=1))
    lines = ["| method | budget (CPU s) | noise | group | n | symbolic solution % | R² > 0.999 % | median size | median CPU s |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in summary:
        lines.append(f"| {s['method']} | {s['budget']:g} | {s['noise']:g} | {s['group']} | {s['n']} | {100 * s['symbolic_solution_rate']:.1f} | "
                     f"{100 * s['accuracy_rate']:.1f} | {s['median_size']:.0f} | {s['median_cpu_seconds']:.1f} |")  # fmt: skip
    published = _published(data_dir)
    if published:
        lines += ["", "Published SRBench 2021 rates (La Cava et al. 2021, `srbench_groundtruth_summary_by_method.csv`; "
                  "their own, much larger, budget; 10 seeds, real-valued constants checked as here):", "",
                  "| method | noise | group | n | symbolic solution % | R² > 0.999 % |", "|---|---|---|---|---|---|"]  # fmt: skip
        lines += [f"| {p['algorithm']} | {p['noise']:g} | {p['group']} | {p['n']} | {p['solution_pct']:.1f} | "
                  f"{100 * p['accuracy']:.1f} |" for p in published]  # fmt: skip
        result["published_srbench_2021"] = published
        (out / "feynman.json").write_text(json.dumps(result, indent=1))
    (out / "feynman.md").write_text("\n".join(lines) + "\n")
    _plot(summary, out / "feynman.png")
    return result


def _published(data_dir: Path | None) -> list[dict]:
    path = (data_dir or DEFAULT_DATA) / "symbolic_regression" / "srbench_groundtruth_summary_by_method.csv"
    if not path.exists():
        return []
    df = pd.read_csv(path)
    df = df[
        df["algorithm"].isin(["Operon", "gplearn", "AIFeynman"])
        & df["data_group"].isin(["Feynman", "Strogatz"])
    ]
    return [
        {"algorithm": r.algorithm, "noise": float(r.target_noise), "group": r.data_group, "n": int(r.n_datasets),
         "solution_pct": float(r.mean_symbolic_solution_rate_pct), "accuracy": float(r.mean_accuracy_solution)}
        for r in df.itertuples()
    ]  # fmt: skip


def _plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    top = max((s["budget"] for s in summary), default=0.0)
    feyn = [s for s in summary if s["group"] == "Feynman" and s["budget"] == top]
    methods = sorted({s["method"] for s in feyn})
    noises = sorted({s["noise"] for s in feyn})
    width = 0.8 / max(len(methods), 1)
    for ax, key, title in zip(
        axes, ("symbolic_solution_rate", "accuracy_rate"), ("symbolic solution", "R² > 0.999"), strict=True
    ):
        for k, m in enumerate(methods):
            vals = [
                next((s[key] for s in feyn if s["method"] == m and s["noise"] == nz), 0.0) for nz in noises
            ]
            ax.bar(np.arange(len(noises)) + k * width, np.array(vals) * 100, width, label=m)
        ax.set_xticks(np.arange(len(noises)) + width * (len(methods) - 1) / 2, [f"{nz:g}" for nz in noises])
        ax.set_xlabel("target noise")
        ax.set_ylabel("% of Feynman equations")
        ax.set_title(f"{title} ({top:g} CPU s per run)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma list of stages")
    ap.add_argument("--noise", default=",".join(f"{n:g}" for n in NOISES), help="comma list of levels")
    ap.add_argument("--budget", type=float, default=60.0, help="CPU seconds per run (default 60)")
    ap.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (default 1)")
    ap.add_argument("--equations", default="all", help="'all', a number N (the first N), or names")
    ap.add_argument("--no-strogatz", action="store_true", help="skip the Strogatz systems")
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun results that already exist")
    ap.add_argument("--summarise-only", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="CI: 10 equations, noise 0, 2 s, temporary --out")
    a = ap.parse_args(argv)
    if a.smoke:
        a.equations, a.noise, a.budget, a.no_strogatz = "10", "0", 2.0, True
        a.out = a.out or Path(tempfile.mkdtemp(prefix="feynman_smoke_"))
    out = a.out or DEFAULT_OUT
    if a.summarise_only:
        print(json.dumps(summarise(out, a.data_dir)["summary"], indent=1))
        return 0
    folder = a.data_dir / "symbolic_regression"
    if not (folder / "FeynmanEquations.csv").exists():
        print(f"error: no FeynmanEquations.csv under {folder}; pass --data-dir", file=sys.stderr)
        return 2
    feyn = load_feynman(folder)
    subset = noisy_subset(feyn)
    if a.equations != "all":
        feyn = (
            feyn[: int(a.equations)]
            if a.equations.isdigit()
            else [d for d in feyn if d.name in a.equations.split(",")]
        )
    datasets = feyn + ([] if a.no_strogatz else load_strogatz(folder))
    if a.equations != "all" and not a.equations.isdigit():  # names select Strogatz sets too
        datasets = [d for d in datasets if d.name in a.equations.split(",")]
    noises = [float(n) for n in a.noise.split(",")]
    methods = [m for m in a.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            print(f"error: unknown method {m!r}; known: {', '.join(METHODS)}", file=sys.stderr)
            return 2
    for method in methods:
        if not available(method):
            print(f"skipping {method}: its package is not installed", flush=True)
            continue
        for noise in noises:
            for ds in datasets:
                if noise > 0 and ds.group != "strogatz" and ds.name not in subset and a.equations == "all":
                    continue
                for seed in range(a.seeds):
                    path = out / "feynman" / "runs" / method / f"{noise:g}" / f"{ds.name}.seed{seed}.json"
                    if path.exists() and not a.force:
                        old = json.loads(path.read_text())
                        if old.get("budget") == a.budget:
                            continue
                    res = run_one(method, ds, noise, seed, a.budget)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(res, indent=1))
                    print(f"{method:16s} noise={noise:<6g} {ds.name:14s} solved={res['symbolic_solution']!s:5s} "
                          f"r2={res['r2_test'] if res['r2_test'] is None else round(res['r2_test'], 6)} "
                          f"size={res['size']} cpu={res['cpu_seconds']:.1f}s  {res['model'][:80]}", flush=True)  # fmt: skip
    result = summarise(out, a.data_dir)
    print((out / "feynman.md").read_text())
    print(f"wrote {out / 'feynman.json'}, feynman.md, feynman.png", flush=True)
    return 0 if result["summary"] else 1


if __name__ == "__main__":
    sys.exit(main())
