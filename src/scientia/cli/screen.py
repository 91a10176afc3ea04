"""``scientia screen``: train a screening model with calibrated uncertainty (``train``) and rank a
library of molecules with it (``predict``).

This module parses options, reads and writes files and draws progress; the science lives in
:mod:`scientia.screen`.
"""

from __future__ import annotations

import csv
import shlex
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from scientia.cli._common import console, fail, fmt, handle_errors, plural, say

if TYPE_CHECKING:
    from scientia.screen.features import Reject

app = typer.Typer(
    name="screen",
    help="Virtual screening: train a model with calibrated uncertainty, rank a library with it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

MODELS = ("ensemble", "gp", "classifier")
SPLITS = ("random", "scaffold", "cluster")
CALIBRATIONS = ("conformal", "isotonic", "none")
OUT_FORMATS = (".csv", ".tsv", ".parquet")

ForceOption = Annotated[bool, typer.Option("--force", "-f", help="Overwrite existing output.")]


def _one_torch_thread() -> None:
    """The CLI (not the library) decides threads: small torch models run fastest on one."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)


def _known(kind: str, name: str, known: tuple[str, ...]) -> None:
    if name not in known:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name(kind, name, known)


def _sizes(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        fail(f"--sizes takes three fractions like 0.8,0.1,0.1; got {text!r}")
    if len(parts) != 3:
        fail(f"--sizes takes three fractions (train, validation, test); got {text!r}")
    return parts[0], parts[1], parts[2]


def _step(message: str) -> None:
    say(console(stderr=True), message, "dim")


# -- train --------------------------------------------------------------------------------------
@app.command("train")
@handle_errors
def train(
    data: Annotated[
        str,
        typer.Option(
            "--data", "-d", metavar="FILE", help="Training table: .csv, .tsv (optionally .gz) or .parquet."
        ),
    ],
    target: Annotated[
        str, typer.Option("--target", "-t", metavar="COLUMN", help="Column(s) to predict; several as A,B.")
    ],
    out: Annotated[
        str, typer.Option("--out", "-o", metavar="MODEL_DIR", help="Folder for the model and its card.")
    ],
    smiles: Annotated[
        str, typer.Option("--smiles", "-s", metavar="COLUMN", help="The SMILES column.")
    ] = "smiles",
    model: Annotated[str, typer.Option("--model", "-m", help="ensemble, gp or classifier.")] = "ensemble",
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="morgan, morgan-count, rdkit2d, morgan+rdkit2d or morgan-count+rdkit2d "
            "[default: morgan-count+rdkit2d; gp: morgan-count].",
        ),
    ] = None,
    radius: Annotated[int, typer.Option("--radius", min=0, help="Morgan radius.")] = 2,
    n_bits: Annotated[int, typer.Option("--n-bits", min=1, help="Fingerprint length.")] = 2048,
    split: Annotated[str, typer.Option("--split", help="random, scaffold or cluster.")] = "scaffold",
    sizes: Annotated[
        str, typer.Option("--sizes", metavar="TR,VA,TE", help="Train, validation, test fractions.")
    ] = "0.8,0.1,0.1",
    calibration: Annotated[
        str, typer.Option("--calibration", help="conformal, isotonic or none (on the validation part).")
    ] = "conformal",
    members: Annotated[int, typer.Option("--members", min=1, help="Ensemble size.")] = 5,
    epochs: Annotated[
        int, typer.Option("--epochs", min=1, help="Training epochs of each ensemble member.")
    ] = 40,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (split, fit, bootstrap).")] = 0,
    force: ForceOption = False,
) -> None:
    """Train, calibrate and test a model; write it with its metrics and model card to MODEL_DIR."""

    import numpy as np

    from scientia.curate.io import read_table

    _known("model", model, MODELS)
    _known("split", split, SPLITS)
    _known("calibration", calibration, CALIBRATIONS)
    parts = _sizes(sizes)
    out_dir = Path(out)
    if (out_dir / "model.json").exists() and not force:
        fail(f"{out} already holds a model; choose another --out or pass --force to overwrite it")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out} exists and is not a folder")
    frame = read_table(data)
    if len(frame) == 0:
        fail(f"{data} has no rows")
    if smiles not in frame.columns:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("SMILES column", smiles, [str(c) for c in frame.columns])
    targets = [t.strip() for t in target.split(",") if t.strip()]
    for t in targets:
        if t not in frame.columns:
            from scientia.errors import UnknownNameError

            raise UnknownNameError.for_name("target column", t, [str(c) for c in frame.columns])
        if frame[t].dtype.kind not in "biuf":
            fail(f"target column {t!r} is not numeric; choose a column of numbers")
    from scientia.screen.features import Featurizer
    from scientia.screen.train import train_and_evaluate

    _one_torch_thread()
    kind = features or ("morgan-count" if model == "gp" else "morgan-count+rdkit2d")
    featurizer = Featurizer(kind=kind, radius=radius, n_bits=n_bits)
    options: dict[str, Any] = {} if model == "gp" else {"n_members": members, "epochs": epochs}
    y = frame[targets].to_numpy(dtype=np.float64)
    text = ["" if isinstance(s, float) else str(s) for s in frame[smiles].tolist()]
    header = 1 if not str(data).lower().endswith((".parquet", ".pq")) else 0
    lines = np.arange(1 + header, 1 + header + len(frame))
    start = time.perf_counter()
    result = train_and_evaluate(
        text, y, model, featurizer=featurizer, options=options, split=split, sizes=parts,
        calibration=calibration, targets=targets, lines=lines, seed=seed, progress=_step,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    _write_training(out_dir, result, data, smiles)
    _report_training(result, out, seconds)


def _write_training(out_dir: Path, result: Any, data: str, smiles: str) -> None:
    import json

    import pandas as pd

    from scientia.screen.card import file_sha256, write_model_card

    command = (
        "scientia screen " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if sys.argv[1:2] == ["screen"]
        else ""
    )
    info = {"path": data, "sha256": file_sha256(data), "smiles": smiles, "command": command or "(Python API)"}
    result.model.save(out_dir, extra={"data": info, **result.settings})
    (out_dir / "metrics.json").write_text(json.dumps(result.summary(), indent=1) + "\n", encoding="utf-8")
    test = result.split.test
    lower, upper = result.test_prediction.interval(result.settings["level"])
    table = pd.DataFrame({"smiles": [result.smiles[i] for i in test]})
    for j, name in enumerate(result.model.targets_):
        suffix = "" if len(result.model.targets_) == 1 else f"_{name}"
        table[f"measured{suffix}"] = result.y[test, j]
        table[f"mean{suffix}"] = result.test_prediction.mean[:, j]
        table[f"std{suffix}"] = result.test_prediction.std[:, j]
        table[f"lower{suffix}"] = lower[:, j]
        table[f"upper{suffix}"] = upper[:, j]
    table.to_csv(out_dir / "test_predictions.csv", index=False)
    if result.rejects:
        _write_rejects(out_dir / "rejects.csv", result.rejects)
    write_model_card(out_dir, result, info)


def _report_training(result: Any, out: str, seconds: float) -> None:
    out_console = console()
    m, ci, base = result.metrics, result.intervals, result.baseline
    sizes = result.split.sizes()
    say(
        out_console,
        f"trained {result.model.model} on {sizes['train']:,} molecules ({result.split.kind} split; "
        f"{sizes['val']:,} to calibrate, {sizes['test']:,} to test) in {seconds:.1f} s",
    )
    keys = (
        ("roc_auc", "pr_auc", "ece")
        if result.model.task == "classification"
        else ("rmse", "r2", "spearman", "coverage", "miscalibration_area")
    )
    for key in keys:
        lo, hi = ci.get(key, [float("nan"), float("nan")])
        say(
            out_console,
            f"  test {key}: {fmt(m[key], 3)} [95% {fmt(lo, 3)}, {fmt(hi, 3)}]  (baseline {fmt(base[key], 3)})",
        )
    if result.rejects:
        say(
            console(stderr=True),
            f"warning: {plural(len(result.rejects), 'unreadable SMILES')} skipped (see {out}/rejects.csv)",
        )
    say(
        out_console,
        f"wrote {out}: model.json, state.pt, metrics.json, test_predictions.csv, model_card.md, calibration.png",
    )


def _write_rejects(path: Path, rejects: list[Reject]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["line", "smiles", "reason"])
        w.writerows((r.line, r.smiles, r.reason) for r in rejects)


# -- predict ------------------------------------------------------------------------------------
class _RejectWriter:
    """Appends rejects to a CSV file, created at the first one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] | None = None
        self.count = 0

    def __call__(self, rejects: list[Reject]) -> None:
        if self.file is None:
            self.file = self.path.open("w", newline="", encoding="utf-8")
            csv.writer(self.file).writerow(["line", "smiles", "reason"])
        csv.writer(self.file).writerows((r.line, r.smiles, r.reason) for r in rejects)
        self.count += len(rejects)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@app.command("predict")
