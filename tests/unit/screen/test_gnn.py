"""Molecular graphs and the D-MPNN ensemble: features, learning, seeds, saving, wiring, docs."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch_geometric")

from scientia.errors import ConfigError, ValidationError
from scientia.screen.features import Featurizer
from scientia.screen.gnn import GNNEnsemble, GNNEnsembleClassifier
from scientia.screen.graphs import GraphFeaturizer, collate
from scientia.screen.models import ScreeningModel

REPO = Path(__file__).resolve().parents[3]
TINY = {"n_members": 2, "hidden": 64, "epochs": 20, "batch_size": 100, "lr": 2e-3}  # seconds to train


@pytest.fixture(scope="module")
def esol_graphs(esol):
    """Graphs of all of ESOL, built once for the module."""
    feats = GraphFeaturizer().transform(esol["smiles"].tolist())
    assert len(feats.rows) == len(esol)
    return feats.X


def _columns(row, names):
    """The names of the columns set in one row of ``x`` or ``edge_attr``."""
    return {names[j] for j in np.flatnonzero(row.numpy())}


# -- featurizer ---------------------------------------------------------------------------------
def test_graph_shapes_and_one_hot_features():
    # ethanol: 3 atoms, 2 bonds as 4 directed edges; each atom sets one column per categorical group
    f = GraphFeaturizer()
    g = f.transform(["CCO"]).X[0]
    assert g.x.shape == (3, f.n_atom_features) and g.x.dtype.is_floating_point
    assert g.edge_index.shape == (2, 4) and g.edge_attr.shape == (4, f.n_bond_features)
    assert len(f.atom_feature_names) == f.n_atom_features and len(f.bond_feature_names) == f.n_bond_features
    oxygen = _columns(g.x[2], f.atom_feature_names)
    assert oxygen == {"element=O", "degree=1", "formal_charge=0", "hybridisation=SP3", "hydrogens=1"}
    assert _columns(g.edge_attr[0], f.bond_feature_names) == {"bond_type=SINGLE"}


def test_edges_come_in_reverse_pairs_and_stay_paired_in_a_batch():
    # columns 2k and 2k+1 are the two directions of bond k, also after collating several graphs
    graphs = GraphFeaturizer().transform(["c1ccccc1O", "CC(=O)N", "[Na+].[Cl-]", "C"]).X
    x, edge_index, edge_attr, batch = collate(graphs)
    assert x.shape[0] == 7 + 4 + 2 + 1 and batch.tolist().count(2) == 2
    src, dst = edge_index
    assert (src[0::2] == dst[1::2]).all() and (dst[0::2] == src[1::2]).all()
    assert (edge_attr[0::2] == edge_attr[1::2]).all()
    assert edge_index.shape[1] == 2 * (7 + 3)  # phenol 7 bonds, acetamide 3, the ions and methane none
    assert (batch[src] == batch[dst]).all()  # no edge between molecules


def test_aromatic_ring_and_unusual_atoms():
    # benzene atoms are aromatic ring atoms with aromatic bonds; Fe3+ falls in the "other" columns
    f = GraphFeaturizer()
    benzene, iron = f.transform(["c1ccccc1", "[Fe+3]"]).X
    atom = _columns(benzene.x[0], f.atom_feature_names)
    assert {"aromatic", "in_ring", "hybridisation=SP2", "element=C"} <= atom
    assert _columns(benzene.edge_attr[0], f.bond_feature_names) == {
        "bond_type=AROMATIC",
        "conjugated",
        "in_ring",
    }
    assert {"element=other", "formal_charge=other", "degree=0"} <= _columns(iron.x[0], f.atom_feature_names)
    assert iron.edge_index.shape == (2, 0) and iron.edge_attr.shape == (0, f.n_bond_features)


def test_invalid_smiles_are_skipped_with_line_and_reason():
    # unreadable SMILES never stop a run: the same rows, lines and RDKit reasons as for fingerprints
    smiles = ["CCO", "C1CC", "c1ccccc1", "CN(C)(C)(C)C", "", "CC"]
    feats = GraphFeaturizer().transform(smiles, start=10)
    fps = Featurizer("morgan").transform(smiles, start=10)
    assert feats.rows.tolist() == [0, 2, 5] and feats.lines.tolist() == [10, 12, 15]
    assert feats.X.shape == (3,) and feats.n_input == 6
    assert feats.rejects == fps.rejects
    assert "unclosed ring" in feats.rejects[0].reason and feats.rejects[2].reason == "empty SMILES"
    chunks = list(GraphFeaturizer().stream(iter(smiles), chunk_size=4))
    assert [c.lines.tolist() for c in chunks] == [[1, 3], [6]]


def test_featurizer_settings_round_trip_and_refuse_unknown_keys():
    # to_dict/from_dict restore the element list; unknown keys and other feature schemes are errors
    f = GraphFeaturizer(elements=("C", "N", "O"))
    assert GraphFeaturizer.from_dict(f.to_dict()) == f and f.n_atom_features == 4 + 28
    with pytest.raises(ConfigError, match="unknown graph featurizer key 'radius'"):
        GraphFeaturizer.from_dict({**f.to_dict(), "radius": 2})
    with pytest.raises(ConfigError, match="scheme"):
        GraphFeaturizer.from_dict({**f.to_dict(), "scheme": 99})
    with pytest.raises(ConfigError, match="element symbol 'Xx'"):
        GraphFeaturizer(elements=("C", "Xx")).transform(["C"])


# -- the ensemble -------------------------------------------------------------------------------
def test_gnn_beats_the_mean_on_esol(esol, esol_graphs, esol_split):
    # a small D-MPNN ensemble's test RMSE on ESOL is far below the training-mean predictor's, with
    # positive, finite std
    train, test = esol_split
    y = esol["logS"].to_numpy()
    model = GNNEnsemble(**TINY).fit(esol_graphs[train], y[train], seed=0)
    pred = model.predict(esol_graphs[test])
    rmse = float(np.sqrt(np.mean((pred.mean[:, 0] - y[test]) ** 2)))
    baseline = float(np.sqrt(np.mean((y[train].mean() - y[test]) ** 2)))
    assert rmse < 0.6 * baseline  # R² > 0.64
    assert pred.mean.shape == pred.std.shape == (len(test), 1)
    assert np.all(np.isfinite(pred.std)) and np.all(pred.std > 0)
    assert len(model.best_epochs_) == 2 and all(1 <= e <= TINY["epochs"] for e in model.best_epochs_)


def test_classifier_ranks_soluble_molecules(esol, esol_graphs, esol_split):
    # a GNN classifier of "soluble" (logS > -2) ranks test molecules well, probabilities in [0, 1]
    from scientia.screen.metrics import classification_metrics

    train, test = esol_split
    label = (esol["logS"].to_numpy() > -2).astype(float)
    clf = GNNEnsembleClassifier(**TINY).fit(esol_graphs[train], label[train], seed=0)
    pred = clf.predict(esol_graphs[test])
    assert np.all((pred.mean >= 0) & (pred.mean <= 1)) and np.all(pred.std >= 0)
    assert classification_metrics(label[test], pred)["roc_auc"] > 0.85
    with pytest.raises(ValidationError, match="0 or 1"):
        GNNEnsembleClassifier(epochs=1).fit(esol_graphs[:20], np.linspace(0, 3, 20))


def test_same_seed_same_model_and_no_global_rng(esol, esol_graphs):
    # two fits with one seed predict identically; another seed differs; no global RNG is touched
    import torch

    X, y = esol_graphs[:120], esol["logS"].to_numpy()[:120]
    opts = {"n_members": 2, "hidden": 16, "epochs": 3}
    np_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    a = GNNEnsemble(**opts).fit(X, y, seed=5).predict(X[:20])
    assert np.array_equal(np.random.get_state()[1], np_state) and torch.equal(
        torch.get_rng_state(), torch_state
    )
    b = GNNEnsemble(**opts).fit(X, y, seed=5).predict(X[:20])
    c = GNNEnsemble(**opts).fit(X, y, seed=6).predict(X[:20])
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)
    assert not np.allclose(a.mean, c.mean)


def test_prediction_does_not_depend_on_the_batch(esol, esol_graphs):
    # a molecule's prediction is the same alone, in small batches or in one large batch
    X, y = esol_graphs[:60], esol["logS"].to_numpy()[:60]
    model = GNNEnsemble(n_members=2, hidden=16, epochs=2, predict_batch=7).fit(X, y, seed=0)
    small = model.predict(X)
    model.predict_batch = 1000
    large = model.predict(X)
    np.testing.assert_allclose(small.mean, large.mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict(X[3:4]).mean, large.mean[3:4], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["gnn", "gnn-classifier"])
def test_screening_model_saves_and_loads_identically(tmp_path, esol, name):
    # a saved GNN model (JSON + tensors read with weights_only) predicts exactly as before saving
    import torch

    smiles = esol["smiles"].tolist()[:160]
    y = esol["logS"].to_numpy()[:160]
    if name == "gnn-classifier":
        y = (y > -2).astype(float)
    options = {"n_members": 2, "hidden": 16, "epochs": 2}
    model = ScreeningModel(name, options=options).fit(smiles[:120], y[:120], seed=0, targets=["logS"])
    model.calibrate(smiles[120:], y[120:], "conformal")
    model.save(tmp_path / "m")
    state = torch.load(tmp_path / "m" / "state.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    loaded = ScreeningModel.load(tmp_path / "m")
    assert loaded.featurizer == model.featurizer == GraphFeaturizer()
    raw_a = model.predict(smiles[:30], calibrated=False)
    raw_b = loaded.predict(smiles[:30], calibrated=False)
    np.testing.assert_array_equal(raw_b.mean, raw_a.mean)
    np.testing.assert_array_equal(raw_b.std, raw_a.std)
    a, b = model.predict(smiles[:30]), loaded.predict(smiles[:30])
    np.testing.assert_allclose(b.std, a.std, rtol=1e-6)
    assert loaded.estimator_.get_params() == model.estimator_.get_params()


def test_graph_models_and_features_must_match(esol_graphs):
    # a GNN refuses fingerprints and a feature matrix; the MLP ensemble refuses graphs; graphs
    # made with another element list are refused at predict time
    with pytest.raises(ConfigError, match="takes molecular graphs"):
        ScreeningModel("gnn", Featurizer("morgan"))
    with pytest.raises(ConfigError, match="takes a feature matrix"):
        ScreeningModel("ensemble", GraphFeaturizer())
    with pytest.raises(ValidationError, match="not a feature matrix"):
        GNNEnsemble(epochs=1).fit(np.zeros((5, 3)), np.arange(5.0))
    model = GNNEnsemble(n_members=1, hidden=8, epochs=1).fit(esol_graphs[:20], np.arange(20.0), seed=0)
    other = GraphFeaturizer(elements=("C", "O")).transform(["CCO"]).X
    with pytest.raises(ValidationError, match="atom"):
        model.predict(other)
    with pytest.raises(ValidationError, match="not fitted"):
        GNNEnsemble().predict(esol_graphs[:2])


def test_screening_a_stream_with_the_gnn(esol):
    # a GNN screening model streams chunks, reporting bad lines and predicting the good ones
    model = ScreeningModel("gnn", options={"n_members": 1, "hidden": 8, "epochs": 1})
    model.fit(esol["smiles"].tolist()[:40], esol["logS"].to_numpy()[:40], seed=0)
    chunks = list(model.screen(["CCO", "C1CC", "c1ccccc1O", "CC"], chunk_size=3))
    assert [c.prediction.mean.shape for c in chunks] == [(2, 1), (1, 1)]
    assert [(r.line, r.smiles) for c in chunks for r in c.rejects] == [(2, "C1CC")]


# -- documentation ------------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["scientia.screen.graphs", "scientia.screen.gnn"])
def test_docstring_examples_run(module):
    # the examples in the docstrings run as written
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_docs_gnn_example_runs(monkeypatch, capsys):
    # the Python example of the GNN section of docs/screen.md runs from the repository's root and
    # learns ESOL clearly better than the mean
    text = (REPO / "docs" / "screen.md").read_text(encoding="utf-8")
    section = text.split("## Graph neural networks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(code, "docs/screen.md", "exec"), namespace)
    y_test = namespace["y"][namespace["split"].test]
    assert namespace["rmse"] < 0.65 * y_test.std()
    assert "test RMSE" in capsys.readouterr().out
