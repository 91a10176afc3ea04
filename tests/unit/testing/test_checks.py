"""The conformance checks catch broken implementations, naming the rule that was broken."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scientia.proposers.base import Proposal
from scientia.proposers.simple import RandomProposer
from scientia.spaces import ParameterSpace, Real
from scientia.testing import check_evaluator, check_proposer, check_space, check_surrogate
from scientia.testing.fakes import QuadraticEvaluator, make_state
from scientia.types import Prediction


def space() -> ParameterSpace:
    return ParameterSpace([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)])


# -- spaces ----------------------------------------------------------------------------------
class OutOfRange(ParameterSpace):
    def encode(self, candidates):
        return 2.0 * super().encode(candidates)


class UsesGlobalRng(ParameterSpace):
    def sample(self, n, seed=None):
        return self.decode(np.random.random((n, self.dim)))


class RaisesOnForeign(ParameterSpace):
    def contains(self, candidate):
        return self.candidate(candidate.params) is not None


class Lossy(ParameterSpace):
    def decode(self, X):
        return super().decode(np.round(np.atleast_2d(X), 1))


class Shortchanges(ParameterSpace):
    def sample(self, n, seed=None):
        return super().sample(max(n - 1, 1), seed)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (OutOfRange, "lie in [0, 1]"),
        (UsesGlobalRng, "global RNG"),
        (RaisesOnForeign, "must return False"),
        (Lossy, "decode(encode(c)) != c"),
        (Shortchanges, "returned 7 candidates"),
    ],
)
def test_check_space_catches(cls, message):
    # each broken space fails check_space with a message naming what it broke
    with pytest.raises(AssertionError, match=rf"check_space\({cls.__name__}\).*{re.escape(message)}"):
        check_space(cls([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)]))


def test_check_space_passes_a_good_space():
    # a plain continuous space passes
    check_space(space())


# -- surrogates ------------------------------------------------------------------------------
class Linear:
    """A least-squares plane with a constant std: simple, but honours the contract."""

    def fit(self, X, Y, seed=None):
        A = np.hstack([X, np.ones((len(X), 1))])
        self.coef_, *_ = np.linalg.lstsq(A, Y, rcond=None)
        return self

    def predict(self, X):
        mean = np.hstack([X, np.ones((len(X), 1))]) @ self.coef_
        return Prediction(mean, np.full_like(mean, 0.1))


class NotSelf(Linear):
    def fit(self, X, Y, seed=None):
        return Linear().fit(X, Y, seed)


class MeanOnly(Linear):
    def predict(self, X):
        return Prediction(np.zeros((len(X), self.coef_.shape[1])), np.ones((len(X), self.coef_.shape[1])))


class Unseeded(Linear):
    def fit(self, X, Y, seed=None):
        super().fit(X, Y, seed)
        self.coef_ = self.coef_ + np.random.default_rng().normal(0, 1e-3, self.coef_.shape)
        return self


class NoUncertainty(Linear):
    def predict(self, X):
        p = super().predict(X)
        return Prediction(p.mean, np.zeros_like(p.std))


class OneOutcomeOnly(Linear):
    def predict(self, X):
        p = super().predict(X)
        return Prediction(p.mean[:, :1], p.std[:, :1])


def test_check_surrogate_passes_a_plain_linear_model():
    # a least-squares plane is a valid (if weak) surrogate on the check's smooth function
    check_surrogate(Linear)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (NotSelf, "must return the model itself"),
        (MeanOnly, "does not learn"),
        (Unseeded, "give different predictions"),
        (NoUncertainty, "std is zero everywhere"),
        (OneOutcomeOnly, "two outcomes"),
    ],
)
def test_check_surrogate_catches(cls, message):
    # each broken surrogate fails check_surrogate with a message naming what it broke
    with pytest.raises(AssertionError, match=rf"check_surrogate\({cls.__name__}\).*{message}"):
        check_surrogate(cls)


# -- proposers -------------------------------------------------------------------------------
class RepeatsObserved:
    name = "repeats"

    def propose(self, state, n, seed=None):
        pool = [o.candidate for o in state.observations] + state.space.sample(n, seed)
        return [Proposal(c, self.name) for c in pool[:n]]


class TooFew(RandomProposer):
    def propose(self, state, n, seed=None):
        return super().propose(state, n, seed)[:-1]


class IgnoresSeed(RandomProposer):
    def propose(self, state, n, seed=None):
        return super().propose(state, n, np.random.default_rng())


class Nameless(RandomProposer):
    name = ""


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (RepeatsObserved, "already observed, pending or excluded"),
        (TooFew, "returned 2 proposals"),
        (IgnoresSeed, "different candidates"),
        (Nameless, "non-empty str `name`"),
    ],
)
def test_check_proposer_catches(cls, message):
    # each broken proposer fails check_proposer with a message naming what it broke
    with pytest.raises(AssertionError, match=rf"check_proposer\({cls.__name__}\).*{message}"):
        check_proposer(cls, space())


def test_check_proposer_uses_a_given_state():
    # a caller-made state (here: minimising, nothing pending) is used instead of the default
    check_proposer(RandomProposer, space(), state=make_state(space(), n_pending=0, direction="min"))


# -- evaluators ------------------------------------------------------------------------------
class DropsLast(QuadraticEvaluator):
    def evaluate(self, candidates):
        return super().evaluate(candidates)[:-1] if candidates else []


class Reorders(QuadraticEvaluator):
    def evaluate(self, candidates):
        return super().evaluate(candidates)[::-1]


@pytest.mark.parametrize(
    ("cls", "message"), [(DropsLast, "returned 3 observations"), (Reorders, "keep the order")]
)
def test_check_evaluator_catches(cls, message):
    # each broken evaluator fails check_evaluator with a message naming what it broke
    s = space()
    with pytest.raises(AssertionError, match=rf"check_evaluator\({cls.__name__}\).*{message}"):
        check_evaluator(cls(s), s.sample(4, 0))


def test_check_evaluator_requires_named_outcomes():
    # outcomes= makes every ok observation carry each named outcome
    s = space()
    with pytest.raises(AssertionError, match="no outcome 'cost'"):
        check_evaluator(QuadraticEvaluator(s), s.sample(2, 0), outcomes=["y", "cost"])
