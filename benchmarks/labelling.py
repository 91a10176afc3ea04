"""Labelling with few labels: graph propagation, self-training and active labelling vs supervised-only.

Protocol
--------
* Datasets (read from ``--data-dir``, default ``../shared/data``):

  - ``bbbp``: blood–brain-barrier penetration of 2,039 molecules (Martins et al. 2012, via
    MoleculeNet, Wu et al. 2018), Morgan fingerprints (RDKit, radius 2, 2,048 bits);
  - ``glass``: 1,200 materials-science abstracts, glass science or not (train + val files of
    MatSciBERT's glass/non-glass set, Venugopal et al. 2021), TF-IDF (sublinear, English stop
    words, min_df 2) → 100-dimensional truncated SVD → unit length;
  - ``satellite``: ADBench ``30_satellite`` (6,435 rows, 36 features), anomaly label as class.

  Without the data folder the script runs on generated two-moons data.
* For each seed and each label fraction (1 %, 5 %, 10 % of the rows; at least one row per
  class) the labelled rows are a random subset; every method sees all rows with only those
  labels and is scored by accuracy on the rows whose label was hidden.
* Methods: ``supervised`` (standardised logistic regression on the labelled rows only, the
  baseline), ``propagation`` and ``spreading`` (scikit-learn's label propagation / spreading
  with a 10-nearest-neighbour graph, via :class:`scientia.curate.annotate.LabelPropagator`;
  features standardised except the binary fingerprints), ``self-training``
  (:class:`~scientia.curate.annotate.SelfTrainer` around the same logistic regression,
  threshold 0.9), and ``active-margin``: start from the 1 % random labels and let margin
  sampling choose the rest in batches of 1 % (same classifier as ``supervised``).
* Seeds ``0..S-1`` (default 5). One JSON per (dataset, seed) under
  ``<out>/labelling/runs/<dataset>/seed_<k>.json``, skipped on rerun unless ``--force``.
* Summary (``<out>/labelling.{json,md,png}``): mean and standard deviation of accuracy over seeds
  per dataset × method × fraction. Target: propagation, spreading or self-training beats
  ``supervised`` at 5 % labels on every dataset (mean over seeds).

Usage::

    python benchmarks/labelling.py            # full run (resumable), then summary
    python benchmarks/labelling.py --smoke    # CI: subsampled data, 1 seed, 5 % only, temp dir
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results"
DATASETS = ("bbbp", "glass", "satellite")
METHODS = ("supervised", "propagation", "spreading", "self-training", "active-margin")
SEMI = ("propagation", "spreading", "self-training")
FRACTIONS = (0.01, 0.05, 0.10)


# -- data ----------------------------------------------------------------------------------------
def load(name: str, data_dir: Path, smoke: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return features (n, d), labels (n,) and whether the graph methods should standardise."""
    if not data_dir.is_dir():
        from sklearn.datasets import make_moons

        X, y = make_moons(600 if smoke else 2000, noise=0.1, random_state=DATASETS.index(name))
        return X, y, True
    if name == "bbbp":
        import pandas as pd
        from rdkit import Chem, RDLogger
        from rdkit.Chem import rdFingerprintGenerator

        RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
        df = pd.read_csv(data_dir / "molecular_properties" / "moleculenet" / "bbbp.csv")
        if smoke:
            df = df.sample(400, random_state=0)
        gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
        mols = [Chem.MolFromSmiles(s) for s in df["smiles"]]
        keep = [m is not None for m in mols]
        X = np.asarray([gen.GetFingerprintAsNumPy(m) for m in mols if m is not None], dtype=np.float64)
        return X, df["p_np"].to_numpy()[keep], False
    if name == "glass":
        import pandas as pd
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        folder = data_dir / "sci_text"
        df = pd.concat([pd.read_csv(folder / f"glass_non_glass_{p}.csv") for p in ("train", "val")])
        if smoke:
            df = df.sample(400, random_state=0)
        T = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(df["Abstract"])
        Z = TruncatedSVD(min(100, T.shape[1] - 1), random_state=0).fit_transform(T)
        return normalize(Z), df["Label"].to_numpy(), True
    if name == "satellite":
        with np.load(data_dir / "anomaly_detection" / "adbench_classical" / "30_satellite.npz") as d:
            X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
        if smoke:
            idx = np.random.default_rng(0).choice(len(y), 1500, replace=False)
            X, y = X[idx], y[idx]
        return X, y, True
    raise ValueError(name)


