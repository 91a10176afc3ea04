"""Screening models: a featurizer, an estimator with uncertainty and a calibrator, saved as one.

Five estimators, registered by name in :data:`screen_models` (a third party registers more
through the ``scientia.screen_models`` entry-point group):

==================  ========================================================  ==============  ===========
name                estimator                                                 task            features
==================  ========================================================  ==============  ===========
``ensemble``        :class:`~scientia.screen.ensemble.MLPEnsembleRegressor`   regression      any matrix
``gp``              :class:`~scientia.screen.gp.TanimotoGP`                   regression      fingerprint
``classifier``      :class:`~scientia.screen.ensemble.MLPEnsembleClassifier`  binary          any matrix
``gnn``             :class:`~scientia.screen.gnn.GNNEnsemble`                 regression      graph
``gnn-classifier``  :class:`~scientia.screen.gnn.GNNEnsembleClassifier`       binary          graph
==================  ========================================================  ==============  ===========

Every estimator has ``fit(X, Y (n, m), seed)`` and ``predict(X) -> Prediction``, like any
scientia :class:`~scientia.protocols.Surrogate`; ``X`` is a feature matrix (n, d), or for an
estimator whose class says ``inputs = "graphs"`` (the GNNs) an object array of n molecular
graphs. :class:`ScreeningModel` wraps one with its featurizer
(:class:`~scientia.screen.features.Featurizer` or
:class:`~scientia.screen.graphs.GraphFeaturizer`) and an optional calibrator, so that it is
fitted and queried with SMILES, and :meth:`ScreeningModel.save` writes a directory:

* ``model.json`` — format version, estimator name and arguments, task, target names, the
  featurizer settings (with the RDKit descriptor names), the calibrator, and the versions of
  scientia, RDKit and torch that made it;
* ``state.pt`` — the estimator's tensors (``torch.save`` of a flat ``{name: tensor}`` dict,
  read back with ``torch.load(weights_only=True)``: no pickled classes, so a model outlives
  refactors of this code).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.registry import Registry
from scientia.screen.calibrate import (
    ConformalCalibrator,
    CrossConformalRegressor,
    IsotonicCalibrator,
    calibrator_from_dict,
)
from scientia.screen.features import Features, Featurizer, Reject, chunked
from scientia.screen.graphs import GraphFeaturizer
from scientia.seeding import Seed
from scientia.types import Prediction

__all__ = ["FORMAT", "TASKS", "ScreenChunk", "ScreeningModel", "featurizer_from_dict", "screen_models"]

FORMAT = 1
TASKS = {
    "ensemble": "regression",
    "gp": "regression",
    "classifier": "classification",
    "gnn": "regression",
    "gnn-classifier": "classification",
}

screen_models = Registry("screen_models")
screen_models.register("ensemble", "scientia.screen.ensemble:MLPEnsembleRegressor")
screen_models.register("gp", "scientia.screen.gp:TanimotoGP")
screen_models.register("classifier", "scientia.screen.ensemble:MLPEnsembleClassifier")
screen_models.register("gnn", "scientia.screen.gnn:GNNEnsemble")
screen_models.register("gnn-classifier", "scientia.screen.gnn:GNNEnsembleClassifier")

_DEFAULT_FEATURES = {
    "ensemble": "morgan-count+rdkit2d",
    "gp": "morgan-count",
    "classifier": "morgan-count+rdkit2d",
}

AnyFeaturizer = Featurizer | GraphFeaturizer


def featurizer_from_dict(data: dict[str, Any]) -> AnyFeaturizer:
    """Rebuild a featurizer from its ``to_dict()``: a graph featurizer for ``kind = "graph"``."""
    if data.get("kind") == "graph":
        return GraphFeaturizer.from_dict(data)
    return Featurizer.from_dict(data)


@dataclass(frozen=True)
class ScreenChunk:
    """Predictions for one chunk of a streamed library.

    Attributes
    ----------
    prediction : Prediction
        For the ``k`` valid molecules of the chunk, shape (k, m) (calibrated if the model is).
    features : Features
        Their positions (``rows``) and line numbers (``lines``) in the chunk, and the rejects.
    """

    prediction: Prediction
    features: Features

    @property
    def rejects(self) -> list[Reject]:
        """The chunk's unreadable SMILES."""
        return self.features.rejects


