"""``scientia screen train --model gnn``: a graph network trained, saved with its card and used by
``scientia screen predict``; graph and matrix features are not mixed up."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("torch_geometric")

ESOL = Path(__file__).resolve().parents[1] / "unit" / "screen" / "data" / "esol.csv"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def tiny_esol(tmp_path: Path) -> Path:
    """The first 150 ESOL molecules and one unreadable row, in the test's folder."""
    rows = ESOL.read_text(encoding="utf-8").splitlines()
    (tmp_path / "esol.csv").write_text("\n".join([*rows[:151], "C1CC,0.5"]) + "\n", encoding="utf-8")
    return tmp_path / "esol.csv"


def test_train_gnn_then_predict(cli, tmp_path, tiny_esol):
    # train writes the model, metrics and card of a GNN (graph features, the bad row reported);
    # predict ranks a library with it and lists the unreadable line
    result = cli("screen", "train", "--data", "esol.csv", "--target", "logS", "--model", "gnn",
                 "--members", 2, "--epochs", 5, "--split", "random", "--out", "gnn")  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "gnn" / "model.json").read_text(encoding="utf-8"))
    assert config["model"] == "gnn" and config["featurizer"]["kind"] == "graph"
    assert config["options"]["n_members"] == 2 and config["options"]["epochs"] == 5
    metrics = json.loads((tmp_path / "gnn" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n_rejected"] == 1 and metrics["split"]["kind"] == "random"
    card = (tmp_path / "gnn" / "model_card.md").read_text(encoding="utf-8")
    assert "message-passing" in card and "molecular graphs" in card
    assert "trained gnn on" in result.stdout and "1 unreadable SMILES" in result.stderr

    smiles = [r["smiles"] for r in _read(ESOL)][200:260]
    smiles[5] = "C1CC"
    (tmp_path / "lib.smi").write_text("\n".join(smiles) + "\n", encoding="utf-8")
    result = cli("screen", "predict", "gnn", "--library", "lib.smi", "--top", 10, "--chunk-size", 25,
                 "--out", "hits.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    hits = _read(tmp_path / "hits.csv")
    assert len(hits) == 10 and all(float(h["std"]) > 0 for h in hits)
    assert [r["line"] for r in _read(tmp_path / "hits.rejects.csv")] == ["6"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--model", "gnn", "--features", "morgan"], ["'gnn' takes molecular graphs", "--features graph"]),
        (["--model", "ensemble", "--features", "graph"], ["'ensemble' takes a feature matrix"]),
        (["--model", "gnm"], ["unknown model 'gnm'", "did you mean 'gnn'"]),
    ],
)
def test_train_refuses_mismatched_features(cli, user_error, tiny_esol, args, fragments):
    # graph models take graph features only, and matrix models never take graphs
    user_error(
        cli("screen", "train", "--data", "esol.csv", "--target", "logS", *args, "--out", "m"), *fragments
    )
