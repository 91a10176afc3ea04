"""``scientia screen train`` and ``scientia screen predict``: files written, libraries streamed,
bad input refused with one line and exit code 2."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

ESOL = Path(__file__).resolve().parents[1] / "unit" / "screen" / "data" / "esol.csv"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A GP trained by the CLI on 500 ESOL molecules (a scaffold split), shared by the module."""
    from typer.testing import CliRunner

    from scientia.cli.main import app

    folder = tmp_path_factory.mktemp("screen")
    rows = ESOL.read_text(encoding="utf-8").splitlines()
    data = folder / "esol.csv"
    data.write_text("\n".join([*rows[:501], "C1CC,0.5"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["screen", "train", "--data", str(data), "--target", "logS", "--model", "gp",
              "--out", str(folder / "model")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder, result


def test_train_writes_model_metrics_and_card(trained):
    # the model folder holds the model, metrics, test predictions, card and figure; the card names
    # the data's SHA-256 and the split; the unreadable row is reported with its line
    from scientia.screen.card import file_sha256

    folder, result = trained
    model = folder / "model"
    for name in ("model.json", "state.pt", "metrics.json", "test_predictions.csv", "model_card.md",
                 "calibration.png", "rejects.csv"):  # fmt: skip
        assert (model / name).is_file(), name
    card = (model / "model_card.md").read_text(encoding="utf-8")
    assert file_sha256(folder / "esol.csv") in card and "scaffold" in card
    metrics = json.loads((model / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["metrics"]["rmse"] < metrics["baseline"]["rmse"]
    assert 0.7 <= metrics["metrics"]["coverage"] <= 1.0
    assert metrics["split"]["kind"] == "scaffold" and metrics["n_rejected"] == 1
    assert _read(model / "rejects.csv") == [
        {"line": "502", "smiles": "C1CC", "reason": "unclosed ring for input: 'C1CC'"}
    ]
    assert "test rmse" in result.stdout and "1 unreadable SMILES" in result.stderr
    assert len(_read(model / "test_predictions.csv")) == metrics["split"]["test"]


def test_predict_streams_a_library_larger_than_a_chunk(cli, tmp_path, trained):
    # a 600-line library in chunks of 100: the top 50 come back ranked, with interval, and the
    # bad lines go to a rejects file with their line numbers
    folder, _ = trained
    smiles = [r["smiles"].strip() for r in _read(ESOL)][500:1100]
    lines = [f"{s} mol{i}" for i, s in enumerate(smiles)]
    lines[10], lines[321] = "C1CC bad1", "CN(C)(C)(C)C bad2"
    (tmp_path / "lib.smi").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("screen", "predict", folder / "model", "--library", "lib.smi", "--top", 50,
                 "--chunk-size", 100, "--out", "hits.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    hits = _read(tmp_path / "hits.csv")
    assert len(hits) == 50 and [int(h["rank"]) for h in hits] == list(range(1, 51))
    assert list(hits[0]) == ["rank", "line", "smiles", "id", "mean", "std", "lower", "upper"]
    means = [float(h["mean"]) for h in hits]
    assert means == sorted(means, reverse=True)
    assert all(float(h["lower"]) < float(h["mean"]) < float(h["upper"]) for h in hits)
    assert all(lines[int(h["line"]) - 1].split()[0] == h["smiles"] for h in hits)
    assert _read(tmp_path / "hits.rejects.csv")[0]["line"] == "11"
    assert [r["line"] for r in _read(tmp_path / "hits.rejects.csv")] == ["11", "322"]
    assert "2 invalid lines skipped" in result.stderr
    assert "screened 600 molecules" in result.stdout


def test_predict_whole_table_to_parquet(cli, tmp_path, trained):
    # a CSV library with --top above its size returns every valid molecule, written as Parquet
    import pandas as pd

    folder, _ = trained
    lib = pd.DataFrame({"name": ["a", "b", "c", "d"], "SMILES": ["CCO", "CCCCCCCC", "bad", "c1ccccc1O"]})
    lib.to_csv(tmp_path / "lib.csv", index=False)
    result = cli("screen", "predict", folder / "model", "--library", "lib.csv", "--id", "name",
                 "--top", 100, "--direction", "min", "--out", "hits.parquet")  # fmt: skip
    assert result.exit_code == 0, result.output
    hits = pd.read_parquet(tmp_path / "hits.parquet")
    assert len(hits) == 3 and set(hits["id"]) == {"a", "b", "d"}
    assert hits["mean"].is_monotonic_increasing  # direction min: lowest first
    assert hits.loc[hits["id"] == "b", "line"].item() == 3


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--target", "logs"], ["unknown target column 'logs'", "did you mean 'logS'"]),
        (["--target", "logS", "--smiles", "smile"], ["unknown SMILES column 'smile'"]),
        (["--target", "logS", "--model", "gpp"], ["unknown model 'gpp'", "did you mean 'gp'"]),
        (["--target", "logS", "--split", "scafold"], ["unknown split", "scaffold"]),
        (["--target", "logS", "--sizes", "0.8,0.2"], ["--sizes"]),
        (["--target", "logS", "--data", "missing.csv"], ["missing.csv"]),
        (["--target", "logS", "--data", "esol.xyz"], ["cannot tell the format"]),
        (
            ["--target", "logS", "--model", "auto", "--features", "morgan"],
            ["own features", "drop --features"],
        ),
        (
            ["--target", "logS", "--model", "auto", "--calibration", "cv+"],
            ["chooses on the validation part", "conformal"],
        ),
    ],
)
def test_train_refuses_bad_input(cli, tmp_path, user_error, args, fragments):
    # user mistakes are one line on stderr and exit code 2, before any training
    shutil.copy(ESOL, tmp_path / "esol.csv")
    (tmp_path / "esol.xyz").write_text("x", encoding="utf-8")
    base = ["--data", "esol.csv"] if "--data" not in args else []
    user_error(cli("screen", "train", *base, *args, "--out", "m"), *fragments)
    assert not (tmp_path / "m").exists()


def test_predict_refuses_bad_input(cli, tmp_path, user_error, trained):
    # a folder that is not a model, an unknown output format, an existing output, a missing library
    folder, _ = trained
    model = str(folder / "model")
    (tmp_path / "lib.smi").write_text("CCO\n", encoding="utf-8")
    (tmp_path / "taken.csv").write_text("x\n", encoding="utf-8")
    user_error(cli("screen", "predict", "nowhere", "--library", "lib.smi", "--out", "h.csv"), "no model.json")
    user_error(
        cli("screen", "predict", model, "--library", "lib.smi", "--out", "h.json"), "cannot tell the format"
    )
    user_error(
        cli("screen", "predict", model, "--library", "lib.smi", "--out", "taken.csv"), "exists", "--force"
    )
    user_error(cli("screen", "predict", model, "--library", "none.smi", "--out", "h.csv"), "none.smi")
    user_error(cli("screen", "predict", model, "--library", "lib.smi", "--direction", "up", "--out", "h.csv"),
               "unknown direction")  # fmt: skip
    user_error(cli("screen", "predict", model, "--library", "lib.smi", "--backend", "dask", "--out", "h.csv"),
               "unknown backend")  # fmt: skip


@pytest.mark.slow
def test_predict_with_workers_matches_one_process(cli, tmp_path, trained):
    # two worker processes give the same hits and rejects as one process (slow: spawning workers)
    folder, _ = trained
    smiles = [r["smiles"].strip() for r in _read(ESOL)][500:800]
    smiles[7] = "C1CC"
    (tmp_path / "lib.smi").write_text("\n".join(smiles) + "\n", encoding="utf-8")
    common = ("screen", "predict", folder / "model", "--library", "lib.smi", "--top", 40, "--chunk-size", 50)
    assert cli(*common, "--out", "one.csv").exit_code == 0
    result = cli(*common, "--workers", 2, "--out", "two.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()
    assert (tmp_path / "one.rejects.csv").read_text() == (tmp_path / "two.rejects.csv").read_text()


@pytest.mark.slow
def test_predict_on_a_local_ray_matches_one_process(cli, tmp_path, trained, monkeypatch):
    # --backend ray shards the library over Ray actors and gives the same hits (slow: starts Ray)
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    folder, _ = trained
    smiles = [r["smiles"].strip() for r in _read(ESOL)][500:700]
    (tmp_path / "lib.smi").write_text("\n".join(smiles) + "\n", encoding="utf-8")
    common = ("screen", "predict", folder / "model", "--library", "lib.smi", "--top", 30, "--chunk-size", 50)
    assert cli(*common, "--out", "one.csv").exit_code == 0
    result = cli(*common, "--workers", 2, "--backend", "ray", "--out", "ray.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "ray.csv").read_text()
