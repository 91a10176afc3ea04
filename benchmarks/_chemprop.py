"""Chemprop v2 as a benchmark baseline, driven through its own command line as its users run it.

``chemprop train`` gets the exact train / validation / test rows of the benchmark through
``--splits-file`` and otherwise Chemprop's defaults (a D-MPNN, 50 epochs, the checkpoint with
the best validation loss is kept and scores the test part); ``chemprop predict`` scores a file
with the saved ``best.pt``. Chemprop is installed only for benchmarks (the ``bench`` extra) and
never imported by the library; it runs in a subprocess with one BLAS/OpenMP thread unless told
otherwise. Standard library, NumPy and pandas only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

UNCERTAINTY = "none: Chemprop's default is one model without an uncertainty method"
_PATH_KEYS = ("data-path", "output-dir", "save-dir", "splits-file", "config-path", "checkpoint")


class ChempropUnavailableError(RuntimeError):
    """Chemprop is not installed in the interpreter's environment."""


def executable() -> Path:
    """The ``chemprop`` command of this interpreter's environment.

    Raises
    ------
    ChempropUnavailableError
        When it is not installed (``pip install chemprop==2.3.1``, the ``bench`` extra).
    """
    exe = Path(sys.executable).with_name("chemprop")
    if not exe.is_file():
        raise ChempropUnavailableError(
            f"chemprop is not installed beside {Path(sys.executable).name} (no {exe.name} in its bin "
            "folder); install the bench extra or `pip install chemprop==2.3.1`"
        )
    return exe


def version() -> str | None:
    """Chemprop's installed version, or None."""
    try:
        return metadata.version("chemprop")
    except metadata.PackageNotFoundError:
        return None


def thread_env(threads: int = 1) -> dict[str, str]:
    """The environment for a Chemprop subprocess using ``threads`` BLAS/OpenMP threads."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def public_config(path: Path) -> dict:
    """Chemprop's resolved ``config.toml`` (ConfigArgParse's ``key = value`` lines, not strict
    TOML) as ``{key: text}``, machine paths masked."""
    config = {}
    for line in path.read_text().splitlines():
        key, eq, value = line.partition(" = ")
        if eq and not line.startswith("#"):
            config[key.strip()] = "<path>" if key.strip() in _PATH_KEYS else value.strip()
    return config


def _run(cmd: list[str], log: Path, threads: int) -> float:
    """Run ``cmd`` with its output in ``log``; return the wall seconds; raise with the log's tail."""
    t0 = time.perf_counter()
    with log.open("w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=thread_env(threads), check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        tail = log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"`chemprop {cmd[1]}` exited with {proc.returncode}:\n{tail}")
    return seconds


def train(
    smiles: Sequence[str],
    Y: np.ndarray,
    task: str,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray],
    workdir: Path,
    seed: int,
    epochs: int | None = None,
    threads: int = 1,
) -> dict:
    """Train Chemprop on given rows and return its test predictions.

    Parameters
    ----------
    smiles : sequence of str, length n
    Y : ndarray, shape (n, m)
        Targets, NaN where unknown (Chemprop masks them).
    task : {"regression", "classification"}
    parts : (train, val, test) index arrays into ``smiles``
    workdir : Path
        Folder for the input files, Chemprop's outputs and its log.
    seed : int
        ``--data-seed`` (batch order) and ``--pytorch-seed`` (weights; makes the run deterministic).
    epochs : int, optional
        Default Chemprop's (50); at least 3 (it warms up for 2).
    threads : int

    Returns
    -------
    dict
        ``test_pred`` (ndarray (n_test, m): values, or probabilities of class 1), ``seconds``
        (wall, start-up included), ``best_epoch``, ``epochs_run``, ``config`` (Chemprop's
        resolved options, paths masked), ``model`` (path of ``best.pt``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    Y = np.asarray(Y, float).reshape(len(smiles), -1)
    cols = [f"t{j}" for j in range(Y.shape[1])]
    data = workdir / "data.csv"
    lines = ["smiles," + ",".join(cols)]
    lines += [s + "," + ",".join("" if not np.isfinite(v) else repr(float(v)) for v in row)
              for s, row in zip(smiles, Y, strict=True)]  # fmt: skip
    data.write_text("\n".join(lines) + "\n")
    train_idx, val_idx, test_idx = ([int(i) for i in p] for p in parts)
    (workdir / "splits.json").write_text(json.dumps([{"train": train_idx, "val": val_idx, "test": test_idx}]))
    out = workdir / "chemprop"
    cmd = [str(executable()), "train", "-i", str(data), "--smiles-columns", "smiles",
           "--target-columns", *cols, "-t", task, "--splits-file", str(workdir / "splits.json"),
           "-o", str(out), "--data-seed", str(seed), "--pytorch-seed", str(seed),
           "--num-workers", "0", "--accelerator", "cpu", "--devices", "1"]  # fmt: skip
    if epochs is not None:
        cmd += ["--epochs", str(epochs)]
    seconds = _run(cmd, workdir / "train.log", threads)
    model_dir = out / "model_0"
    pred = _read_predictions(model_dir / "test_predictions.csv", [smiles[i] for i in test_idx], cols)
    best = [re.search(r"best-epoch=(\d+)", p.name) for p in (model_dir / "checkpoints").glob("best-*.ckpt")]
    metrics_csv = next((model_dir / "trainer_logs").glob("version_*/metrics.csv"), None)
    epochs_run = None
    if metrics_csv is not None:
        import pandas as pd

        epochs_run = int(pd.read_csv(metrics_csv)["epoch"].max()) + 1
    return {
        "test_pred": pred,
        "seconds": seconds,
        "best_epoch": int(best[0].group(1)) if best and best[0] else None,
        "epochs_run": epochs_run,
        "config": public_config(out / "config.toml"),
        "model": model_dir / "best.pt",
    }


def _read_predictions(path: Path, expected: list[str], cols: list[str]) -> np.ndarray:
    """Chemprop's test predictions, checked to be for ``expected`` SMILES in that order."""
    import pandas as pd

    df = pd.read_csv(path)
    got = df["smiles"].astype(str).tolist()
    if got != [str(s) for s in expected]:
        raise RuntimeError(f"{path.name}: Chemprop's test molecules differ from the benchmark's test part")
    return df[cols].to_numpy(float)


def predict_command(model: Path, library_csv: Path, preds: Path, workers: int = 0) -> list[str]:
    """``chemprop predict`` of a CSV with a ``smiles`` column, as a user would type it."""
    return [str(executable()), "predict", "-i", str(library_csv), "--smiles-columns", "smiles",
            "--model-paths", str(model), "-o", str(preds), "--num-workers", str(workers),
            "--accelerator", "cpu", "--devices", "1"]  # fmt: skip
