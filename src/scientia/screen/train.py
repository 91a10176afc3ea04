"""Train, calibrate and evaluate a screening model in one call, as ``scientia screen train`` does.

The protocol, recorded in the model's ``model.json`` and its model card:

1. featurize every SMILES (unreadable ones are skipped and listed) and drop rows without a
   target;
2. split the rest into training / validation / test parts (``random``, ``scaffold`` or
   ``cluster``; default 80 / 10 / 10);
3. fit on the training part; calibrate on the validation part (split conformal by default).
   With ``calibration="cv+"`` the validation part joins the training part instead: ``K = 5``
   models, each fitted without one fold, give CV+ intervals calibrated on every one of those
   molecules (five times the fitting cost). With a scaffold or cluster split the folds keep
   whole scaffolds (clusters), so the intervals are calibrated on unseen-scaffold errors;
4. score the calibrated model on the test part — accuracy, calibration and 95% bootstrap
   intervals — next to the training-mean predictor (regression) or the base rate
   (classification), so a reader sees what the model adds.

The saved model is the one that was scored (it is not refitted on validation and test data), so
the card's numbers describe it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.screen.features import Features, Reject
from scientia.screen.metrics import bootstrap_intervals, classification_metrics, regression_metrics
from scientia.screen.models import AnyFeaturizer, ScreeningModel
from scientia.screen.splits import Split, split_molecules
from scientia.seeding import Seed, child_seeds
from scientia.types import Prediction

__all__ = ["AUTO", "CV_FOLDS", "TrainResult", "train_and_evaluate"]

CV_FOLDS = 5  # folds of calibration="cv+"


@dataclass
class TrainResult:
    """A fitted, calibrated model and how it did on its held-out test molecules.

    Attributes
    ----------
    model : ScreeningModel
    split : Split
        Indices into the *valid* molecules (``smiles``).
    smiles : list of str
        The molecules that were used (readable, with a target), in input order.
    y : ndarray, shape (k, m)
    test_prediction : Prediction
        Calibrated predictions for ``smiles[split.test]``.
    metrics : dict
        Test metrics of the model (``rmse`` … or ``roc_auc`` …).
    intervals : dict
        95% bootstrap interval of each metric.
    baseline : dict
        The same metrics for the training-mean predictor / base-rate classifier.
    rejects : list of Reject
        Unreadable SMILES (line = row of the input counted from 1).
    n_missing_target : int
        Readable rows without a finite target (skipped).
    settings : dict
    validation : dict
        The same metrics on the validation part, before calibration: what a choice between
        models may look at without touching the test part (empty without a validation part or
        with CV+, where the validation molecules are trained on).
    """

    model: ScreeningModel
    split: Split
    smiles: list[str]
    y: np.ndarray
    test_prediction: Prediction
    metrics: dict[str, float]
    intervals: dict[str, list[float]]
    baseline: dict[str, float]
    rejects: list[Reject] = field(default_factory=list)
    n_missing_target: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary (written as ``metrics.json``)."""
        return {
            "task": self.model.task,
            "split": {"kind": self.split.kind, **self.split.sizes()},
            "metrics": self.metrics,
            "intervals95": self.intervals,
            "baseline": self.baseline,
            "n_rejected": len(self.rejects),
            "n_missing_target": self.n_missing_target,
            "settings": self.settings,
            "validation": self.validation,
        }


def _score(task: str, y: np.ndarray, pred: Prediction, level: float) -> dict[str, float]:
    if task == "classification":
        return classification_metrics(y, pred)
    return regression_metrics(y, pred, level=level)


AUTO = {"auto": ("ensemble", "gnn", "gp"), "auto-classifier": ("classifier", "gnn-classifier")}


