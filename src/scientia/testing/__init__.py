"""Conformance checks and fakes shipped for plugin authors.

Every role of the discovery loop has a ``check_*`` function that runs its contract on an
implementation and raises :class:`AssertionError` naming the rule that was broken. scientia's own
implementations pass them (``tests/conformance``); a plugin should too::

    from scientia.testing import check_proposer
    from scientia.spaces import ParameterSpace, Real

    def test_my_proposer():
        space = ParameterSpace([Real("x", 0, 1), Real("y", 0, 1)])
        check_proposer(MyProposer, space)

:mod:`scientia.testing.fakes` has a cheap :class:`~scientia.testing.fakes.QuadraticEvaluator`
and :func:`~scientia.testing.fakes.make_state`, a ready-made campaign snapshot.
"""

from scientia.curate.select.checks import check_detector
from scientia.testing.checks import check_evaluator, check_proposer, check_space, check_surrogate
from scientia.testing.fakes import QuadraticEvaluator, make_state

__all__ = [
    "QuadraticEvaluator",
    "check_detector",
    "check_evaluator",
    "check_proposer",
    "check_space",
    "check_surrogate",
    "make_state",
]
