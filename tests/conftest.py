"""Shared test setup: one thread per numeric library, and a temporary ledger.

On two shared cores small torch / BLAS workloads run several times slower with more than one
thread, so every test (and every subprocess a test starts, which inherits the environment) uses
one. The variables are set before numpy or torch is imported by any test module.
"""

from __future__ import annotations

import os
import sys

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest
from hypothesis import settings

# torch ops and first imports are slow on this machine: no per-example deadline
settings.register_profile("scientia", deadline=None)
settings.load_profile("scientia")


def _one_torch_thread() -> None:
    torch = sys.modules.get("torch")  # only if a test has imported it; never import it here
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _single_thread():
    """Keep torch on one thread once some test has imported it."""
    _one_torch_thread()
    yield
    _one_torch_thread()


@pytest.fixture
def tmp_ledger(tmp_path):
    """A fresh SQLite ledger in the test's temporary folder."""
    from scientia.ledger import Ledger

    ledger = Ledger(str(tmp_path / "ledger.sqlite"))
    yield ledger
    ledger.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on loopback for the whole session (skipped when not installed)."""
    from scientia.testing.postgres import find_pg_bin, temporary_postgres

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    with temporary_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server, request):
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    import re

    import sqlalchemy as sa

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50]
    admin = sa.create_engine(
        postgres_server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield postgres_server.rsplit("/", 1)[0] + "/" + name
