"""The model card of a screening model: what it was trained on, how well it did, where not to use it.

Written next to the saved model (``model_card.md`` and ``calibration.png``) after the format of
Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019), cut to what a screening model
needs: data (file, SHA-256, counts), protocol (features, split, calibration, seed), test metrics
with 95% bootstrap intervals beside a trivial baseline, a calibration figure, intended use and
limits. Every number comes from the :class:`~scientia.screen.train.TrainResult`; nothing is typed
by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from scientia.screen.graphs import GraphFeaturizer
from scientia.screen.metrics import calibration_curve
from scientia.screen.train import TrainResult

__all__ = ["file_sha256", "plot_calibration", "write_model_card"]

_NAMES = {
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "spearman": "Spearman ρ",
    "nll": "NLL (Gaussian, per molecule)",
    "coverage": "coverage of the 90% interval",
    "interval_width": "mean width of the 90% interval",
    "miscalibration_area": "miscalibration area",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC (average precision)",
    "ece": "expected calibration error (10 bins)",
    "brier": "Brier score",
    "accuracy": "accuracy at p = 0.5",
    "positive_fraction": "fraction of positives",
}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plot_calibration(result: TrainResult, path: str | Path) -> Path:
    """Draw the test-set calibration figure as a PNG.

    Regression: observed vs expected coverage of central intervals (left) and measured vs
    predicted with 90% intervals (right). Classification: a reliability diagram (left) and the
    distribution of predicted probabilities per class (right).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pred, y = result.test_prediction, result.y[result.split.test]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4.2))
    if result.model.task == "regression":
        expected, observed = calibration_curve(y, pred)
        left.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="ideal")
        left.plot(expected, observed, color="tab:blue", label="test molecules")
        left.set(
            xlabel="expected fraction inside central interval",
            ylabel="observed fraction",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        left.set_title("Interval calibration")
        left.legend(loc="upper left", fontsize=8)
        lo, hi = pred.interval(0.9)
        m, t = pred.mean[:, 0], y[:, 0]
        ok = np.isfinite(t)
        inside = ok & (t >= lo[:, 0]) & (t <= hi[:, 0])
        err = np.vstack([m - lo[:, 0], hi[:, 0] - m])
        right.errorbar(t[ok], m[ok], yerr=err[:, ok], fmt="none", ecolor="0.8", lw=0.8, zorder=1)
        right.scatter(t[inside], m[inside], s=10, color="tab:blue", label="inside 90% interval", zorder=2)
        right.scatter(t[ok & ~inside], m[ok & ~inside], s=10, color="tab:red", label="outside", zorder=2)
        span = [float(np.nanmin(np.r_[t[ok], m])), float(np.nanmax(np.r_[t[ok], m]))]
        right.plot(span, span, color="0.4", lw=1, ls="--")
        right.set(xlabel=f"measured {result.model.targets_[0]}", ylabel="predicted (90% interval)")
        right.set_title("Test set")
        right.legend(loc="upper left", fontsize=8)
    else:
        p, t = pred.mean[:, 0], y[:, 0]
        ok = np.isfinite(t)
        p, t = p[ok], t[ok]
        bins = np.minimum((p * 10).astype(int), 9)
        centers = [(p[bins == b].mean(), t[bins == b].mean()) for b in range(10) if (bins == b).any()]
        left.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="ideal")
        left.plot(*zip(*centers, strict=True), marker="o", color="tab:blue", label="test molecules")
        left.set(
            xlabel="predicted probability", ylabel="observed fraction positive", xlim=(0, 1), ylim=(0, 1)
        )
        left.set_title("Reliability")
        left.legend(loc="upper left", fontsize=8)
        right.hist([p[t == 0], p[t == 1]], bins=20, range=(0, 1), label=["class 0", "class 1"])
        right.set(xlabel="predicted probability", ylabel="molecules")
        right.set_title("Test set")
        right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def _fmt(v: float) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:.3f}"


