"""Virtual-screening models on MoleculeNet sets and docking scores: accuracy and calibration of
uncertainty, against Chemprop v2 trained in the same run on the same splits.

Data (read from ``--data-dir``, default ``../shared/data`` beside the repository; see its
READMEs for sources and licenses). Regression: ESOL (1,128 molecules, log solubility), FreeSolv
(642, hydration free energy, kcal/mol) and docking scores (AutoDock Vina against thymidylate
kinase, kcal/mol, Enamine Discovery Diversity set of Graff et al., Chem. Sci. 2021: 49,706
molecules, of which a fixed subsample of ``--docking-n`` = 10,000 by default, drawn with
``DataFrame.sample(n, random_state=0)``, the same for every method — see "Docking subsample").
Classification: BBBP (2,039, blood–brain-barrier penetration, 0/1) and Tox21 (7,831, 12 assays,
blanks = not tested; 8 SMILES RDKit cannot read are skipped).

Protocol
--------
* Seeds ``0..S-1`` (default ``S = 5``); splits ``random`` and ``scaffold`` (Bemis–Murcko,
  Chemprop's balanced assignment), 80 / 10 / 10. For one (data set, split, seed) every method
  gets the same parts: :func:`scientia.screen.train.train_and_evaluate` derives the split from
  the seed alone, :func:`shared_parts` repeats that derivation for Chemprop, and every run
  records a digest of its three parts (``split_sha``) so that the summary pairs only runs that
  saw identical molecules.
* Methods — regression: ``ensemble`` (5 MLPs, Morgan counts + RDKit descriptors), ``gnn`` (5
  D-MPNNs on molecular graphs, the library's defaults), ``gp`` (Tanimoto GP on Morgan counts),
  ``forest`` (extremely randomised trees on the ensemble's features, std across trees:
  scientia's ``ForestSurrogate``), ``ensemble-cv+`` (the ensemble calibrated by CV+ instead:
  5 fold models on the training and validation parts); classification: ``classifier`` (ensemble), ``gnn-classifier``
  and ``forest-classifier`` (a random forest per task, std across trees). Regression
  models are calibrated by split conformal on the validation part; classifiers are not
  recalibrated. Every run also records the trivial baseline (training mean / base rate) on the
  same test molecules.
* ``chemprop`` — Chemprop v2 (``chemprop==2.3.1``, the ``bench`` extra) through its own command
  line (``benchmarks/_chemprop.py``): ``chemprop train`` with the benchmark's parts given by
  ``--splits-file`` and Chemprop's defaults otherwise (D-MPNN, depth 3, hidden 300, 50 epochs,
  Noam-like learning-rate schedule, target scaling; the checkpoint with the lowest validation
  loss scores the test part), ``--data-seed`` and ``--pytorch-seed`` = the benchmark seed, one
  CPU thread. Chemprop's default model gives no uncertainty, so its regression calibration
  metrics (NLL, coverage, interval width, miscalibration area) are not measured; classification
  probabilities are scored like ours (ECE, Brier).
* Metrics on the test part: RMSE, MAE, R², Spearman ρ, NLL, 90%-interval coverage and width,
  miscalibration area; ROC-AUC (pooled over tasks), ``roc_auc_tasks`` (the mean of per-task
  ROC-AUCs, the usual Tox21 figure; equal to ROC-AUC for one task), PR-AUC, ECE, Brier. Per run,
  95% bootstrap intervals over test molecules; the summary gives mean and std over seeds.
* Each run is written when it finishes to ``<out>/screening/runs/<data>/<split>/<method>/seed_<k>.json``
  with the producing environment (``_common.versions``) and the command line (paths masked);
  reruns skip runs whose settings match, unless ``--force``.
* Paired comparisons with Chemprop (``vs_chemprop``): for every other method, data set and split,
  on the seeds both ran with identical parts: mean of each, mean difference, the number of seeds
  on which the method was at least as good, and a two-sided Wilcoxon signed-rank p-value.
* ``auto`` (``--model auto``): per (data set, split, seed), the run of the candidate — ``ensemble``,
  ``gnn``, ``gp`` (classifiers: ``classifier``, ``gnn-classifier``) — with the best validation
  RMSE (ROC-AUC) before calibration, read from the candidates' own runs (the same models
  ``--model auto`` trains: one split, one fitting seed per candidate); its time is their sum.
* Targets (the screening issue), judged on ``auto`` and reported for ``ensemble`` (the
  default model) beside: test RMSE no worse than
  Chemprop's in the same run (mean over paired seeds) on at least 2 of the 3 regression sets,
  random split; scaffold-split numbers are reported beside. It is "passed" when 2 sets pass,
  "failed" when 2 cannot, else "not measured"; "complete" when all 3 sets have every seed. For
  reference, published Chemprop v1 RMSEs quoted by the issue (random split): ESOL 0.683,
  FreeSolv 1.32. Calibration: mean 90%-interval coverage over seeds within
  0.88–0.92 and mean miscalibration area <= 0.05 on each regression set, random and scaffold
  splits.
* Summary: ``<out>/screening.json`` (``summary``, ``vs_chemprop``, ``targets``),
  ``<out>/screening.md`` and ``<out>/screening.png``.

Docking subsample
-----------------
On one core of the (shared) benchmark machine one Chemprop epoch over the full set's 39,765
training molecules took 226 s (measured, validation included), so its 50 default epochs take
about 3 hours per run and some 30 hours for 5 seeds x 2 splits; the exact GP also stops at 10,000
training molecules. So every method uses the same fixed 10,000-molecule subsample unless
``--docking-n 0`` (all) or another size is given.

Usage::

    python benchmarks/screening.py                    # all data sets and methods, 5 seeds
    python benchmarks/screening.py --data esol,freesolv --splits random --methods chemprop
    python benchmarks/screening.py --summarise-only
    python benchmarks/screening.py --smoke            # CI: 1 seed, 300 molecules, temp dir

The exit status is 1 when any run failed (the others still run).
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from _common import public_argv, versions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_DATA = REPO.parent / "shared" / "data"
TOX21 = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
         "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53")  # fmt: skip
MOLNET = "molecular_properties/moleculenet"
DATASETS = {
    "esol": {"path": f"{MOLNET}/esol_delaney.csv", "targets": ("measured log solubility in mols per litre",),
             "task": "regression"},
    "freesolv": {"path": f"{MOLNET}/freesolv_mobley.csv", "targets": ("expt_dG_hyd_kcal_mol",),
                 "task": "regression"},
    "docking": {"path": "screening_docking/Enamine50k_scores.csv.gz", "targets": ("score",),
                "task": "regression", "subsample": "docking_n"},
    "bbbp": {"path": f"{MOLNET}/bbbp.csv", "targets": ("p_np",), "task": "classification"},
    "tox21": {"path": f"{MOLNET}/tox21.csv", "targets": TOX21, "task": "classification"},
}  # fmt: skip
METHODS = {
    "regression": ("ensemble", "ensemble-cv+", "gnn", "gp", "forest", "chemprop"),
    "classification": ("classifier", "gnn-classifier", "forest-classifier", "chemprop"),
}
PEER = "chemprop"
OURS = "auto"  # `scientia screen train --model auto`: the model the targets are judged on
DEFAULT = "ensemble"  # the default model, whose verdicts are reported beside
TARGET_SETS = ("esol", "freesolv", "docking")
TARGET_SPLIT = "random"
COVERAGE_RANGE = (0.88, 0.92)  # of the 90% interval, after calibration
MAX_MISCALIBRATION = 0.05
PUBLISHED_RMSE = {"esol": 0.683, "freesolv": 1.32}  # Chemprop v1, random split, as quoted by the issue
SPLITS = ("random", "scaffold")
SIZES = (0.8, 0.1, 0.1)
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
    "classification": ("roc_auc", "roc_auc_tasks", "pr_auc", "ece", "brier"),
}
HEADLINE = {"regression": "rmse", "classification": "roc_auc_tasks"}
LOWER_IS_BETTER = {"rmse", "mae", "nll", "miscalibration_area", "interval_width", "ece", "brier"}


class ForestClassifier:
    """Random forest classifiers (one per task, on its labelled rows) returning a ``Prediction``
    (probability of class 1, spread across trees)."""

    task = "classification"

    def __init__(self, n_estimators: int = 300) -> None:
        self.n_estimators = n_estimators

    def fit(self, X, Y, seed=None):
        from sklearn.ensemble import RandomForestClassifier

        from scientia.seeding import child_seeds

        Y = np.asarray(Y, float).reshape(len(X), -1)
        self.models_ = []
        for j, s in enumerate(child_seeds(seed, Y.shape[1])):
            known = np.isfinite(Y[:, j])
            model = RandomForestClassifier(self.n_estimators, n_jobs=1, random_state=s % 2**31)
            self.models_.append(model.fit(X[known], Y[known, j].astype(int)))
        return self

    def predict(self, X):
        from scientia.types import Prediction

        means, stds = [], []
        for model in self.models_:
            col = list(model.classes_).index(1) if 1 in model.classes_ else None
            per_tree = np.stack([t.predict_proba(X)[:, col] if col is not None else np.zeros(len(X))
                                 for t in model.estimators_])  # fmt: skip
            means.append(per_tree.mean(0))
            stds.append(per_tree.std(0))
        return Prediction(np.stack(means, 1), np.stack(stds, 1))


def _register() -> None:
    """Make the baselines known to ``train_and_evaluate`` (as a plugin would)."""
    from scientia.screen.models import screen_models

    if "forest" not in screen_models:
        screen_models.register("forest", "scientia.models.forest:ForestSurrogate")
        screen_models.register("forest-classifier", ForestClassifier)


@functools.cache
def environment(method: str) -> dict:
    """Versions of the producing environment (read once per process and method)."""
    pkgs = ["scientia", "numpy", "scikit-learn", "torch", "botorch", "gpytorch", "rdkit"]
    if method == PEER:
        pkgs += ["chemprop", "lightning"]
    return versions(pkgs)


def _argv(argv: list[str]) -> list[str]:
    """``public_argv`` without masking ``--data``, which names data sets here, not a folder."""
    return public_argv(argv, keep=["--data"])


# -- data ----------------------------------------------------------------------------------------
def n_max_for(name: str, args) -> int | None:
    """The subsample size of a data set: ``--n-max`` if given, else its own default (docking)."""
    if args.n_max is not None:
        return args.n_max
    attr = DATASETS[name].get("subsample")
    n = getattr(args, attr) if attr else None
    return n or None


def load(name: str, data_dir: Path, n_max: int | None):
    """SMILES, targets (n, m) and task of a data set (a seeded subsample of ``n_max`` rows, if given)."""
    import pandas as pd

    spec = DATASETS[name]
    path = data_dir / spec["path"]
    if not path.is_file():
        raise SystemExit(
            f"error: {path} not found; give --data-dir (the folder holding {spec['path'].split('/')[0]}/)"
        )
    df = pd.read_csv(path)
    if n_max is not None and len(df) > n_max:
        df = df.sample(n=n_max, random_state=0).reset_index(drop=True)
    return [str(s) for s in df["smiles"]], df[list(spec["targets"])].to_numpy(float), spec["task"]


def shared_parts(smiles, y, valid_rows, split: str, seed: int, sizes=SIZES):
    """The molecules, targets and parts :func:`~scientia.screen.train.train_and_evaluate` uses.

    Parameters
    ----------
    smiles : list of str, length n
    y : ndarray, shape (n, m)
    valid_rows : ndarray of int
        Rows whose SMILES the featurizer reads (``Features.rows``).
    split : str
    seed : int

    Returns
    -------
    used : list of str
        Readable SMILES with at least one known target, in input order.
    Y : ndarray, shape (len(used), m)
    parts : scientia.screen.splits.Split
    """
    from scientia.screen.splits import split_molecules
    from scientia.seeding import child_seeds

    Y = np.asarray(y, float).reshape(len(smiles), -1)
    rows = np.asarray(valid_rows)
    keep = rows[np.isfinite(Y[rows]).any(axis=1)]
    used = [str(smiles[i]) for i in keep]
    parts = split_molecules(used, split, sizes, seed=child_seeds(seed, 3)[0])
    return used, Y[keep], parts


def split_sha(used, parts) -> str:
    """A digest of the molecules in each part (equal digests: identical train / val / test)."""
    h = hashlib.sha256()
    for name in ("train", "val", "test"):
        h.update(name.encode())
        h.update("\n".join(used[i] for i in getattr(parts, name)).encode())
    return h.hexdigest()[:16]


# -- metrics -------------------------------------------------------------------------------------
def roc_auc_tasks(y, p) -> float:
    """Mean over tasks of the per-task ROC-AUC (tasks with one class in ``y`` are skipped)."""
    from sklearn.metrics import roc_auc_score

    y, p = np.asarray(y, float).reshape(len(y), -1), np.asarray(p, float).reshape(len(y), -1)
    aucs = []
    for j in range(y.shape[1]):
        ok = np.isfinite(y[:, j])
        if len(np.unique(y[ok, j])) == 2:
            aucs.append(roc_auc_score(y[ok, j], p[ok, j]))
    return float(np.mean(aucs)) if aucs else float("nan")


def point_metrics(task: str, y, mean) -> dict:
    """Metrics that need no uncertainty: RMSE, MAE, R², Spearman ρ; or the classification set."""
    from scientia.screen.metrics import classification_metrics

    y, mean = np.asarray(y, float).reshape(len(y), -1), np.asarray(mean, float).reshape(len(y), -1)
    if task == "classification":
        return {**classification_metrics(y, mean), "roc_auc_tasks": roc_auc_tasks(y, mean)}
    from scipy.stats import spearmanr

    ok = np.isfinite(y)
    t, m = y[ok], mean[ok]
    err = m - t
    ss = float(np.sum((t - t.mean()) ** 2))
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
            "r2": float(1 - np.sum(err**2) / ss) if ss > 0 else float("nan"),
            "spearman": float(spearmanr(t, m)[0]) if np.ptp(m) > 0 else float("nan"), "n": float(len(t))}  # fmt: skip


# -- runs ----------------------------------------------------------------------------------------
def run_path(out: Path, data: str, split: str, method: str, seed: int) -> Path:
    """Where one run's JSON lives."""
    return out / "screening" / "runs" / data / split / method / f"seed_{seed}.json"


