"""Unsupervised anomaly detection on the ADBench "classical" tabular datasets.

Protocol
--------
* Data: the 32 ADBench classical ``.npz`` sets in ``<data-dir>/anomaly_detection/adbench_classical``
  (``X``, ``y``; y = 1 marks an anomaly). Han, S. et al. (2022), "ADBench: Anomaly Detection
  Benchmark", NeurIPS Datasets & Benchmarks. Without that folder the script runs on generated
  data (Gaussian clusters with scattered and clustered anomalies) so that anyone can run it.
* Unsupervised, as ADBench's unsupervised setting: every detector is fitted on all of ``X``
  without labels and scores all of ``X``; labels are used only to compute ROC-AUC and average
  precision. scientia's detectors run with their library defaults (which hold 20 % of the
  background out of fitting for calibration); PyOD's with theirs (``decision_scores_``).
* Methods: ``scientia-{ensemble,knn,iforest,ecod,ae}``, ``pyod-iforest`` and ``pyod-ecod``
  (``pyod==3.6.7``, the strongest peers that install here; Zhao, Nasrullah, Li (2019), "PyOD",
  JMLR 20(96)), and ``random`` scores as the floor.
* Seeds ``0..S-1`` (default 3). Each (method, dataset, seed) run is written as soon as it ends to
  ``<out>/anomaly/runs/<method>/<dataset>/seed_<k>.json``; reruns skip existing runs unless
  ``--force``, so an interrupted run resumes where it stopped. Seeds are the outer loop and
  datasets go smallest first, so partial results cover many datasets.
* Summary (``<out>/anomaly.{json,md,png}``): per method the mean over datasets of the seed-mean
  ROC-AUC and average precision, the mean rank (1 = best ROC-AUC on a dataset; ties share), and
  the per-dataset table; the autoencoder's scoring rate with 20 features (events/s, one thread,
  batches of 65,536) on generated data.
* Targets: the best scientia detector's mean ROC-AUC >= 0.80 and above the better of
  pyod-iforest and pyod-ecod. Measured on fewer datasets or seeds than requested, a target is
  marked incomplete.

Usage::

    python benchmarks/anomaly.py                      # full run (resumable), then summary
    python benchmarks/anomaly.py --smoke              # CI: 4 small sets, 1 seed, temp dir, < 1 min
    python benchmarks/anomaly.py --summarise-only     # summary from existing runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
OURS = ("scientia-ensemble", "scientia-knn", "scientia-iforest", "scientia-ecod", "scientia-ae")
PEERS = ("pyod-iforest", "pyod-ecod")
METHODS = (*OURS, *PEERS, "random")
SMOKE_SETS = ("14_glass", "21_Lymphography", "42_WBC", "39_vertebral")
TARGET_AUC = 0.80


# -- data ----------------------------------------------------------------------------------------
def list_datasets(data_dir: Path) -> dict[str, Path | None]:
    """Dataset name -> file (smallest first); generated sets (value None) when the folder is absent."""
    folder = data_dir / "anomaly_detection" / "adbench_classical"
    files = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    if not files:
        return {f"synthetic_{i}": None for i in range(4)}
    return {f.stem: f for f in sorted(files, key=lambda f: (f.stat().st_size, f.name))}


def load(name: str, path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X (n, d)`` and ``y (n,)`` of one dataset."""
    if path is not None:
        with np.load(path) as d:
            return d["X"].astype(np.float64), d["y"].astype(np.int64)
    gen = np.random.default_rng(int(name.rsplit("_", 1)[1]))
    d, n = 6 + 2 * int(name[-1]), 1500
    centres = gen.normal(0, 4, size=(3, d))
    X = centres[gen.integers(3, size=n)] + gen.normal(size=(n, d))
    scattered = gen.uniform(X.min(0), X.max(0), size=(40, d))
    clustered = gen.normal(6, 0.3, size=(20, d))
    return np.r_[X, scattered, clustered], np.r_[np.zeros(n), np.ones(60)].astype(np.int64)


