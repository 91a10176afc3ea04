"""Fast checks of benchmarks/multiobjective.py's protocol helpers (no campaign is run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "multiobjective.py"
spec = importlib.util.spec_from_file_location("multiobjective_benchmark", SCRIPT)
mo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mo)

needs_data = pytest.mark.skipif(
    not (mo.DEFAULT_DATA / "reaction_optimisation" / "olympus" / "redoxmers.csv").exists(),
    reason="the Olympus tables are not beside the repository",
)


def test_public_argv_masks_paths():
    # traces never record a machine path given on the command line
    argv = ["--out", "/tmp/x", "--data-dir=/home/me/data", "--seeds", "2", "--data", "/d"]
    assert mo.public_argv(argv) == [
        "--out", "<out>", "--data-dir=<data-dir>", "--seeds", "2", "--data", "<data-dir>"
    ]  # fmt: skip


def test_checkpoints_end_at_the_budget():
    # the HV ratio is reported every 10 experiments and at the budget
    assert mo.checkpoints(50) == [10, 20, 30, 40, 50]
    assert mo.checkpoints(15) == [10, 15]


@needs_data
def test_redoxmers_descriptors_join_and_reference():
    # every label gets its descriptors; the whole table has HV ratio 1; the random trace is valid
    tab = mo.load_table("redoxmers", mo.DEFAULT_DATA)
    df = tab["df"]
    cols = [c for cs in tab["descriptor_columns"].values() for c in cs]
    assert len(df) == 1408 and not df[cols].isna().any().any()
    ref = mo.reference(tab)
    assert np.all(ref["Y"][ref["mask"]] >= ref["ref"])
    assert mo.hv_ratio(ref, range(len(df))) == pytest.approx(1.0)
    start = mo.starting_rows(len(df), 3, "redoxmers")
    idx, _, _ = mo._run_one("random", tab, start, 3, 20, 5, "redoxmers")
    assert idx[:5] == start and len(set(idx)) == 20