# -- methods -------------------------------------------------------------------------------------
def accuracy_at(method: str, X: np.ndarray, y: np.ndarray, rows: np.ndarray, scale: bool, seed: int) -> float:
    """Accuracy on the hidden rows after fitting ``method`` with labels only at ``rows``."""
    from scientia.curate.annotate import LabelPropagator, SelfTrainer, SupervisedOnly

    partial = np.full(y.shape[0], -1, dtype=np.int64)
    partial[rows] = y[rows]
    if method == "supervised":
        model = SupervisedOnly()
    elif method in ("propagation", "spreading"):
        model = LabelPropagator(method=method, scale=scale)
    elif method == "self-training":
        model = SelfTrainer()
    else:
        raise ValueError(method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, partial)
        hidden = np.setdiff1d(np.arange(y.size), rows)
        return float(np.mean(model.predict(X[hidden]) == y[hidden]))


def active_curve(X: np.ndarray, y: np.ndarray, start: np.ndarray, sizes: list[int], seed: int) -> list[float]:
    """Margin sampling from ``start`` labels up to each size in ``sizes``; accuracy on unlabelled rows."""
    from scientia.curate.annotate import ActiveLearner

    partial = np.full(y.shape[0], -1, dtype=np.int64)
    partial[start] = y[start]
    learner = ActiveLearner("margin", seed=seed).fit(X, partial)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in sizes:
            while learner.labelled_.sum() < size:
                step = min(max(1, len(start)), int(size - learner.labelled_.sum()))
                rows = learner.query(step)
                learner.teach(rows, y[rows])
            hidden = ~learner.labelled_
            out.append(float(np.mean(learner.predict(X[hidden]) == y[hidden])))
    return out


def run_one(name: str, seed: int, data_dir: Path, smoke: bool, fractions: tuple[float, ...]) -> dict:
    from scientia.curate.annotate import labelled_subset

    X, y, scale = load(name, data_dir, smoke)
    n = y.size
    sizes = [max(len(np.unique(y)), round(f * n)) for f in fractions]
    record: dict = {
        "dataset": name,
        "seed": seed,
        "n": int(n),
        "d": int(X.shape[1]),
        "sizes": sizes,
        "fractions": list(fractions),
        "accuracy": {},
        "seconds": {},
    }
    # nested subsets: the 5 % labels contain the 1 % ones, as when labelling goes on
    order = labelled_subset(y, max(sizes), seed=np.random.default_rng([seed, 7]))
    for method in METHODS:
        start = time.perf_counter()
        if method == "active-margin":
            accs = active_curve(X, y, order[: sizes[0]], sizes, seed)
        else:
            accs = [accuracy_at(method, X, y, order[:k], scale, seed) for k in sizes]
        record["accuracy"][method] = accs
        record["seconds"][method] = time.perf_counter() - start
    return record


# -- summary -------------------------------------------------------------------------------------
def summarise(runs: list[dict], fractions: tuple[float, ...]) -> dict:
    table: dict = {}
    for r in runs:
        for m, accs in r["accuracy"].items():
            for f, a in zip(r["fractions"], accs, strict=True):
                table.setdefault(r["dataset"], {}).setdefault(m, {}).setdefault(f"{f:g}", []).append(a)
    summary = {
        d: {
            m: {
                f: {"mean": float(np.mean(v)), "std": float(np.std(v)), "seeds": len(v)}
                for f, v in fm.items()
            }
            for m, fm in md.items()
        }
        for d, md in table.items()
    }
    targets = {}
    for d, md in summary.items():
        if "0.05" not in md.get("supervised", {}):
            continue
        base = md["supervised"]["0.05"]["mean"]
        best = max(SEMI, key=lambda m: md.get(m, {}).get("0.05", {}).get("mean", -1))
        targets[d] = {
            "supervised": base,
            "best_semi": best,
            "best_semi_accuracy": md[best]["0.05"]["mean"],
            "beats_supervised_at_5pct": md[best]["0.05"]["mean"] > base,
        }
    return {
        "summary": summary,
        "targets": targets,
        "all_targets_met": bool(targets) and all(t["beats_supervised_at_5pct"] for t in targets.values()),
    }