# -- methods -------------------------------------------------------------------------------------
def score(method: str, X: np.ndarray, seed: int, smoke: bool) -> np.ndarray:
    """Fit ``method`` on all of ``X`` (no labels) and return its scores of ``X`` (higher = anomalous)."""
    if method == "random":
        return np.random.default_rng(seed).random(X.shape[0])
    if method.startswith("pyod-"):
        if method == "pyod-iforest":
            from pyod.models.iforest import IForest

            model = IForest(random_state=seed, n_jobs=1)
        else:
            from pyod.models.ecod import ECOD

            model = ECOD(n_jobs=1)
        return np.asarray(model.fit(X).decision_scores_, dtype=np.float64)
    from scientia.curate.select import detectors

    kwargs = {"max_steps": 200} if smoke and method == "scientia-ae" else {}
    det = detectors.create(method.removeprefix("scientia-"), rate=0.01, **kwargs)
    import warnings

    with warnings.catch_warnings():  # tiny sets cannot resolve the rate; AUC does not need it
        warnings.simplefilter("ignore")
        det.fit(X, seed=seed)
        return det.score(X)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("scientia", "numpy", "scikit-learn", "torch", "pyod"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_one(method: str, name: str, path: Path | None, seed: int, smoke: bool) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    X, y = load(name, path)
    start = time.perf_counter()
    s = score(method, X, seed, smoke)
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "dataset": name,
        "seed": seed,
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "anomalies": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
        "seconds": seconds,
        "versions": versions(),
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def throughput(
    n_features: int = 20, n_events: int = 1_000_000, repeats: int = 3, smoke: bool = False
) -> dict:
    """Events/s of the autoencoder trigger scoring batches of 65,536 events on one thread."""
    import torch

    from scientia.curate.select import AutoencoderDetector, StreamingTrigger

    torch.set_num_threads(1)
    gen = np.random.default_rng(0)
    n_events = 131_072 if smoke else n_events
    det = AutoencoderDetector(max_steps=200 if smoke else 1000, rate=1e-3).fit(
        gen.normal(size=(20000, n_features)), seed=0
    )
    stream = gen.normal(size=(n_events, n_features))
    rates = []
    for _ in range(repeats):
        trigger = StreamingTrigger(det)
        trigger.run(stream[i : i + 65536] for i in range(0, n_events, 65536))
        rates.append(trigger.stats().events_per_second)
    return {
        "features": n_features,
        "events": n_events,
        "batch": 65536,
        "threads": 1,
        "events_per_second_median": float(np.median(rates)),
        "events_per_second_all": rates,
        "accept_rate": trigger.stats().accept_rate,
        "versions": versions(),
    }


# -- summary -------------------------------------------------------------------------------------
def load_runs(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("runs/*/*/seed_*.json"))]


def summarise(runs: list[dict], datasets: list[str], seeds: int, methods: tuple[str, ...]) -> dict:
    table: dict[str, dict[str, dict]] = {}
    for r in runs:
        cell = table.setdefault(r["method"], {}).setdefault(r["dataset"], {"auc": [], "ap": [], "s": []})
        cell["auc"].append(r["roc_auc"])
        cell["ap"].append(r["average_precision"])
        cell["s"].append(r["seconds"])
    present = [m for m in methods if m in table]
    common = [d for d in datasets if all(d in table[m] for m in present)]
    per_dataset = {
        d: {
            m: {
                "roc_auc": float(np.mean(table[m][d]["auc"])),
                "ap": float(np.mean(table[m][d]["ap"])),
                "seeds": len(table[m][d]["auc"]),
            }
            for m in present
        }
        for d in common
    }
    from scipy.stats import rankdata

    ranks = {m: [] for m in present}
    for d in common:
        r = rankdata([-per_dataset[d][m]["roc_auc"] for m in present])
        for m, v in zip(present, r, strict=True):
            ranks[m].append(float(v))
    summary = {
        m: {
            "mean_roc_auc": float(np.mean([per_dataset[d][m]["roc_auc"] for d in common]))
            if common
            else None,
            "mean_average_precision": float(np.mean([per_dataset[d][m]["ap"] for d in common]))
            if common
            else None,
            "mean_rank": float(np.mean(ranks[m])) if common else None,
            "datasets": len(common),
            "min_seeds": min((per_dataset[d][m]["seeds"] for d in common), default=0),
            "total_seconds": float(sum(sum(c["s"]) for c in table[m].values())),
        }
        for m in present
    }
    ours = [m for m in OURS if m in summary and summary[m]["mean_roc_auc"] is not None]
    peers = [m for m in PEERS if m in summary and summary[m]["mean_roc_auc"] is not None]
    targets = {}
    if ours and peers:
        best = max(ours, key=lambda m: summary[m]["mean_roc_auc"])
        best_peer = max(peers, key=lambda m: summary[m]["mean_roc_auc"])
        complete = len(common) == len(datasets) and all(summary[m]["min_seeds"] >= seeds for m in present)
        targets = {
            "best_scientia": best,
            "best_scientia_mean_roc_auc": summary[best]["mean_roc_auc"],
            "best_peer": best_peer,
            "best_peer_mean_roc_auc": summary[best_peer]["mean_roc_auc"],
            f"mean_roc_auc_at_least_{TARGET_AUC}": summary[best]["mean_roc_auc"] >= TARGET_AUC,
            "above_best_peer": summary[best]["mean_roc_auc"] > summary[best_peer]["mean_roc_auc"],
            "complete": complete,
        }
    return {"summary": summary, "targets": targets, "per_dataset": per_dataset, "datasets": common}


