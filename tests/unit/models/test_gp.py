"""GP surrogate: properties beyond the Surrogate contract (which tests/conformance checks)."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import ValidationError
from scientia.models.gp import GPSurrogate


def test_gp_needs_two_points():
    # fitting on one observation is refused with a clear message
    with pytest.raises(ValidationError, match="n >= 2"):
        GPSurrogate().fit(np.zeros((1, 2)), np.zeros((1, 1)))


def test_gp_is_more_certain_at_its_data_than_far_away():
    # the predictive std at training inputs is below the std at the far corner of the cube
    gen = np.random.default_rng(0)
    X = gen.uniform(0.0, 0.4, size=(12, 2))
    y = np.sin(5 * X[:, :1]) + X[:, 1:]
    model = GPSurrogate().fit(X, y, seed=0)
    assert model.predict(X).std.max() < model.predict(np.array([[1.0, 1.0]])).std[0, 0]


def test_gp_fit_leaves_torch_global_rng_alone():
    # fitting does not reseed torch's global generator
    import torch

    torch.manual_seed(123)
    before = torch.get_rng_state()
    GPSurrogate().fit(np.random.default_rng(0).random((8, 2)), np.arange(8.0)[:, None], seed=0)
    assert torch.equal(torch.get_rng_state(), before)


def test_warped_gp_predicts_in_outcome_units():
    # with a Yeo-Johnson warp, predictions of a skewed function come back in its own units
    rng = np.random.default_rng(0)
    X = rng.random((40, 2))
    y = np.exp(3 * X[:, 0]) + X[:, 1]
    model = GPSurrogate(warp="yeo-johnson").fit(X, y[:, None], seed=0)
    Xt = rng.random((100, 2))
    yt = np.exp(3 * Xt[:, 0]) + Xt[:, 1]
    pred = model.predict(Xt)
    assert np.sqrt(np.mean((pred.mean[:, 0] - yt) ** 2)) < 0.1 * yt.std()
    assert np.all(pred.std > 0)


def test_warped_gp_with_too_few_points_falls_back_to_no_warp():
    # three points (or a constant outcome) are too few to fit a transform; the GP still fits them
    X = np.array([[0.1], [0.5], [0.9]])
    for y in ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]):
        pred = GPSurrogate(warp="yeo-johnson").fit(X, np.array(y)[:, None], seed=0).predict(X)
        assert np.allclose(pred.mean[:, 0], y, atol=0.05)
