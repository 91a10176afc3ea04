"""Labelling with few labels: partial-label encoding, propagation, self-training, active queries."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.curate.annotate import (
    STRATEGIES,
    ActiveLearner,
    LabelPropagator,
    SelfTrainer,
    SupervisedOnly,
    encode_partial,
    is_unlabelled,
    labelled_subset,
    learning_curve,
    query,
)
from scientia.errors import UnknownNameError, ValidationError


def moons(n: int = 400, noise: float = 0.08, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: a linear model cannot separate them, a graph can."""
    gen = np.random.default_rng(seed)
    t = gen.uniform(0, np.pi, n)
    label = gen.integers(2, size=n)
    X = np.where(label[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + noise * gen.normal(size=X.shape), label


def test_unlabelled_spellings():
    # -1, NaN, None and "" all mean "no label"; real labels of any type are kept
    assert is_unlabelled(np.array([0, -1, 2])).tolist() == [False, True, False]
    assert is_unlabelled(np.array([0.0, np.nan, 1.0])).tolist() == [False, True, False]
    assert is_unlabelled(["a", None, "", "b", float("nan")]).tolist() == [False, True, True, False, True]
    codes, classes = encode_partial(["glass", None, "other", "glass"])
    assert classes.tolist() == ["glass", "other"] and codes.tolist() == [0, -1, 1, 0]


def test_partial_label_errors():
    # too few classes or a length mismatch are one-line user errors
    with pytest.raises(ValidationError, match="at least one row of each"):
        encode_partial([1, -1, 1])
    with pytest.raises(ValidationError, match="3 labels for 4 rows"):
        encode_partial([0, 1, -1], n_rows=4)


def test_propagation_beats_supervised_on_moons():
    # with 3 labels per class, label propagation follows the moons; a linear classifier cannot
    X, y = moons()
    sizes = [6]
    prop = learning_curve(LabelPropagator, X, y, sizes, seeds=3, seed=0)
    sup = learning_curve(SupervisedOnly, X, y, sizes, seeds=3, seed=0)
    assert prop.mean[0] > 0.95
    assert prop.mean[0] > sup.mean[0] + 0.05


def test_propagator_attributes_and_string_labels():
    # the fitted model labels every row, keeps given labels, and predicts new rows
    X, y = moons(200)
    names = np.where(y == 0, "upper", "lower").astype(object)
    partial = np.full(200, None, dtype=object)
    rows = labelled_subset(y, 10, seed=1)
    partial[rows] = names[rows]
    model = LabelPropagator().fit(X, partial)
    assert model.transduction_[rows].tolist() == names[rows].tolist()
    assert model.label_distributions_.shape == (200, 2)
    assert np.allclose(model.label_distributions_.sum(axis=1), 1.0)
    assert set(model.predict(X[:5])) <= {"upper", "lower"}
    spread = LabelPropagator(method="spreading").fit(X, partial)
    assert (spread.transduction_ == names).mean() > 0.8
    with pytest.raises(ValidationError, match="propagation"):
        LabelPropagator(method="diffusion").fit(X, partial)


def test_self_training_uses_confident_pseudo_labels():
    # pseudo-labels are only taken above the threshold, in rounds, and every row gets a label
    gen = np.random.default_rng(0)
    X = np.r_[gen.normal(-2, 1, (150, 2)), gen.normal(2, 1, (150, 2))]
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    partial = np.full(300, -1)
    partial[[0, 1, 150, 151]] = y[[0, 1, 150, 151]]
    model = SelfTrainer(threshold=0.8).fit(X, partial)
    assert model.history_ and model.pseudo_labelled_.sum() == sum(model.history_)
    assert not model.pseudo_labelled_[[0, 1, 150, 151]].any()
    assert (model.transduction_ == y).mean() > 0.9
    strict = SelfTrainer(threshold=0.99).fit(X, partial)
    assert strict.pseudo_labelled_.sum() <= model.pseudo_labelled_.sum()
    with pytest.raises(ValidationError, match="threshold"):
        SelfTrainer(threshold=0).fit(X, partial)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_query_returns_distinct_unlabelled_indices(strategy):
    # every strategy returns n distinct indices of rows that have no label yet
    X, y = moons(300)
    labelled = np.zeros(300, bool)
    labelled[labelled_subset(y, 10, seed=0)] = True
    model = SupervisedOnly().fit(X, np.where(labelled, y, -1)).model_
    picks = query(strategy, X, labelled, 25, model=model, seed=0)
    assert picks.shape == (25,) and len(set(picks.tolist())) == 25
    assert not labelled[picks].any() and picks.min() >= 0 and picks.max() < 300
    assert query(strategy, X, np.ones(300, bool), 5, model=model).size == 0


def test_query_asks_for_at_most_the_pool():
    # asking for more items than are unlabelled returns each unlabelled row once
    X, _ = moons(50)
    labelled = np.ones(50, bool)
    labelled[[3, 7, 9]] = False
    assert sorted(query("diversity", X, labelled, 10, seed=0).tolist()) == [3, 7, 9]


def test_diversity_picks_far_points_and_uncertainty_picks_the_boundary():
    # k-center goes to the farthest cluster; margin sampling goes to the decision boundary
    X = np.r_[np.zeros((20, 2)), np.full((5, 2), 10.0), np.c_[np.linspace(-1, 1, 20), np.zeros(20)] + [5, 0]]
    labelled = np.zeros(len(X), bool)
    labelled[0] = True
    assert query("diversity", X, labelled, 1, seed=0)[0] in range(20, 25)
    y = (X[:, 0] > 5).astype(int)
    lab = np.zeros(len(X), bool)
    lab[[0, 1, 20, 21]] = True
    model = SupervisedOnly().fit(X, np.where(lab, y, -1)).model_
    margin_pick = query("margin", X, lab, 1, model=model, seed=0)[0]
    assert 3 < X[margin_pick, 0] < 7


def test_expected_model_change_needs_a_linear_model_and_unknown_strategy():
    # gradient length is defined for logistic regression; other models get a how-to-fix error
    from sklearn.ensemble import RandomForestClassifier

    X, y = moons(100)
    lab = np.zeros(100, bool)
    lab[:10] = True
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[:10], y[:10])
    with pytest.raises(ValidationError, match="logistic-regression"):
        query("expected_model_change", X, lab, 3, model=forest)
    with pytest.raises(UnknownNameError, match="did you mean 'margin'"):
        query("margni", X, lab, 3)


def test_active_learner_loop_records_a_learning_curve():
    # the loop asks an oracle, adds its labels and records accuracy against the number of labels
    X, y = moons(300)
    partial = np.full(300, -1)
    partial[[int(np.flatnonzero(y == 0)[0])]] = 0  # one class known: diversity until a second shows up
    learner = ActiveLearner("margin", seed=0).fit(X, partial)
    history = learner.run(
        lambda rows: y[rows], budget=30, batch_size=10, evaluate=lambda m: float(np.mean(m.predict(X) == y))
    )
    assert [h.n_labels for h in history] == [11, 21, 31]
    assert all(h.score is not None and h.score > 0.6 for h in history[1:])
    assert len({r for h in history for r in h.queried}) == 30


def test_active_learner_teach_validates_and_skips_blanks():
    # blank answers are skipped; a row outside the data is a user error
    X, y = moons(40)
    learner = ActiveLearner(seed=0).fit(X, np.r_[y[:4], np.full(36, -1)])
    learner.teach([10, 11], [y[10], ""])
    assert learner.labelled_[10] and not learner.labelled_[11]
    with pytest.raises(ValidationError, match="row 99"):
        learner.teach([99], [1])


def test_learning_curve_shape_and_test_set():
    # one accuracy per seed and label count; a separate test set may be given
    X, y = moons(200)
    curve = learning_curve(SupervisedOnly, X, y, [4, 20], seeds=2, X_test=X[:50], y_test=y[:50], seed=0)
    assert curve.accuracy.shape == (2, 2) and curve.n_labels.tolist() == [4, 20]
    assert ((curve.mean >= 0) & (curve.mean <= 1)).all()
    with pytest.raises(ValidationError, match="n_labels"):
        labelled_subset(y, 1)
