"""``scientia curate detect`` and ``scientia curate label``: files written, people asked, bad input refused."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _events(path: Path, n: int = 2000, outliers: int = 10, seed: int = 0) -> Path:
    """A CSV of Gaussian events with an id column; the last `outliers` rows are far away."""
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, 3))
    X[-outliers:] += 8.0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["event", "a", "b", "c"])
        for i, row in enumerate(X):
            w.writerow([f"e{i}", *(f"{v:.5f}" for v in row)])
    return path


def _blobs(path: Path, n: int = 120) -> tuple[Path, np.ndarray]:
    """Two separated blobs (features f0, f1) with a name column; truth returned separately."""
    gen = np.random.default_rng(1)
    y = np.r_[np.zeros(n // 2, int), np.ones(n // 2, int)]
    X = gen.normal(size=(n, 2)) + 4.0 * y[:, None]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "f0", "f1"])
        for i, row in enumerate(X):
            w.writerow([f"item{i}", f"{row[0]:.4f}", f"{row[1]:.4f}"])
    return path, y


def _labels(path: Path, rows: list[int], values: list[object]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["row", "label"])
        w.writerows(zip(rows, values, strict=True))
    return path


# -- detect ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["ecod", "knn"])
def test_detect_writes_scores_and_flags(cli, tmp_path, method):
    # every row comes back with its score and flag; the injected outliers are flagged
    data = _events(tmp_path / "events.csv")
    result = cli("curate", "detect", data, "--method", method, "--rate", "0.01", "--out", "flagged.csv")
    assert result.exit_code == 0, result.output
    rows = _read(tmp_path / "flagged.csv")
    assert len(rows) == 2000 and list(rows[0]) == ["event", "a", "b", "c", "score", "flagged"]
    assert all(r["flagged"] == "True" for r in rows[-10:])
    assert sum(r["flagged"] == "True" for r in rows) < 60
    assert "flagged" in result.stdout and "events/s" in result.stdout


def test_detect_with_background_npz_and_parquet(cli, tmp_path):
    # NPZ data with a separate background; Parquet output keeps only flagged rows when asked
    gen = np.random.default_rng(3)
    np.savez(tmp_path / "bg.npz", X=gen.normal(size=(3000, 4)))
    data = gen.normal(size=(500, 4))
    data[:5] += 9
    np.savez(tmp_path / "data.npz", X=data, y=np.r_[np.ones(5), np.zeros(495)])
    result = cli(
        "curate",
        "detect",
        "data.npz",
        "--background",
        "bg.npz",
        "--columns",
        "x0,x1,x2,x3",
        "--method",
        "iforest",
        "--rate",
        "0.01",
        "--only-flagged",
        "--out",
        "flagged.parquet",
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    flagged = pd.read_parquet(tmp_path / "flagged.parquet")
    assert flagged["y"].sum() == 5
    assert flagged["flagged"].all() and len(flagged) < 30


def test_detect_bad_inputs(cli, tmp_path, user_error):
    # missing file, unknown method, bad rate, existing output, unreadable format, text columns
    data = _events(tmp_path / "events.csv", n=200)
    user_error(cli("curate", "detect", "nowhere.csv", "--out", "o.csv"), "nowhere.csv")
    user_error(cli("curate", "detect", data, "--method", "ecdo", "--out", "o.csv"), "did you mean 'ecod'")
    user_error(cli("curate", "detect", data, "--rate", "2", "--out", "o.csv"), "--rate")
    (tmp_path / "o.csv").write_text("x\n")
    user_error(cli("curate", "detect", data, "--out", "o.csv"), "exists", "--force")
    user_error(cli("curate", "detect", data, "--out", "o.xlsx"), "extension")
    user_error(cli("curate", "detect", data, "--columns", "event", "--out", "p.csv"), "not numeric")
    user_error(cli("curate", "detect", data, "--columns", "aa", "--out", "p.csv"), "unknown column 'aa'")
    (tmp_path / "holes.csv").write_text("a,b\n1,2\n3,\n")
    user_error(cli("curate", "detect", "holes.csv", "--out", "p.csv"), "missing")
    assert not (tmp_path / "p.csv").exists()


# -- label -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["propagation", "spreading", "self-training"])
def test_label_writes_every_row(cli, tmp_path, method):
    # every row gets a label, a confidence and where it came from; given labels are kept
    data, y = _blobs(tmp_path / "items.csv")
    _labels(tmp_path / "labels.csv", [0, 1, 60, 61], [0, 0, 1, 1])
    result = cli(
        "curate", "label", data, "--labels", "labels.csv", "--method", method, "--out", "labelled.csv"
    )
    assert result.exit_code == 0, result.output
    rows = _read(tmp_path / "labelled.csv")
    assert list(rows[0]) == ["row", "name", "label", "confidence", "source"]
    assert [r["source"] for r in rows[:2]] == ["given", "given"]
    accuracy = np.mean([int(r["label"]) == t for r, t in zip(rows, y, strict=True)])
    assert accuracy > 0.9


def test_label_by_id_column_and_text_labels(cli, tmp_path):
    # labels may name rows by an id column and be words
    data, _ = _blobs(tmp_path / "items.csv")
    (tmp_path / "labels.csv").write_text("name,label\nitem0,low\nitem70,high\n")
    result = cli("curate", "label", data, "--labels", "labels.csv", "--id", "name", "--out", "labelled.csv")
    assert result.exit_code == 0, result.output
    assert {r["label"] for r in _read(tmp_path / "labelled.csv")} == {"low", "high"}


def test_label_bad_inputs(cli, tmp_path, user_error):
    # labels for missing rows, one class only, no label column, unknown method or no --out
    data, _ = _blobs(tmp_path / "items.csv")
    _labels(tmp_path / "far.csv", [0, 500], [0, 1])
    user_error(cli("curate", "label", data, "--labels", "far.csv", "--out", "o.csv"), "row 500")
    _labels(tmp_path / "one.csv", [0, 1], [0, 0])
    user_error(cli("curate", "label", data, "--labels", "one.csv", "--out", "o.csv"), "class")
    (tmp_path / "nolabel.csv").write_text("row,value\n0,1\n")
    user_error(cli("curate", "label", data, "--labels", "nolabel.csv", "--out", "o.csv"), "'label'")
    _labels(tmp_path / "ok.csv", [0, 60], [0, 1])
    user_error(
        cli("curate", "label", data, "--labels", "ok.csv", "--method", "propagate", "--out", "o.csv"),
        "did you mean 'propagation'",
    )
    user_error(cli("curate", "label", data, "--labels", "ok.csv"), "--out")
    user_error(cli("curate", "label", data, "--labels", "ok.csv", "--export", "q.csv"), "--active")
    user_error(cli("curate", "label", data, "--labels", "missing.csv", "--out", "o.csv"), "missing.csv")


def test_active_export_then_import(cli, tmp_path):
    # queried items go to a CSV with an empty label column; filled answers are added to the labels
    data, y = _blobs(tmp_path / "items.csv")
    labels = _labels(tmp_path / "labels.csv", [0, 60], [0, 1])
    result = cli(
        "curate", "label", data, "--active", "--labels", labels, "--n", "5", "--export", "queries.csv"
    )
    assert result.exit_code == 0, result.output
    queries = _read(tmp_path / "queries.csv")
    assert len(queries) == 5 and list(queries[0])[:2] == ["row", "label"] and "name" in queries[0]
    assert all(q["label"] == "" for q in queries)
    for q in queries:
        q["label"] = str(y[int(q["row"])])
    with (tmp_path / "answers.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(queries[0]))
        w.writeheader()
        w.writerows(queries)
    result = cli(
        "curate",
        "label",
        data,
        "--active",
        "--labels",
        labels,
        "--import",
        "answers.csv",
        "--out",
        "labelled.csv",
    )
    assert result.exit_code == 0, result.output
    assert len(_read(labels)) == 7
    assert "added 5 labels" in result.stdout
    assert len(_read(tmp_path / "labelled.csv")) == 120


def test_active_asks_a_person(cli, tmp_path):
    # interactive mode prompts per item, records answers (blank skips, q stops) in the labels file
    data, _ = _blobs(tmp_path / "items.csv")
    labels = _labels(tmp_path / "labels.csv", [0, 60], [0, 1])
    from typer.testing import CliRunner

    from scientia.cli.main import app

    runner = CliRunner()
    result = runner.invoke(
        app,
        ["curate", "label", str(data), "--active", "--labels", str(labels), "--n", "4", "--show", "name"],
        input="1\n\n0\nq\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("row ") >= 3 and "name=item" in result.output
    assert len(_read(labels)) == 4
    assert "recorded 2 labels" in result.output
