"""Fast checks of benchmarks/active_screening.py's protocol and summary helpers (no screen is run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "active_screening.py"
spec = importlib.util.spec_from_file_location("active_screening_benchmark", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_protocol_is_molpals():
    # 1% random, 1% batches, 6% in all, top 1%: on the 49,699 unique molecules, six rounds of 497
    proto = bench.protocol(49_699)
    assert proto["sizes"] == [497] * 6 and proto["k"] == 497 and proto["direction"] == "min"


def test_curve_counts_the_top_scores_found_after_each_round():
    # a pool of 200 scores, k = 2, rounds of 2: finding the best in round 1 and the second in
    # round 3 gives 0.5, 0.5, 1.0
    proto = bench.protocol(200)
    assert proto["sizes"] == [2] * 6 and proto["k"] == 2
    score = np.linspace(0.0, 10.0, 200)  # lower is better: rows 0 and 1 are the top 2
    pool = {"smiles": [f"C{i}" for i in range(200)], "score": score}
    order = [0, 50, 60, 70, 1, 80, 90, 100, 110, 120, 130, 140]
    trace = {"indices": order, "scores": score[order].tolist()}
    assert bench.curve(trace, pool, proto) == [0.5, 0.5, 1.0, 1.0, 1.0, 1.0]
    assert bench.curve(trace, pool, proto, "smis")[-1] == 1.0


@pytest.mark.parametrize(("median", "status"), [(0.9, "passed"), (0.8, "failed")])
def test_target_is_measured_only_on_the_full_pool(median, status):
    # the 85% target passes or fails on the full pool; a smoke run or no trace is "not measured"
    row = {"found": [{"median": median, "mean": median}], "n_seeds": 5}
    proto = bench.protocol(49_699)
    t = bench.evaluate_targets({"scientia": row}, 5, proto, smoke=False)["top1pct_found_at_6pct"]
    assert t["status"] == status and t["complete"]
    smoke = bench.evaluate_targets({"scientia": row}, 2, proto, smoke=True)["top1pct_found_at_6pct"]
    assert smoke["status"] == "not measured"
    assert (
        bench.evaluate_targets({}, 5, proto, smoke=False)["top1pct_found_at_6pct"]["status"] == "not measured"
    )


def test_traces_from_another_protocol_are_ignored(tmp_path):
    # a trace made with other round sizes, data or settings is not summarised
    import json

    proto = bench.protocol(1000)
    path = tmp_path / "seed_0.json"
    path.write_text(json.dumps({"sizes": [5, 5], "n_pool": 1000, "sha256": "x", "settings": {}}))
    assert bench._load_trace(path, proto, "x") is None
    path.write_text(
        json.dumps({"sizes": proto["sizes"], "n_pool": 1000, "sha256": "x", "settings": {"a": 1}})
    )
    assert bench._load_trace(path, proto, "x") is not None
    assert bench._load_trace(path, proto, "x", {"a": 2}) is None
    assert bench._load_trace(path, proto, "y") is None