def _settings(method: str, n_max, epochs, n_boot: int) -> dict:
    return {"method": method, "n_max": n_max, "epochs": epochs, "n_boot": n_boot, "sizes": list(SIZES)}


def _features(smiles, kind: str, cache: dict):
    from scientia.screen.features import Featurizer
    from scientia.screen.graphs import GraphFeaturizer

    featurizer = GraphFeaturizer() if kind == "graph" else Featurizer(kind)
    if kind not in cache:
        cache[kind] = featurizer.transform(smiles)
    return featurizer, cache[kind]


def run_one(smiles, y, task, method, split, seed, epochs, n_boot, cache) -> dict:
    """Train and evaluate one of scientia's methods on one (data set, split, seed)."""
    from scientia.screen.train import train_and_evaluate

    model = method.removesuffix("-cv+")
    kind = {"gp": "morgan-count", "gnn": "graph", "gnn-classifier": "graph"}.get(
        model, "morgan-count+rdkit2d"
    )
    featurizer, feats = _features(smiles, kind, cache)
    options = {"ensemble": {"epochs": epochs}, "classifier": {"epochs": epochs}}.get(model, {})
    if model.startswith("gnn") and epochs is not None:  # None: the library's default
        options = {"epochs": epochs}
    t0 = time.perf_counter()
    result = train_and_evaluate(
        smiles, y, model, featurizer=featurizer, options=options, split=split, seed=seed,
        n_boot=n_boot, features=feats, calibration="cv+" if method.endswith("-cv+") else "conformal",
    )  # fmt: skip
    res = {**result.summary(), "seconds": time.perf_counter() - t0}
    res["split_sha"] = split_sha(result.smiles, result.split)
    if task == "classification":
        yt = result.y[result.split.test]
        res["metrics"]["roc_auc_tasks"] = roc_auc_tasks(yt, result.test_prediction.mean)
        res["baseline"]["roc_auc_tasks"] = 0.5  # a constant (base-rate) score ranks nothing
    return res


