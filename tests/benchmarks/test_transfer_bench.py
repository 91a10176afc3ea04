"""Fast checks of benchmarks/transfer.py's data preparation and metrics (no campaign is run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "transfer.py"
spec = importlib.util.spec_from_file_location("transfer_benchmark", SCRIPT)
tb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tb)

ROOT = tb.DEFAULT_DATA / "reaction_optimisation"
needs_data = pytest.mark.skipif(
    not (ROOT / "olympus" / "oer_plate_3496.csv").exists()
    or not (ROOT / "summit" / "reizman_suzuki_case_4.csv").exists(),
    reason="the Olympus / Summit tables are not beside the repository",
)


@needs_data
def test_every_plate_lives_in_one_union_space():
    # 11 metals in all; each plate keeps its rows, its loads sum to 1, absent metals are 0
    fam = tb.load_family("oer", tb.DEFAULT_DATA)
    params = fam["params"]
    assert len(params) == 11 and all(p.endswith("_load") for p in params)
    for name, df in fam["tables"].items():
        raw = pd.read_csv(ROOT / "olympus" / f"{name}.csv")
        assert list(df.columns) == [*params, "overpotential"] and len(df) == len(raw)
        absent = [p for p in params if p not in raw.columns]
        assert len(absent) == 5 and (df[absent] == 0).all().all()
        assert np.allclose(df[params].sum(axis=1), 1.0)


@needs_data
def test_sources_are_fixed_subsamples_and_unrelated_shuffles_only_the_objective():
    # same rows on every call; the target is never its own source; shuffling keeps the inputs
    a = tb.load_target("oer_plate_3496", tb.DEFAULT_DATA, max_source_rows=50)
    b = tb.load_target("oer_plate_3496", tb.DEFAULT_DATA, max_source_rows=50)
    names = [n for n, _ in a["sources"]["transfer"]]
    assert names == ["oer_plate_3851", "oer_plate_3860", "oer_plate_4098"]
    cols, obj = a["params"], a["objective"]
    for (_, s), (_, s2), (_, u) in zip(a["sources"]["transfer"], b["sources"]["transfer"],
                                       a["sources"]["unrelated"], strict=True):  # fmt: skip
        assert len(s) == 50
        pd.testing.assert_frame_equal(s, s2)
        pd.testing.assert_frame_equal(s[cols], u[cols])
        assert sorted(s[obj]) == sorted(u[obj]) and not np.array_equal(s[obj], u[obj])


@needs_data
def test_reizman_target_is_deduplicated_and_sources_fit_its_ranges():
    # case 4's two repeated combinations are averaged; clipped sources stay inside the pool's ranges
    tgt = tb.load_target("reizman_case_4", tb.DEFAULT_DATA)
    df = tgt["df"]
    assert len(df) == 95 and not df.duplicated(tgt["params"]).any()
    assert tgt["n_clipped"] > 0
    for _, s in tgt["sources"]["transfer"]:
        assert len(s) == 96
        for col in ("t_res", "temperature", "catalyst_loading"):
            assert df[col].min() <= s[col].min() and s[col].max() <= df[col].max()


def test_threshold_and_hits_respect_the_direction():
    # minimising: the top-5% of 40 rows are the 2 lowest; a trace hits at the first value <= it
    df = pd.DataFrame({"y": np.arange(40, dtype=float)})
    tgt = {"df": df, "objective": "y", "sign": -1.0}
    thr = tb.threshold(tgt)
    assert -thr == 1.0
    assert tb.hit_position([5.0, 3.0, 1.0, 0.0], -1.0, thr, 10) == (3, True)
    assert tb.hit_position([5.0, 3.0], -1.0, thr, 10) == (10, False)


def test_paired_reports_the_negative_transfer_rate():
    # one pair worse, one equal, one better than the reference
    c = tb.paired({0: 10, 1: 5, 2: 7}, {0: 8, 1: 5, 2: 9})
    assert (c["n"], c["frac_more"], c["frac_equal"], c["frac_fewer"]) == (3, 1 / 3, 1 / 3, 1 / 3)
    assert tb.paired({}, {0: 1})["n"] == 0


def test_public_argv_masks_paths():
    # traces never record a machine path given on the command line
    argv = ["--out", "/tmp/x", "--data=/home/me/data", "--seeds", "2"]
    assert tb.public_argv(argv) == ["--out", "<out>", "--data=<data-dir>", "--seeds", "2"]


@needs_data
def test_random_trace_obeys_the_protocol():
    # start rows first, no repeats, exactly the budget
    tgt = tb.load_target("reizman_case_4", tb.DEFAULT_DATA)
    start = tb.starting_rows(len(tgt["df"]), 1, "reizman_case_4")
    idx, _, _ = tb._run_one("random", tgt, start, 1, 20, 5, "reizman_case_4")
    assert idx[:5] == start and len(set(idx)) == 20


def test_targets_pass_only_when_measured():
    # pooled OER median decides the first target; the second needs every target's three methods
    pos = {"transfer": {0: 8, 1: 10}, "unrelated": {0: 20, 1: 12}, "none": {0: 15, 1: 12}}
    summary = {}
    for t in tb.TARGETS:
        methods = {m: {} for m in pos}
        summary[t] = {"methods": methods, "paired": {f"{a}_vs_{b}": tb.paired(pos[a], pos[b])
                                                     for a, b in tb.PAIRS if b != "random"}}  # fmt: skip
    pooled = {"transfer_vs_none": tb.paired(pos["transfer"], pos["none"])}
    res = tb.evaluate_targets(summary, pooled, seeds=2)
    assert res["transfer_fewer_on_oer"]["status"] == "passed"
    assert res["transfer_fewer_on_oer"]["complete"]
    rates = res["negative_transfer_rate_reported"]["rates"]["reizman_case_4"]
    assert res["negative_transfer_rate_reported"]["status"] == "passed" and rates["unrelated"] == 0.5
    del summary["reizman_case_4"]["methods"]["unrelated"]
    res = tb.evaluate_targets(summary, pooled, seeds=3)
    assert res["negative_transfer_rate_reported"]["status"] == "not measured"
    assert not res["transfer_fewer_on_oer"]["complete"]  # 2 of 3 requested seeds
