"""Fast checks of benchmarks/screening.py's pieces: shared splits, pairing with Chemprop, the
target, metrics (no benchmark run; Chemprop itself only in a slow test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("screening_benchmark", BENCH / "screening.py")
sb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sb)

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "c1ccccc1O", "c1ccccc1N", "CC(=O)O", "CCCl", "C1CCCCC1",
          "C1CCCCC1O", "c1ccncc1", "c1ccncc1C", "CCOC", "CCCC", "CCCCO", "c1ccc2ccccc2c1", "OCCO",
          "NCCN", "C1CCNCC1", "C1CCOCC1", "not a smiles", "CC(C)O", "CC(C)N", "c1ccoc1"]  # fmt: skip


def _run(seed, rmse, sha="s"):
    return {"metrics": {"rmse": rmse, "roc_auc_tasks": 1 - rmse}, "split_sha": f"{sha}{seed}"}


def _runs(ours, peer, data=("esol", "freesolv", "docking"), split="random"):
    out = {}
    for d, a, b in zip(data, ours, peer, strict=True):
        out[(d, split, sb.OURS)] = {s: _run(s, v) for s, v in enumerate(a)}
        out[(d, split, sb.PEER)] = {s: _run(s, v) for s, v in enumerate(b)}
    return out


def test_shared_parts_are_the_parts_train_and_evaluate_uses():
    # Chemprop gets exactly the molecules of scientia's train / val / test parts (both splits)
    from scientia.screen.features import Featurizer
    from scientia.screen.train import train_and_evaluate

    y = np.linspace(0, 1, len(SMILES))
    y[5] = np.nan  # a row without a target is dropped by both
    feats = Featurizer("morgan-count", n_bits=64).transform(SMILES)
    for split in ("random", "scaffold"):
        res = train_and_evaluate(SMILES, y, "ensemble", featurizer=Featurizer("morgan-count", n_bits=64),
                                 options={"n_members": 1, "epochs": 1}, split=split, seed=3, n_boot=0, calibration="none",
                                 features=feats)  # fmt: skip
        used, Y, parts = sb.shared_parts(SMILES, y[:, None], feats.rows, split, 3)
        assert used == res.smiles and np.array_equal(Y, res.y)
        assert sb.split_sha(used, parts) == sb.split_sha(res.smiles, res.split)


def test_split_sha_changes_with_the_parts():
    # a different seed moves molecules between parts, so the digest differs
    from scientia.screen.splits import split_molecules

    good = [s for s in SMILES if s != "not a smiles"]
    a, b = (split_molecules(good, "random", sb.SIZES, seed=s) for s in (0, 1))
    assert sb.split_sha(good, a) != sb.split_sha(good, b)


def test_paired_uses_only_seeds_with_identical_parts():
    # seed 2's parts differ (another digest), so it is left out and listed as mismatched
    ours = {s: _run(s, v) for s, v in enumerate([0.5, 0.6, 0.7])}
    peer = {s: _run(s, v) for s, v in enumerate([0.6, 0.5, 0.1])}
    peer[2]["split_sha"] = "other"
    c = sb.paired(ours, peer, "rmse")
    assert c["seeds"] == [0, 1] and c["mismatched"] == [2]
    assert c["mean_ours"] == pytest.approx(0.55) and c["mean_diff"] == pytest.approx(0.0)
    assert c["n_at_least_as_good"] == 1


def test_paired_direction_follows_the_metric():
    # for ROC-AUC higher is better: a higher score counts as "no worse"
    ours = {s: _run(s, 0.2) for s in range(3)}  # roc_auc_tasks 0.8
    peer = {s: _run(s, 0.4) for s in range(3)}  # roc_auc_tasks 0.6
    assert sb.paired(ours, peer, "roc_auc_tasks")["n_at_least_as_good"] == 3
    assert sb.paired(ours, peer, "rmse")["n_at_least_as_good"] == 3
    assert sb.paired(peer, ours, "rmse")["n_at_least_as_good"] == 0
    assert sb.paired(ours, ours, "rmse")["wilcoxon_p"] == 1.0


def test_target_passes_on_two_of_three_sets():
    # better on esol and freesolv, worse on docking: 2 of 3 is enough
    t = sb.evaluate_target(
        _runs([[0.5, 0.6], [1.0, 1.1], [2.0, 2.0]], [[0.6, 0.6], [1.2, 1.2], [1.0, 1.0]]), 2
    )
    assert t["status"] == "passed" and t["sets_passed"] == 2 and t["complete"]
    assert t["sets"]["docking"]["status"] == "failed"
    assert t["sets"]["esol"]["published_chemprop_v1"] == sb.PUBLISHED_RMSE["esol"]


def test_target_fails_when_two_sets_are_worse_and_waits_when_undecided():
    # two sets worse: failed whatever the third; one pass, one missing, one fail: not measured
    worse = _runs([[0.9], [1.5], [0.1]], [[0.6], [1.2], [1.0]])
    assert sb.evaluate_target(worse, 1)["status"] == "failed"
    partial = _runs([[0.5], [1.5]], [[0.6], [1.2]], data=("esol", "freesolv"))
    t = sb.evaluate_target(partial, 1)
    assert t["status"] == "not measured" and not t["complete"]
    assert t["sets"]["docking"]["missing"] == [sb.OURS, sb.PEER]


def test_target_is_incomplete_with_fewer_seeds_than_asked():
    # two of three seeds measured: the verdict stands but is marked incomplete
    t = sb.evaluate_target(_runs([[0.5, 0.5]] * 3, [[0.6, 0.6]] * 3), 3)
    assert t["status"] == "passed" and not t["complete"]


def test_scaffold_runs_do_not_count_for_the_target():
    # the target is about the random split only
    t = sb.evaluate_target(_runs([[0.5]] * 3, [[0.6]] * 3, split="scaffold"), 1)
    assert t["status"] == "not measured"


def test_auto_takes_the_best_validation_candidate_per_seed():
    # seed 0: gnn best on validation (though worst on test); seed 1: gp; seed 2 lacks a candidate
    def rec(val, test):
        return {"metrics": {"rmse": test}, "validation": {"rmse": val}, "seconds": 1.0, "split_sha": "s"}

    runs = {
        ("esol", "random", "ensemble"): {0: rec(0.7, 0.5), 1: rec(0.8, 0.6), 2: rec(0.7, 0.5)},
        ("esol", "random", "gnn"): {0: rec(0.6, 0.9), 1: rec(0.9, 0.6), 2: rec(0.6, 0.5)},
        ("esol", "random", "gp"): {0: rec(0.8, 0.4), 1: rec(0.5, 0.7)},
    }
    auto = sb.add_auto(runs)[("esol", "random", sb.OURS)]
    assert sorted(auto) == [0, 1]
    assert (auto[0]["chosen"], auto[0]["metrics"]["rmse"]) == ("gnn", 0.9)
    assert (auto[1]["chosen"], auto[1]["metrics"]["rmse"]) == ("gp", 0.7)
    assert auto[0]["seconds"] == 3.0  # every candidate is trained


def test_roc_auc_tasks_averages_tasks_and_skips_one_class_ones():
    # task 0 is ranked perfectly, task 1 backwards, task 2 has one class (skipped), NaN ignored
    y = np.array([[0, 1, 1], [0, 0, 1], [1, 1, 1], [1, np.nan, 1]], float)
    p = np.array([[0.1, 0.1, 0.5], [0.2, 0.9, 0.5], [0.8, 0.2, 0.5], [0.9, 0.5, 0.5]])
    assert sb.roc_auc_tasks(y, p) == pytest.approx(0.5 * (1.0 + 0.0))


def test_point_metrics_need_no_uncertainty():
    # Chemprop's predictions give RMSE, MAE, R² and Spearman only
    m = sb.point_metrics(
        "regression", np.array([[1.0], [2.0], [3.0], [np.nan]]), np.array([[1.0], [2.0], [4.0], [0.0]])
    )
    assert m["rmse"] == pytest.approx(np.sqrt(1 / 3)) and m["mae"] == pytest.approx(1 / 3)
    assert set(m) == {"rmse", "mae", "r2", "spearman", "n"}


def test_forest_classifier_fits_each_task_on_its_labels():
    # one forest per task, trained on the rows labelled for it; probabilities in [0, 1]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    Y = np.stack([(X[:, 0] > 0), (X[:, 1] > 0)], 1).astype(float)
    Y[:10, 1] = np.nan
    pred = sb.ForestClassifier(n_estimators=5).fit(X, Y, seed=0).predict(X)
    assert pred.mean.shape == (40, 2) and pred.std.shape == (40, 2)
    assert np.all((pred.mean >= 0) & (pred.mean <= 1))


def test_datasets_name_the_issue_sets_and_both_splits():
    # ESOL, FreeSolv, docking (regression), BBBP, Tox21 (classification); random and scaffold
    assert {d for d, s in sb.DATASETS.items() if s["task"] == "regression"} == set(sb.TARGET_SETS)
    assert {d for d, s in sb.DATASETS.items() if s["task"] == "classification"} == {"bbbp", "tox21"}
    assert len(sb.DATASETS["tox21"]["targets"]) == 12 and sb.SPLITS == ("random", "scaffold")
    assert all(sb.PEER in ms for ms in sb.METHODS.values())


def test_chemprop_config_is_read_with_paths_masked(tmp_path):
    # Chemprop's config.toml is ConfigArgParse text, not strict TOML; paths never reach a trace
    import _chemprop

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "smiles-columns = [smiles]\ndata-path = [/home/me/x.csv]\nepochs = 50\noutput-dir = /tmp/o\n"
    )
    got = _chemprop.public_config(cfg)
    assert got == {
        "smiles-columns": "[smiles]",
        "data-path": "<path>",
        "epochs": "50",
        "output-dir": "<path>",
    }


def test_chemprop_predictions_must_be_for_the_test_molecules(tmp_path):
    # predictions in another order than the test part are refused, not silently mis-paired
    import _chemprop

    path = tmp_path / "test_predictions.csv"
    path.write_text("smiles,t0\nCCO,1.0\nCCN,2.0\n")
    assert _chemprop._read_predictions(path, ["CCO", "CCN"], ["t0"]).ravel().tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="differ"):
        _chemprop._read_predictions(path, ["CCN", "CCO"], ["t0"])


@pytest.mark.slow
def test_chemprop_trains_on_the_given_parts(tmp_path):
    # a 3-epoch Chemprop run returns one prediction per test molecule, in the test part's order
    import _chemprop

    try:
        _chemprop.executable()
    except _chemprop.ChempropUnavailableError as exc:
        pytest.skip(str(exc))
    good = [s for s in SMILES if s != "not a smiles"]
    Y = np.arange(len(good), dtype=float)[:, None]
    parts = (np.arange(0, 15), np.arange(15, 19), np.array([22, 19, 21, 20]))
    out = _chemprop.train(good, Y, "regression", parts, tmp_path, seed=0, epochs=3)
    assert out["test_pred"].shape == (4, 1) and out["epochs_run"] == 3
    assert out["config"]["data-path"] == "<path>"


def test_recorded_command_lines_keep_data_set_names_and_mask_paths():
    # --data names data sets in this script (not a folder), --data-dir and --out are machine paths
    argv = ["--data", "esol,freesolv", "--data-dir", "/home/me/d", "--out=/tmp/o", "--data=bbbp"]
    assert sb._argv(argv) == [
        "--data",
        "esol,freesolv",
        "--data-dir",
        "<data-dir>",
        "--out=<out>",
        "--data=bbbp",
    ]
