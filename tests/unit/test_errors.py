"""Errors: one root, builtin bases, did-you-mean suggestions."""

from __future__ import annotations

import pytest

from scientia.errors import (
    ConfigError,
    EvaluationError,
    LedgerError,
    ScientiaError,
    UnknownNameError,
    ValidationError,
    did_you_mean,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (ConfigError, ValueError),
        (ValidationError, ValueError),
        (UnknownNameError, KeyError),
        (LedgerError, RuntimeError),
        (EvaluationError, RuntimeError),
    ],
)
def test_errors_inherit_the_root_and_a_builtin(cls, builtin):
    # every error is a ScientiaError and the matching builtin
    assert issubclass(cls, ScientiaError) and issubclass(cls, builtin)


def test_did_you_mean_picks_the_closest_name():
    # a near miss suggests the closest known name
    assert did_you_mean("temprature", ["time", "temperature"]) == "; did you mean 'temperature'?"


def test_did_you_mean_lists_a_few_known_names_when_nothing_is_close():
    # with no close match and up to 12 names, the known names are listed; with more, nothing
    assert did_you_mean("zzz", ["a", "b"]) == "; known: a, b"
    assert did_you_mean("zzz", [f"name{i}" for i in range(13)]) == ""


def test_unknown_name_error_message_is_not_quoted():
    # str() is the plain message, not KeyError's quoted repr
    err = UnknownNameError.for_name("campaign", "alpah", ["alpha"])
    assert str(err) == "unknown campaign 'alpah'; did you mean 'alpha'?"
