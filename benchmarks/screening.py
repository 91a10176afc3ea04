"""Virtual-screening models on MoleculeNet sets: accuracy and calibration of uncertainty.

Data (read from ``--data-dir``, default ``../shared/data`` beside the repository; see its
README for sources and licenses): ESOL (1,128 molecules, log solubility) and FreeSolv (642,
hydration free energy, kcal/mol) for regression; BBBP (2,039, blood–brain-barrier penetration,
0/1) for classification.

Protocol
--------
* Seeds ``0..S-1`` (default ``S = 5``); splits ``random`` and ``scaffold`` (Bemis–Murcko,
  Chemprop's balanced assignment), 80 / 10 / 10. For one (data set, split, seed) every method
  gets the same parts: :func:`scientia.screen.train.train_and_evaluate` derives the split from
  the seed alone.
* Methods — regression: ``ensemble`` (5 MLPs, Morgan counts + RDKit descriptors), ``gp``
  (Tanimoto GP on Morgan counts), ``forest`` (extremely randomised trees on the ensemble's
  features, std across trees: scientia's ``ForestSurrogate``); classification: ``classifier``
  (ensemble) and ``forest-classifier`` (a random forest, std across trees). Regression models are
  calibrated by split conformal on the validation part; classifiers are not recalibrated. Every
  run also records the trivial baseline (training mean / base rate) on the same test molecules.
* Metrics on the test part: RMSE, MAE, R², Spearman ρ, NLL, 90%-interval coverage and width,
  miscalibration area; ROC-AUC, PR-AUC, ECE, Brier. Per run, 95% bootstrap intervals over test
  molecules; the summary gives the mean and standard deviation over seeds.
* Each run is written when it finishes to ``<out>/screening/runs/<data>/<split>/<method>/seed_<k>.json``
  with the producing environment; reruns skip runs whose settings match, unless ``--force``.
* Summary: ``<out>/screening.json`` (with a ``summary`` key) and ``<out>/screening.md``.

Not yet compared: Chemprop (a directed message-passing network, the field's reference for these
sets) is not installed in this environment; its stage is to be added when it is.

Usage::

    python benchmarks/screening.py                    # all data sets, 5 seeds
    python benchmarks/screening.py --data esol --seeds 2
    python benchmarks/screening.py --summarise-only
    python benchmarks/screening.py --smoke            # CI: 1 seed, 300 molecules, temp dir
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_DATA = REPO.parent / "shared" / "data"
DATASETS = {
    "esol": ("molecular_properties/moleculenet/esol_delaney.csv", "measured log solubility in mols per litre",
             "regression"),
    "freesolv": ("molecular_properties/moleculenet/freesolv_mobley.csv", "expt_dG_hyd_kcal_mol", "regression"),
    "bbbp": ("molecular_properties/moleculenet/bbbp.csv", "p_np", "classification"),
}  # fmt: skip
METHODS = {"regression": ("ensemble", "gp", "forest"), "classification": ("classifier", "forest-classifier")}
SPLITS = ("random", "scaffold")
KEYS = {
    "regression": (
        "rmse",
        "mae",
        "r2",
        "spearman",
        "nll",
        "coverage",
        "interval_width",
        "miscalibration_area",
    ),
    "classification": ("roc_auc", "pr_auc", "ece", "brier"),
}


class ForestClassifier:
    """A random forest classifier returning a ``Prediction`` (probability, spread across trees)."""

    task = "classification"

    def __init__(self, n_estimators: int = 300) -> None:
        self.n_estimators = n_estimators

    def fit(self, X, Y, seed=None):
        from sklearn.ensemble import RandomForestClassifier

        from scientia.seeding import child_seeds

        y = np.asarray(Y, float).reshape(len(X), -1)[:, 0]
        self.model_ = RandomForestClassifier(
            self.n_estimators, n_jobs=1, random_state=child_seeds(seed, 1)[0] % 2**31
        )
        self.model_.fit(X, y.astype(int))
        return self

    def predict(self, X):
        from scientia.types import Prediction

        per_tree = np.stack([t.predict_proba(X)[:, 1] for t in self.model_.estimators_])
        return Prediction(per_tree.mean(0), per_tree.std(0))


def _register() -> None:
    """Make the baselines known to ``train_and_evaluate`` (as a plugin would)."""
    from scientia.screen.models import screen_models

    if "forest" not in screen_models:
        screen_models.register("forest", "scientia.models.forest:ForestSurrogate")
        screen_models.register("forest-classifier", ForestClassifier)


@functools.cache
def environment() -> dict:
    """Versions of the producing environment (read once per process)."""
    env = {"python": platform.python_version()}
    for p in ("scientia", "numpy", "scikit-learn", "torch", "botorch", "gpytorch", "rdkit"):
        try:
            env[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            env[p] = None
    return env


def load(name: str, data_dir: Path, n_max: int | None):
    """SMILES and targets of a data set (the first ``n_max`` rows of a seeded shuffle, if given)."""
    import pandas as pd

    rel, target, task = DATASETS[name]
    path = data_dir / rel
    if not path.is_file():
        raise SystemExit(
            f"error: {path} not found; give --data-dir (the folder holding molecular_properties/)"
        )
    df = pd.read_csv(path)
    if n_max is not None and len(df) > n_max:
        df = df.sample(n=n_max, random_state=0).reset_index(drop=True)
    return [str(s) for s in df["smiles"]], df[target].to_numpy(float), task


def run_path(out: Path, data: str, split: str, method: str, seed: int) -> Path:
    """Where one run's JSON lives."""
    return out / "screening" / "runs" / data / split / method / f"seed_{seed}.json"


