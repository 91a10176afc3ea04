"""The ``scientia`` command: one Typer app gathering the command groups.

* :mod:`scientia.cli.campaign` — ``init`` and ``run`` (from a TOML config)
* :mod:`scientia.cli.manual` — ``suggest`` and ``observe`` (a person runs the experiments)
* :mod:`scientia.cli.queue` — ``queue`` (review proposals)
* :mod:`scientia.cli.views` — ``status`` and ``export``
* :mod:`scientia.cli.data` — ``datasets``
* :mod:`scientia.cli.curate` — ``curate detect`` and ``curate label``
* :mod:`scientia.cli.equations` — ``equations fit`` (equation discovery)
* :mod:`scientia.cli.screen` — ``screen train`` and ``screen predict`` (virtual screening)

Logging is configured here and nowhere else (the library only adds a ``NullHandler``).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer

from scientia.cli import campaign, curate, data, equations, manual, queue, screen, serve, views

__all__ = ["app", "main"]

app = typer.Typer(
    name="scientia",
    help="Plan experiments, record them in a ledger, and see what was learned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

app.command("init")(campaign.init)
app.command("suggest")(manual.suggest)
app.command("observe")(manual.observe)
app.command("queue")(queue.queue)
app.command("run")(campaign.run)
app.command("status")(views.status)
app.command("export")(views.export)
app.command("datasets")(data.datasets)
app.command("serve")(serve.serve)
app.command("report")(serve.report)
app.add_typer(curate.app, name="curate")
app.add_typer(equations.app, name="equations")
app.add_typer(screen.app, name="screen")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners swap it between commands)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_handler = _StderrHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logger = logging.getLogger("scientia")
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    logger.setLevel(level)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scientia")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"scientia {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log more (-v info, -vv debug) to stderr.")
    ] = 0,
) -> None:
    """Plan experiments, record them in a ledger, and see what was learned."""
    _configure_logging(verbose)


def main() -> None:
    """Entry point of the ``scientia`` console script."""
    app()
