"""Does synthetic data help? A downstream model trained on few real rows, with and without generated rows.

Protocol
--------
* Datasets (read from ``--data-dir``, default ``../shared/data``):

  - ``magic``, ``pima``, ``fault`` — binary classification (ADBench classical ``22_magic.gamma``,
    ``29_Pima``, ``12_fault``; Han et al. 2022; ~35 % positives; 10, 8 and 27 numeric features);
  - ``esol`` — regression of measured log solubility from the six descriptors shipped with
    Delaney's ESOL set (MoleculeNet; Delaney 2004).

  Without the data folder the script runs on generated data (two Gaussian-mixture classes and a
  smooth regression).
* For each seed a small real training set of ``--n-train`` rows (default 100; stratified for
  classification) is drawn; every other row (at most 5,000) is the held-out real test set.
* Conditions, each trained on the same real rows:

  - ``real`` — the real rows only (the baseline);
  - ``+flow`` — plus ``--ratio`` × as many rows (default 2) drawn from a neural spline flow
    (:class:`scientia.curate.generate.FlowGenerator`);
  - ``+vae`` — plus rows from a :class:`~scientia.curate.generate.VAEGenerator`;
  - ``+gaussian`` — plus rows from a multivariate Gaussian fitted by maximum likelihood (the
    simplest generative model, as a floor for the learned ones).

  Classification fits one generator per class (:class:`~scientia.curate.generate.ClassConditional`)
  and samples the classes in the training proportions; regression fits the generator on the
  joint rows ``[X, y]`` and splits the samples.
* Downstream models: logistic regression / ridge regression (standardised features) and a random
  forest (200 trees). Scores on the test set: ROC-AUC (classification), R² (regression).
* Seeds ``0..S-1`` (default 10). One JSON per (dataset, seed) under
  ``<out>/synthetic/runs/<dataset>/seed_<k>.json``, skipped on rerun unless ``--force``.
* Summary (``<out>/synthetic.{json,md}``): per dataset × model × condition the median and mean
  score over seeds, the median paired difference from ``real`` and the share of seeds where the
  condition beat ``real``. Whatever the sign, it is reported.

Usage::

    python benchmarks/synthetic.py            # full run (resumable), then summary
    python benchmarks/synthetic.py --smoke    # CI: 2 seeds, small generators, temp dir
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
DATASETS = ("magic", "pima", "fault", "esol")
CONDITIONS = ("real", "+flow", "+vae", "+gaussian")
MODELS = ("linear", "forest")
ADBENCH = {"magic": "22_magic.gamma", "pima": "29_Pima", "fault": "12_fault"}
MAX_TEST = 5000


# -- data ----------------------------------------------------------------------------------------
def load(name: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Features (n, d), target (n,) and the task ("classification" or "regression")."""
    if not data_dir.is_dir():
        gen = np.random.default_rng(DATASETS.index(name))
        if name == "esol":
            X = gen.normal(size=(1200, 6))
            y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.2 * gen.normal(size=1200)
            return X, y, "regression"
        y = (gen.random(3000) < 0.35).astype(int)
        centres = gen.normal(size=(2, 2, 8)) * 1.2
        X = centres[y, gen.integers(0, 2, 3000)] + gen.normal(size=(3000, 8))
        return X, y, "classification"
    if name in ADBENCH:
        with np.load(data_dir / "anomaly_detection" / "adbench_classical" / f"{ADBENCH[name]}.npz") as d:
            return d["X"].astype(np.float64), d["y"].astype(np.int64), "classification"
    if name == "esol":
        import pandas as pd

        df = pd.read_csv(data_dir / "molecular_properties" / "moleculenet" / "esol_delaney.csv")
        cols = [
            "Minimum Degree",
            "Molecular Weight",
            "Number of H-Bond Donors",
            "Number of Rings",
            "Number of Rotatable Bonds",
            "Polar Surface Area",
        ]
        return (
            df[cols].to_numpy(np.float64),
            df["measured log solubility in mols per litre"].to_numpy(),
            "regression",
        )
    raise ValueError(name)


# -- generators ----------------------------------------------------------------------------------
class GaussianGenerator:
    """A multivariate Gaussian fitted by maximum likelihood (with a small ridge on the covariance)."""

    def fit(self, X: np.ndarray, seed: object = None) -> GaussianGenerator:
        self.mean_ = X.mean(axis=0)
        cov = np.atleast_2d(np.cov(X, rowvar=False))
        self.cov_ = cov + 1e-6 * np.eye(len(cov)) * max(1.0, float(np.trace(cov)) / len(cov))
        return self

    def sample(self, n: int, seed: object = None) -> np.ndarray:
        from scientia.seeding import rng

        return rng(seed).multivariate_normal(self.mean_, self.cov_, size=int(n))  # type: ignore[arg-type]


