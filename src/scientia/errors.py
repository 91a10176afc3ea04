"""Exception hierarchy: one root, each subclass also inheriting the matching builtin.

A user's mistake (bad config, unknown name, malformed results file) raises one of these with a
one-line message saying what was wrong, what was expected and how to fix it; the CLI turns them
into that line and exit code 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ScientiaError(Exception):
    """Root of every error raised on purpose by scientia."""


class ConfigError(ScientiaError, ValueError):
    """A configuration file or value is invalid."""


class ValidationError(ScientiaError, ValueError):
    """Input data (a candidate, an observation, a results file) is invalid."""


class UnknownNameError(ScientiaError, KeyError):
    """A name (parameter, campaign, registered component, dataset) does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""

    @classmethod
    def for_name(cls, kind: str, name: object, known: Iterable[object]) -> UnknownNameError:
        """Build an error for an unknown ``name`` of ``kind``, suggesting the closest known one."""
        known_s = sorted(str(k) for k in known)
        return cls(f"unknown {kind} {name!r}{did_you_mean(str(name), known_s)}")


class LedgerError(ScientiaError, RuntimeError):
    """The ledger file is missing, corrupt or from an incompatible schema version."""


class EvaluationError(ScientiaError, RuntimeError):
    """An evaluator could not produce an observation."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest known name, or a list of known names."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    if known and len(known) <= 12:
        return f"; known: {', '.join(known)}"
    return ""