def _settings(method: str, n_max, epochs: int, n_boot: int) -> dict:
    return {"method": method, "n_max": n_max, "epochs": epochs, "n_boot": n_boot, "sizes": [0.8, 0.1, 0.1]}


def run_one(smiles, y, task, method, split, seed, epochs, n_boot, cache) -> dict:
    """Train and evaluate one method on one (data set, split, seed)."""
    from scientia.screen.features import Featurizer
    from scientia.screen.train import train_and_evaluate

    kind = "morgan-count" if method == "gp" else "morgan-count+rdkit2d"
    featurizer = Featurizer(kind)
    if kind not in cache:
        cache[kind] = featurizer.transform(smiles)
    options = {"ensemble": {"epochs": epochs}, "classifier": {"epochs": epochs}}.get(method, {})
    t0 = time.perf_counter()
    result = train_and_evaluate(
        smiles, y, method, featurizer=featurizer, options=options, split=split, seed=seed,
        n_boot=n_boot, features=cache[kind],
    )  # fmt: skip
    return {**result.summary(), "seconds": time.perf_counter() - t0}


def run_all(args, out: Path) -> int:
    """Run every missing (data set, seed, split, method); return the failure count."""
    import torch

    torch.set_num_threads(1)
    _register()
    failures = 0
    for data in args.data:
        smiles, y, task = load(data, args.data_dir, args.n_max)
        cache: dict = {}
        methods = [m for m in METHODS[task] if m in args.methods]
        for seed in range(args.seeds):
            for split in args.splits:
                for method in methods:
                    path = run_path(out, data, split, method, seed)
                    settings = _settings(method, args.n_max, args.epochs, args.n_boot)
                    if (
                        path.exists()
                        and not args.force
                        and json.loads(path.read_text()).get("settings") == settings
                    ):
                        continue
                    try:
                        res = run_one(smiles, y, task, method, split, seed, args.epochs, args.n_boot, cache)
                    except Exception as exc:  # noqa: BLE001 - one failed run must not stop the rest
                        print(
                            f"[{data}/{split}/{method}] seed {seed}: FAILED {type(exc).__name__}: {exc}",
                            flush=True,
                        )
                        failures += 1
                        continue
                    record = {"data": data, "split": split, "seed": seed, "settings": settings, **res,
                              "environment": environment(), "argv": sys.argv[1:],
                              "finished": datetime.now(UTC).isoformat()}  # fmt: skip
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.with_suffix(".tmp").write_text(json.dumps(record, indent=1))
                    path.with_suffix(".tmp").replace(path)  # atomic
                    key = KEYS[task][0]
                    print(f"[{data}/{split}/{method}] seed {seed}: {key} {res['metrics'][key]:.3f} "
                          f"(baseline {res['baseline'][key]:.3f}) in {res['seconds']:.1f} s", flush=True)  # fmt: skip
    return failures