def _auto(
    smiles: Sequence[str], y: np.ndarray, model: str, options: dict[str, Any], **kw: Any
) -> TrainResult:
    """Train every candidate of ``AUTO[model]`` and keep the best on the validation part.

    Each candidate gets the protocol's own split and fitting seed, so it is the very model that
    ``train_and_evaluate`` with its name would make; the choice looks at the uncalibrated
    validation metric only (RMSE, or ROC-AUC for classifiers), never at the test part.
    """
    say = kw.get("progress") or (lambda _: None)
    if not isinstance(kw["seed"], int):  # one split for every candidate, even from a Generator or None
        kw["seed"] = child_seeds(kw["seed"], 1)[0]
    classifier = model == "auto-classifier"
    key = "roc_auc" if classifier else "rmse"
    results: dict[str, TrainResult] = {}
    for name in AUTO[model]:
        say(f"candidate {name}")
        opts = {} if name == "gp" else {k: v for k, v in options.items() if k in ("n_members", "epochs")}
        results[name] = train_and_evaluate(smiles, y, name, options=opts, **kw)
    scores = {n: r.validation.get(key, float("nan")) for n, r in results.items()}
    finite = {n: v for n, v in scores.items() if np.isfinite(v)}
    if not finite:  # e.g. a validation part with one class only
        raise ValidationError(f"no {key} on the validation part for any candidate of {model!r}")
    best = (max if classifier else min)(finite, key=finite.__getitem__)
    chosen = results[best]
    chosen.settings = {
        **chosen.settings,
        "model": model,
        "chosen": best,
        "candidates": scores,
        "chosen_by": key,
    }
    say(f"chose {best} (validation {key} {finite[best]:.3f})")
    return chosen


