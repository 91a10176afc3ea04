"""Fast checks of benchmarks/review_stress.py: the simulated reviewer, traces and summary rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "review_stress.py"
spec = importlib.util.spec_from_file_location("review_stress_benchmark", SCRIPT)
rs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rs)


def test_reviewer_never_rejects_at_rate_zero():
    # r = 0 is the no-rejection reference
    assert not any(
        rs.reviewer_draws(s, "suzuki_miyaura", "reject-0", r, 5).any() for s in range(20) for r in range(20)
    )


def test_reviewer_rejects_at_the_rate_and_repeats_itself():
    # the draws are seeded (same arguments, same decisions) and reject about r of the proposals
    draws = [
        rs.reviewer_draws(s, "buchwald_hartwig", "reject-30", r, 5) for s in range(40) for r in range(25)
    ]
    assert np.mean(draws) == pytest.approx(0.3, abs=0.03)
    again = rs.reviewer_draws(7, "buchwald_hartwig", "reject-30", 3, 5)
    assert np.array_equal(again, rs.reviewer_draws(7, "buchwald_hartwig", "reject-30", 3, 5))


def test_public_argv_masks_the_output_path():
    # traces never record a machine path
    argv = ["--out", "/home/me/x", "--seeds", "2", "--out=/tmp/y"]
    assert rs.public_argv(argv) == ["--out", "<out>", "--seeds", "2", "--out=<out>"]


def test_check_trace_refuses_a_measured_rejected_row():
    # a rejected row must never be measured
    tr = {"indices": [1, 2, 3], "rejected": [3], "rounds": [[2, 1]], "exhausted": False}
    with pytest.raises(ValueError, match="both measured and rejected"):
        rs.check_trace(tr, [1, 2], 3, 100)


def test_method_row_counts_proposals_and_rejected_top_rows():
    # proposals per measured experiment exclude the start rows; a rejected top-1% row is flagged
    thr = {"top1": 90.0, "top5": 80.0}
    base = {"rate": 0.3, "proposal_seconds": [0.1], "exhausted": False, "environment": {}}
    trs = [
        base | {"seed": 0, "indices": list(range(10)), "yields": [0.0] * 9 + [95.0],
                "rejected": [20, 21], "rejected_yields": [91.0, 1.0], "rounds": [[5, 1], [2, 1]]},
        base | {"seed": 1, "indices": list(range(10)), "yields": [85.0] * 10,
                "rejected": [], "rejected_yields": [], "rounds": [[5, 0]]},
    ]  # fmt: skip
    row = rs._method_row(trs, thr, 10, {}, ("t", "reject-30"))
    assert row["median_proposals_per_experiment"] == pytest.approx((7 / 5 + 1) / 2)
    assert row["top1_rejected_fraction"] == 0.5
    assert row["top1_positions"] == [10, 10] and row["top1_hit"] == [True, False]


def test_a_short_campaign_never_measures_a_rejected_row():
    # a real campaign: start rows first, rejected rows never come back, the ledger agrees
    table = "buchwald_hartwig"
    df, params = rs.load_table(table)
    seed = next(s for s in range(100) if rs.reviewer_draws(s, table, "reject-30", 0, 5).sum() >= 2)
    start = rs.starting_rows(len(df), seed, table)
    tr = rs.run_review(df, params, start, seed, 10, 5, table, "reject-30")
    rs.check_trace(tr, start, 10, len(df))  # also: no row both measured and rejected
    assert len(tr["indices"]) == 10
    assert tr["rounds"][0] == [5, int(rs.reviewer_draws(seed, table, "reject-30", 0, 5).sum())]
