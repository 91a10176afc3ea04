"""``scientia curate``: flag rare events (``detect``) and label data with few labels (``label``).

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
    help="Curate data: flag rare events, label data with few labels.",
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