def write_outputs(result: dict, out: Path) -> None:
    (out / "labelling.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Labelling with few labels",
        "",
        f"Command: `{result['command']}`",
        "",
        "Accuracy on the rows whose label was hidden (mean ± std over seeds).",
        "",
    ]
    for d, md in result["summary"].items():
        fr = sorted(next(iter(md.values())), key=float)
        lines += [
            f"## {d}",
            "",
            "| method | " + " | ".join(f"{float(f):.0%} labels" for f in fr) + " |",
            "|---" * (len(fr) + 1) + "|",
        ]
        for m in METHODS:
            if m in md:
                lines.append(
                    f"| {m} | "
                    + " | ".join(f"{md[m][f]['mean']:.3f} ± {md[m][f]['std']:.3f}" for f in fr)
                    + " |"
                )
        lines.append("")
    lines.append(
        "Target (a semi-supervised method beats supervised-only at 5 % labels): "
        + ", ".join(
            f"{d}: {t['best_semi']} {t['best_semi_accuracy']:.3f} vs {t['supervised']:.3f}"
            for d, t in result["targets"].items()
        )
        + f"; all met = {result['all_targets_met']}"
    )
    (out / "labelling.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result["summary"]
    fig, axes = plt.subplots(1, len(summary), figsize=(4.5 * len(summary), 3.8), squeeze=False)
    for ax, (d, md) in zip(axes[0], summary.items(), strict=True):
        for m in METHODS:
            if m in md:
                fr = sorted(md[m], key=float)
                ax.errorbar(
                    [float(f) * 100 for f in fr],
                    [md[m][f]["mean"] for f in fr],
                    yerr=[md[m][f]["std"] for f in fr],
                    label=m,
                    marker="o",
                    capsize=3,
                    color="k" if m == "supervised" else None,
                    ls="--" if m == "supervised" else "-",
                )
        ax.set_title(d)
        ax.set_xlabel("% of rows labelled")
        ax.set_ylabel("accuracy on unlabelled rows")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "labelling.png", dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--summarise-only", action="store_true")
    args = p.parse_args(argv)
    fractions = (0.05,) if args.smoke else FRACTIONS
    seeds = 1 if args.smoke else args.seeds
    chosen = [d.strip() for d in args.datasets.split(",") if d.strip()]
    bad = [d for d in chosen if d not in DATASETS]
    if bad:
        p.error(f"unknown dataset {bad[0]!r}; known: {', '.join(DATASETS)}")
    out = args.out or (Path(tempfile.mkdtemp(prefix="labelling_smoke_")) if args.smoke else DEFAULT_OUT)
    root = out / "labelling" / "runs"
    failures = 0
    if not args.summarise_only:
        for seed in range(seeds):
            for name in chosen:
                path = root / name / f"seed_{seed}.json"
                if path.exists() and not args.force:
                    continue
                try:
                    record = run_one(name, seed, args.data_dir, args.smoke, fractions)
                except Exception as exc:  # noqa: BLE001 - one failed run must not stop the others
                    failures += 1
                    print(f"FAILED {name} seed {seed}: {exc!r}", file=sys.stderr, flush=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(record, indent=2) + "\n")
                accs = ", ".join(
                    f"{m} {a[len(a) // 2 if len(a) > 1 else 0]:.3f}" for m, a in record["accuracy"].items()
                )
                print(f"{name:10s} seed {seed}: {accs}", flush=True)
    runs = [json.loads(q.read_text()) for q in sorted(root.glob("*/seed_*.json")) if q.parent.name in chosen]
    result = summarise(runs, fractions)
    passed = argv if argv is not None else sys.argv[1:]
    result["command"] = " ".join(
        ["python benchmarks/labelling.py", *(a for a in passed if a not in ("--summarise-only", "--force"))]
    )
    result["data"] = "shared" if args.data_dir.is_dir() else "generated two moons"
    write_outputs(result, out)
    for d, t in result["targets"].items():
        print(
            f"{d}: supervised {t['supervised']:.3f}, {t['best_semi']} {t['best_semi_accuracy']:.3f} at 5 % labels"
        )
    print(f"all targets met: {result['all_targets_met']}; wrote {out / 'labelling.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
