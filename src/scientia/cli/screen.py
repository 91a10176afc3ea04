"""``scientia screen``: train a screening model with calibrated uncertainty (``train``), rank a
library of molecules with it (``predict``), or screen a pool by active learning (``active``).

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

from scientia.cli._common import LedgerOption, console, fail, fmt, handle_errors, plural, resolve_ledger, say

if TYPE_CHECKING:
    from scientia.screen.features import Reject

app = typer.Typer(
    name="screen",
    help="Virtual screening: train a model with calibrated uncertainty, rank a library with it, "
    "or screen a pool by active learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

MODELS = ("ensemble", "gp", "classifier", "gnn", "gnn-classifier", "auto", "auto-classifier")
GRAPH_MODELS = ("gnn", "gnn-classifier")
SPLITS = ("random", "scaffold", "cluster")
CALIBRATIONS = ("conformal", "isotonic", "cv+", "none")
OUT_FORMATS = (".csv", ".tsv", ".parquet")
ACTIVE_FEATURES = ("morgan-count+rdkit2d", "morgan+rdkit2d", "morgan-count", "morgan", "rdkit2d")

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
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="ensemble, gp, classifier, gnn, gnn-classifier, or auto / auto-classifier (train "
            "each candidate, keep the best on the validation part).",
        ),
    ] = "ensemble",
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="morgan, morgan-count, rdkit2d, morgan+rdkit2d, morgan-count+rdkit2d or graph "
            "[default: morgan-count+rdkit2d; gp: morgan-count; gnn: graph].",
        ),
    ] = None,
    radius: Annotated[int, typer.Option("--radius", min=0, help="Morgan radius.")] = 2,
    n_bits: Annotated[int, typer.Option("--n-bits", min=1, help="Fingerprint length.")] = 2048,
    split: Annotated[str, typer.Option("--split", help="random, scaffold or cluster.")] = "scaffold",
    sizes: Annotated[
        str, typer.Option("--sizes", metavar="TR,VA,TE", help="Train, validation, test fractions.")
    ] = "0.8,0.1,0.1",
    calibration: Annotated[
        str,
        typer.Option(
            "--calibration",
            help="conformal or isotonic (on the validation part), cv+ (cross-conformal, 5 folds "
            "of training + validation; 5x the cost), or none.",
        ),
    ] = "conformal",
    members: Annotated[int, typer.Option("--members", min=1, help="Ensemble size.")] = 5,
    epochs: Annotated[
        int,
        typer.Option(
            "--epochs", min=1, help="Training epochs of each ensemble member (gnn: at most; it stops early)."
        ),
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
    from scientia.screen.graphs import GraphFeaturizer
    from scientia.screen.train import train_and_evaluate

    _one_torch_thread()
    featurizer: Any = None
    if model.startswith("auto"):
        if features is not None:
            fail(f"--model {model} gives each candidate its own features; drop --features")
    else:
        kind = features or (
            "graph" if model in GRAPH_MODELS else "morgan-count" if model == "gp" else "morgan-count+rdkit2d"
        )
        featurizer = (
            GraphFeaturizer() if kind == "graph" else Featurizer(kind=kind, radius=radius, n_bits=n_bits)
        )
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
    if "chosen" in result.settings:
        by = result.settings["chosen_by"]
        scores = ", ".join(f"{n} {fmt(v, 3)}" for n, v in result.settings["candidates"].items())
        say(out_console, f"  chose {result.settings['chosen']} by validation {by} ({scores})")
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
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="local (processes here) or ray (actors on $RAY_ADDRESS, else a local Ray)."
        ),
    ] = "local",
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
    _known("backend", backend, ("local", "ray"))
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
                             rank_by=rank_by, workers=workers, backend=backend, model_dir=model_dir)  # fmt: skip
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


# -- active -------------------------------------------------------------------------------------
@app.command("active")
@handle_errors
def active(
    pool: Annotated[
        str,
        typer.Option(
            "--pool", "-p", metavar="FILE", help="The pool: .csv, .tsv (optionally .gz) or .parquet."
        ),
    ],
    oracle_column: Annotated[
        str,
        typer.Option(
            "--oracle-column",
            metavar="COLUMN",
            help="The oracle: a column of the pool, revealed only for the molecules chosen.",
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out", "-o", metavar="FILE", help="The evaluated molecules in order: .csv, .tsv or .parquet."
        ),
    ],
    smiles: Annotated[
        str, typer.Option("--smiles", "-s", metavar="COLUMN", help="The SMILES column.")
    ] = "smiles",
    direction: Annotated[str, typer.Option("--direction", help="max (high is good) or min.")] = "max",
    acquisition: Annotated[
        str, typer.Option("--acquisition", "-a", help="greedy, ucb, thompson or random.")
    ] = "greedy",
    beta: Annotated[float, typer.Option("--beta", min=0, help="UCB: mean + beta * std.")] = 2.0,
    model: Annotated[str, typer.Option("--model", "-m", help="ensemble, gp or forest.")] = "ensemble",
    features: Annotated[
        str,
        typer.Option(
            "--features", help="morgan-count+rdkit2d, morgan+rdkit2d, morgan-count, morgan or rdkit2d."
        ),
    ] = "morgan-count+rdkit2d",
    descriptors: Annotated[
        str,
        typer.Option(
            "--descriptors",
            metavar="NAMES",
            help="RDKit descriptors of +rdkit2d features: default (112), fast (12), all (217) or A,B,...",
        ),
    ] = "default",
    radius: Annotated[int, typer.Option("--radius", min=0, help="Morgan radius.")] = 2,
    n_bits: Annotated[int, typer.Option("--n-bits", min=1, help="Fingerprint length.")] = 2048,
    members: Annotated[int, typer.Option("--members", min=1, help="Ensemble size.")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs of each member.")] = 40,
    init_fraction: Annotated[
        float, typer.Option("--init-fraction", min=0, max=1, help="Random initial batch, share of the pool.")
    ] = 0.01,
    batch_fraction: Annotated[
        float, typer.Option("--batch-fraction", min=0, max=1, help="Each later batch, share of the pool.")
    ] = 0.01,
    budget_fraction: Annotated[
        float, typer.Option("--budget-fraction", min=0, max=1, help="Evaluations in all, share of the pool.")
    ] = 0.06,
    init_size: Annotated[
        int | None,
        typer.Option("--init-size", min=1, help="Initial batch in molecules (overrides the fraction)."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Batch in molecules (overrides the fraction).")
    ] = None,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, help="Evaluations in all (overrides the fraction).")
    ] = None,
    top_k: Annotated[
        str, typer.Option("--top-k", metavar="K", help="Top-k to score: molecules (500) or a share (0.01).")
    ] = "0.01",
    ledger: LedgerOption = None,
    name: Annotated[str, typer.Option("--name", help="The campaign's name in the ledger.")] = "active-screen",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (initial batch, fits, draws).")] = 0,
    force: ForceOption = False,
) -> None:
    """Active-learning screening: evaluate a pool batch by batch, each batch chosen by a model."""
    import math

    import numpy as np

    from scientia.curate.io import read_table, table_format, write_table
    from scientia.screen.active import ActiveScreen

    _known("direction", direction, ("max", "min"))
    _known("features", features, ACTIVE_FEATURES)
    out_path = Path(out)
    if out_path.suffix.lower() not in OUT_FORMATS:
        fail(f"cannot tell the format of {out!r}; use .csv, .tsv or .parquet")
    if out_path.exists() and not force:
        fail(f"{out} exists; choose another --out or pass --force to overwrite it")
    if not out_path.resolve().parent.is_dir():
        fail(f"cannot write {out}: its folder does not exist")
    k_text = top_k.strip()
    try:
        k_value = float(k_text)
    except ValueError:
        fail(f"--top-k takes a number of molecules (500) or a share of the pool (0.01); got {top_k!r}")
    if not (k_value > 0 and (k_value < 1 or k_value == int(k_value))):
        fail(f"--top-k takes a number of molecules (500) or a share of the pool (0.01); got {top_k!r}")
    frame = read_table(pool)
    for column, what in ((smiles, "SMILES column"), (oracle_column, "oracle column")):
        if column not in frame.columns:
            from scientia.errors import UnknownNameError

            raise UnknownNameError.for_name(what, column, [str(c) for c in frame.columns])
    if frame[oracle_column].dtype.kind not in "biuf":
        fail(f"oracle column {oracle_column!r} is not numeric; choose a column of numbers")
    text = ["" if isinstance(s, float) else str(s).strip() for s in frame[smiles].tolist()]
    values = frame[oracle_column].to_numpy(dtype=np.float64)
    oracle: dict[str, float] = {}
    for s, v in zip(text, values, strict=True):
        oracle.setdefault(s, float(v))  # a repeated SMILES: its first row
    ml = {"n_members": members, "epochs": epochs} if model == "ensemble" else None
    featurizer = _active_featurizer(features, descriptors, radius, n_bits)
    screen = ActiveScreen(
        model, acquisition, beta=beta, model_options=ml, features=featurizer,
        init_fraction=init_fraction, batch_fraction=batch_fraction, budget_fraction=budget_fraction,
        init_size=init_size, batch_size=batch_size, budget=budget, direction=direction,
        objective=oracle_column, seed=seed, name=name,
    )  # fmt: skip
    if model != "forest":
        _one_torch_thread()
    location = resolve_ledger(ledger)
    err = console(stderr=True)
    truth: dict[str, float] | None = None
    if all(math.isfinite(v) for v in oracle.values()):
        truth = oracle  # a retrospective screen: the column knows every molecule
    printer = _RoundPrinter(console(), screen, direction, truth, k_value)
    printer.resumed = _exists(location, name)
    start = time.perf_counter()
    screen = _run_active(screen, text, oracle, location, err, printer)
    seconds = time.perf_counter() - start
    write_table(screen.results(), out_path)
    if screen.rejects_:
        rejects_path = out_path.with_name(out_path.stem + ".rejects.csv")
        header = 0 if table_format(pool) == "parquet" else 1
        _write_rejects(rejects_path, [type(r)(r.line + header, r.smiles, r.reason) for r in screen.rejects_])
        say(
            err,
            f"warning: {plural(len(screen.rejects_), 'unreadable SMILES')} left out; listed in {rejects_path}",
        )
    if screen.n_duplicates_:
        say(
            err,
            f"warning: {plural(screen.n_duplicates_, 'repeated SMILES')} left out (the first row of each is used)",
        )
    printer.summary(screen, seconds, out, location)


def _active_featurizer(kind: str, descriptors: str, radius: int, n_bits: int) -> Any:
    from scientia.screen.acquire import FAST_DESCRIPTORS, default_descriptors
    from scientia.screen.features import Featurizer

    if "rdkit2d" not in kind:
        if descriptors != "default":
            fail(f"--descriptors goes with +rdkit2d features; --features is {kind!r}")
        return Featurizer(kind, radius, n_bits)
    named = {"default": default_descriptors, "fast": lambda: FAST_DESCRIPTORS, "all": lambda: None}
    names = named[descriptors]() if descriptors in named else tuple(d.strip() for d in descriptors.split(","))
    if names is not None and not all(names):
        fail("--descriptors takes default, fast, all, or a comma list of RDKit descriptor names")
    return Featurizer(kind, radius, n_bits, descriptors=names)


def _run_active(screen: Any, text: list[str], oracle: Any, location: str, err: Any, printer: Any) -> Any:
    """Run the screen with a featurizing bar and a round bar on a terminal, plain lines otherwise."""
    if not err.is_terminal:
        started = time.perf_counter()

        def featurized(done: int, total: int) -> None:
            if done == total and time.perf_counter() - started > 5:
                say(err, f"featurized {total:,} molecules in {time.perf_counter() - started:.0f} s")

        return screen.run(text, oracle, location, on_round=printer, on_featurize=featurized)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bar:
        feat = bar.add_task("featurizing", total=None)
        rounds = bar.add_task("evaluating", total=None, visible=False)

        def featurized(done: int, total: int) -> None:
            bar.update(feat, completed=done, total=total)

        def finished(report: Any) -> None:
            bar.update(feat, visible=False)
            bar.update(rounds, visible=True, completed=report.n_evaluated, total=report.budget)
            printer(report, bar.console)

        return screen.run(text, oracle, location, on_round=finished, on_featurize=featurized)


def _exists(location: str, name: str) -> bool:
    """Whether the ledger already holds a campaign ``name`` (the library checks it is this screen)."""
    from scientia.ledger import Ledger

    if "://" not in location and not Path(location).is_file():
        return False
    store = Ledger(location)
    try:
        return name in {c["name"] for c in store.campaigns()}
    finally:
        store.close()


class _RoundPrinter:
    """Prints one line per round, with the share of the true top-k found when it is known."""

    def __init__(
        self, out: Any, screen: Any, direction: str, truth: dict[str, float] | None, k: float
    ) -> None:
        self.out, self.screen, self.direction, self.truth, self.k_value = out, screen, direction, truth, k
        self.found: list[str] = []
        self.resumed = False

    def k(self, n_pool: int) -> int:
        return max(1, round(self.k_value * n_pool)) if self.k_value < 1 else min(int(self.k_value), n_pool)

    def fraction(self, smiles: list[str]) -> float | None:
        """The share of the true top-k of the screened pool among ``smiles`` (None without truth)."""
        from scientia.screen.active import top_k_found

        if self.truth is None:
            return None
        pool = self.screen.pool_
        return top_k_found([self.truth[s] for s in smiles], [self.truth[s] for s in pool], self.k(len(pool)),
                           self.direction)  # fmt: skip

    def __call__(self, report: Any, out: Any = None) -> None:
        self.found += list(report.smiles)
        kind = report.strategy.split(":")[-1]
        line = (
            f"round {report.round + 1} ({kind}): {len(report.smiles):,} molecules, "
            f"{report.n_evaluated:,} of {report.budget:,} evaluated, best {self.screen.objective} {fmt(report.best)}"
        )
        if report.n_failed:
            line += f", {report.n_failed} failed"
        frac = self.fraction(self.found)
        if frac is not None:
            line += f"; top {self.k(len(self.screen.pool_)):,} found {frac:.1%}"
        if report.propose_seconds is not None:
            line += f" [model {report.propose_seconds:.1f} s]"
        say(out or self.out, line)

    def summary(self, screen: Any, seconds: float, out: str, location: str) -> None:
        res = screen.results()
        n, pool = len(res), screen.pool_
        text = (
            f"evaluated {n:,} of {len(pool):,} molecules ({n / len(pool):.1%}) in {len(screen.rounds_)} rounds, "
            f"{seconds:.0f} s"
        )
        frac = self.fraction(res["smiles"].tolist())
        if frac is not None:
            text += f"; found {frac:.1%} of the true top {self.k(len(pool)):,} (random expects {n / len(pool):.1%})"
        say(self.out, text)
        what = "resumed and finished" if self.resumed else "every round is in"
        say(self.out, f"wrote {out}; {what} campaign {screen.name!r} of {location}")