def make_generator(kind: str, smoke: bool) -> object:
    from scientia.curate.generate import FlowGenerator, VAEGenerator

    epochs = 30 if smoke else 500
    if kind == "+flow":
        return FlowGenerator(transforms=3, hidden=(64, 64), validation=0.2, epochs=epochs, patience=30)
    if kind == "+vae":
        return VAEGenerator(hidden=(64, 64), validation=0.2, epochs=epochs, patience=30)
    return GaussianGenerator()


def synthetic_rows(
    kind: str, X: np.ndarray, y: np.ndarray, task: str, n: int, seed: int, smoke: bool
) -> tuple[np.ndarray, np.ndarray]:
    from scientia.curate.generate import ClassConditional

    if task == "classification":
        model = ClassConditional(lambda: make_generator(kind, smoke), min_rows=3).fit(X, y, seed=seed)
        return model.sample(n, seed=seed + 1)
    joint = make_generator(kind, smoke).fit(np.column_stack([X, y]), seed=seed)  # type: ignore[attr-defined]
    S = joint.sample(n, seed=seed + 1)  # type: ignore[attr-defined]
    return S[:, :-1], S[:, -1]


# -- downstream ----------------------------------------------------------------------------------
def score(
    model: str, task: str, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray, seed: int
) -> float:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        est = (
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            if model == "linear"
            else RandomForestClassifier(200, random_state=seed, n_jobs=1)
        )
        est.fit(X, y)
        return float(roc_auc_score(yt, est.predict_proba(Xt)[:, 1]))
    est = (
        make_pipeline(StandardScaler(), Ridge(alpha=1.0))
        if model == "linear"
        else RandomForestRegressor(200, random_state=seed, n_jobs=1)
    )
    est.fit(X, y)
    return float(r2_score(yt, est.predict(Xt)))


def available_flow() -> bool:
    import importlib.util

    return importlib.util.find_spec("zuko") is not None


def run_one(
    name: str,
    seed: int,
    data_dir: Path,
    n_train: int,
    ratio: float,
    smoke: bool,
    conditions: list[str] | None = None,
) -> dict:
    import torch

    torch.set_num_threads(1)
    X, y, task = load(name, data_dir)
    gen = np.random.default_rng(np.random.SeedSequence([DATASETS.index(name), seed]))
    if task == "classification":
        from sklearn.model_selection import train_test_split

        train, rest = train_test_split(
            np.arange(len(y)), train_size=n_train, stratify=y, random_state=int(gen.integers(2**31))
        )
    else:
        order = gen.permutation(len(y))
        train, rest = order[:n_train], order[n_train:]
    test = rest[:MAX_TEST] if len(rest) <= MAX_TEST else gen.choice(rest, MAX_TEST, replace=False)
    Xr, yr, Xt, yt = X[train], y[train], X[test], y[test]
    record: dict = {"dataset": name, "task": task, "seed": seed, "n_train": len(train), "n_test": len(test)}
    record["scores"] = {m: {} for m in MODELS}
    record["seconds"] = {}
    n_syn = round(ratio * len(train))
    for cond in conditions or CONDITIONS:
        start = time.perf_counter()
        if cond == "real":
            Xa, ya = Xr, yr
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Xs, ys = synthetic_rows(cond, Xr, yr, task, n_syn, seed, smoke)
            Xa, ya = np.vstack([Xr, Xs]), np.concatenate([yr, ys.astype(yr.dtype)])
        record["seconds"][cond] = time.perf_counter() - start
        for m in MODELS:
            record["scores"][m][cond] = score(m, task, Xa, ya, Xt, yt, seed)
    return record


# -- summary -------------------------------------------------------------------------------------
def summarise(runs: list[dict]) -> dict:
    table: dict = {}
    for r in runs:
        for m, conds in r["scores"].items():
            base = conds["real"]
            for c, v in conds.items():
                cell = table.setdefault(r["dataset"], {}).setdefault(m, {}).setdefault(c, {"v": [], "d": []})
                cell["v"].append(v)
                cell["d"].append(v - base)
    summary: dict = {}
    helped = []
    for d, dm in table.items():
        for m, mc in dm.items():
            for c, cell in mc.items():
                v, diff = np.asarray(cell["v"]), np.asarray(cell["d"])
                summary.setdefault(d, {}).setdefault(m, {})[c] = {
                    "median": float(np.median(v)),
                    "mean": float(np.mean(v)),
                    "std": float(np.std(v)),
                    "median_diff_vs_real": float(np.median(diff)),
                    "share_of_seeds_better_than_real": float(np.mean(diff > 0)),
                    "seeds": len(v),
                }
                if c != "real":
                    helped.append(
                        {"dataset": d, "model": m, "condition": c, "median_diff": float(np.median(diff))}
                    )
    verdict = {}
    for c in CONDITIONS[1:]:
        diffs = [h["median_diff"] for h in helped if h["condition"] == c]
        if diffs:
            verdict[c] = {
                "cases_helped": sum(x > 0 for x in diffs),
                "cases": len(diffs),
                "mean_of_median_diffs": float(np.mean(diffs)),
            }
    return {"summary": {"conditions": verdict}, "results": summary}


