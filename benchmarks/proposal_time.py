"""How long one proposal round takes on a continuous space with experiments still running.

Protocol
--------
* A campaign over a 5-dimensional continuous space (``x1..x5`` in [0, 1]), objective the
  negated Hartmann-6 function with its last coordinate fixed at 0.5 (a standard smooth test
  function), ``N`` observations (default 200) at scrambled Sobol points, recorded directly.
* ``P`` proposals pending (default 4: experiments still running), made by the campaign itself.
* Measured: the wall time of ``Campaign.suggest(1)`` — fitting the GP to the N observations and
  optimising qLogNEI with the P pending points — repeated ``R`` times (default 5) on fresh
  copies of the same ledger (so each round sees the same data), median and range. Each round's
  GP fit seconds (from the ledger's ``model_fitted`` event) are reported too.
* Target: median < 10 s on this machine with 200 observations and 4 pending.

Usage::

    python benchmarks/proposal_time.py            # N=200, P=4, R=5
    python benchmarks/proposal_time.py --smoke    # CI: N=40, R=2, temporary --out
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
TARGET_S = 10.0
DIM = 5

# Hartmann-6 constants (Dixon & Szegö 1978)
_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_P = 1e-4 * np.array(
    [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
)  # fmt: skip
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann5(x: np.ndarray) -> np.ndarray:
    """Negated Hartmann-6 with x6 = 0.5 (bigger is better), for rows of ``x`` (n, 5)."""
    full = np.hstack([x, np.full((len(x), 1), 0.5)])
    inner = ((full[:, None, :] - _P[None]) ** 2 * _A[None]).sum(-1)
    return (_ALPHA[None] * np.exp(-inner)).sum(-1)


def build(ledger: str, n_obs: int, n_pending: int, seed: int) -> None:
    from scipy.stats import qmc

    from scientia.campaign import Campaign
    from scientia.types import Candidate, Observation

    cfg = {
        "name": "timing",
        "seed": seed,
        "batch_size": 1,
        "space": {
            "kind": "parameters",
            "parameters": [{"name": f"x{i + 1}", "kind": "real", "low": 0, "high": 1} for i in range(DIM)],
        },
        "objectives": [{"name": "y"}],
        "proposer": {"kind": "bo", "n_initial": 5},
    }
    camp = Campaign.create(cfg, ledger)
    X = qmc.Sobol(DIM, scramble=True, seed=seed).random_base2(int(np.ceil(np.log2(n_obs))))[:n_obs]
    y = hartmann5(X)
    camp.observe(
        [
            Observation(Candidate({f"x{i + 1}": float(v) for i, v in enumerate(x)}), {"y": float(t)})
            for x, t in zip(X, y, strict=True)
        ]
    )
    if n_pending:
        camp.suggest(n_pending)  # experiments under way
    camp.ledger.close()


def measure(template: str, workdir: Path, repeats: int) -> list[dict]:
    from scientia.campaign import Campaign

    rounds = []
    for r in range(repeats):
        copy = workdir / f"round{r}.sqlite"
        shutil.copy(template, copy)
        camp = Campaign.open(str(copy), "timing")
        pending = len(camp.pending_proposals())
        t0 = time.perf_counter()
        (p,) = camp.suggest(1)
        seconds = time.perf_counter() - t0
        fit = camp.ledger.events(camp.id, kinds=["model_fitted"])[-1].payload
        rounds.append(
            {
                "seconds": seconds,
                "fit_seconds": fit.get("seconds"),
                "pending": pending,
                "strategy": p.strategy,
            }
        )
        camp.ledger.close()
    return rounds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--observations", type=int, default=200)
    ap.add_argument("--pending", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--smoke", action="store_true", help="CI mode: 40 observations, 2 repeats, temp --out")
    a = ap.parse_args(argv)
    if a.smoke:
        a.observations, a.repeats = 40, 2
        a.out = a.out or Path(tempfile.mkdtemp(prefix="proposal_time_smoke_"))
    out = a.out or DEFAULT_OUT
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        template = str(Path(tmp) / "template.sqlite")
        build(template, a.observations, a.pending, a.seed)
        rounds = measure(template, Path(tmp), a.repeats)
    secs = [r["seconds"] for r in rounds]
    median = statistics.median(secs)
    passed = median < TARGET_S if a.observations >= 200 and a.pending >= 4 else None
    env = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for pkg in ("scientia", "torch", "botorch", "gpytorch"):
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            env[pkg] = None
    summary = {
        "observations": a.observations,
        "pending": a.pending,
        "dim": DIM,
        "repeats": a.repeats,
        "median_seconds": median,
        "min_seconds": min(secs),
        "max_seconds": max(secs),
        "median_fit_seconds": statistics.median(
            r["fit_seconds"] for r in rounds if r["fit_seconds"] is not None
        ),
        "target_seconds": TARGET_S,
        "target": "not measured" if passed is None else ("passed" if passed else "failed"),
    }
    out.mkdir(parents=True, exist_ok=True)
    result = {"summary": summary, "rounds": rounds, "environment": env, "argv": sys.argv[1:]}
    (out / "proposal_time.json").write_text(json.dumps(result, indent=1))
    md = [
        "# Proposal time on a continuous space with experiments pending\n",
        f"{a.observations} observations, {a.pending} pending, {DIM} dimensions, GP + qLogNEI, {a.repeats} rounds.\n",
        "| median s | min s | max s | median GP fit s | target | status |",
        "|---|---|---|---|---|---|",
        f"| {median:.2f} | {min(secs):.2f} | {max(secs):.2f} | {summary['median_fit_seconds']:.2f} "
        f"| < {TARGET_S:g} s | {summary['target']} |",
        "",
        f"Written by `python benchmarks/proposal_time.py {' '.join(sys.argv[1:])}`.",
    ]
    (out / "proposal_time.md").write_text("\n".join(md) + "\n")
    print(
        f"median {median:.2f} s per proposal round ({summary['target']}); wrote {out / 'proposal_time.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
