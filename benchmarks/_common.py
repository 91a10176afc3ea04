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


def public_argv(argv: list[str], paths: Iterable[str] = (), keep: Iterable[str] = ()) -> list[str]:
    """The command-line arguments with machine paths (``--out``, ``--data-dir``) masked.

    ``paths`` names more options that take a path (masked as ``<name>``); ``keep`` names
    options that are masked by default but mean something else in a script (``--data``).
    """
    masked = {k: v for k, v in _MASKED.items() if k not in set(keep)}
    masked.update({p: f"<{p.lstrip('-')}>" for p in paths})
    out: list[str] = []
    mask = None
    for a in argv:
        if mask:
            out.append(mask)
            mask = None
            continue
        name, eq, _ = a.partition("=")
        if name in masked:
            out.append(f"{name}={masked[name]}" if eq else name)
            mask = None if eq else masked[name]
            continue
        out.append(a)
    return out


def proposal_coverage(calibrations) -> dict:
    """Per objective: how many proposals were measured and how many of their outcomes fell inside
    the 90% interval the proposal showed (after the campaign's own recalibration) and inside the
    model's raw 90% interval; ``calibrations`` is ``Campaign.calibration()``."""
    out = {}
    for c in calibrations:
        n = c.n
        out[c.objective] = {
            "n": n,
            "inside90": round((c.shown_coverage90 or 0.0) * n),
            "inside90_model": round((c.coverage90 or 0.0) * n),
        }
    return out


def pooled_coverage(traces: Iterable[dict]) -> dict | None:
    """90%-interval coverage of all measured proposals in ``traces`` (their ``meta["coverage"]``),
    pooled over seeds and objectives: ``{"coverage90", "model_coverage90", "n", "seeds"}``, or
    None when no trace recorded it."""
    n = inside = model = seeds = 0
    for t in traces:
        cov = (t.get("meta") or {}).get("coverage")
        if not cov:
            continue
        seeds += 1
        for c in cov.values():
            n, inside, model = n + c["n"], inside + c["inside90"], model + c["inside90_model"]
    if n == 0:
        return None
    return {"coverage90": inside / n, "model_coverage90": model / n, "n": n, "seeds": seeds}


COVERAGE_RANGE = (0.80, 0.97)  # the planning issue's target for the 90% intervals of proposals


def coverage_text(cov: dict | None) -> str:
    """``pooled_coverage`` as a table cell."""
    if cov is None:
        return "n/a"
    return f"{cov['coverage90']:.2f} (n={cov['n']})"


def coverage_verdict(cov: dict | None) -> bool | None:
    """True/False for coverage inside :data:`COVERAGE_RANGE`, None when nothing was recorded."""
    if cov is None:
        return None
    lo, hi = COVERAGE_RANGE
    return lo <= cov["coverage90"] <= hi


def coverage_target(summary: dict, tables: Iterable[str], method: str, seeds: int) -> dict:
    """The planning issue's coverage target for ``method`` over ``tables``, in the benchmarks'
    target schema: each table's pooled 90% coverage (``summary[table]["methods"][method]
    ["proposal_coverage90"]``) must lie within :data:`COVERAGE_RANGE`."""
    per = {}
    for t in tables:
        cov = summary.get(t, {}).get("methods", {}).get(method, {}).get("proposal_coverage90")
        ok = coverage_verdict(cov)
        if ok is None:
            per[t] = {"status": "not measured", "missing": [method]}
            continue
        per[t] = {"status": "passed" if ok else "failed", "complete": cov["seeds"] == seeds, **cov}
    st = {v["status"] for v in per.values()}
    status = next((x for x in ("not measured", "failed") if x in st or not st), "passed")
    complete = status != "not measured" and all(v.get("complete", False) for v in per.values())
    lo, hi = COVERAGE_RANGE
    desc = f"90%-interval coverage of {method}'s proposals within [{lo}, {hi}] on every table"
    return {"description": desc, "status": status, "complete": complete, "tables": per}
