"""``scientia curate``: flag rare events (``detect``), label data with few labels (``label``),
denoise images (``denoise``) and write symmetric copies of data (``augment``).

This module parses options, reads and writes files and draws progress; the science lives in
:mod:`scientia.curate`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scientia.cli._common import console, fail, fmt, handle_errors, plural, say

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

app = typer.Typer(
    name="curate",
    help="Curate data: flag rare events, label data with few labels, denoise images, augment data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

DETECT_METHODS = ("ae", "iforest", "ecod", "knn", "ensemble")
LABEL_METHODS = ("propagation", "spreading", "self-training")

DataArgument = Annotated[str, typer.Argument(metavar="DATA", help="Table: .csv, .tsv, .parquet or .npz.")]
ColumnsOption = Annotated[
    str | None,
    typer.Option("--columns", "-c", metavar="A,B,…", help="Feature columns (default: every numeric column)."),
]
ForceOption = Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed.")]


# -- shared helpers ----------------------------------------------------------------------------
def _columns(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _check_out(path: str | None, force: bool) -> None:
    """Refuse an output path that exists (without --force), has an unknown format or no folder."""
    from scientia.curate.io import table_format

    if path is None:
        return
    table_format(path)
    p = Path(path)
    if p.exists() and not force:
        fail(f"{path} exists; choose another --out or pass --force to overwrite it")
    if not p.resolve().parent.is_dir():
        fail(f"cannot write {path}: its folder does not exist")


def _read(path: str, columns: list[str] | None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    from scientia.curate.io import feature_matrix, read_table

    frame = read_table(path)
    if len(frame) == 0:
        fail(f"{path} has no rows")
    X, names = feature_matrix(frame, columns)
    return frame, X, names


def _warn_lines(caught: list[warnings.WarningMessage]) -> None:
    import sys

    seen: set[str] = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if text not in seen:
            seen.add(text)
            sys.stderr.write(f"warning: {text}\n")


# -- detect ------------------------------------------------------------------------------------
@app.command("detect")
@handle_errors
def detect(
    data: DataArgument,
    out: Annotated[
        str,
        typer.Option("--out", "-o", metavar="FILE", help="Write DATA with `score` and `flagged` columns."),
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help="Detector: ae, iforest, ecod, knn or ensemble.")
    ] = "ensemble",
    rate: Annotated[
        float, typer.Option("--rate", "-r", help="Target accept rate: fraction of background events flagged.")
    ] = 1e-3,
    background: Annotated[
        str | None,
        typer.Option(
            "--background", "-b", metavar="BG", help="Background table to fit on (default: DATA itself)."
        ),
    ] = None,
    columns: ColumnsOption = None,
    only_flagged: Annotated[
        bool, typer.Option("--only-flagged", help="Write only the flagged rows.")
    ] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Events scored per batch.")] = 65536,
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """Fit a detector on background data and flag the rare events of DATA."""
    if method not in DETECT_METHODS:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("method", method, DETECT_METHODS)
    if not 0 < rate < 1:
        fail(f"--rate must lie in (0, 1), e.g. 1e-3; got {rate:g}")
    _check_out(out, force)
    cols = _columns(columns)
    frame, X, names = _read(data, cols)
    if background is not None:
        _, B, _ = _read(background, names)
    else:
        B = X
    from scientia.curate.select import StreamingTrigger, detectors

    _one_torch_thread()
    err = console(stderr=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with err.status(f"fitting {method} on {len(B):,} background events…") if err.is_terminal else _null():
            detector = detectors.create(method, rate=rate).fit(B, seed=seed)
        trigger = StreamingTrigger(detector)
        scores = _score_with_progress(trigger, X, chunk_size, err)
    _warn_lines(caught)
    result = frame.copy()
    result["score"] = scores
    result["flagged"] = scores > trigger.threshold
    if only_flagged:
        result = result[result["flagged"].to_numpy()]
    from scientia.curate.io import write_table

    write_table(result, out)
    stats = trigger.stats()
    say(
        console(),
        f"flagged {stats.n_accepted:,} of {plural(stats.n_seen, 'event')} "
        f"({stats.accept_rate:.3%}; target {rate:.3%}) with {method}, threshold {fmt(stats.threshold)}, "
        f"{stats.events_per_second:,.0f} events/s",
    )
    say(console(), f"wrote {out} ({len(result):,} rows; columns score, flagged)")
    if background is None:
        say(console(), "note: DATA was also the background; give --background for a cleaner threshold", "dim")


def _score_with_progress(trigger: Any, X: np.ndarray, chunk_size: int, err: Any) -> np.ndarray:
    import numpy as np

    parts: list[np.ndarray] = []
    batches = (X[i : i + chunk_size] for i in range(0, len(X), chunk_size))
    if err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("scoring", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}", markup=False),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err) as bar:
            task = bar.add_task("scoring", total=len(X), rate="")

            def show(batch: Any) -> None:
                parts.append(batch.scores)
                s = batch.stats
                bar.update(task, completed=s.n_seen, rate=f"{s.n_accepted:,} flagged")

            trigger.run(batches, show)
    else:
        trigger.run(batches, lambda batch: parts.append(batch.scores))
    return np.concatenate(parts) if parts else np.empty(0)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _one_torch_thread() -> None:
    """The CLI (not the library) decides threads: small torch models run fastest on one."""
    import os
    import sys

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


# -- label -------------------------------------------------------------------------------------
@app.command("label")
@handle_errors
def label(
    data: DataArgument,
    labels: Annotated[
        str,
        typer.Option(
            "--labels",
            "-l",
            metavar="LABELS.csv",
            help="Known labels: columns `row` (0-based row of DATA) or the --id column, and `label`.",
        ),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Write every row with `label`, `confidence`, `source`."
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", "-m", help="propagation, spreading or self-training.")
    ] = "propagation",
    id_column: Annotated[
        str | None,
        typer.Option("--id", metavar="COLUMN", help="Match labels to DATA by this column, not by row."),
    ] = None,
    columns: ColumnsOption = None,
    neighbors: Annotated[
        int, typer.Option("--neighbors", "-k", min=1, help="Neighbours in the kNN graph.")
    ] = 10,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Self-training: smallest confidence of a pseudo-label.")
    ] = 0.9,
    active: Annotated[
        bool,
        typer.Option("--active", help="Ask a person to label the most useful items (see --export/--import)."),
    ] = False,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            help="Active query strategy: margin, uncertainty, entropy, diversity, expected_model_change, random.",
        ),
    ] = "margin",
    n_queries: Annotated[int, typer.Option("--n", "-n", min=1, help="Items to ask about per round.")] = 10,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Interactive rounds at most.")] = 1,
    show: Annotated[
        str | None,
        typer.Option(
            "--show", metavar="A,B,…", help="Columns to show a person for each item (default: all)."
        ),
    ] = None,
    export: Annotated[
        str | None, typer.Option("--export", metavar="QUERIES.csv", help="Write the queried items and stop.")
    ] = None,
    import_: Annotated[
        str | None,
        typer.Option(
            "--import", metavar="ANSWERS.csv", help="Add the labels of a filled-in queries file to LABELS."
        ),
    ] = None,
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """Label DATA from a few known labels, or (--active) ask a person for the most useful ones."""
    import numpy as np

    from scientia.curate.io import match_labels, read_table

    if not active and (export or import_):
        fail("--export and --import belong to active labelling; add --active")
    if export and import_:
        fail("give either --export or --import, not both")
    if method not in LABEL_METHODS:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("method", method, LABEL_METHODS)
    if not active and out is None:
        fail("give --out FILE for the labelled table")
    _check_out(out, force)
    _check_out(export, force)
    frame, X, names = _read(data, _columns(columns))
    job = _Job(frame, X, names, labels, id_column, out)
    if Path(labels).exists() or not active:  # an active session may start from no labels at all
        job.rows, job.given = match_labels(read_table(labels), frame, id_column)
    if not active:
        _propagate(job, method, neighbors, threshold)
        return
    if import_:
        _import_answers(job, import_)
    from scientia.curate.annotate import ActiveLearner
    from scientia.curate.io import partial_labels

    learner = ActiveLearner(strategy=strategy, seed=seed).fit(
        X, partial_labels(len(frame), job.rows, job.given)
    )
    if export:
        _export_queries(job, learner, n_queries, _columns(show), export)
    elif not import_:
        _ask(job, learner, n_queries, rounds, _columns(show))
    if out is not None:
        if learner.model_ is None:
            fail("fewer than two classes are labelled; label more items before writing --out")
        known = np.flatnonzero(learner.labelled_)
        source = np.full(len(frame), "predicted", dtype=object)
        job.rows, job.given = known, learner.classes_[learner.labels_[known]]
        _write_labelled(job, learner.predict(X), learner.predict_proba(X), source)


class _Job:
    """What the label command works on: the data, its features and the labels known so far."""

    def __init__(
        self,
        frame: pd.DataFrame,
        X: np.ndarray,
        names: list[str],
        labels: str,
        id_column: str | None,
        out: str | None,
    ) -> None:
        import numpy as np

        self.frame, self.X, self.names = frame, X, names
        self.labels, self.id_column, self.out = labels, id_column, out
        self.rows: np.ndarray = np.array([], dtype=np.int64)
        self.given: np.ndarray = np.array([], dtype=object)


def _propagate(job: _Job, method: str, neighbors: int, threshold: float) -> None:
    import numpy as np

    from scientia.curate.annotate import LabelPropagator, SelfTrainer
    from scientia.curate.io import partial_labels

    y = partial_labels(len(job.frame), job.rows, job.given)
    if method == "self-training":
        trainer = SelfTrainer(threshold=threshold).fit(job.X, y)
        source = np.where(trainer.pseudo_labelled_, "pseudo", "predicted").astype(object)
        _write_labelled(job, trainer.transduction_, trainer.predict_proba(job.X), source)
    else:
        kind: Any = method  # checked against LABEL_METHODS by the caller
        graph = LabelPropagator(method=kind, n_neighbors=neighbors).fit(job.X, y)
        source = np.full(len(job.frame), "propagated", dtype=object)
        _write_labelled(job, graph.transduction_, graph.label_distributions_, source)
    say(
        console(),
        f"labelled {len(job.frame):,} rows from {plural(len(job.rows), 'given label')} with {method}; "
        f"wrote {job.out}",
    )


def _write_labelled(job: _Job, predicted: np.ndarray, proba: np.ndarray, source: np.ndarray) -> None:
    """Write ``row``, the non-feature columns, ``label``, ``confidence`` and ``source``."""
    import numpy as np

    from scientia.curate.io import write_table

    assert job.out is not None
    result = job.frame.drop(columns=job.names).copy()
    result.insert(0, "row", np.arange(len(job.frame)))
    label_col = np.asarray(predicted, dtype=object).copy()
    label_col[job.rows] = job.given
    confidence = np.round(np.asarray(proba).max(axis=1), 4)
    confidence[job.rows] = 1.0
    src = np.asarray(source, dtype=object).copy()
    src[job.rows] = "given"
    result["label"], result["confidence"], result["source"] = label_col, confidence, src
    write_table(result, job.out)


def _append_labels(job: _Job, rows: Any, values: Any) -> None:
    """Add labels to the labels file (created if missing), so that every answer is kept."""
    import pandas as pd

    from scientia.curate.io import label_rows_table, read_table, write_table

    table = label_rows_table(job.frame, rows, job.id_column, values)
    if len(table) == 0:
        return
    if Path(job.labels).exists():
        table = pd.concat([read_table(job.labels), table], ignore_index=True)
    write_table(table, job.labels)


def _import_answers(job: _Job, path: str) -> None:
    import numpy as np

    from scientia.curate.io import match_labels, read_table

    rows, answers = match_labels(read_table(path), job.frame, job.id_column, source="answers file")
    fresh = ~np.isin(rows, job.rows)
    _append_labels(job, rows[fresh], answers[fresh])
    job.rows = np.concatenate([job.rows, rows[fresh]])
    job.given = np.concatenate([job.given, answers[fresh]])
    say(
        console(),
        f"added {plural(int(fresh.sum()), 'label')} from {path} to {job.labels} "
        f"({len(job.rows):,} labelled rows now)",
    )


def _export_queries(job: _Job, learner: Any, n: int, show: list[str] | None, path: str) -> None:
    from scientia.curate.io import label_rows_table, write_table

    asked = learner.query(n)
    table = label_rows_table(job.frame, asked, job.id_column)
    shown = show or [str(c) for c in job.frame.columns]
    for col in shown:
        if col in job.frame.columns and col not in table.columns:
            table[col] = job.frame[col].to_numpy()[asked]
    write_table(table, path)
    n_asked = len(asked)
    say(
        console(),
        f"wrote {n_asked} {'query' if n_asked == 1 else 'queries'} to {path}; fill in `label`, then run with --import {path}",
    )


def _ask(job: _Job, learner: Any, n: int, rounds: int, show: list[str] | None) -> None:
    """Prompt a person for the label of each queried item; Enter skips, q stops."""
    out = console()
    shown = [c for c in (show or [str(c) for c in job.frame.columns]) if c in job.frame.columns]
    classes = ", ".join(map(str, learner.classes_)) or "none yet"
    say(out, f"label each item (known classes: {classes}); Enter skips it, q stops")
    for _ in range(rounds):
        rows: list[int] = []
        values: list[Any] = []
        stop = False
        for r in learner.query(n):
            item = ", ".join(f"{c}={fmt(job.frame[c].iloc[int(r)])}" for c in shown)
            say(out, f"row {int(r)}: {item}")
            answer = typer.prompt("label", default="", show_default=False).strip()
            if answer.lower() in ("q", "quit"):
                stop = True
                break
            if answer:
                rows.append(int(r))
                values.append(_as_number(answer))
        if rows:
            learner.teach(rows, values)
            _append_labels(job, rows, values)
        say(
            out,
            f"recorded {plural(len(rows), 'label')} in {job.labels} ({int(learner.labelled_.sum()):,} labelled rows now)",
        )
        if stop:
            break


def _as_number(text: str) -> Any:
    """``"1"`` → 1 so that typed answers match numeric labels; other text stays text."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else text


