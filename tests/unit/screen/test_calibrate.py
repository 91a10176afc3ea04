"""Conformal, CV+ and isotonic calibration: intervals hold what they promise on held-out data."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import ValidationError
from scientia.screen.calibrate import (
    ConformalCalibrator,
    CrossConformalRegressor,
    IsotonicCalibrator,
    calibrator_from_dict,
)
from scientia.types import Prediction


def _overconfident(n, gen):
    """Heteroscedastic truth; the model's std has the right shape but a third of the scale."""
    true_sd = gen.uniform(0.2, 2.0, n)
    mean = gen.normal(size=n)
    y = mean + gen.normal(size=n) * true_sd
    return Prediction(mean, true_sd / 3), y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conformal_interval_covers_held_out_data(seed):
    # split conformal turns a 3x over-confident model into ~90% coverage on fresh data
    gen = np.random.default_rng(seed)
    cal_pred, y_cal = _overconfident(400, gen)
    test_pred, y_test = _overconfident(4000, gen)
    cal = ConformalCalibrator(0.9).fit(cal_pred, y_cal)
    lo, hi = cal.interval(test_pred)
    coverage = np.mean((y_test >= lo[:, 0]) & (y_test <= hi[:, 0]))
    raw_lo, raw_hi = test_pred.interval(0.9)
    assert np.mean((y_test >= raw_lo[:, 0]) & (y_test <= raw_hi[:, 0])) < 0.6
    assert 0.86 <= coverage <= 0.94


def test_calibrated_prediction_reproduces_the_conformal_interval():
    # transform() rescales the std so that Prediction.interval(level) is the conformal interval
    gen = np.random.default_rng(3)
    pred, y = _overconfident(200, gen)
    cal = ConformalCalibrator(0.9).fit(pred, y)
    lo, hi = cal.interval(pred)
    tlo, thi = cal.transform(pred).interval(0.9)
    np.testing.assert_allclose(tlo, lo) and np.testing.assert_allclose(thi, hi)
    np.testing.assert_array_equal(cal.transform(pred).mean, pred.mean)


def test_conformal_refuses_too_few_calibration_points():
    # a 90% conformal interval needs at least 9 calibration molecules
    pred = Prediction(np.zeros(5), np.ones(5))
    with pytest.raises(ValidationError, match="at least 9"):
        ConformalCalibrator(0.9).fit(pred, np.zeros(5))


def test_isotonic_recalibration_fixes_the_scale():
    # an isotonic map of variance brings an over-confident model's 90% coverage near 90%
    gen = np.random.default_rng(4)
    cal_pred, y_cal = _overconfident(2000, gen)
    test_pred, y_test = _overconfident(4000, gen)
    new = IsotonicCalibrator().fit(cal_pred, y_cal).transform(test_pred)
    lo, hi = new.interval(0.9)
    assert 0.85 <= np.mean((y_test >= lo[:, 0]) & (y_test <= hi[:, 0])) <= 0.95
    order = np.argsort(test_pred.std[:, 0])
    assert np.all(np.diff(new.std[order, 0]) >= -1e-12)  # the ranking by std is kept


@pytest.mark.parametrize("kind", [ConformalCalibrator, IsotonicCalibrator])
def test_calibrators_round_trip_through_json(kind):
    # to_dict/from_dict rebuild a calibrator that transforms identically
    import json

    gen = np.random.default_rng(5)
    pred, y = _overconfident(100, gen)
    cal = kind().fit(pred, y)
    again = calibrator_from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_allclose(again.transform(pred).std, cal.transform(pred).std, rtol=1e-5)


class _Ridge:
    """A Bayesian linear model returning a Prediction (for CV+)."""

    def fit(self, X, y, seed=None):
        from sklearn.linear_model import BayesianRidge

        self.m = BayesianRidge().fit(X, y)
        return self

    def predict(self, X):
        mean, std = self.m.predict(X, return_std=True)
        return Prediction(mean, std * 0.5)  # over-confident on purpose


def test_cv_plus_covers_held_out_data():
    # CV+ intervals of an over-confident model reach ~90% coverage without a calibration split
    gen = np.random.default_rng(6)
    X, Xt = gen.normal(size=(300, 3)), gen.normal(size=(2000, 3))
    w = np.array([1.0, -2.0, 0.5])
    y, yt = X @ w + gen.normal(size=300), Xt @ w + gen.normal(size=2000)
    model = CrossConformalRegressor(_Ridge, n_folds=5, level=0.9).fit(X, y, seed=0)
    lo, hi = model.interval(Xt)
    coverage = np.mean((yt >= lo[:, 0]) & (yt <= hi[:, 0]))
    assert 0.86 <= coverage <= 0.95
    pred = model.predict(Xt)
    assert pred.mean.shape == (2000, 1) and np.all(pred.std > 0)


def test_cv_plus_group_folds_keep_groups_whole_and_balanced():
    gen = np.random.default_rng(3)
    groups = gen.integers(0, 40, size=400)
    X = gen.normal(size=(400, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + gen.normal(size=400)
    model = CrossConformalRegressor(_Ridge, n_folds=5).fit(X, y, seed=0, groups=groups)
    folds = model.fold_
    assert all(len(set(folds[groups == g])) == 1 for g in set(groups))
    sizes = np.bincount(folds, minlength=5)
    assert sizes.min() > 0.7 * sizes.max()
    again = CrossConformalRegressor(_Ridge, n_folds=5).fit(X, y, seed=0, groups=groups)
    assert np.array_equal(folds, again.fold_)
    with pytest.raises(ValidationError, match="3 groups"):
        CrossConformalRegressor(_Ridge, n_folds=5).fit(X[:30], y[:30], groups=np.arange(30) % 3)
