"""Reading libraries in chunks and screening them: line numbers, top-k ranking, rejects."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import UnknownNameError, ValidationError
from scientia.screen.library import read_library, screen_library
from scientia.screen.models import ScreeningModel


@pytest.fixture(scope="module")
def gp_model(esol):
    """A small fitted Tanimoto GP (fast to fit and predict)."""
    smiles = esol["smiles"].tolist()[:150]
    return ScreeningModel("gp").fit(smiles, esol["logS"].to_numpy()[:150], seed=0, targets=["logS"])


def test_smi_reader_skips_headers_comments_and_blank_lines(tmp_path):
    # a .smi file is "SMILES [name]" per line; line numbers are the file's own
    path = tmp_path / "lib.smi"
    path.write_text("smiles name\nCCO ethanol\n\n# a comment\nc1ccccc1 benzene ring\nCCN\n", encoding="utf-8")
    chunks = list(read_library(path, chunk_size=2))
    assert [c.smiles for c in chunks] == [["CCO", "c1ccccc1"], ["CCN"]]
    assert [c.lines.tolist() for c in chunks] == [[2, 5], [6]]
    assert chunks[0].ids == ["ethanol", "benzene ring"] and chunks[1].ids == [""]


def test_csv_and_parquet_readers_find_the_smiles_column(tmp_path):
    # tables: the SMILES column is found by name, lines count the header, ids come along
    import pandas as pd

    frame = pd.DataFrame({"ID": ["a", "b", "c"], "SMILES": ["CCO", "C1CC", "CCN"]})
    frame.to_csv(tmp_path / "lib.csv", index=False)
    frame.to_parquet(tmp_path / "lib.parquet")
    csv_chunks = list(read_library(tmp_path / "lib.csv", id_column="ID", chunk_size=2))
    assert [c.lines.tolist() for c in csv_chunks] == [[2, 3], [4]]
    assert csv_chunks[0].ids == ["a", "b"]
    pq_chunks = list(read_library(tmp_path / "lib.parquet", chunk_size=2))
    assert [c.smiles for c in pq_chunks] == [["CCO", "C1CC"], ["CCN"]]
    assert pq_chunks[1].lines.tolist() == [3]
    with pytest.raises(UnknownNameError, match="did you mean 'SMILES'"):
        read_library(tmp_path / "lib.csv", smiles_column="SMILE")
    with pytest.raises(ValidationError, match="format"):
        read_library(tmp_path / "lib.xyz")
    with pytest.raises(FileNotFoundError):
        read_library(tmp_path / "missing.smi")


def test_screen_keeps_the_true_top_k_across_chunks(tmp_path, esol, gp_model):
    # streaming in chunks smaller than the library keeps exactly the k best of a one-shot prediction
    smiles = esol["smiles"].tolist()[150:450]
    lines = [*smiles[:100], "C1CC", *smiles[100:], "CN(C)(C)(C)C"]
    path = tmp_path / "lib.smi"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = []
    progress = []
    result = screen_library(
        gp_model, read_library(path, chunk_size=64), top=25,
        on_rejects=rejects.extend, on_progress=lambda *counts: progress.append(counts),
    )  # fmt: skip
    full = gp_model.predict(smiles).mean[:, 0]
    best = np.sort(full)[::-1][:25]
    table = result.table
    np.testing.assert_allclose(table["mean"].to_numpy(), best, rtol=1e-6)
    assert table["rank"].tolist() == list(range(1, 26))
    assert list(table.columns) == ["rank", "line", "smiles", "mean", "std", "lower", "upper"]
    assert np.all(table["lower"] < table["mean"]) and np.all(table["mean"] < table["upper"])
    assert [(r.line, r.smiles) for r in rejects] == [(101, "C1CC"), (302, "CN(C)(C)(C)C")]
    assert (result.n_read, result.n_valid, result.n_rejected) == (302, 300, 2)
    assert len(progress) == 5 and progress[-1] == (302, 300, 2)  # ceil(302 / 64) chunks
    # each hit's line holds its SMILES (ESOL has a SMILES with a trailing space, which .smi drops)
    assert all(lines[n - 1].strip() == s for s, n in zip(table["smiles"], table["line"], strict=True))


def test_screen_ranks_by_direction_and_optimism(esol, gp_model):
    # "min" puts the lowest means first; "optimistic" ranks by the favourable interval end
    smiles = esol["smiles"].tolist()[150:250]
    chunks = read_library_from(smiles)
    low = screen_library(gp_model, chunks, top=10, direction="min").table
    assert np.all(np.diff(low["mean"].to_numpy()) >= 0)
    opt = screen_library(gp_model, read_library_from(smiles), top=10, rank_by="optimistic").table
    assert np.all(np.diff(opt["upper"].to_numpy()) <= 0)
    with pytest.raises(UnknownNameError, match="target"):
        screen_library(gp_model, read_library_from(smiles), target="logP")


def read_library_from(smiles):
    """Chunks from an in-memory list (one chunk)."""
    from scientia.screen.library import LibraryChunk

    return [LibraryChunk(list(smiles), np.arange(1, len(smiles) + 1), [""] * len(smiles))]


def test_ray_backend_on_a_local_cluster_gives_the_same_hits(tmp_path, esol, gp_model, monkeypatch):
    # the library sharded over Ray actors (model files shipped through the object store) ranks
    # exactly as one process does, and the local cluster the run started is stopped again
    ray = pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_DISABLE_USAGE_STATS", "1")
    model_dir = tmp_path / "model"
    gp_model.save(model_dir)
    path = tmp_path / "lib.smi"
    path.write_text("\n".join([*esol["smiles"].tolist()[150:350], "C1CC"]) + "\n", encoding="utf-8")
    one = screen_library(gp_model, read_library(path, chunk_size=50), top=20)
    sharded = screen_library(
        gp_model, read_library(path, chunk_size=50), top=20, workers=2, backend="ray", model_dir=model_dir
    )
    assert not ray.is_initialized()
    np.testing.assert_allclose(sharded.table["mean"], one.table["mean"], rtol=1e-6)
    assert sharded.table["line"].tolist() == one.table["line"].tolist()
    assert (sharded.n_read, sharded.n_valid, sharded.n_rejected) == (201, 200, 1)


def test_unknown_backend_is_refused(gp_model):
    with pytest.raises(UnknownNameError, match="backend"):
        screen_library(gp_model, iter(()), backend="dask")