class ScreeningModel:
    """A molecular property model fitted and queried with SMILES.

    Parameters
    ----------
    model : str
        A name registered in :data:`screen_models` (``ensemble``, ``gp``, ``classifier``,
        ``gnn``, ``gnn-classifier``).
    featurizer : Featurizer, GraphFeaturizer or dict, optional
        Default: ``morgan-count+rdkit2d`` for the MLP ensembles, ``morgan-count`` for the GP,
        :class:`~scientia.screen.graphs.GraphFeaturizer` for the GNNs (which take nothing else).
    options : dict, optional
        Keyword arguments of the estimator (e.g. ``{"n_members": 8}``); unknown ones are an error.

    Attributes
    ----------
    estimator_ : object
        The fitted estimator.
    calibrator_ : ConformalCalibrator, IsotonicCalibrator or None
    targets_ : list of str
        Target names, one per output column.
    rejects_ : list of Reject
        Training SMILES that were skipped.
    """

    def __init__(
        self,
        model: str = "ensemble",
        featurizer: AnyFeaturizer | dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        factory = screen_models.get(model)  # unknown name: "did you mean"
        self.model = model
        graphs = getattr(factory, "inputs", "matrix") == "graphs"
        if featurizer is None:
            featurizer = (
                GraphFeaturizer() if graphs else Featurizer(_DEFAULT_FEATURES.get(model, "morgan-count"))
            )
        self.featurizer: AnyFeaturizer = (
            featurizer
            if isinstance(featurizer, Featurizer | GraphFeaturizer)
            else featurizer_from_dict(featurizer)
        )
        if graphs and not isinstance(self.featurizer, GraphFeaturizer):
            raise ConfigError(
                f"model {model!r} takes molecular graphs, not {self.featurizer.kind!r} features; "
                "use --features graph (a GraphFeaturizer)"
            )
        if not graphs and isinstance(self.featurizer, GraphFeaturizer):
            raise ConfigError(
                f"model {model!r} takes a feature matrix, not molecular graphs; use e.g. --features morgan-count"
            )
        self.options = dict(options or {})
        self._factory = factory
        self.calibrator_: ConformalCalibrator | IsotonicCalibrator | None = None
        self.cross_conformal_: dict[str, Any] | None = None
        self.config_: dict[str, Any] = {}

    @property
    def task(self) -> str:
        """``regression`` or ``classification`` (an estimator class may say so in ``task``)."""
        return str(getattr(self._factory, "task", TASKS.get(self.model, "regression")))

    def _make(self) -> Any:
        opts = dict(self.options)
        fp = (
            self.featurizer.n_bits
            if isinstance(self.featurizer, Featurizer) and self.featurizer.uses_fingerprint
            else 0
        )
        if self.model in ("ensemble", "classifier"):
            opts.setdefault("n_sparse", fp)
        if self.model == "gp":
            if not fp:
                raise ConfigError(
                    "the Tanimoto GP needs fingerprint features; use --features morgan or morgan-count"
                )
            opts.setdefault("n_fingerprint", fp)
        try:
            return self._factory(**opts)
        except TypeError as exc:
            raise ConfigError(f"bad option for model {self.model!r}: {exc}") from None

    # -- fitting ----------------------------------------------------------------------------------
    def featurize(
        self, smiles: Sequence[str], lines: Sequence[int] | np.ndarray | None = None, start: int = 1
    ) -> Features:
        """Featurize ``smiles`` with this model's featurizer (rejects reported, not raised).

        A fingerprint-only MLP ensemble gets its features as a sparse matrix: it reads only
        the set bits, and a dense 2,048-wide row per molecule is most of a screen's memory.
        """
        f = self.featurizer
        if self.model in ("ensemble", "classifier") and isinstance(f, Featurizer) and not f.uses_descriptors:
            return f.transform(smiles, lines=lines, start=start, sparse=True)
        return f.transform(smiles, lines=lines, start=start)

    def fit(
        self,
        smiles: Sequence[str],
        y: np.ndarray,
        seed: Seed = None,
        targets: Sequence[str] | None = None,
        features: Features | None = None,
        cross_conformal: int | None = None,
        level: float = 0.9,
        groups: Sequence[object] | None = None,
    ) -> ScreeningModel:
        """Featurize and fit; unreadable SMILES are skipped and kept in ``rejects_``.

        Parameters
        ----------
        smiles : sequence of str, length n
        y : ndarray, shape (n,) or (n, m)
        seed : int, Generator or None
        targets : sequence of str, optional
            Names of the target columns (stored with the model).
        features : Features, optional
            Features of ``smiles`` computed earlier with :meth:`featurize` (not recomputed).
        cross_conformal : int, optional
            ``K``: fit ``K`` models, each without one fold, and predict with CV+ intervals at
            ``level`` (:class:`~scientia.screen.calibrate.CrossConformalRegressor`): calibrated
            on every training molecule, with nothing set aside, for ``K`` times the cost.
            Regression with one target only.
        level : float
            The CV+ interval level.
        groups : sequence, length n, optional
            CV+ only: a group label per molecule (its scaffold or cluster); whole groups stay in
            one fold, so the intervals are calibrated on residuals of unseen groups.
        """
        Y = np.asarray(y, dtype=np.float64)
        Y = Y[:, None] if Y.ndim == 1 else Y
        if len(Y) != len(smiles):
            raise ValidationError(f"{len(smiles)} SMILES but {len(Y)} targets")
        feats = features if features is not None else self.featurize(smiles)
        if len(feats.rows) < 2:
            raise ValidationError("fewer than 2 readable SMILES to train on")
        self.cross_conformal_ = None
        if cross_conformal is not None:
            if self.task != "regression" or Y.shape[1] != 1:
                raise ConfigError(
                    "cross-conformal (cv+) calibration is for regression with one target; "
                    "train one model per target"
                )
            self.cross_conformal_ = {
                "n_folds": int(cross_conformal),
                "level": float(level),
                "grouped": groups is not None,
            }
            cv = CrossConformalRegressor(self._make, cross_conformal, level)
            g = None
            if groups is not None:
                if len(groups) != len(smiles):
                    raise ValidationError(f"{len(smiles)} SMILES but {len(groups)} group labels")
                g = np.asarray(list(groups), dtype=object)[feats.rows]
            self.estimator_: Any = cv.fit(feats.X, Y[feats.rows, 0], seed=seed, groups=g)
        else:
            self.estimator_ = self._make().fit(feats.X, Y[feats.rows], seed=seed)
        self.rejects_ = list(feats.rejects)
        self.targets_ = list(targets) if targets is not None else [f"y{j}" for j in range(Y.shape[1])]
        self.calibrator_ = None
        return self

    def calibrate(
        self,
        smiles: Sequence[str],
        y: np.ndarray,
        method: str = "conformal",
        level: float = 0.9,
        features: Features | None = None,
    ) -> ScreeningModel:
        """Fit a calibrator on held-out molecules (not used for training).

        Parameters
        ----------
        method : {"conformal", "isotonic", "none"}
            See :mod:`scientia.screen.calibrate`. Classifiers are not recalibrated.
        level : float
            The conformal interval level.
        """
        if method == "none" or self.task == "classification":
            self.calibrator_ = None
            return self
        if method not in ("conformal", "isotonic"):
            from scientia.errors import UnknownNameError

            raise UnknownNameError.for_name("calibration", method, ("conformal", "isotonic", "none"))
        feats = features if features is not None else self.featurize(smiles)
        Y = np.asarray(y, dtype=np.float64)
        Y = (Y[:, None] if Y.ndim == 1 else Y)[feats.rows]
        raw = self.estimator_.predict(feats.X)
        cal: ConformalCalibrator | IsotonicCalibrator = (
            ConformalCalibrator(level) if method == "conformal" else IsotonicCalibrator()
        )
        self.calibrator_ = cal.fit(raw, Y)
        return self

    # -- predicting -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ValidationError("this ScreeningModel is not fitted yet; call fit or load one")

    def predict_features(self, X: np.ndarray, calibrated: bool = True) -> Prediction:
        """Predict from an already computed feature matrix (n, d)."""
        self._check_fitted()
        pred = self.estimator_.predict(X)
        if calibrated and self.calibrator_ is not None:
            pred = self.calibrator_.transform(pred)
        return pred

    def predict(self, smiles: Sequence[str], calibrated: bool = True) -> Prediction:
        """Predict for a list of SMILES; an unreadable one is an error naming it.

        Use :meth:`screen` for libraries, where bad lines are skipped and reported.
        """
        feats = self.featurize(smiles)
        if feats.rejects:
            r = feats.rejects[0]
            raise ValidationError(f"SMILES {r.line} ({r.smiles!r}) cannot be read: {r.reason}")
        return self.predict_features(feats.X, calibrated)

    def screen(
        self, smiles: Iterable[str], chunk_size: int = 10_000, start: int = 1
    ) -> Iterator[ScreenChunk]:
        """Predict a stream of SMILES chunk by chunk (memory bounded by ``chunk_size``)."""
        self._check_fitted()
        for feats in chunked(self.featurize, smiles, chunk_size, start):
            yield self.screen_features(feats)

    def screen_features(self, feats: Features) -> ScreenChunk:
        """Predict one featurized chunk (used by readers that know their own line numbers)."""
        m = len(self.targets_)
        pred = (
            self.predict_features(feats.X)
            if len(feats.rows)
            else Prediction(np.zeros((0, m)), np.zeros((0, m)))
        )
        return ScreenChunk(pred, feats)

    # -- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON part of a saved model."""
        from scientia.versions import package_versions

        self._check_fitted()
        get_params = getattr(self.estimator_, "get_params", None)
        return {
            "format": FORMAT,
            "model": self.model,
            "task": self.task,
            "options": get_params() if callable(get_params) else self.options,
            "featurizer": self.featurizer.to_dict(),
            "targets": self.targets_,
            "calibration": self.calibrator_.to_dict() if self.calibrator_ is not None else None,
            "cross_conformal": self.cross_conformal_,
            "versions": package_versions(),
        }

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write ``model.json`` and ``state.pt`` into ``directory`` (created if missing)."""
        import torch

        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        config = self.to_dict()
        if extra:
            config["training"] = extra
        torch.save(self.estimator_.state_dict(), path / "state.pt")
        (path / "model.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> ScreeningModel:
        """Read a model written by :meth:`save`; the featurizer is restored exactly."""
        import torch

        path = Path(directory)
        meta = path / "model.json"
        if not meta.is_file():
            raise ValidationError(f"{str(directory)!r} is not a saved screening model (no model.json in it)")
        try:
            config = json.loads(meta.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{meta} is not valid JSON ({exc})") from None
        if config.get("format") != FORMAT:
            raise ValidationError(
                f"{meta} has format {config.get('format')!r}; this scientia reads format {FORMAT}"
            )
        model = cls(config["model"], featurizer_from_dict(config["featurizer"]), config.get("options"))
        _warn_versions(config.get("versions", {}))
        state = torch.load(path / "state.pt", weights_only=True)
        cv = config.get("cross_conformal")
        estimator = CrossConformalRegressor(model._make, cv["n_folds"], cv["level"]) if cv else model._make()
        model.estimator_ = estimator.load_state_dict(state)
        model.cross_conformal_ = cv
        model.targets_ = list(config["targets"])
        model.rejects_ = []
        model.calibrator_ = calibrator_from_dict(config.get("calibration"))
        model.config_ = config
        return model


def _warn_versions(saved: dict[str, Any]) -> None:
    """Warn when the RDKit that made the features differs from the one installed."""
    from scientia.versions import package_versions

    now = package_versions()
    if saved.get("rdkit") and now.get("rdkit") and saved["rdkit"] != now["rdkit"]:
        warnings.warn(
            f"the model was trained with RDKit {saved['rdkit']}; RDKit {now['rdkit']} is installed, "
            "so descriptors may differ slightly",
            stacklevel=3,
        )