def write_outputs(result: dict, out: Path, name: str = "anomaly") -> None:
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    s, per = result["summary"], result["per_dataset"]
    methods = sorted(s, key=lambda m: -(s[m]["mean_roc_auc"] or 0))
    lines = [
        "# Unsupervised anomaly detection (ADBench classical)",
        "",
        f"Command: `{result['command']}`",
        "",
        "| method | mean ROC-AUC | mean AP | mean rank | datasets | seeds | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        r = s[m]
        lines.append(
            f"| {m} | {r['mean_roc_auc']:.4f} | {r['mean_average_precision']:.4f} | {r['mean_rank']:.2f} "
            f"| {r['datasets']} | {r['min_seeds']} | {r['total_seconds']:.0f} |"
        )
    if result.get("throughput"):
        t = result["throughput"]
        lines += [
            "",
            f"Autoencoder trigger: {t['events_per_second_median']:,.0f} events/s "
            f"({t['features']} features, batches of {t['batch']:,}, {t['threads']} thread).",
        ]
    if result["targets"]:
        lines += ["", "Targets: " + ", ".join(f"{k} = {v}" for k, v in result["targets"].items())]
    lines += [
        "",
        "## ROC-AUC per dataset (mean over seeds)",
        "",
        "| dataset | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for d, row in per.items():
        best = max(row[m]["roc_auc"] for m in methods)
        cells = [
            (f"**{row[m]['roc_auc']:.3f}**" if row[m]["roc_auc"] == best else f"{row[m]['roc_auc']:.3f}")
            for m in methods
        ]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    plot(result, out / f"{name}.png", methods)


def plot(result: dict, path: Path, methods: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, per = result["summary"], result["per_dataset"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    vals = [s[m]["mean_roc_auc"] for m in methods]
    a.barh(
        methods[::-1],
        vals[::-1],
        color=["tab:blue" if m.startswith("scientia") else "grey" for m in methods[::-1]],
    )
    a.axvline(TARGET_AUC, color="k", ls="--", lw=1)
    a.set_xlim(0.45, max(vals) + 0.05)
    a.set_xlabel("mean ROC-AUC over datasets")
    ours = result["targets"].get("best_scientia")
    peer = result["targets"].get("best_peer")
    if ours and peer:
        x = [per[d][peer]["roc_auc"] for d in per]
        y = [per[d][ours]["roc_auc"] for d in per]
        b.scatter(x, y, s=18)
        b.plot([0, 1], [0, 1], "k--", lw=1)
        b.set_xlabel(f"{peer} ROC-AUC")
        b.set_ylabel(f"{ours} ROC-AUC")
        b.set_title("per dataset")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--datasets", default=None, help="comma-separated names (default: all)")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--summarise-only", action="store_true")
    p.add_argument("--no-throughput", action="store_true")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    all_sets = list_datasets(args.data_dir)
    if args.smoke:
        chosen = [d for d in SMOKE_SETS if d in all_sets] or list(all_sets)[:2]
        args.seeds = 1
    else:
        chosen = args.datasets.split(",") if args.datasets else list(all_sets)
    missing = [d for d in chosen if d not in all_sets]
    if missing:
        p.error(f"unknown dataset {missing[0]!r}")
    out = args.out or (Path(tempfile.mkdtemp(prefix="anomaly_smoke_")) if args.smoke else DEFAULT_OUT)
    root = out / "anomaly"
    failures = 0
    if not args.summarise_only:
        for seed in range(args.seeds):
            for name in chosen:
                for method in methods:
                    path = root / "runs" / method / name / f"seed_{seed}.json"
                    if path.exists() and not args.force:
                        continue
                    try:
                        record = run_one(method, name, all_sets[name], seed, args.smoke)
                    except Exception as exc:  # noqa: BLE001 - one failed run must not stop the others
                        failures += 1
                        print(f"FAILED {method} {name} seed {seed}: {exc!r}", file=sys.stderr, flush=True)
                        continue
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(record, indent=2) + "\n")
                    print(
                        f"{method:18s} {name:20s} seed {seed}  ROC-AUC {record['roc_auc']:.3f}  "
                        f"AP {record['average_precision']:.3f}  {record['seconds']:.1f}s",
                        flush=True,
                    )
    tpath = root / "throughput.json"
    if not args.no_throughput and not args.summarise_only and (args.force or not tpath.exists()):
        tpath.parent.mkdir(parents=True, exist_ok=True)
        tpath.write_text(json.dumps(throughput(smoke=args.smoke), indent=2) + "\n")
    result = summarise(load_runs(root), chosen, args.seeds, methods)
    result["throughput"] = json.loads(tpath.read_text()) if tpath.exists() else None
    passed = argv if argv is not None else sys.argv[1:]
    result["command"] = " ".join(
        ["python benchmarks/anomaly.py", *(a for a in passed if a not in ("--summarise-only", "--force"))]
    )
    result["data"] = "ADBench classical" if all_sets[chosen[0]] is not None else "generated"
    write_outputs(result, out)
    for m, r in sorted(result["summary"].items(), key=lambda kv: -(kv[1]["mean_roc_auc"] or 0)):
        print(
            f"{m:18s} mean ROC-AUC {r['mean_roc_auc']:.4f}  AP {r['mean_average_precision']:.4f}  "
            f"rank {r['mean_rank']:.2f}  ({r['datasets']} datasets)"
        )
    if result["throughput"]:
        print(
            f"autoencoder: {result['throughput']['events_per_second_median']:,.0f} events/s with 20 features"
        )
    print(f"targets: {result['targets']}")
    print(f"wrote {out / 'anomaly.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