def run_chemprop(smiles, y, task, split, seed, epochs, n_boot, cache) -> dict:
    """Train Chemprop on the parts scientia's methods get and score its test predictions."""
    import _chemprop
    from scientia.screen.metrics import bootstrap_intervals, classification_metrics, regression_metrics
    from scientia.seeding import child_seeds
    from scientia.types import Prediction

    kind = next(iter(cache), "morgan-count")  # any kind: rows are the SMILES RDKit reads
    _, feats = _features(smiles, kind, cache)
    used, Y, parts = shared_parts(smiles, y, feats.rows, split, seed)
    with tempfile.TemporaryDirectory(prefix="chemprop-") as tmp:
        out = _chemprop.train(used, Y, task, (parts.train, parts.val, parts.test), Path(tmp), seed, epochs)
    yt, pred = Y[parts.test], out["test_pred"]
    metrics = point_metrics(task, yt, pred)
    intervals = bootstrap_intervals(lambda r: point_metrics(task, yt[r], pred[r]), len(yt), n_boot=n_boot,
                                    seed=child_seeds(seed, 3)[2]) if n_boot else {}  # fmt: skip
    train_y = Y[parts.train]
    base = Prediction(np.broadcast_to(np.nanmean(train_y, 0), yt.shape),
                      np.broadcast_to(np.nanstd(train_y, 0) + 1e-12, yt.shape))  # fmt: skip
    if task == "classification":
        baseline = {**classification_metrics(yt, base), "roc_auc_tasks": 0.5}
    else:
        baseline = regression_metrics(yt, base)
    return {
        "task": task, "split": {"kind": split, **parts.sizes()}, "metrics": metrics,
        "intervals95": intervals, "baseline": baseline, "n_rejected": len(feats.rejects),
        "n_missing_target": int(len(feats.rows) - len(used)), "uncertainty": _chemprop.UNCERTAINTY,
        "chemprop": {"version": _chemprop.version(), "best_epoch": out["best_epoch"],
                     "epochs_run": out["epochs_run"], "threads": 1, "config": out["config"]},
        "seconds": out["seconds"], "split_sha": split_sha(used, parts),
    }  # fmt: skip