def train_and_evaluate(
    smiles: Sequence[str],
    y: np.ndarray,
    model: str = "ensemble",
    *,
    featurizer: AnyFeaturizer | None = None,
    options: dict[str, Any] | None = None,
    split: str = "scaffold",
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1),
    calibration: str = "conformal",
    level: float = 0.9,
    targets: Sequence[str] | None = None,
    lines: Sequence[int] | np.ndarray | None = None,
    features: Features | None = None,
    seed: Seed = 0,
    n_boot: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Featurize, split, fit, calibrate and evaluate (see the module docstring).

    Parameters
    ----------
    smiles : sequence of str, length n
    y : ndarray, shape (n,) or (n, m)
        Targets; NaN where unknown (a row is kept while any target is known).
    model : str
        ``ensemble``, ``gp``, ``classifier``, ``gnn`` or ``gnn-classifier`` (or any name in
        ``screen_models``); or ``auto`` / ``auto-classifier``: train ``ensemble``, ``gnn`` and
        ``gp`` (``classifier`` and ``gnn-classifier``), each with its default features, and keep
        the one with the best validation RMSE (ROC-AUC) before calibration. ``featurizer`` and
        ``features`` cannot be given with them; of ``options`` only ``n_members`` and ``epochs``
        are passed on.
    featurizer : Featurizer or GraphFeaturizer, optional
    options : dict, optional
        Estimator arguments.
    split : {"random", "scaffold", "cluster"}
    sizes : (train, validation, test) fractions
    calibration : {"conformal", "isotonic", "cv+", "none"}
    level : float
        Interval level for calibration and the coverage metric.
    targets : sequence of str, optional
        Target names.
    lines : sequence of int, optional
        Line of each SMILES in its file, for the rejects (default: row number from 1).
    features : Features, optional
        Features of all of ``smiles`` made earlier with the same featurizer (e.g. shared by the
        runs of a benchmark); not recomputed.
    seed : int, Generator or None
        One seed for the split, the fit and the bootstrap.
    n_boot : int
        Bootstrap resamples for the metric intervals.
    progress : callable, optional
        Called with a short message before each step.
    """
    if model in AUTO:
        if featurizer is not None or features is not None:
            raise ConfigError(f"model {model!r} gives each candidate its own features; drop the featurizer")
        if (len(sizes) == 3 and sizes[1] <= 0) or (model == "auto" and calibration == "cv+"):
            # checked before minutes of training: the choice needs molecules nobody trained on
            raise ConfigError(
                f"model {model!r} chooses on the validation part, so it needs a validation fraction "
                "> 0 and cannot use calibration 'cv+' (which trains on that part); use 'conformal'"
            )
        return _auto(
            smiles, y, model, dict(options or {}), split=split, sizes=sizes, calibration=calibration,
            level=level, targets=targets, lines=lines, seed=seed, n_boot=n_boot, progress=progress,
        )  # fmt: skip
    say = progress or (lambda _: None)
    screening = ScreeningModel(model, featurizer, options)
    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if len(Y) != len(smiles):
        raise ValidationError(f"{len(smiles)} SMILES but {len(Y)} targets")
    if features is None:
        say(f"featurizing {len(smiles):,} molecules ({screening.featurizer.kind})")
        feats = screening.featurize(list(smiles), lines=lines)
    else:
        feats = features
    known = np.isfinite(Y[feats.rows]).any(axis=1)
    keep = feats.rows[known]
    X, Yk = feats.X[known], Y[keep]
    used = [str(smiles[i]) for i in keep]
    if len(used) < 10:
        raise ValidationError(f"only {len(used)} readable molecules with a target; need at least 10")
    s_split, s_fit, s_boot = child_seeds(seed, 3)
    say(f"splitting {len(used):,} molecules ({split})")
    parts = split_molecules(used, split, sizes, seed=s_split)
    cv_plus = calibration == "cv+" and screening.task == "regression"
    if calibration not in ("none", "cv+") and screening.task == "regression" and len(parts.val) == 0:
        raise ValidationError("calibration needs a validation part; give a validation fraction > 0")

    def sub(rows: np.ndarray) -> Features:
        return Features(X[rows], np.arange(len(rows)), rows + 1, [], len(rows))

    fit_rows = np.concatenate([parts.train, parts.val]) if cv_plus else parts.train
    say(f"fitting {model} on {len(fit_rows):,} molecules" + (f" ({CV_FOLDS} CV+ folds)" if cv_plus else ""))
    screening.fit(
        [used[i] for i in fit_rows],
        Yk[fit_rows],
        seed=s_fit,
        targets=targets,
        features=sub(fit_rows),
        cross_conformal=CV_FOLDS if cv_plus else None,
        level=level,
        groups=parts.groups[fit_rows] if cv_plus and parts.groups is not None else None,
    )
    validation: dict[str, float] = {}
    if len(parts.val) and not cv_plus:
        raw = screening.predict_features(X[parts.val], calibrated=False)
        validation = _score(screening.task, Yk[parts.val], raw, level)
        say(f"calibrating ({calibration}) on {len(parts.val):,} molecules")
        screening.calibrate([], Yk[parts.val], calibration, level, features=sub(parts.val))
    say(f"testing on {len(parts.test):,} molecules")
    pred = screening.predict_features(X[parts.test])
    yt = Yk[parts.test]
    metrics = _score(screening.task, yt, pred, level)

    def on(rows: np.ndarray) -> dict[str, float]:
        p = Prediction(pred.mean[rows], pred.std[rows])
        return _score(screening.task, yt[rows], p, level)

    intervals = bootstrap_intervals(on, len(yt), n_boot=n_boot, seed=s_boot) if n_boot else {}
    train_y = Yk[parts.train]
    base_mean = np.broadcast_to(np.nanmean(train_y, axis=0), yt.shape)
    base_std = np.broadcast_to(np.nanstd(train_y, axis=0) + 1e-12, yt.shape)
    baseline = _score(screening.task, yt, Prediction(base_mean, base_std), level)
    settings = {
        "model": model,
        "split": split,
        "sizes": list(sizes),
        "calibration": calibration if screening.task == "regression" else "none",
        "level": level,
        "seed": seed if isinstance(seed, int) or seed is None else "generator",
        "n_input": len(smiles),
        "n_used": len(used),
    }
    return TrainResult(
        screening, parts, used, Yk, pred, metrics, intervals, baseline,
        list(feats.rejects), int((~known).sum()), settings, validation,
    )  # fmt: skip
