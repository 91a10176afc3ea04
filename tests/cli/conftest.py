"""Fixtures for the command-line tests: a runner, small campaigns, and a ledger event counter.

Every command runs in-process through Typer's ``CliRunner`` in a temporary folder, with
``$SCIENTIA_LEDGER`` unset so the developer's environment cannot leak into a test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before torch is imported; also inherited by subprocesses

import pytest
from typer.testing import CliRunner, Result

from scientia.cli.main import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

Invoke = Callable[..., Result]


def make_invoke(env: dict[str, str | None] | None = None) -> Invoke:
    runner = CliRunner(env={"SCIENTIA_LEDGER": None, **(env or {})})

    def invoke(*args: object) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``scientia ARGS…`` in the test's temporary folder; returns the result."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCIENTIA_LEDGER", raising=False)
    return make_invoke()


def event_count(ledger: Path | str) -> int:
    """Number of events in a ledger file (0 when the file does not exist)."""
    from scientia.ledger import Ledger

    if not Path(ledger).exists():
        return 0
    store = Ledger(str(ledger), create=False)
    try:
        return sum(c["events"] for c in store.campaigns())
    finally:
        store.close()


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit code 2 and exactly one line ``error: …`` on stderr containing every fragment."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output


def manual_config(folder: Path) -> Path:
    """A copy of examples/manual.toml in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(EXAMPLES / "manual.toml", folder / "manual.toml"))


TINY_MISSING = ("z", 1, "q")  # the one combination absent from the tiny table


def tiny_config(folder: Path, extra: str = "") -> Path:
    """A small pool campaign (23 measured rows) with an emulator evaluator, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["cat,temp,sol,yield"]
    for (cat, slope), temp, sol in itertools.product(
        (("x", 1), ("y", 2), ("z", 3)), (1, 2, 3, 4), ("p", "q")
    ):
        if (cat, temp, sol) != TINY_MISSING:
            lines.append(f"{cat},{float(temp)},{sol},{slope * temp + (2 if sol == 'p' else 0)}")
    (folder / "tiny.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "tiny.toml"
    path.write_text(
        f"""name = "tiny"
seed = 0
batch_size = 5
{extra}
[space]
kind = "pool"
table = "tiny.csv"

[[objectives]]
name = "yield"

[proposer]
kind = "bo"
n_initial = 5

[evaluator]
kind = "emulator"
table = "tiny.csv"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def manual_toml(tmp_path: Path) -> Path:
    return manual_config(tmp_path)


@pytest.fixture
def tiny_toml(tmp_path: Path) -> Path:
    return tiny_config(tmp_path)


# helpers as session fixtures, so that test modules need not import this conftest
@pytest.fixture(scope="session")
def events() -> Callable[[Path | str], int]:
    return event_count


@pytest.fixture(scope="session")
def user_error() -> Callable[..., None]:
    return assert_user_error


@pytest.fixture(scope="session")
def make_invoker() -> Callable[..., Invoke]:
    return make_invoke


@pytest.fixture(scope="session")
def make_tiny() -> Callable[..., Path]:
    return tiny_config


@pytest.fixture(scope="session")
def make_manual() -> Callable[[Path], Path]:
    return manual_config
