"""Shared pieces of the command line: error handling, where the ledger is, consoles, formatting.

Only light imports here (typer, rich): every command imports the engine inside its function so
that ``scientia --help`` and ``scientia --version`` stay fast.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from scientia.campaign import Campaign

__all__ = [
    "DEFAULT_LEDGER",
    "ENV_LEDGER",
    "CampaignArgument",
    "ConfigLedgerOption",
    "LedgerOption",
    "SetOption",
    "console",
    "fail",
    "fmt",
    "handle_errors",
    "open_campaign",
    "plural",
    "resolve_ledger",
    "say",
    "sparkline",
]

DEFAULT_LEDGER = "scientia.sqlite"
ENV_LEDGER = "SCIENTIA_LEDGER"
EXIT_USER_ERROR = 2

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("scientia.cli")


# -- errors ------------------------------------------------------------------------------------
def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with code 2."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"error: {one_line}\n")
    sys.stderr.flush()
    raise typer.Exit(EXIT_USER_ERROR)


def _user_error(exc: BaseException) -> str | None:
    """The one-line message for an error caused by the user's input, or None for a bug."""
    import tomllib

    from scientia.errors import ScientiaError

    if isinstance(exc, ScientiaError):
        return str(exc)
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"not valid TOML ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({exc.reason})"
    if isinstance(exc, OSError):
        if exc.filename is not None:
            return f"{exc.strerror or exc}: {str(exc.filename)!r}"
        return str(exc)
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return None


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn user errors raised by a command into ``error: <message>`` and exit code 2.

    Covers every :class:`~scientia.errors.ScientiaError`, TOML and pydantic errors and file
    errors; anything else is a bug and keeps its traceback. Ctrl-C exits with code 130.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            sys.stderr.write("interrupted; the ledger holds everything recorded so far\n")
            raise typer.Exit(130) from None
        except Exception as exc:
            message = _user_error(exc)
            if message is None:
                raise
            log.debug("user error", exc_info=True)
            fail(message)

    return wrapper


# -- output ------------------------------------------------------------------------------------
def console(stderr: bool = False) -> Console:
    """A console for the current stdout (or stderr); markup off so data prints verbatim."""
    return Console(stderr=stderr, markup=False, highlight=False, emoji=False)


def say(out: Console, text: str, style: str | None = None) -> None:
    """Print one line without wrapping it (paths and names stay whole when piped)."""
    out.print(text, style=style, soft_wrap=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A compact human form of a parameter or outcome value."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}g}"
    return str(value)


def plural(n: int, noun: str) -> str:
    """``1 observation``, ``2 observations``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """A one-line Unicode plot of ``values`` (NaN shown as a space), at most ``width`` wide.

    Longer series are cut into ``width`` consecutive buckets, each shown by its last value
    (right for a best-so-far curve, which only moves one way).
    """
    vals = [float(v) for v in values]
    if len(vals) > width:
        edges = [round(i * len(vals) / width) for i in range(width + 1)]
        vals = [vals[edges[i + 1] - 1] for i in range(width)]
    finite = [v for v in vals if math.isfinite(v)]
    if not finite:
        return " " * len(vals)
    lo, hi = min(finite), max(finite)
    out = []
    for v in vals:
        if not math.isfinite(v):
            out.append(" ")
        elif hi == lo:
            out.append(_BARS[-1])
        else:
            out.append(_BARS[min(len(_BARS) - 1, int((v - lo) / (hi - lo) * len(_BARS)))])
    return "".join(out)


# -- ledger and campaigns ----------------------------------------------------------------------
def resolve_ledger(option: str | None, config_ledger: str | None = None) -> str:
    """Where the ledger is: ``--ledger``, the config's ``ledger``, ``$SCIENTIA_LEDGER``, or
    ``scientia.sqlite`` in the current directory, in that order."""
    for candidate in (option, config_ledger, os.environ.get(ENV_LEDGER)):
        if candidate:
            return candidate
    return DEFAULT_LEDGER


@contextmanager
def open_campaign(ledger: str | None, ref: str) -> Iterator[Campaign]:
    """Open the campaign ``ref`` (name or id) of an existing ledger; close the ledger after."""
    from scientia.campaign import Campaign
    from scientia.ledger import Ledger

    store = Ledger(resolve_ledger(ledger), create=False)
    try:
        yield Campaign.open(store, ref)
    finally:
        store.close()


# -- options shared by several commands --------------------------------------------------------
LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        "-l",
        metavar="PATH",
        help="Ledger: a SQLite file or a database URL [default: $SCIENTIA_LEDGER, else ./scientia.sqlite].",
    ),
]
ConfigLedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        "-l",
        metavar="PATH",
        help=(
            "Ledger: a SQLite file or a database URL [default: the config's `ledger` key, "
            "else $SCIENTIA_LEDGER, else ./scientia.sqlite]."
        ),
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="KEY=VALUE",
        help="Override a config value before validation, e.g. --set proposer.n_initial=8 (repeatable).",
    ),
]
CampaignArgument = Annotated[str, typer.Argument(metavar="CAMPAIGN", help="Campaign name (or numeric id).")]