def run_all(args, out: Path) -> int:
    """Run every missing (data set, seed, split, method); return the failure count."""
    import torch

    torch.set_num_threads(1)
    _register()
    failures = 0
    for data in args.data:
        n_max = n_max_for(data, args)
        smiles, y, task = load(data, args.data_dir, n_max)
        cache: dict = {}
        methods = [m for m in METHODS[task] if m in args.methods]
        if PEER in methods:
            try:
                import _chemprop

                _chemprop.executable()
            except Exception as exc:  # noqa: BLE001 - a missing baseline is reported, the rest runs
                print(f"[{data}] {PEER} stage skipped: {exc}", flush=True)
                methods.remove(PEER)
                failures += 1
        for seed in range(args.seeds):
            for split in args.splits:
                for method in methods:
                    path = run_path(out, data, split, method, seed)
                    epochs = {PEER: args.chemprop_epochs, "gnn": args.gnn_epochs,
                              "gnn-classifier": args.gnn_epochs}.get(method, args.epochs)  # fmt: skip
                    settings = _settings(method, n_max, epochs, args.n_boot)
                    if (
                        path.exists()
                        and not args.force
                        and json.loads(path.read_text()).get("settings") == settings
                    ):
                        continue
                    try:
                        if method == PEER:
                            res = run_chemprop(smiles, y, task, split, seed, epochs, args.n_boot, cache)
                        else:
                            res = run_one(smiles, y, task, method, split, seed, epochs, args.n_boot, cache)
                    except Exception as exc:  # noqa: BLE001 - one failed run must not stop the rest
                        print(
                            f"[{data}/{split}/{method}] seed {seed}: FAILED {type(exc).__name__}: {exc}",
                            flush=True,
                        )
                        failures += 1
                        continue
                    record = {"data": data, "split": split, "seed": seed, "method": method, "settings": settings,
                              **res, "environment": environment(method), "argv": _argv(sys.argv[1:]),
                              "finished": datetime.now(UTC).isoformat()}  # fmt: skip
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.with_suffix(".tmp").write_text(json.dumps(record, indent=1))
                    path.with_suffix(".tmp").replace(path)  # atomic
                    key = HEADLINE[task]
                    print(f"[{data}/{split}/{method}] seed {seed}: {key} {res['metrics'][key]:.3f} "
                          f"(baseline {res['baseline'][key]:.3f}) in {res['seconds']:.1f} s", flush=True)  # fmt: skip
    return failures