def write_model_card(directory: str | Path, result: TrainResult, data: dict[str, Any]) -> Path:
    """Write ``model_card.md`` and ``calibration.png`` into ``directory``.

    Parameters
    ----------
    directory : str or Path
    result : TrainResult
    data : dict
        ``path`` (as given), ``sha256``, ``smiles`` and ``target`` column names, ``command``.
    """
    out = Path(directory)
    plot_calibration(result, out / "calibration.png")
    model, s = result.model, result.settings
    feat = model.featurizer
    est: Any = model.estimator_.models_[0] if model.cross_conformal_ else model.estimator_
    what = {
        "ensemble": lambda: f"deep ensemble of {est.n_members} MLPs with Gaussian heads",
        "gp": lambda: f"Gaussian process with a {est.kernel} kernel",
        "classifier": lambda: f"deep ensemble of {est.n_members} MLP classifiers",
        "gnn": lambda: (
            f"deep ensemble of {est.n_members} directed message-passing networks "
            f"(D-MPNN, hidden {est.hidden}, depth {est.depth}) with Gaussian heads"
        ),
        "gnn-classifier": lambda: (
            f"deep ensemble of {est.n_members} directed message-passing "
            f"network classifiers (D-MPNN, hidden {est.hidden}, depth {est.depth})"
        ),
    }.get(model.model, lambda: model.model)()
    if model.cross_conformal_:
        what = f"{model.cross_conformal_['n_folds']} CV+ fold models, each a {what}"
    if isinstance(feat, GraphFeaturizer):
        features = (
            f"molecular graphs ({feat.n_atom_features} one-hot atom features, "
            f"{feat.n_bond_features} bond features)"
        )
    else:
        features = feat.kind + (
            f" (radius {feat.radius}, {feat.n_bits} bits)" if feat.uses_fingerprint else ""
        )
        if feat.uses_descriptors:
            features += f", {len(feat.descriptors or ())} RDKit descriptors"
    sizes = result.split.sizes()
    lines = [
        f"# Model card: {model.model} for {', '.join(model.targets_)}",
        "",
        "## Model",
        "",
        f"- **What**: {what} ({model.task}), trained by scientia.",
        f"- **Features**: {features}.",
        *(
            [
                f"- **Chosen by** `--model {s['model']}`: the candidate with the best {s['chosen_by']} on the "
                "validation molecules before calibration ("
                + ", ".join(f"{n} {v:.3f}" for n, v in s["candidates"].items())
                + "); the test part played no part in the choice."
            ]
            if "chosen" in s
            else []
        ),
        f"- **Uncertainty**: {_uncertainty(result)}",
        "- **Files**: `model.json` (settings, featurizer, calibration, versions), `state.pt` (tensors), "
        "`metrics.json`, `test_predictions.csv`, this card and `calibration.png`.",
        "",
        "## Data",
        "",
        f"- **File**: `{data.get('path', '?')}`, SHA-256 `{data.get('sha256', '?')}`.",
        f"- **Columns**: SMILES `{data.get('smiles', '?')}`, target `{', '.join(model.targets_)}`.",
        f"- **Molecules**: {s['n_input']:,} rows; {len(result.rejects):,} unreadable SMILES and "
        f"{result.n_missing_target:,} rows without a target skipped; {s['n_used']:,} used.",
        f"- **Split** ({result.split.kind}, seed {s['seed']}): {sizes['train']:,} training, "
        f"{sizes['val']:,} validation (calibration"
        + ("; with CV+ they join the training molecules" if s.get("calibration") == "cv+" else "")
        + f"), {sizes['test']:,} test molecules.",
        "",
        "## Test metrics",
        "",
        f"On the {sizes['test']:,} held-out test molecules, with 95% percentile-bootstrap intervals "
        "over test molecules (1,000 resamples; resampling inflates the miscalibration area, so its "
        "interval may lie above the estimate), beside "
        + (
            "the training mean as predictor (its std as uncertainty)."
            if model.task == "regression"
            else "a constant prediction of the training base rate."
        ),
        "",
        "| metric | model | 95% interval | baseline |",
        "|---|---|---|---|",
    ]
    for key, name in _NAMES.items():
        if key in result.metrics:
            lo, hi = result.intervals.get(key, [float("nan"), float("nan")])
            lines.append(
                f"| {name} | {_fmt(result.metrics[key])} | [{_fmt(lo)}, {_fmt(hi)}] | {_fmt(result.baseline.get(key, float('nan')))} |"
            )
    lines += [
        "",
        "![calibration](calibration.png)",
        "",
        "## Intended use",
        "",
        f"Ranking molecules of a virtual library by predicted {', '.join(model.targets_)} to choose which to "
        "test, with the predicted std and 90% interval telling how far to trust each prediction. "
        "Prioritisation, not a substitute for measurement.",
        "",
        "## Limits",
        "",
        "- Predictions are reliable only for molecules resembling the training data; the test "
        f"metrics above come from a {result.split.kind} split"
        + (
            " and overstate accuracy on new chemical series (try `--split scaffold` or `cluster`)."
            if result.split.kind == "random"
            else ", which imitates new chemistry but not every kind of novelty."
        ),
        "- Interval coverage is guaranteed only on average over molecules exchangeable with the "
        "calibration set; far from the training data intervals can be too narrow.",
        "- The model knows nothing about what its features do not encode (stereochemistry "
        "beyond the fingerprint, salts, tautomers, conformations, assay conditions).",
        f"- Trained on {sizes['train']:,} molecules; expect errors of the size of the test error, and larger away from them.",
        "",
        "## Reproduce",
        "",
        "```",
        data.get("command", ""),
        "```",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in model.to_dict()["versions"].items()) + ".",
        "",
    ]
    path = out / "model_card.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _uncertainty(result: TrainResult) -> str:
    cal = result.settings.get("calibration", "none")
    model = result.model
    if model.task == "classification":
        return "probability of class 1; std = spread of the members' probabilities (not recalibrated)."
    base = {
        "ensemble": "mixture of the members' Gaussians (their predicted variance plus the spread of their means)",
        "gnn": "mixture of the members' Gaussians (their predicted variance plus the spread of their means)",
        "gp": "GP posterior std including the learned noise",
    }.get(model.model, "the model's predictive std")
    if cal == "conformal":
        return (
            f"{base}, rescaled by split-conformal calibration on the validation molecules so that "
            f"mean ± std·z gives the conformal {result.settings['level']:.0%} interval."
        )
    if cal == "isotonic":
        return f"{base}, recalibrated by an isotonic map fitted on the validation molecules."
    if cal == "cv+" and model.cross_conformal_:
        return (
            f"CV+ (cross-conformal): {model.cross_conformal_['n_folds']} models of this kind, each fitted "
            "without one fold of the training and validation molecules"
            + (" (folds keep whole scaffolds or clusters)" if model.cross_conformal_.get("grouped") else "")
            + "; mean = their average, and "
            f"mean ± std·z has the width of the CV+ {result.settings['level']:.0%} interval computed "
            f"from every molecule's out-of-fold residual ({base})."
        )
    return f"{base}; not recalibrated."