def write_outputs(result: dict, out: Path) -> None:
    (out / "synthetic.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Does synthetic data help a downstream model?",
        "",
        f"Command: `{result['command']}` ({result['date']}; data: {result['data']})",
        "",
        f"{result['n_train']} real training rows per seed; synthetic rows = {result['ratio']:g} × real rows; "
        "scores on held-out real rows (ROC-AUC for classification, R² for regression); median over seeds, and the",
        "median paired difference from training on the real rows only (share of seeds where it was better).",
        "",
        "## Verdict",
        "",
        "| condition | cases where the median difference > 0 | mean of median differences |",
        "|---|---|---|",
    ]
    for c, v in result["summary"]["conditions"].items():
        lines.append(f"| {c} | {v['cases_helped']} of {v['cases']} | {v['mean_of_median_diffs']:+.4f} |")
    for d, dm in result["results"].items():
        lines += [
            "",
            f"## {d}",
            "",
            "| model | " + " | ".join(CONDITIONS) + " |",
            "|---" * (len(CONDITIONS) + 1) + "|",
        ]
        for m, mc in dm.items():
            cells = []
            for c in CONDITIONS:
                if c not in mc:
                    cells.append("—")
                elif c == "real":
                    cells.append(f"{mc[c]['median']:.3f}")
                else:
                    cells.append(
                        f"{mc[c]['median']:.3f} ({mc[c]['median_diff_vs_real']:+.3f}; "
                        f"{mc[c]['share_of_seeds_better_than_real']:.0%})"
                    )
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    (out / "synthetic.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--n-train", type=int, default=100)
    p.add_argument("--ratio", type=float, default=2.0)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--summarise-only", action="store_true")
    args = p.parse_args(argv)
    chosen = [d.strip() for d in args.datasets.split(",") if d.strip()]
    bad = [d for d in chosen if d not in DATASETS]
    if bad:
        p.error(f"unknown dataset {bad[0]!r}; known: {', '.join(DATASETS)}")
    if args.smoke:
        args.seeds, chosen = 2, chosen[:2]
    conditions = [c for c in CONDITIONS if c != "+flow" or available_flow()]
    if len(conditions) < len(CONDITIONS):
        print("skipping +flow: zuko is not installed (pip install 'scientia[sciml]')")
    out = args.out or (Path(tempfile.mkdtemp(prefix="synthetic_smoke_")) if args.smoke else DEFAULT_OUT)
    root = out / "synthetic" / "runs"
    failures = 0
    if not args.summarise_only:
        for seed in range(args.seeds):
            for name in chosen:
                path = root / name / f"seed_{seed}.json"
                if path.exists() and not args.force:
                    continue
                try:
                    record = run_one(
                        name, seed, args.data_dir, args.n_train, args.ratio, args.smoke, conditions
                    )
                except Exception as exc:  # noqa: BLE001 - one failed run must not stop the others
                    failures += 1
                    print(f"FAILED {name} seed {seed}: {exc!r}", file=sys.stderr, flush=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(record, indent=2) + "\n")
                text = ", ".join(
                    f"{m}: " + " ".join(f"{c} {v:.3f}" for c, v in conds.items())
                    for m, conds in record["scores"].items()
                )
                print(f"{name:6s} seed {seed}: {text}", flush=True)
    runs = [json.loads(q.read_text()) for q in sorted(root.glob("*/seed_*.json")) if q.parent.name in chosen]
    result = summarise(runs)
    passed = argv if argv is not None else sys.argv[1:]
    result["command"] = " ".join(
        ["python benchmarks/synthetic.py", *(a for a in passed if a not in ("--summarise-only", "--force"))]
    )
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    result["data"] = "shared" if args.data_dir.is_dir() else "generated"
    result["n_train"], result["ratio"] = args.n_train, args.ratio
    write_outputs(result, out)
    for c, v in result["summary"]["conditions"].items():
        print(
            f"{c:10s} helped in {v['cases_helped']} of {v['cases']} (dataset, model) cases; "
            f"mean of median differences {v['mean_of_median_diffs']:+.4f}"
        )
    print(f"wrote {out / 'synthetic.json'}, .md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
