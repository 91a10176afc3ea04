"""Screening models: they learn ESOL, their intervals cover held-out molecules, they save and load."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import UnknownNameError, ValidationError
from scientia.screen.ensemble import MLPEnsembleClassifier, MLPEnsembleRegressor
from scientia.screen.gp import TanimotoGP, tanimoto_similarity
from scientia.screen.models import ScreeningModel
from scientia.testing import check_surrogate

FAST = {"n_members": 3, "epochs": 25, "hidden": (128, 32)}


def _rmse(pred, y):
    return float(np.sqrt(np.mean((pred.mean[:, 0] - y) ** 2)))


def test_ensemble_beats_the_mean_on_esol(esol, esol_counts, esol_split):
    # the fingerprint ensemble's test RMSE on ESOL is well below the training-mean predictor's
    train, test = esol_split
    y = esol["logS"].to_numpy()
    model = MLPEnsembleRegressor(n_sparse=2048, **FAST).fit(esol_counts[train], y[train], seed=0)
    pred = model.predict(esol_counts[test])
    baseline = float(np.sqrt(np.mean((y[train].mean() - y[test]) ** 2)))
    assert _rmse(pred, y[test]) < 0.65 * baseline
    assert np.all(pred.std > 0)
    # its std means something: the larger half of the std holds the larger errors
    err = np.abs(pred.mean[:, 0] - y[test])
    big = pred.std[:, 0] > np.median(pred.std[:, 0])
    assert err[big].mean() > err[~big].mean()


def test_tanimoto_gp_learns_and_covers_esol(esol, esol_counts, esol_split):
    # the Tanimoto GP beats the mean, and conformal calibration on 100 molecules gives ~90% coverage
    from scientia.screen.calibrate import ConformalCalibrator

    train, test = esol_split
    fit_rows, cal_rows = train[:-100], train[-100:]
    y = esol["logS"].to_numpy()
    gp = TanimotoGP().fit(esol_counts[fit_rows], y[fit_rows], seed=0)
    pred = gp.predict(esol_counts[test])
    assert _rmse(pred, y[test]) < 0.5 * np.std(y[test])
    cal = ConformalCalibrator(0.9).fit(gp.predict(esol_counts[cal_rows]), y[cal_rows])
    lo, hi = cal.interval(pred)
    coverage = np.mean((y[test] >= lo[:, 0]) & (y[test] <= hi[:, 0]))
    assert 0.8 <= coverage <= 0.98


def test_tanimoto_similarity_on_bits_is_jaccard():
    # on 0/1 vectors both kernels are |a ∩ b| / |a ∪ b|; identical rows give 1
    import torch

    a = torch.tensor([[1.0, 1, 0, 1], [0, 0, 0, 0]])
    b = torch.tensor([[1.0, 0, 1, 1], [0, 0, 0, 0]])
    for kind in ("tanimoto", "minmax"):
        k = tanimoto_similarity(a, b, kind)
        assert k[0, 0].item() == pytest.approx(2 / 4) and k[1, 1].item() == 1.0
    counts = torch.tensor([[2.0, 1, 0]])
    assert tanimoto_similarity(counts, torch.tensor([[1.0, 1, 1]]), "minmax").item() == pytest.approx(2 / 4)


def test_classifier_ensemble_ranks_soluble_molecules(esol, esol_counts, esol_split):
    # a classifier of "soluble" (logS > -2) ranks test molecules well, with probabilities in [0, 1]
    from scientia.screen.metrics import classification_metrics

    train, test = esol_split
    label = (esol["logS"].to_numpy() > -2).astype(float)
    clf = MLPEnsembleClassifier(n_sparse=2048, **FAST).fit(esol_counts[train], label[train], seed=0)
    pred = clf.predict(esol_counts[test])
    assert np.all((pred.mean >= 0) & (pred.mean <= 1)) and np.all(pred.std >= 0)
    assert classification_metrics(label[test], pred)["roc_auc"] > 0.85


def test_classifier_refuses_non_binary_targets(esol_counts):
    # regression values given to the classifier are an error, not a silent threshold
    with pytest.raises(ValidationError, match="0 or 1"):
        MLPEnsembleClassifier(n_sparse=2048, epochs=1).fit(esol_counts[:20], np.linspace(0, 3, 20))


@pytest.mark.parametrize(
    "factory",
    [lambda: MLPEnsembleRegressor(n_members=3, epochs=150, batch_size=16, hidden=(32, 16)), TanimotoGP],
    ids=["ensemble", "gp"],
)
def test_estimators_pass_the_surrogate_conformance_check(factory):
    # the screening estimators honour the Surrogate contract every scientia surrogate passes
    check_surrogate(factory)


def test_same_seed_same_model(esol, esol_counts):
    # two fits with one seed predict identically; another seed differs
    y = esol["logS"].to_numpy()[:200]
    X = esol_counts[:200]
    opts = {"n_sparse": 2048, "n_members": 2, "epochs": 3, "hidden": (32,)}
    a = MLPEnsembleRegressor(**opts).fit(X, y, seed=5).predict(X[:20])
    b = MLPEnsembleRegressor(**opts).fit(X, y, seed=5).predict(X[:20])
    c = MLPEnsembleRegressor(**opts).fit(X, y, seed=6).predict(X[:20])
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.allclose(a.mean, c.mean)


@pytest.mark.parametrize("n, epochs", [(2, 1), (23, 5), (65, 2)])
def test_ensemble_trains_with_very_few_optimizer_steps(n, epochs):
    # 1, 10 and 10 optimizer steps: the one-cycle schedule once divided by zero at exactly 10
    rng = np.random.default_rng(0)
    model = MLPEnsembleRegressor(n_members=2, epochs=epochs, batch_size=16, hidden=(4,))
    pred = model.fit(rng.random((n, 8)), rng.random(n), seed=0).predict(rng.random((3, 8)))
    assert np.all(np.isfinite(pred.mean)) and np.all(pred.std > 0)


def test_sparse_fingerprints_fit_and_predict_as_dense_ones(esol, esol_counts):
    # a CSR fingerprint matrix (what screening featurizes) gives the dense matrix's model and predictions
    import scipy.sparse

    y = esol["logS"].to_numpy()[:200]
    X = esol_counts[:200]
    opts = {"n_sparse": 2048, "n_members": 2, "epochs": 3, "hidden": (32,)}
    dense = MLPEnsembleRegressor(**opts).fit(X, y, seed=5)
    sparse = MLPEnsembleRegressor(**opts).fit(scipy.sparse.csr_matrix(X), y, seed=5)
    a, b = dense.predict(X[:50]), sparse.predict(scipy.sparse.csr_matrix(X[:50]))
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-5)
    np.testing.assert_allclose(a.std, dense.predict(scipy.sparse.csr_matrix(X[:50])).std, rtol=1e-5)
    with pytest.raises(ValidationError, match="fingerprint columns only"):
        MLPEnsembleRegressor(**{**opts, "n_sparse": 1024}).fit(scipy.sparse.csr_matrix(X), y)


@pytest.mark.parametrize("name", ["ensemble", "gp", "classifier"])
def test_screening_model_saves_and_loads_identically(tmp_path, esol, name):
    # a saved model re-featurizes SMILES identically and predicts the same calibrated values
    smiles = esol["smiles"].tolist()[:160]
    y = esol["logS"].to_numpy()[:160]
    if name == "classifier":
        y = (y > -2).astype(float)
    options = None if name == "gp" else {"n_members": 2, "epochs": 2, "hidden": [32]}
    model = ScreeningModel(name, options=options).fit(smiles[:120], y[:120], seed=0, targets=["logS"])
    model.calibrate(smiles[120:], y[120:], "conformal")
    model.save(tmp_path / "m")
    loaded = ScreeningModel.load(tmp_path / "m")
    assert loaded.featurizer == model.featurizer and loaded.targets_ == ["logS"]
    a, b = model.predict(smiles[:30]), loaded.predict(smiles[:30])
    np.testing.assert_allclose(b.mean, a.mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.std, a.std, rtol=1e-5, atol=1e-6)
    assert (loaded.calibrator_ is None) == (name == "classifier")


def test_screening_model_reports_bad_input(esol):
    # unknown models suggest a name; a bad SMILES in predict() is named; unfitted models say so
    with pytest.raises(UnknownNameError, match="did you mean 'ensemble'"):
        ScreeningModel("ensamble")
    model = ScreeningModel("gp")
    with pytest.raises(ValidationError, match="not fitted"):
        model.predict(["CCO"])
    model.fit(esol["smiles"].tolist()[:40], esol["logS"].to_numpy()[:40], seed=0)
    with pytest.raises(ValidationError, match="C1CC"):
        model.predict(["CCO", "C1CC"])
    with pytest.raises(ValidationError, match=r"no model\.json"):
        ScreeningModel.load("/nonexistent/folder")