# -- summary -------------------------------------------------------------------------------------
def paired(ours: dict, peer: dict, key: str) -> dict:
    """Compare two methods' runs on the seeds both have with identical parts.

    Parameters
    ----------
    ours, peer : dict
        Seed -> run record (``metrics`` and ``split_sha``).
    key : str
        The metric; lower is better for those in :data:`LOWER_IS_BETTER`.

    Returns
    -------
    dict
        ``n``, ``seeds``, ``mean_ours``, ``mean_peer``, ``mean_diff`` (ours − peer),
        ``n_at_least_as_good`` (seeds where ours is no worse), ``wilcoxon_p`` (two-sided; 1 when
        every difference is 0; None with no pair) and ``mismatched`` (seeds whose parts differ).
    """
    from scipy.stats import wilcoxon

    common = sorted(set(ours) & set(peer))
    mismatched = [s for s in common if ours[s].get("split_sha") != peer[s].get("split_sha")]
    seeds = [s for s in common if s not in mismatched
             and np.isfinite(ours[s]["metrics"].get(key, np.nan)) and np.isfinite(peer[s]["metrics"].get(key, np.nan))]  # fmt: skip
    out = {"n": len(seeds), "seeds": seeds, "mismatched": mismatched}
    if not seeds:
        return out | {"mean_ours": None, "mean_peer": None, "mean_diff": None, "n_at_least_as_good": None,
                      "wilcoxon_p": None}  # fmt: skip
    a = np.array([ours[s]["metrics"][key] for s in seeds], float)
    b = np.array([peer[s]["metrics"][key] for s in seeds], float)
    sign = 1.0 if key in LOWER_IS_BETTER else -1.0
    p = 1.0 if np.all(a == b) else float(wilcoxon(a, b).pvalue)
    return out | {"mean_ours": float(a.mean()), "mean_peer": float(b.mean()), "mean_diff": float((a - b).mean()),
                  "n_at_least_as_good": int(np.sum(sign * (a - b) <= 0)), "wilcoxon_p": p}  # fmt: skip


def evaluate_target(runs: dict, seeds: int, ours: str = OURS) -> dict:
    """The issue's target from run records ``runs[(data, split, method)] = {seed: record}``.

    Per regression set (random split): "passed" when the mean RMSE of ``ours`` over paired
    seeds is <= Chemprop's, "failed" when above, "not measured" without a pair. Overall: passed
    when 2 of the 3 sets pass, failed when 2 can no longer pass, else not measured.
    """
    per = {}
    for data in TARGET_SETS:
        mine, peer = runs.get((data, TARGET_SPLIT, ours), {}), runs.get((data, TARGET_SPLIT, PEER), {})
        cmp = paired(mine, peer, "rmse")
        if not cmp["n"]:
            missing = [m for m, r in ((ours, mine), (PEER, peer)) if not r]
            per[data] = {"status": "not measured", "missing": missing, "mismatched": cmp["mismatched"]}
            continue
        ok = cmp["mean_ours"] <= cmp["mean_peer"]
        per[data] = {"status": "passed" if ok else "failed", "complete": cmp["n"] == seeds, **cmp}
        if data in PUBLISHED_RMSE:
            per[data]["published_chemprop_v1"] = PUBLISHED_RMSE[data]
    n_pass = sum(v["status"] == "passed" for v in per.values())
    n_fail = sum(v["status"] == "failed" for v in per.values())
    status = "passed" if n_pass >= 2 else "failed" if len(per) - n_fail < 2 else "not measured"
    complete = all(v["status"] != "not measured" and v["complete"] for v in per.values())
    desc = (f"test RMSE of {ours} <= Chemprop v2's in the same run (mean over paired seeds) on at least 2 of "
            f"{len(TARGET_SETS)} regression sets ({', '.join(TARGET_SETS)}), {TARGET_SPLIT} split")  # fmt: skip
    return {"description": desc, "status": status, "complete": complete, "sets_passed": n_pass, "model": ours,
            "sets": per}  # fmt: skip