@handle_errors
def predict(
    model_dir: Annotated[
        str, typer.Argument(metavar="MODEL_DIR", help="A folder written by `scientia screen train`.")
    ],
    library: Annotated[
        str,
        typer.Option(
            "--library",
            "-l",
            metavar="LIB",
            help="Molecules to screen: .smi (SMILES [name]), .csv, .tsv (optionally .gz) or .parquet.",
        ),
    ],
    out: Annotated[
        str, typer.Option("--out", "-o", metavar="FILE", help="Hits table: .csv, .tsv or .parquet.")
    ],
    top: Annotated[
        int, typer.Option("--top", "-n", min=1, help="How many of the best-ranked molecules to write.")
    ] = 1000,
    smiles: Annotated[
        str | None,
        typer.Option(
            "--smiles",
            "-s",
            metavar="COLUMN",
            help="Tables: the SMILES column [default: `smiles`, any case].",
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id", metavar="COLUMN", help="Tables: a name column to carry into the output."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", metavar="NAME", help="Model output to rank by [default: the first]."),
    ] = None,
    direction: Annotated[str, typer.Option("--direction", help="max (high is good) or min.")] = "max",
    rank_by: Annotated[
        str, typer.Option("--rank-by", help="mean, or optimistic (the favourable end of the 90% interval).")
    ] = "mean",
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Molecules read and predicted at a time.")
    ] = 10_000,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Processes featurizing and predicting chunks.")
    ] = 1,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="Where to list unreadable lines [default: OUT's name + .rejects.csv].",
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Rank a library of molecules with a trained model; write the best with mean, std and interval."""
    from scientia.screen.library import read_library
    from scientia.screen.models import ScreeningModel

    _known("direction", direction, ("max", "min"))
    _known("ranking", rank_by, ("mean", "optimistic"))
    out_path = Path(out)
    if out_path.suffix.lower() not in OUT_FORMATS:
        fail(f"cannot tell the format of {out!r}; use .csv, .tsv or .parquet")
    if out_path.exists() and not force:
        fail(f"{out} exists; choose another --out or pass --force to overwrite it")
    if not out_path.resolve().parent.is_dir():
        fail(f"cannot write {out}: its folder does not exist")
    rejects_path = Path(rejects) if rejects else out_path.with_name(out_path.stem + ".rejects.csv")
    if rejects_path.exists() and not force:
        fail(f"{rejects_path} exists; choose another --rejects or pass --force to overwrite it")
    rejects_path.unlink(missing_ok=True)
    _one_torch_thread()
    model = ScreeningModel.load(model_dir)
    chunks = read_library(library, smiles, id_column, chunk_size)
    writer = _RejectWriter(rejects_path)
    err = console(stderr=True)
    try:
        result = _run_screen(model, chunks, err, writer, top=top, target=target, direction=direction,
                             rank_by=rank_by, workers=workers, model_dir=model_dir)  # fmt: skip
    finally:
        writer.close()
    from scientia.curate.io import write_table

    write_table(result.table, out_path)
    say(
        console(),
        f"screened {result.n_read:,} molecules in {result.seconds:.1f} s ({result.molecules_per_second:,.0f}/s); "
        f"wrote the top {len(result.table):,} by {rank_by} {result.target} ({direction}) to {out}",
    )
    if writer.count:
        say(err, f"warning: {plural(writer.count, 'invalid line')} skipped; listed in {rejects_path}")


def _run_screen(model: Any, chunks: Any, err: Any, writer: _RejectWriter, **kwargs: Any) -> Any:
    from scientia.screen.library import screen_library

    if not err.is_terminal:
        last = [0.0]
        start = time.perf_counter()

        def plain(n_read: int, n_valid: int, n_rejected: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 5.0:
                last[0] = now
                rate = n_read / max(now - start, 1e-9)
                say(err, f"screened {n_read:,} molecules ({rate:,.0f}/s, {n_rejected:,} rejected)")

        return screen_library(model, chunks, on_rejects=writer, on_progress=plain, **kwargs)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("screening", markup=False),
        BarColumn(),
        TextColumn("{task.fields[count]}", markup=False),
        TextColumn("{task.fields[rate]}", markup=False),
        TimeElapsedColumn(),
    )
    start = time.perf_counter()
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("screening", total=None, count="", rate="")

        def show(n_read: int, n_valid: int, n_rejected: int) -> None:
            rate = n_read / max(time.perf_counter() - start, 1e-9)
            bar.update(
                task, count=f"{n_read:,} molecules, {n_rejected:,} rejected", rate=f"{rate:,.0f} molecules/s"
            )

        return screen_library(model, chunks, on_rejects=writer, on_progress=show, **kwargs)
