"""Rare-event triggers: the detector contract, calibration of the accept rate, streaming, ensembles."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from scientia.curate.select import (
    AutoencoderDetector,
    CalibrationWarning,
    ECODDetector,
    EnsembleDetector,
    IsolationForestDetector,
    KNNDetector,
    NotFittedError,
    StreamingTrigger,
    check_detector,
    conformal_threshold,
    detectors,
)
from scientia.errors import UnknownNameError, ValidationError

FAST = {
    "ecod": lambda: ECODDetector(rate=0.02),
    "iforest": lambda: IsolationForestDetector(n_estimators=50, rate=0.02),
    "knn": lambda: KNNDetector(rate=0.02),
    "knn-full": lambda: KNNDetector(max_samples=None, rate=0.02),
    "ae": lambda: AutoencoderDetector(hidden=(16,), epochs=10, max_steps=150, rate=0.02),
    "ensemble": lambda: EnsembleDetector(
        [ECODDetector(), KNNDetector(n_estimators=3), IsolationForestDetector(n_estimators=50)], rate=0.02
    ),
}


def _auc(neg: np.ndarray, pos: np.ndarray) -> float:
    return float((pos[:, None] > neg[None, :]).mean())


@pytest.mark.parametrize("name", sorted(FAST))
def test_detector_contract(name):
    # every built-in passes the conformance check: injected outliers ranked first, accept rate near target
    check_detector(FAST[name], n_background=2000)


def test_registry_names_and_did_you_mean():
    # the CLI's method names resolve; a typo suggests the right one
    assert detectors.names() == ["ae", "ecod", "ensemble", "iforest", "knn"]
    with pytest.raises(UnknownNameError, match="did you mean 'ecod'"):
        detectors.get("ecdo")


@pytest.mark.parametrize("rate", [0.01, 0.05])
def test_calibrated_rate_on_fresh_background(rate):
    # the held-out threshold flags about `rate` of fresh background, for any seed
    gen = np.random.default_rng(7)
    det = ECODDetector(rate=rate, holdout=0.5).fit(gen.standard_t(5, size=(20000, 3)), seed=1)
    fresh = gen.standard_t(5, size=(50000, 3))
    observed = det.flag(fresh).mean()
    assert abs(observed - rate) < 4 * np.sqrt(rate * (1 - rate) / 10000) + 0.002


def test_conformal_threshold_is_an_order_statistic():
    # threshold = s_(ceil((m+1)(1-rate))), so at most `rate` of the calibration set lies above
    s = np.arange(1.0, 1000.0)  # m = 999
    assert conformal_threshold(s, 0.01) == 990.0
    assert (s > conformal_threshold(s, 0.01)).mean() <= 0.01


def test_too_few_calibration_events_warn():
    # a rate finer than the calibration set can resolve is reported, not silently wrong
    with pytest.warns(CalibrationWarning, match="cannot resolve"):
        ECODDetector(rate=1e-4).fit(np.random.default_rng(0).normal(size=(500, 2)), seed=0)


def test_threshold_at_other_rate_and_recalibrate():
    # thresholds for other rates come from stored background scores; calibrate() replaces them
    gen = np.random.default_rng(3)
    det = KNNDetector(rate=0.01).fit(gen.normal(size=(3000, 2)), seed=0)
    assert det.threshold_at(0.1) < det.threshold_ < det.threshold_at(0.002)
    before = det.threshold_
    det.calibrate(gen.normal(size=(3000, 2)) * 2.0)
    assert det.threshold_ > before


def test_bad_inputs_raise_one_line_errors():
    # NaN rows, wrong widths, bad rates and unfitted use are user errors with how-to-fix messages
    X = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(NotFittedError, match="call fit"):
        ECODDetector().score(X)
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValidationError, match="row 5"):
        ECODDetector().fit(bad)
    det = ECODDetector(rate=0.05).fit(X, seed=0)
    with pytest.raises(ValidationError, match="fitted on 3"):
        det.score(X[:, :2])
    with pytest.raises(ValidationError, match="rate must lie in"):
        ECODDetector(rate=2.0).fit(X)
    with pytest.raises(ValidationError, match="numeric"):
        ECODDetector().fit([["a", "b"], ["c", "d"]])


def test_streaming_trigger_counts_and_rate():
    # batches are scored at the calibrated threshold; counters add up; the accept rate is near target
    gen = np.random.default_rng(11)
    det = ECODDetector(rate=0.02).fit(gen.normal(size=(20000, 4)), seed=0)
    trigger = StreamingTrigger(det)
    seen = []
    stats = trigger.run((gen.normal(size=(2000, 4)) for _ in range(10)), callback=seen.append)
    assert stats.n_seen == 20000 and len(seen) == 10
    assert stats.n_accepted == sum(int(b.accepted.sum()) for b in seen)
    assert abs(stats.accept_rate - 0.02) < 0.006
    assert stats.events_per_second > 0 and stats.target_rate == 0.02
    assert np.array_equal(seen[0].indices, np.flatnonzero(seen[0].scores > det.threshold_))


def test_streaming_trigger_other_rate_and_unfitted():
    # a trigger may run at another rate without refitting; an unfitted detector is refused
    gen = np.random.default_rng(12)
    det = ECODDetector(rate=0.01).fit(gen.normal(size=(20000, 2)), seed=0)
    loose = StreamingTrigger(det, rate=0.1)
    loose.process(gen.normal(size=(20000, 2)))
    assert abs(loose.stats().accept_rate - 0.1) < 0.015
    with pytest.raises(ValidationError, match="not fitted"):
        StreamingTrigger(ECODDetector())


def test_ensemble_covers_a_members_blind_spot():
    # anomalies off a correlated ridge are invisible to ECOD's marginals; the ensemble still finds them
    gen = np.random.default_rng(5)
    t = gen.normal(size=3000)
    X = np.c_[t, t + 0.05 * gen.normal(size=3000)]
    s = gen.uniform(0.7, 1.5, size=40) * gen.choice([-1, 1], size=40)
    outliers = np.c_[s, -s]  # inside each marginal range, far from the ridge
    ecod = ECODDetector(rate=0.01).fit(X, seed=0)
    ens = EnsembleDetector([ECODDetector(), KNNDetector(n_estimators=3)], rate=0.01).fit(X, seed=0)
    fresh = np.c_[(u := gen.normal(size=1000)), u + 0.05 * gen.normal(size=1000)]
    assert _auc(ecod.score(fresh), ecod.score(outliers)) < 0.8
    assert _auc(ens.score(fresh), ens.score(outliers)) > 0.95
    assert ens.member_scores(fresh).shape == (2, 1000)


@pytest.mark.parametrize("normalise", ["tail", "zscore", "robust"])
def test_ensemble_normalisations_keep_extremes_ordered(normalise):
    # every normalisation is monotone, including beyond the largest background score
    X = np.random.default_rng(2).normal(size=(2000, 3))
    ens = EnsembleDetector([KNNDetector(max_samples=None)], normalise=normalise, rate=0.01).fit(X, seed=0)
    far = np.array([[4.0, 0, 0], [8.0, 0, 0], [16.0, 0, 0]])
    raw = ens.members_[0].score(far)
    assert np.all(np.diff(raw) > 0) and np.all(np.diff(ens.score(far)) > 0)


def test_same_seed_same_scores_and_no_global_rng():
    # seeds are honoured and numpy's global RNG is left alone
    X = np.random.default_rng(1).normal(size=(500, 3))
    state = np.random.get_state()
    a = KNNDetector(rate=0.05).fit(X, seed=4).score(X[:50])
    b = KNNDetector(rate=0.05).fit(X, seed=4).score(X[:50])
    assert np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_autoencoder_leaves_torch_rng_alone():
    # fitting the autoencoder does not move torch's global RNG
    torch = pytest.importorskip("torch")
    before = torch.random.get_rng_state().clone()
    AutoencoderDetector(hidden=(8,), epochs=2, max_steps=5, rate=0.2).fit(
        np.zeros((50, 3)) + np.arange(3), seed=0
    )
    assert torch.equal(before, torch.random.get_rng_state())


def test_import_is_light():
    # importing the curate packages loads neither torch nor scikit-learn
    code = (
        "import sys, scientia.curate.select, scientia.curate.annotate, scientia.curate.io; "
        "print('torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_autoencoder_throughput():
    # the autoencoder trigger scores at least 100,000 events/s with 20 features on one thread
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    gen = np.random.default_rng(0)
    det = AutoencoderDetector(max_steps=200).fit(gen.normal(size=(5000, 20)), seed=0)
    trigger = StreamingTrigger(det)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trigger.run(gen.normal(size=(65536, 20)) for _ in range(8))
    assert trigger.stats().events_per_second >= 1e5
