"""The train → calibrate → test protocol and the model card it writes."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import ValidationError
from scientia.screen.card import file_sha256, write_model_card
from scientia.screen.features import Featurizer
from scientia.screen.train import train_and_evaluate


def test_protocol_beats_the_baseline_and_writes_a_card(tmp_path, esol):
    # on ESOL the GP beats the training-mean baseline, its 90% interval covers ~90% of test
    # molecules, bad SMILES and missing targets are skipped and counted, and the card says so
    smiles = [*esol["smiles"].tolist()[:400], "C1CC", "CCO"]
    y = np.r_[esol["logS"].to_numpy()[:400], 0.0, np.nan]
    result = train_and_evaluate(smiles, y, "gp", split="random", seed=0, n_boot=200, targets=["logS"])
    m, base = result.metrics, result.baseline
    assert m["rmse"] < 0.7 * base["rmse"] and m["r2"] > 0.5
    assert 0.75 <= m["coverage"] <= 1.0
    assert [r.line for r in result.rejects] == [401] and result.n_missing_target == 1
    lo, hi = result.intervals["rmse"]
    assert lo <= m["rmse"] <= hi
    assert sum(result.split.sizes().values()) == 400
    data = tmp_path / "data.csv"
    data.write_text("smiles\n", encoding="utf-8")
    write_model_card(tmp_path, result, {"path": "data.csv", "sha256": file_sha256(data), "smiles": "smiles"})
    card = (tmp_path / "model_card.md").read_text(encoding="utf-8")
    assert file_sha256(data) in card and "random" in card and f"{m['rmse']:.3f}" in card
    assert "## Intended use" in card and "## Limits" in card
    assert (tmp_path / "calibration.png").stat().st_size > 5000


def test_cv_plus_protocol_trains_fold_models_and_saves_them(tmp_path, esol):
    # calibration="cv+": validation molecules join training, 5 fold models give the intervals,
    # the model saves and loads with identical predictions, and multi-target is refused
    from scientia.errors import ConfigError
    from scientia.screen.models import ScreeningModel

    smiles = esol["smiles"].tolist()[:300]
    y = esol["logS"].to_numpy()[:300]
    result = train_and_evaluate(smiles, y, "gp", split="random", seed=0, n_boot=0, calibration="cv+")
    model = result.model
    assert model.calibrator_ is None
    assert model.cross_conformal_ == {"n_folds": 5, "level": 0.9, "grouped": False}
    assert len(model.estimator_.models_) == 5
    sizes = result.split.sizes()
    assert len(model.estimator_.scores_) == sizes["train"] + sizes["val"]
    assert 0.75 <= result.metrics["coverage"] <= 1.0 and result.settings["calibration"] == "cv+"
    write_model_card(tmp_path, result, {"path": "x.csv", "sha256": "0" * 64})
    assert "CV+" in (tmp_path / "model_card.md").read_text(encoding="utf-8")
    model.save(tmp_path / "m")
    again = ScreeningModel.load(tmp_path / "m")
    a, b = model.predict(smiles[:20]), again.predict(smiles[:20])
    np.testing.assert_allclose(a.mean, b.mean) and np.testing.assert_allclose(a.std, b.std)
    with pytest.raises(ConfigError, match="one target"):
        ScreeningModel("gp").fit(smiles[:50], np.c_[y[:50], y[:50]], cross_conformal=3)


def test_auto_keeps_the_candidate_best_on_validation(tmp_path, esol):
    # model="auto" trains ensemble, gnn and gp on one split and keeps the lowest validation RMSE;
    # the kept model is exactly the one its own name makes (same split and seeds)
    smiles, y = esol["smiles"].tolist()[:200], esol["logS"].to_numpy()[:200]
    opts = {"n_members": 2, "epochs": 3}
    auto = train_and_evaluate(smiles, y, "auto", options=opts, split="random", seed=1, n_boot=0)
    scores = auto.settings["candidates"]
    assert set(scores) == {"ensemble", "gnn", "gp"} and auto.settings["chosen_by"] == "rmse"
    assert auto.settings["chosen"] == min(scores, key=scores.get) == auto.model.model
    alone = train_and_evaluate(smiles, y, auto.model.model, options=None if auto.model.model == "gp" else opts,
                               split="random", seed=1, n_boot=0)  # fmt: skip
    assert alone.metrics["rmse"] == pytest.approx(auto.metrics["rmse"])
    assert alone.validation["rmse"] == pytest.approx(scores[auto.model.model])
    write_model_card(tmp_path, auto, {"path": "x.csv", "sha256": "0" * 64})
    assert "Chosen by" in (tmp_path / "model_card.md").read_text(encoding="utf-8")
    from scientia.errors import ConfigError

    with pytest.raises(ConfigError, match="own features"):
        train_and_evaluate(smiles, y, "auto", featurizer=Featurizer("morgan"))


def test_classification_protocol(tmp_path, esol):
    # the classifier is scored by ROC-AUC / PR-AUC / ECE and its card has a reliability figure
    smiles = esol["smiles"].tolist()[:600]
    y = (esol["logS"].to_numpy()[:600] > -2).astype(float)
    opts = {"n_members": 3, "epochs": 20, "hidden": [128, 32]}
    result = train_and_evaluate(smiles, y, "classifier", featurizer=Featurizer("morgan-count"), options=opts,
                                split="random", sizes=(0.6, 0.1, 0.3), seed=0, n_boot=50)  # fmt: skip
    assert {"roc_auc", "pr_auc", "ece"} <= set(result.metrics) and result.metrics["roc_auc"] > 0.8
    assert result.settings["calibration"] == "none"
    write_model_card(tmp_path, result, {"path": "x.csv", "sha256": "0" * 64})
    assert "ROC-AUC" in (tmp_path / "model_card.md").read_text(encoding="utf-8")


def test_too_few_molecules_is_an_error():
    # ten readable molecules with targets are the least the protocol accepts
    with pytest.raises(ValidationError, match="at least 10"):
        train_and_evaluate(["CCO"] * 5, np.zeros(5), "gp")


def test_cv_plus_folds_keep_scaffolds_together_on_a_scaffold_split(esol):
    # with a scaffold split, CV+ residuals must be those of unseen scaffolds: no scaffold in two folds
    from scientia.screen.splits import bemis_murcko

    smiles = esol["smiles"].tolist()[:300]
    y = esol["logS"].to_numpy()[:300]
    result = train_and_evaluate(smiles, y, "gp", split="scaffold", seed=0, n_boot=0, calibration="cv+")
    assert result.model.cross_conformal_["grouped"] is True
    fit_rows = np.concatenate([result.split.train, result.split.val])  # the order fit saw
    scaf = np.asarray(bemis_murcko([smiles[i] for i in fit_rows]), dtype=object)
    folds = result.model.estimator_.fold_
    assert all(len(set(folds[scaf == s])) == 1 for s in set(scaf))
    assert len(set(folds)) == 5
