"""Tabular generators: fit/sample/score contract, standardisation inside, class-conditional sampling."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from scientia.curate.generate import (
    ClassConditional,
    FlowGenerator,
    TabularGenerator,
    VAEGenerator,
    generators,
)
from scientia.errors import UnknownNameError, ValidationError

needs_zuko = pytest.mark.skipif(importlib.util.find_spec("zuko") is None, reason="needs zuko (sciml extra)")

COV = np.array([[1.0, 0.8], [0.8, 1.0]])


def _gaussian(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal([3.0, -1.0], COV, size=n)


def _true_logpdf(X: np.ndarray) -> np.ndarray:
    from scipy.stats import multivariate_normal

    return multivariate_normal([3.0, -1.0], COV).logpdf(X)


def _small(kind: str, **kw):
    if kind == "flow":
        return FlowGenerator(transforms=2, hidden=(32, 32), epochs=60, patience=15, **kw)
    return VAEGenerator(hidden=(32, 32), epochs=60, patience=15, **kw)


KINDS = [pytest.param("flow", marks=needs_zuko), "vae"]


@pytest.mark.parametrize("kind", KINDS)
def test_samples_follow_the_data(kind):
    # sampled rows have the data's mean and correlation (loose: small model, short training)
    X = _gaussian(800, 0)
    model = _small(kind).fit(X, seed=0)
    assert isinstance(model, TabularGenerator)
    S = model.sample(2000, seed=1)
    assert S.shape == (2000, 2)
    assert np.allclose(S.mean(axis=0), X.mean(axis=0), atol=0.25)
    assert np.corrcoef(S.T)[0, 1] > 0.5


@pytest.mark.parametrize("kind", KINDS)
def test_density_is_not_above_the_truth_and_ranks_outliers_low(kind):
    # Gibbs: the mean model log-density on fresh data cannot beat the true one; far points score low
    model = _small(kind).fit(_gaussian(1500, 0), seed=0)
    test = _gaussian(2000, 5)
    score = model.score_samples(test)
    assert score.shape == (2000,)
    assert score.mean() < _true_logpdf(test).mean() + 0.05
    assert score.mean() > _true_logpdf(test).mean() - 1.0
    far = test[:50] + np.array([8.0, -8.0])
    assert np.median(model.score_samples(far)) < np.percentile(score, 1)


@needs_zuko
def test_flow_log_prob_is_in_the_units_of_x():
    # rescaling X by 1000 changes the density by exactly -d·log(1000) (standardisation is inside)
    X = _gaussian(400, 1)
    a = _small("flow").fit(X, seed=3)
    b = _small("flow").fit(1000.0 * X, seed=3)
    assert np.allclose(b.log_prob(1000.0 * X[:20]), a.log_prob(X[:20]) - 2 * np.log(1000.0), atol=1e-3)


@needs_zuko
def test_flow_density_integrates_to_one_in_1d():
    # a 1-D flow's exp(log_prob) integrates to 1 over the line
    X = np.random.default_rng(0).gamma(2.0, 1.5, size=(500, 1))
    model = _small("flow").fit(X, seed=0)
    grid = np.linspace(-15, 35, 20001)[:, None]
    mass = np.trapezoid(np.exp(model.log_prob(grid)), grid[:, 0])
    assert mass == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("kind", KINDS)
def test_constant_columns_are_reproduced(kind):
    # a constant column comes back constant, and only rows holding it have a finite density
    X = np.column_stack([_gaussian(300, 2), np.full(300, 7.5)])
    model = _small(kind).fit(X, seed=0)
    S = model.sample(50, seed=0)
    assert np.all(S[:, 2] == 7.5)
    off = X[:3].copy()
    off[:, 2] = 1.0
    assert np.isfinite(model.score_samples(X[:3])).all()
    assert np.isneginf(model.score_samples(off)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_seeds_reproduce_and_global_torch_rng_untouched(kind):
    # the same seed gives the same model and samples; torch's global RNG is left as it was
    import torch

    X = _gaussian(200, 3)
    state = torch.random.get_rng_state()
    a = _small(kind).fit(X, seed=4).sample(10, seed=2)
    b = _small(kind).fit(X, seed=4).sample(10, seed=2)
    assert np.array_equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_vae_records_curves_and_stops_early():
    # validation loss is recorded each epoch; with patience it stops before the epoch limit
    X = _gaussian(300, 6)
    model = VAEGenerator(hidden=(16,), epochs=2000, patience=5, lr=1e-2).fit(X, seed=0)
    assert len(model.validation_curve_) == model.n_epochs_ == len(model.loss_curve_)
    assert model.n_epochs_ < 2000


def test_generator_errors():
    # NaN input, use before fit, wrong width, unknown flow kind and registry name
    with pytest.raises(ValidationError, match="NaN"):
        VAEGenerator().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValidationError, match="not fitted"):
        VAEGenerator().sample(3)
    with pytest.raises(ValidationError, match="constant"):
        VAEGenerator().fit(np.ones((10, 2)))
    model = VAEGenerator(epochs=2).fit(_gaussian(50, 0), seed=0)
    with pytest.raises(ValidationError, match="3 columns"):
        model.score_samples(np.zeros((2, 3)))
    with pytest.raises(ValidationError, match="nsf"):
        FlowGenerator(kind="glow").fit(_gaussian(50, 0))
    with pytest.raises(UnknownNameError, match="did you mean 'flow'"):
        generators.create("flo")


def test_class_conditional_draws_labelled_rows():
    # each class's samples lie around that class; proportions follow the request
    gen = np.random.default_rng(0)
    y = np.repeat(["a", "b"], [300, 100])
    X = gen.normal(size=(400, 2)) + np.where(y == "a", -4.0, 4.0)[:, None]
    model = ClassConditional(lambda: VAEGenerator(hidden=(16,), epochs=40, patience=10)).fit(X, y, seed=0)
    assert list(model.classes_) == ["a", "b"] and np.allclose(model.priors_, [0.75, 0.25])
    S, labels = model.sample(400, seed=1, proportions="balanced")
    assert abs((labels == "a").mean() - 0.5) < 0.1
    assert S[labels == "a", 0].mean() < -2 and S[labels == "b", 0].mean() > 2
    S, labels = model.sample(40, seed=1, proportions=[0, 1])
    assert set(labels) == {"b"}


def test_class_conditional_errors():
    # too few rows in a class, bad proportions, use before fit
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.r_[np.zeros(17), np.ones(3)]
    with pytest.raises(ValidationError, match=r"class 1\.0 has 3 rows"):
        ClassConditional(VAEGenerator).fit(X, y)
    with pytest.raises(ValidationError, match="not fitted"):
        ClassConditional(VAEGenerator).sample(5)
    model = ClassConditional(lambda: VAEGenerator(epochs=2), min_rows=2).fit(X, y, seed=0)
    with pytest.raises(ValidationError, match="proportions"):
        model.sample(5, proportions=[1.0])
