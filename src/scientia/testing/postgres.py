"""Start a throw-away PostgreSQL server on loopback for tests and benchmarks.

Uses the Debian ``postgresql`` package's binaries (``initdb``, ``pg_ctl``). The server listens on
127.0.0.1 on a free port with its socket in a temporary folder, trusts local connections and is
stopped (and its folder removed) when the context exits. As root, ``initdb`` refuses to run, so
the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["find_pg_bin", "temporary_postgres"]


def find_pg_bin() -> str | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path:
        return os.path.dirname(os.path.realpath(on_path))  # Debian links only some tools
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_postgres(database: str = "scientia") -> Iterator[str]:
    """Yield the URL of a fresh database on a server that lives as long as the context."""
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    root = tempfile.mkdtemp(prefix="scientia-pg-")
    data, sock = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(sock)
    prefix: list[str] = []
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, sock):
            os.chown(path, pg.pw_uid, pg.pw_gid)
        prefix, user = ["runuser", "-u", "postgres", "--"], "postgres"
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)

    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8")
        opts = f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c max_connections=50"
        run(f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(root, "log"), "-w", "start")
        try:
            run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, database)
            yield f"postgresql://{user}@127.0.0.1:{port}/{database}"
        finally:
            run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