def evaluate_calibration(runs: dict, seeds: int, ours: str = OURS) -> dict:
    """The calibration target: for ``ours`` on every regression set and on the random and
    scaffold splits, mean 90%-interval coverage over seeds within [0.88, 0.92] and mean
    miscalibration area <= 0.05. "not measured" while a (set, split) has no run."""
    lo, hi = COVERAGE_RANGE
    per = {}
    for data in TARGET_SETS:
        for split in SPLITS:
            by = runs.get((data, split, ours), {})
            if not by:
                per[f"{data}/{split}"] = {"status": "not measured"}
                continue
            cov = float(np.mean([r["metrics"]["coverage"] for r in by.values()]))
            area = float(np.mean([r["metrics"]["miscalibration_area"] for r in by.values()]))
            ok = lo <= cov <= hi and area <= MAX_MISCALIBRATION
            per[f"{data}/{split}"] = {"status": "passed" if ok else "failed", "coverage": cov,
                                      "miscalibration_area": area, "n": len(by), "complete": len(by) == seeds}  # fmt: skip
    states = [v["status"] for v in per.values()]
    status = "failed" if "failed" in states else "not measured" if "not measured" in states else "passed"
    desc = (
        f"{ours}: mean 90%-interval coverage in [{lo}, {hi}] and mean miscalibration area <= "
        f"{MAX_MISCALIBRATION} on every regression set, random and scaffold splits"
    )
    complete = all(v.get("complete", False) for v in per.values())
    return {"description": desc, "status": status, "complete": complete, "sets": per}


def add_auto(runs: dict) -> dict:
    """Add ``auto``: per (data set, split, seed), the run of the :data:`AUTO` candidate with the
    best validation metric (RMSE, or ROC-AUC for classifiers) before calibration. It is what
    ``--model auto`` trains (the same split and seeds per candidate; see
    ``scientia.screen.train``), read from the candidates' own runs instead of training them twice.
    A seed counts only when every candidate has a run with validation metrics."""
    from scientia.screen.train import AUTO

    groups = {(d, s) for d, s, _ in runs}
    for data, split in sorted(groups):
        task = DATASETS[data]["task"]
        cands = AUTO["auto" if task == "regression" else "auto-classifier"]
        key, pick = ("rmse", min) if task == "regression" else ("roc_auc", max)
        by = [runs.get((data, split, c), {}) for c in cands]
        out = {}
        for seed in set.intersection(*(set(b) for b in by)) if all(by) else ():
            scores = {c: b[seed].get("validation", {}).get(key) for c, b in zip(cands, by, strict=True)}
            if any(v is None or not np.isfinite(v) for v in scores.values()):
                continue
            best = pick(scores, key=scores.__getitem__)
            seconds = sum(b[seed]["seconds"] for b in by)  # --model auto trains every candidate
            out[seed] = {**by[cands.index(best)][seed], "method": OURS, "chosen": best, "candidates": scores,
                         "seconds": seconds}  # fmt: skip
        if out:
            runs[(data, split, OURS)] = out
    return runs


def load_runs(out: Path, datasets, splits, seeds: int) -> dict:
    """Every run record on disk: ``{(data, split, method): {seed: record}}``."""
    runs: dict = {}
    for data in datasets:
        for split in splits:
            for method in METHODS[DATASETS[data]["task"]]:
                by = {s: json.loads(p.read_text()) for s in range(seeds)
                      if (p := run_path(out, data, split, method, s)).exists()}  # fmt: skip
                if by:
                    runs[(data, split, method)] = by
    return runs


def summarise(out: Path, args) -> dict:
    """Mean and std over seeds, paired comparisons with Chemprop, the target; write screening.*."""
    # the target spans the three regression sets whatever --data says
    datasets = list(dict.fromkeys([*args.data, *(d for d in TARGET_SETS if not args.smoke)]))
    splits = list(dict.fromkeys([*args.splits, TARGET_SPLIT, *(s for s in SPLITS if not args.smoke)]))
    runs = add_auto(load_runs(out, datasets, splits, args.seeds))
    summary: dict = {}
    vs_peer: dict = {}
    commands = set()
    for (data, split, method), by in runs.items():
        task = DATASETS[data]["task"]
        recs = list(by.values())
        commands.update(" ".join(r.get("argv", [])) for r in recs)
        row = {"n_seeds": len(recs), "task": task, "n_used": int(sum(recs[0]["split"][k] for k in ("train", "val", "test"))),
               "n_max": recs[0]["settings"].get("n_max")}  # fmt: skip
        for k in KEYS[task]:
            vals = [r["metrics"][k] for r in recs if np.isfinite(r["metrics"].get(k, np.nan))]
            base = [r["baseline"][k] for r in recs if np.isfinite(r["baseline"].get(k, np.nan))]
            row[k] = [float(np.mean(vals)), float(np.std(vals))] if vals else None
            row[f"baseline_{k}"] = float(np.mean(base)) if base else None
        row["seconds"] = float(np.mean([r["seconds"] for r in recs]))
        if method == OURS:
            row["chosen"] = {
                c: sum(r["chosen"] == c for r in recs) for c in sorted({r["chosen"] for r in recs})
            }
        if method == PEER:
            row["uncertainty"] = recs[0].get("uncertainty")
            row["best_epoch"] = [r["chemprop"]["best_epoch"] for r in recs]
        summary.setdefault(data, {}).setdefault(split, {})[method] = row
    for (data, split, method), by in runs.items():
        if method == PEER or (data, split, PEER) not in runs:
            continue
        key = HEADLINE[DATASETS[data]["task"]]
        vs_peer.setdefault(data, {}).setdefault(split, {})[method] = {
            "metric": key, **paired(by, runs[(data, split, PEER)], key)}  # fmt: skip
    result = {
        "protocol": {"seeds": args.seeds, "splits": splits, "sizes": list(SIZES), "epochs": args.epochs,
                     "chemprop_epochs": args.chemprop_epochs or "default (50)",
                     "n_max": {d: n_max_for(d, args) for d in datasets}},
        "summary": summary,
        "vs_chemprop": vs_peer,
        "targets": {"rmse_le_chemprop_random_split": evaluate_target(runs, args.seeds),
                    "calibration": evaluate_calibration(runs, args.seeds),
                    f"rmse_le_chemprop_random_split ({DEFAULT})": evaluate_target(runs, args.seeds, DEFAULT),
                    f"calibration ({DEFAULT})": evaluate_calibration(runs, args.seeds, DEFAULT)},
        "published_chemprop_v1_rmse": PUBLISHED_RMSE,
        "generated": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "screening.json").write_text(json.dumps(result, indent=1))
    _markdown(out / "screening.md", result, sorted(commands))
    _plot(out / "screening.png", result)
    return result


