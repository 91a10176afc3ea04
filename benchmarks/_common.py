"""Helpers shared by the benchmark scripts: what produced a result, and command lines without
machine paths. Standard library only, so BayBE's separate virtualenv can import it too (scripts
run as ``python benchmarks/<name>.py`` have this folder on ``sys.path``)."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_MASKED = {"--out": "<out>", "--data-dir": "<data-dir>", "--data": "<data-dir>"}


def versions(packages: Iterable[str]) -> dict:
    """Python, the virtualenv's folder name (never a path), package versions and scientia's git
    commit (with whether ``src`` had uncommitted edits), where available."""
    env: dict = {"python": platform.python_version(), "venv": Path(sys.prefix).name}
    for p in packages:
        try:
            env[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            env[p] = None
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True, check=False)
        env["scientia_commit"] = head.stdout.decode().strip()
        env["scientia_src_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        env["scientia_commit"] = None
    return env


def public_argv(argv: list[str]) -> list[str]:
    """The command-line arguments with machine paths (``--out``, ``--data-dir``) masked."""
    out: list[str] = []
    mask = None
    for a in argv:
        if mask:
            out.append(mask)
            mask = None
            continue
        name, eq, _ = a.partition("=")
        if name in _MASKED:
            out.append(f"{name}={_MASKED[name]}" if eq else name)
            mask = None if eq else _MASKED[name]
            continue
        out.append(a)
    return out
