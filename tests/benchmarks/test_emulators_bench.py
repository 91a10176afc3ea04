"""Fast checks of benchmarks/emulators.py's protocol helpers (no BO campaign is run)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "emulators.py"
spec = importlib.util.spec_from_file_location("emulators_benchmark", SCRIPT)
em = importlib.util.module_from_spec(spec)
spec.loader.exec_module(em)

OLYMPUS = em.DEFAULT_DATA / "reaction_optimisation" / "olympus"
needs_data = pytest.mark.skipif(
    not all((OLYMPUS / f"{t}.csv").exists() for t in em.TABLES),
    reason="the Olympus tables are not beside the repository",
)


def test_public_argv_masks_paths():
    # traces never record a machine path given on the command line
    argv = ["--out", "/tmp/x", "--data-dir=/home/me/data", "--seeds", "2", "--data", "/d"]
    assert em.public_argv(argv) == [
        "--out", "<out>", "--data-dir=<data-dir>", "--seeds", "2", "--data", "<data-dir>"
    ]  # fmt: skip


def test_checkpoints_and_regret():
    # regret is reported at 10/20/30/50 and the budget; it is clipped at 0 and follows the goal
    assert em.checkpoints(50) == [10, 20, 30, 50]
    assert em.checkpoints(15) == [10, 15]
    assert em.regret_curve([1, 3, 2, 5], 4.0, 1.0).tolist() == [3, 1, 1, 0]
    assert em.regret_curve([0.5, 0.2, 0.3], 0.1, -1.0) == pytest.approx([0.4, 0.1, 0.1])


def test_targets_need_both_methods_and_budget():
    # a target without traces, or with too small a budget, is "not measured", never passed
    both = {(t, m): {0: 1.0, 1: 2.0} for t in em.TABLES for m in ("scientia", "random")}
    res = em.evaluate_targets(both, seeds=2, budget=50)
    assert res["regret_at_30_below_random"]["status"] == "failed"  # equal medians are not "below"
    assert res["regret_at_30_le_baybe"]["status"] == "not measured"
    short = em.evaluate_targets(both, seeds=2, budget=20)
    assert short["regret_at_30_below_random"]["status"] == "not measured"
    better = dict(both) | {(t, "random"): {0: 3.0, 1: 4.0} for t in em.TABLES}
    res = em.evaluate_targets(better, seeds=3, budget=50)["regret_at_30_below_random"]
    assert res["status"] == "passed" and not res["complete"]  # 2 of 3 seeds: provisional


@needs_data
def test_spaces_match_the_data():
    # photo_pce10 is a simplex, crossed_barrel's n an integer; samples, Sobol points and
    # projections stay in the space; start points are shared per (table, seed) only
    tabs = {t: em.load_table(t, em.DEFAULT_DATA) for t in em.TABLES}
    assert [tabs["photo_pce10"]["names"][j] for j in tabs["photo_pce10"]["mixture"]] == [
        "mat_1", "mat_2", "mat_3", "mat_4"
    ]  # fmt: skip
    assert tabs["crossed_barrel"]["kinds"][0] == "integer"
    gen = np.random.default_rng(0)
    for t, tab in tabs.items():
        for P in (em.sample_uniform(tab, gen, 500), em.sobol_points(tab, 256, seed=1)):
            assert em.violation(tab, P) < 1e-12, t
        wild = tab["low"] + (tab["high"] - tab["low"]) * gen.uniform(-0.5, 1.5, (200, len(tab["names"])))
        assert em.violation(tab, em.project(tab, wild)) < 1e-12, t
        a, b = em.start_points(tab, 3, t), em.start_points(tab, 3, t)
        assert np.array_equal(a, b) and not np.array_equal(a, em.start_points(tab, 4, t))
    assert set(em.sample_uniform(tabs["crossed_barrel"], gen, 2000)[:, 0]) == set(range(6, 13))


@needs_data
def test_load_table_refuses_a_broken_simplex(tmp_path):
    # a mixture whose rows do not add up to 1 is an error, not a silently different space
    folder = tmp_path / "reaction_optimisation" / "olympus"
    folder.mkdir(parents=True)
    shutil.copy(OLYMPUS / "olympus_configs.json", folder)
    text = (OLYMPUS / "photo_pce10.csv").read_text().splitlines()
    text[1] = "0.5,0.0,0.0,0.0," + text[1].split(",")[-1]
    (folder / "photo_pce10.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="add up to 1"):
        em.load_table("photo_pce10", tmp_path)


@needs_data
def test_frozen_emulator_is_refitted_and_checked(tmp_path):
    # the second process refits the recorded model and must reproduce the probe values; a
    # tampered record is refused; a random run starts with the shared points
    tab = em.load_table("crossed_barrel", em.DEFAULT_DATA)
    emu, rec = em.frozen_emulator(tab, tmp_path, rows=40, n_reference=256, log=lambda _: None)
    assert rec["model"] in ("gp", "forest") and set(rec["cv"]) == {"gp", "forest"}
    opt = rec["reference"]["value"]
    assert opt >= float(np.max(em.emulate(emu, em.sobol_points(tab, 256, seed=0)))) - 1e-9
    emu2, rec2 = em.frozen_emulator(tab, tmp_path, rows=40, n_reference=256, log=lambda _: None)
    assert rec2 == rec
    path = em.record_path(tmp_path, "crossed_barrel")
    bad = json.loads(path.read_text())
    bad["probe_values"][0] += 1.0
    path.write_text(json.dumps(bad))
    with pytest.raises(em.EmulatorMismatchError):
        em.frozen_emulator(tab, tmp_path, rows=40, n_reference=256, log=lambda _: None)
    start = em.start_points(tab, 0, "crossed_barrel")
    P, Y, secs, _ = em._run_one("random", tab, emu2, start, 0, 12, 5)
    assert np.array_equal(P[:5], start) and P.shape == (12, 4) and len(secs) == 2
    assert np.allclose(Y, em.emulate(emu, P))
