"""Regression and classification metrics: known values on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.screen.metrics import (
    bootstrap_intervals,
    classification_metrics,
    expected_calibration_error,
    miscalibration_area,
    regression_metrics,
)
from scientia.types import Prediction


def test_regression_metrics_of_a_calibrated_gaussian_model():
    # a model whose std is the true noise: ~90% coverage, small miscalibration area, R² as expected
    gen = np.random.default_rng(0)
    mean = gen.normal(size=20000) * 2
    y = mean + gen.normal(size=20000)
    m = regression_metrics(y, Prediction(mean, np.ones_like(mean)))
    assert abs(m["coverage"] - 0.9) < 0.01 and m["miscalibration_area"] < 0.01
    assert abs(m["rmse"] - 1) < 0.02 and abs(m["r2"] - 0.8) < 0.02
    assert abs(m["nll"] - (0.5 * np.log(2 * np.pi) + 0.5)) < 0.02
    assert m["spearman"] > 0.85


def test_overconfidence_shows_in_the_calibration_metrics():
    # shrinking the std lowers coverage and raises the miscalibration area and NLL
    gen = np.random.default_rng(1)
    mean = gen.normal(size=5000)
    y = mean + gen.normal(size=5000)
    good = regression_metrics(y, Prediction(mean, np.ones(5000)))
    bad = regression_metrics(y, Prediction(mean, np.full(5000, 0.3)))
    assert bad["coverage"] < 0.5 and bad["miscalibration_area"] > 0.2 and bad["nll"] > good["nll"]
    assert miscalibration_area(y, Prediction(mean, np.full(5000, 0.3))) == bad["miscalibration_area"]


def test_perfect_regression():
    # exact predictions: zero error, R² 1, Spearman 1
    y = np.arange(10.0)
    m = regression_metrics(y, Prediction(y, np.full(10, 0.1)))
    assert m["rmse"] == 0 and m["mae"] == 0 and m["r2"] == 1 and m["coverage"] == 1
    assert m["spearman"] == pytest.approx(1)


def test_classification_metrics():
    # separable scores give AUCs of 1; calibrated probabilities give a small ECE
    gen = np.random.default_rng(2)
    p = gen.uniform(size=20000)
    y = (gen.uniform(size=20000) < p).astype(float)
    m = classification_metrics(y, p)
    assert m["ece"] < 0.02 and 0.7 < m["roc_auc"] < 0.9
    assert expected_calibration_error(y, np.clip(p * 0.5, 0, 1)) > 0.2
    sep = classification_metrics(np.r_[np.zeros(5), np.ones(5)], np.r_[np.full(5, 0.2), np.full(5, 0.9)])
    assert sep["roc_auc"] == 1 and sep["pr_auc"] == 1 and sep["accuracy"] == 1


def test_bootstrap_intervals_bracket_the_estimate():
    # the percentile interval of the mean contains the sample mean and shrinks with n
    gen = np.random.default_rng(3)
    x = gen.normal(size=400)
    ci = bootstrap_intervals(lambda rows: {"mean": float(x[rows].mean())}, len(x), n_boot=500, seed=0)
    lo, hi = ci["mean"]
    assert lo < x.mean() < hi and 0.1 < hi - lo < 0.3