def _markdown(path: Path, result: dict, commands: list[str]) -> None:
    def cell(v):
        return "—" if v is None else f"{v[0]:.3f} ± {v[1]:.3f}"

    def num(v, spec=".3f"):
        return "—" if v is None else format(v, spec)

    p = result["protocol"]
    lines = [f"# Screening benchmark (seeds 0..{p['seeds'] - 1}, 80/10/10 splits)\n",
             "Mean ± std over seeds of test metrics; regression intervals are split-conformal (90%). "
             "Chemprop v2 is trained in the same run on the same parts with its defaults; it gives no "
             "uncertainty, so its calibration columns are empty (—). `roc_auc_tasks` is the mean of "
             "per-task ROC-AUCs (Tox21's usual figure), `roc_auc` pools the tasks. `auto` is `--model auto`: "
             "per seed, the candidate (ensemble, gnn, gp; classifiers: classifier, gnn-classifier) with the "
             "best validation RMSE (ROC-AUC) before calibration; its time is all candidates' together.\n"]  # fmt: skip
    for task, keys in KEYS.items():
        rows = [(d, s, m, r) for d, by in result["summary"].items() for s, bm in by.items()
                for m, r in bm.items() if r["task"] == task]  # fmt: skip
        if not rows:
            continue
        lines += [f"\n## {task}\n", "| data | split | method | n | " + " | ".join(keys) + " | s / run |",
                  "|---" * (len(keys) + 5) + "|"]  # fmt: skip
        for d, s, m, r in rows:
            chosen = (
                " (" + ", ".join(f"{c} ×{k}" for c, k in r["chosen"].items()) + ")" if "chosen" in r else ""
            )
            lines.append(f"| {d} | {s} | {m}{chosen} | {r['n_seeds']} | " + " | ".join(cell(r[k]) for k in keys)
                         + f" | {r['seconds']:.1f} |")  # fmt: skip
        base = {(d, s): r for d, s, _, r in rows}
        for (d, s), r in base.items():
            lines.append(f"| {d} | {s} | baseline | {r['n_seeds']} | "
                         + " | ".join(num(r[f"baseline_{k}"]) for k in keys) + " | |")  # fmt: skip
    if result["vs_chemprop"]:
        lines += ["\n## Paired with Chemprop (same seeds, identical parts)\n",
                  "| data | split | method | metric | n | method | Chemprop | diff | seeds no worse | Wilcoxon p |",
                  "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for d, by in result["vs_chemprop"].items():
            for s, bm in by.items():
                for m, c in bm.items():
                    lines.append(f"| {d} | {s} | {m} | {c['metric']} | {c['n']} | {num(c['mean_ours'])} | "
                                 f"{num(c['mean_peer'])} | {num(c['mean_diff'], '+.3f')} | "
                                 f"{num(c['n_at_least_as_good'], 'd')} | {num(c['wilcoxon_p'], '.3g')} |")  # fmt: skip
    lines.append("\n## Targets\n")
    for name, t in result["targets"].items():
        partial = t["status"] != "not measured" and not t["complete"]
        note = " (provisional: not every set and seed measured)" if partial else ""
        lines.append(f"- **{name}**: {t['status']}{note} — {t['description']}")
        for d, v in t["sets"].items():
            if name.startswith("calibration"):
                lines.append(f"  - {d}: {v['status']}" + (f" — coverage {v['coverage']:.3f}, miscalibration area "
                             f"{v['miscalibration_area']:.3f} over {v['n']} seeds" if "coverage" in v else ""))  # fmt: skip
                continue
            pub = (
                f"; published Chemprop v1 {v['published_chemprop_v1']}"
                if "published_chemprop_v1" in v
                else ""
            )
            if v["status"] == "not measured":
                lines.append(f"  - {d}: not measured (missing {', '.join(v['missing']) or 'paired seeds'})")
            else:
                lines.append(f"  - {d}: {v['status']} — {t['model']} {v['mean_ours']:.3f} vs Chemprop "
                             f"{v['mean_peer']:.3f} over {v['n']} paired seeds{pub}")  # fmt: skip
    nm = {d: n for d, n in p["n_max"].items() if n and d in result["summary"]}
    if nm:
        lines.append("\nSubsamples (`DataFrame.sample(n, random_state=0)`, the same for every method): "
                     + ", ".join(f"{d} {n:,} molecules" for d, n in nm.items()) + ".")  # fmt: skip
    script = "python benchmarks/screening.py"
    runs = "\n".join(f"{script} {c}" for c in commands)
    lines.append(f"\n## Reproduce\n\nSummary written by:\n\n```\n{script} {' '.join(_argv(sys.argv[1:]))}\n```\n\n"
                 f"Runs produced by (one line per distinct invocation):\n\n```\n{runs}\n```\n")  # fmt: skip
    path.write_text("\n".join(lines))


def _plot(path: Path, result: dict) -> None:
    """Headline metric per data set: bars per method and split, std over seeds as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(result["summary"])
    if not sets:
        return
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.6), squeeze=False)
    for ax, data in zip(axes[0], sets, strict=True):
        by = result["summary"][data]
        key = HEADLINE[DATASETS[data]["task"]]
        methods = list(dict.fromkeys(m for bm in by.values() for m in bm))
        width = 0.8 / max(len(methods), 1)
        for i, m in enumerate(methods):
            xs, ys, es = [], [], []
            for j, s in enumerate(by):
                v = by[s].get(m, {}).get(key)
                if v is not None:
                    xs.append(j + (i - (len(methods) - 1) / 2) * width)
                    ys.append(v[0])
                    es.append(v[1])
            ax.bar(xs, ys, width, yerr=es, label=m, capsize=2)
        ax.set_xticks(range(len(by)), list(by))
        ax.set(title=data, ylabel=key)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the command line; return 1 if any run failed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=",".join(DATASETS), help="comma list of data sets")
    ap.add_argument("--splits", default=",".join(SPLITS), help="comma list of splits")
    ap.add_argument("--methods", default=",".join(dict.fromkeys(m for ms in METHODS.values() for m in ms)),
                    help="comma list")  # fmt: skip
    ap.add_argument("--seeds", type=int, default=5, help="run seeds 0..N-1 (default 5)")
    ap.add_argument("--epochs", type=int, default=40, help="ensemble training epochs")
    ap.add_argument("--chemprop-epochs", type=int, default=None, help="default Chemprop's own (50); >= 3")
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples per run")
    ap.add_argument("--n-max", type=int, default=None, help="use at most N molecules of every data set")
    ap.add_argument("--docking-n", type=int, default=10_000,
                    help="fixed subsample of the docking set (default 10000; 0 = all 49,706)")  # fmt: skip
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun runs that exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise existing runs")
    ap.add_argument(
        "--gnn-epochs", type=int, default=None, help="GNN epochs, at most (default: the library's 50)"
    )
    ap.add_argument("--smoke", action="store_true",
                    help="CI: 1 seed, 300 molecules, ESOL and BBBP, Chemprop 3 epochs, temp --out")  # fmt: skip
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before torch is imported
    for name in ("data", "splits", "methods"):
        setattr(args, name, [x for x in getattr(args, name).split(",") if x])
    known = {m for ms in METHODS.values() for m in ms}
    unknown = sorted(set(args.data) - set(DATASETS)) + sorted(set(args.methods) - known)
    unknown += sorted(set(args.splits) - set(SPLITS))
    if unknown:
        ap.error(f"unknown data set / method / split: {unknown}")
    if args.chemprop_epochs is not None and args.chemprop_epochs < 3:
        ap.error("--chemprop-epochs must be >= 3 (Chemprop warms up for 2 epochs)")
    if args.smoke:
        args.seeds, args.n_max, args.epochs, args.n_boot, args.chemprop_epochs = 1, 300, 5, 100, 3
        args.gnn_epochs = 2
        args.data = [d for d in args.data if d in ("esol", "bbbp")]
    out = args.out or (Path(tempfile.mkdtemp(prefix="screening-")) if args.smoke else DEFAULT_OUT)
    failures = 0
    if not args.summarise_only:
        for method in args.methods:
            environment(method)  # the commit and versions of the code loaded now, not later
        failures = run_all(args, out)
    result = summarise(out, args)
    for name, t in result["targets"].items():
        print(f"target {name}: {t['status']}{'' if t['complete'] else ' (incomplete)'}")
    print(
        json.dumps(result["summary"], indent=1)[:2000]
        if args.smoke
        else f"wrote {out / 'screening.md'}, .json, .png"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