def summarise(out: Path, args) -> dict:
    """Mean and std over seeds per (data set, split, method); write screening.{json,md}."""
    summary: dict = {}
    for data in args.data:
        task = DATASETS[data][2]
        for split in args.splits:
            for method in METHODS[task]:
                runs = [json.loads(p.read_text()) for s in range(args.seeds)
                        if (p := run_path(out, data, split, method, s)).exists()]  # fmt: skip
                if not runs:
                    continue
                row = {"n_seeds": len(runs), "task": task}
                for k in KEYS[task]:
                    vals = [r["metrics"][k] for r in runs if np.isfinite(r["metrics"].get(k, np.nan))]
                    base = [r["baseline"][k] for r in runs if np.isfinite(r["baseline"].get(k, np.nan))]
                    row[k] = [float(np.mean(vals)), float(np.std(vals))] if vals else None
                    row[f"baseline_{k}"] = float(np.mean(base)) if base else None
                row["seconds"] = float(np.mean([r["seconds"] for r in runs]))
                summary.setdefault(data, {}).setdefault(split, {})[method] = row
    result = {
        "protocol": {
            "seeds": args.seeds,
            "splits": list(args.splits),
            "n_max": args.n_max,
            "epochs": args.epochs,
        },
        "summary": summary,
        "not_compared": "Chemprop (not installed in this environment)",
        "generated": datetime.now(UTC).isoformat(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "screening.json").write_text(json.dumps(result, indent=1))
    _markdown(out / "screening.md", result)
    return result


def _markdown(path: Path, result: dict) -> None:
    def cell(v):
        return "—" if v is None else f"{v[0]:.3f} ± {v[1]:.3f}"

    p = result["protocol"]
    lines = [f"# Screening benchmark (seeds 0..{p['seeds'] - 1}, 80/10/10 splits)\n",
             "Mean ± std over seeds of test metrics; regression intervals are split-conformal (90%). "
             "Chemprop is not yet compared (not installed here).\n"]  # fmt: skip
    for task, keys in KEYS.items():
        rows = [(d, s, m, r) for d, by in result["summary"].items() for s, bm in by.items()
                for m, r in bm.items() if r["task"] == task]  # fmt: skip
        if not rows:
            continue
        lines += [f"\n## {task}\n", "| data | split | method | n | " + " | ".join(keys) + " | s / run |",
                  "|---" * (len(keys) + 5) + "|"]  # fmt: skip
        for d, s, m, r in rows:
            lines.append(f"| {d} | {s} | {m} | {r['n_seeds']} | " + " | ".join(cell(r[k]) for k in keys)
                         + f" | {r['seconds']:.1f} |")  # fmt: skip
        base = {(d, s): r for d, s, _, r in rows}
        for (d, s), r in base.items():
            lines.append(f"| {d} | {s} | baseline | {r['n_seeds']} | "
                         + " | ".join("—" if r[f"baseline_{k}"] is None else f"{r[f'baseline_{k}']:.3f}" for k in keys)
                         + " | |")  # fmt: skip
    lines.append(f"\n## Reproduce\n\n```\npython benchmarks/screening.py {' '.join(sys.argv[1:])}\n```\n")
    path.write_text("\n".join(lines))


def main(argv=None) -> int:
    """Run the command line; return 1 if any run failed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=",".join(DATASETS), help="comma list of data sets")
    ap.add_argument("--splits", default=",".join(SPLITS), help="comma list of splits")
    ap.add_argument(
        "--methods", default=",".join(m for ms in METHODS.values() for m in ms), help="comma list"
    )
    ap.add_argument("--seeds", type=int, default=5, help="run seeds 0..N-1 (default 5)")
    ap.add_argument("--epochs", type=int, default=40, help="ensemble training epochs")
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples per run")
    ap.add_argument("--n-max", type=int, default=None, help="use at most N molecules per data set")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun runs that exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise existing runs")
    ap.add_argument(
        "--smoke", action="store_true", help="CI: 1 seed, 300 molecules, ESOL and BBBP, temp --out"
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for name in ("data", "splits", "methods"):
        setattr(args, name, [x for x in getattr(args, name).split(",") if x])
    if args.smoke:
        args.seeds, args.n_max, args.epochs, args.n_boot = 1, 300, 5, 100
        args.data = [d for d in args.data if d in ("esol", "bbbp")]
    out = args.out or (Path(tempfile.mkdtemp(prefix="screening-")) if args.smoke else DEFAULT_OUT)
    failures = 0 if args.summarise_only else run_all(args, out)
    result = summarise(out, args)
    print(json.dumps(result["summary"], indent=1)[:2000] if args.smoke else f"wrote {out / 'screening.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
