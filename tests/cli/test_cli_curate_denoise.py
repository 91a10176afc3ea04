"""``scientia curate denoise`` and ``scientia curate augment``: files written, numbers reported, bad input refused."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest


def _clean(n: int = 48) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n] / n
    return 0.5 + 0.3 * np.sin(6 * xx + 2 * yy) * np.cos(4 * yy)


def _noisy_png(folder: Path, name: str = "noisy.png", colour: bool = False) -> tuple[Path, Path]:
    """A noisy 8-bit PNG and its clean version, written with Pillow."""
    from PIL import Image

    clean = _clean()
    if colour:
        clean = np.stack([clean, clean**2, 1 - clean], axis=-1)
    noisy = clean + 0.1 * np.random.default_rng(0).normal(size=clean.shape)
    Image.fromarray(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)).save(folder / name)
    Image.fromarray(np.round(clean * 255).astype(np.uint8)).save(folder / "clean.png")
    return folder / name, folder / "clean.png"


def _psnr_line(output: str) -> tuple[float, float]:
    line = next(s for s in output.splitlines() if "PSNR" in s)
    before, after = line.split("PSNR ")[1].split(" dB")[0].split(" → ")
    return float(before), float(after)


@pytest.mark.parametrize("method", ["median", "gaussian"])
def test_filters_write_an_image_and_report_psnr(cli, tmp_path, method):
    # the classical filters write a PNG of the same size and improve PSNR against the reference
    from PIL import Image

    noisy, clean = _noisy_png(tmp_path)
    result = cli("curate", "denoise", noisy, "--method", method, "--out", "out.png", "--reference", clean)
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "out.png").size == (48, 48)
    before, after = _psnr_line(result.stdout)
    assert after > before + 3
    assert "chosen from INPUT" in result.stdout and "wrote out.png" in result.stdout


def test_n2v_on_npy_with_steps(cli, tmp_path):
    # a short Noise2Void run on a .npy field writes a float array of the same shape
    noisy = _clean() + 0.1 * np.random.default_rng(1).normal(size=(48, 48))
    np.save(tmp_path / "field.npy", noisy)
    result = cli("curate", "denoise", "field.npy", "--steps", "3", "--out", "den.npy", "--seed", "1")
    assert result.exit_code == 0, result.output
    out = np.load(tmp_path / "den.npy")
    assert out.shape == (48, 48) and out.dtype == np.float64
    assert "Noise2Void, 3 steps" in result.stdout


def test_dae_colour_png_with_given_sigma(cli, tmp_path):
    # the autoencoder takes --sigma and keeps colour; a note says --size does not apply
    noisy, _ = _noisy_png(tmp_path, colour=True)
    result = cli(
        "curate",
        "denoise",
        noisy,
        "-m",
        "dae",
        "--sigma",
        "0.1",
        "--steps",
        "2",
        "--size",
        "3",
        "-o",
        "d.npy",
    )
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "d.npy").shape == (48, 48, 3)
    assert "noise σ 0.1" in result.stdout
    assert "--size does not apply" in result.stderr


def test_fixed_filter_size(cli, tmp_path):
    # --size fixes the median window instead of calibrating it
    noisy, _ = _noisy_png(tmp_path)
    result = cli("curate", "denoise", noisy, "-m", "median", "--size", "5", "-o", "m.png")
    assert result.exit_code == 0, result.output
    assert "5-pixel window" in result.stdout and "chosen from INPUT" not in result.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["missing.png", "-o", "o.png"], ["missing.png"]),
        (["noisy.png", "-o", "o.gif"], ["unsupported image format", ".gif"]),
        (["noisy.png", "-o", "o.png", "-m", "median2"], ["unknown method", "median"]),
        (["noisy.png", "-o", "o.png", "--sigma", "-1"], ["--sigma must be positive"]),
        (["noisy.png", "-o", "o.png", "-m", "median", "--size", "2.5"], ["window width"]),
        (["notes.png", "-o", "o.png"], ["cannot read the image"]),
        (["line.npy", "-o", "o.npy"], ["2-D image"]),
        (["noisy.png", "-o", "o.png", "--reference", "small.png"], ["--reference has shape"]),
        (["noisy.png", "-o", "exists.png"], ["exists", "--force"]),
        (["noisy.png", "-o", "nowhere/o.png"], ["folder does not exist"]),
    ],
)
def test_denoise_bad_input(cli, user_error, tmp_path, args, fragments):
    # each mistake is one `error:` line with exit code 2 and no output file
    from PIL import Image

    _noisy_png(tmp_path)
    (tmp_path / "notes.png").write_text("not an image")
    np.save(tmp_path / "line.npy", np.zeros(40))
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "small.png")
    (tmp_path / "exists.png").write_bytes(b"x")
    result = cli("curate", "denoise", *args)
    user_error(result, *fragments)
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.npy").exists()


# -- augment -----------------------------------------------------------------------------------
def test_augment_fields(cli, tmp_path):
    # .npy fields come back `copies` times, the first copy unchanged
    X = np.random.default_rng(0).normal(size=(4, 8, 8))
    np.save(tmp_path / "f.npy", X)
    result = cli("curate", "augment", "f.npy", "--copies", "3", "--shift", "2", "-o", "a.npy")
    assert result.exit_code == 0, result.output
    A = np.load(tmp_path / "a.npy")
    assert A.shape == (12, 8, 8) and np.array_equal(A[:4], X)


@pytest.mark.skipif(importlib.util.find_spec("rdkit") is None, reason="needs rdkit")
def test_augment_smiles_table(cli, tmp_path):
    # each molecule's row is repeated with other spellings of the same molecule
    from rdkit import Chem

    with (tmp_path / "mols.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [["name", "smiles", "y"], ["aspirin", "CC(=O)Oc1ccccc1C(=O)O", 1.5], ["ethanol", "CCO", 0.2]]
        )
    result = cli("curate", "augment", "mols.csv", "--smiles", "smiles", "-n", "4", "-o", "aug.csv")
    assert result.exit_code == 0, result.output
    with (tmp_path / "aug.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["source_row", "name", "smiles", "y"]
    for r in rows:
        want = ["CC(=O)Oc1ccccc1C(=O)O", "CCO"][int(r["source_row"])]
        assert Chem.MolToSmiles(Chem.MolFromSmiles(r["smiles"])) == Chem.MolToSmiles(Chem.MolFromSmiles(want))
    assert sum(r["name"] == "aspirin" for r in rows) == 4


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["mols.csv", "-o", "a.csv"], ["--smiles"]),
        (["mols.csv", "--smiles", "smile", "-o", "a.csv"], ["unknown column", "smiles"]),
        (["f.npy", "-o", "a.csv"], [".npy"]),
        (["f.npy", "-o", "a.npy", "--mode", "wrap"], ["unknown mode"]),
        (["flat.npy", "-o", "a.npy"], ["(n, H, W)"]),
    ],
)
def test_augment_bad_input(cli, user_error, tmp_path, args, fragments):
    # missing or unknown options and wrong shapes are refused with one line
    (tmp_path / "mols.csv").write_text("smiles\nCCO\n")
    np.save(tmp_path / "f.npy", np.zeros((2, 4, 4)))
    np.save(tmp_path / "flat.npy", np.zeros((2, 4)))
    user_error(cli("curate", "augment", *args), *fragments)