# -- denoise -----------------------------------------------------------------------------------
DENOISE_METHODS = ("n2v", "dae", "median", "gaussian")


def _check_image_out(path: str, force: bool) -> None:
    """Refuse an image output that exists (without --force), has an unknown format or no folder."""
    from scientia.curate.refine.io import image_format

    image_format(path)
    p = Path(path)
    if p.exists() and not force:
        fail(f"{path} exists; choose another --out or pass --force to overwrite it")
    if not p.resolve().parent.is_dir():
        fail(f"cannot write {path}: its folder does not exist")


def _train_with_progress(model: Any, image: np.ndarray, seed: int, label: str, err: Any) -> None:
    """Fit ``model`` on ``image``, drawing a progress bar with the loss on a terminal."""
    if not err.is_terminal:
        model.fit(image, seed=seed)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}", markup=False),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task(label, total=None, loss="")

        def show(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=f"loss {loss:.4f}")

        model.fit(image, seed=seed, callback=show)


@app.command("denoise")
@handle_errors
def denoise(
    image: Annotated[
        str, typer.Argument(metavar="INPUT", help="Noisy image: .npy, .png, .tif, .jpg or .bmp.")
    ],
    out: Annotated[
        str,
        typer.Option("--out", "-o", metavar="OUTPUT", help="Denoised image (.npy or an image format)."),
    ],
    method: Annotated[
        str,
        typer.Option(
            "--method", "-m", help="n2v (Noise2Void), dae (denoising autoencoder), median, gaussian."
        ),
    ] = "n2v",
    sigma: Annotated[
        float | None,
        typer.Option(
            "--sigma",
            help="dae: noise standard deviation of INPUT ([0, 1] scale for image files) [default: estimated].",
        ),
    ] = None,
    size: Annotated[
        float | None,
        typer.Option(
            "--size",
            help="median: window width; gaussian: kernel std in pixels [default: chosen from INPUT].",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", min=1, help="n2v, dae: training steps [default: n2v 800, dae 400]."),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", metavar="CLEAN", help="A clean image to report PSNR and SSIM against."),
    ] = None,
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """Denoise an image without clean examples: self-supervised networks or calibrated filters."""
    import time

    import numpy as np

    from scientia.curate.refine import denoisers, estimate_noise, psnr, read_image, ssim, write_image

    if method not in DENOISE_METHODS:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("method", method, DENOISE_METHODS)
    if sigma is not None and not sigma > 0:
        fail(f"--sigma must be positive (the noise standard deviation of INPUT); got {sigma:g}")
    if size is not None and not size > 0:
        fail(f"--size must be positive; got {size:g}")
    if method == "median" and size is not None and (size != int(size) or size < 2):
        fail(f"--size of the median filter is a window width of 2 or more pixels; got {size:g}")
    _check_image_out(out, force)
    noisy, info = read_image(image)
    clean = None
    if reference is not None:
        clean, _ = read_image(reference)
        if clean.shape != noisy.shape:
            fail(f"--reference has shape {clean.shape} but INPUT has {noisy.shape}")
    ignored = [
        name
        for name, given, used in (
            ("--sigma", sigma is not None, method == "dae"),
            ("--size", size is not None, method in ("median", "gaussian")),
            ("--steps", steps is not None, method in ("n2v", "dae")),
        )
        if given and not used
    ]
    for name in ignored:
        say(console(stderr=True), f"note: {name} does not apply to --method {method}; ignored", "dim")
    kwargs: dict[str, Any] = {}
    if method in ("n2v", "dae"):
        if steps is not None:
            kwargs["steps"] = steps
        if method == "dae" and sigma is not None:
            kwargs["sigma"] = sigma
    elif size is not None:
        kwargs["size"] = int(size) if method == "median" else float(size)
    _one_torch_thread()
    model = denoisers.create(method, **kwargs)
    err = console(stderr=True)
    start = time.perf_counter()
    if method in ("n2v", "dae"):
        _train_with_progress(model, noisy, seed, f"training {method}", err)
    else:
        model.fit(noisy)
    result = model.denoise(noisy)
    seconds = time.perf_counter() - start
    write_image(out, result, like=info)
    shape = "×".join(str(s) for s in noisy.shape)
    detail = {
        "n2v": f"Noise2Void, {getattr(model, 'steps', steps)} steps",
        "dae": f"denoising autoencoder, {getattr(model, 'steps', steps)} steps, "
        f"noise σ {fmt(float(np.mean(getattr(model, 'sigma_', [0]))))}",
        "median": f"median filter, {fmt(getattr(model, 'size_', size))}-pixel window",
        "gaussian": f"Gaussian filter, σ {fmt(getattr(model, 'size_', size))} pixels",
    }[method]
    chosen = " (chosen from INPUT)" if method in ("median", "gaussian") and size is None else ""
    say(console(), f"denoised {image} ({shape}) with {detail}{chosen} in {seconds:.1f} s; wrote {out}")
    say(
        console(),
        f"noise level: estimated σ {fmt(estimate_noise(noisy), 3)} in INPUT, {fmt(estimate_noise(result), 3)} in OUTPUT",
    )
    if clean is not None:
        span = 1.0 if info.scale != 1.0 or np.ptp(clean) == 0 else float(np.ptp(clean))
        say(
            console(),
            f"against {reference}: PSNR {psnr(clean, noisy, span):.2f} → {psnr(clean, result, span):.2f} dB, "
            f"SSIM {ssim(clean, noisy, span):.3f} → {ssim(clean, result, span):.3f}",
        )


# -- augment -----------------------------------------------------------------------------------
@app.command("augment")
@handle_errors
def augment(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="A table with a SMILES column (.csv, .tsv, .parquet) or fields (.npy, (n, H, W[, C])).",
        ),
    ],
    out: Annotated[str, typer.Option("--out", "-o", metavar="FILE", help="Augmented table or .npy array.")],
    copies: Annotated[int, typer.Option("--copies", "-n", min=1, help="Versions of each row or field.")] = 5,
    smiles: Annotated[
        str | None, typer.Option("--smiles", metavar="COLUMN", help="Tables: the SMILES column to enumerate.")
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate/--no-rotate", help="Fields: rotations by 90° (180° if not square).")
    ] = True,
    flip: Annotated[bool, typer.Option("--flip/--no-flip", help="Fields: reflections.")] = True,
    shift: Annotated[int, typer.Option("--shift", min=0, help="Fields: largest translation in cells.")] = 0,
    mode: Annotated[
        str,
        typer.Option("--mode", help="Fields: translations wrap around (periodic) or fill with zeros (zero)."),
    ] = "periodic",
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """Write symmetric copies: SMILES spellings of molecules, or rotated/flipped/shifted fields."""
    import numpy as np

    if Path(data).suffix.lower() == ".npy":
        from scientia.curate.augment import SymmetryAugmenter

        if mode not in ("periodic", "zero"):
            from scientia.errors import UnknownNameError

            raise UnknownNameError.for_name("mode", mode, ("periodic", "zero"))
        if Path(out).suffix.lower() != ".npy":
            fail(f"fields are written as .npy; got --out {out}")
        if smiles is not None:
            fail("--smiles applies to tables, not to .npy fields")
        if Path(out).exists() and not force:
            fail(f"{out} exists; choose another --out or pass --force to overwrite it")
        if not Path(data).is_file():
            raise FileNotFoundError(2, "No such file", data)
        try:
            X = np.load(data, allow_pickle=False)
        except ValueError as exc:
            fail(f"{data}: not a NumPy array file ({exc})")
        if X.ndim not in (3, 4) or X.dtype.kind not in "biuf":
            fail(f"{data}: expected numbers of shape (n, H, W) or (n, H, W, C); got {X.dtype} {X.shape}")
        aug = SymmetryAugmenter(rotate=rotate, flip=flip, max_shift=shift, mode=mode, axes=(0, 1))  # type: ignore[arg-type]
        out_X, _ = aug.augment(X, copies=copies, seed=seed)
        np.save(out, out_X)
        say(
            console(),
            f"wrote {out}: {len(out_X):,} fields ({copies} per field; copy c of field i is row c·{len(X)} + i)",
        )
        return
    from scientia.curate.augment import augment_smiles
    from scientia.curate.io import read_table, write_table

    if smiles is None:
        fail("give --smiles COLUMN, the column of SMILES strings to enumerate")
    _check_out(out, force)
    frame = read_table(data)
    if smiles not in frame.columns:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("column", smiles, [str(c) for c in frame.columns])
    strings, source = augment_smiles([str(s) for s in frame[smiles]], copies=copies, seed=seed)
    result = frame.iloc[source].reset_index(drop=True)
    result.insert(0, "source_row", source)
    result[smiles] = strings
    write_table(result, out)
    say(
        console(),
        f"wrote {out}: {len(result):,} rows from {plural(len(frame), 'molecule')} "
        f"(up to {copies} SMILES each, every one checked to be the same molecule)",
    )
