"""Screening a library file: stream it in chunks, predict, keep the best ``top``.

A library may be far larger than memory. :func:`read_library` yields it in chunks (a
``.smi`` file line by line, CSV/TSV through pandas' chunked reader, Parquet by row batches), each
SMILES with its line number, and :func:`screen_library` predicts chunk after chunk and keeps only
the ``top`` best-ranked molecules so far, so memory is bounded by ``chunk_size + top`` whatever
the library's size. Unreadable SMILES are handed to a callback with their line and RDKit's
reason, and counted; they never stop the run.

With ``workers > 1`` the featurizing and predicting of chunks runs in worker processes (each
loads the model once), while the main process reads the file and merges results in order; at
most ``2·workers`` chunks are in flight. With ``backend="ray"`` the workers are Ray actors: on
the cluster at ``$RAY_ADDRESS`` if set (the model files travel through Ray's object store, so the
nodes need no shared disk), else on a local Ray started for the run and stopped after it.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.screen.features import Reject

if TYPE_CHECKING:
    import pandas as pd

    from scientia.screen.models import ScreeningModel

__all__ = ["LibraryChunk", "ScreenResult", "library_format", "read_library", "screen_library"]

_SMI = (".smi", ".smiles", ".txt")
_CSV = (".csv", ".tsv")


@dataclass(frozen=True)
class LibraryChunk:
    """Consecutive molecules of a library.

    Attributes
    ----------
    smiles : list of str
    lines : ndarray of int
        Line numbers in the file (1-based; the header is line 1 of a CSV); Parquet: row
        numbers (1-based).
    ids : list of str
        The name after the SMILES on a ``.smi`` line, or the ``id_column``; "" when none.
    """

    smiles: list[str]
    lines: np.ndarray
    ids: list[str]


def library_format(path: str | Path) -> str:
    """``smi``, ``csv``, ``tsv`` or ``parquet`` from the file name (``.gz`` allowed for text)."""
    name = Path(path).name.lower()
    base = name.removesuffix(".gz")
    for ext in _SMI:
        if base.endswith(ext):
            return "smi"
    for ext in _CSV:
        if base.endswith(ext):
            return ext[1:]
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise ValidationError(
        f"cannot tell the format of {str(path)!r}; use .smi (SMILES [name] per line), .csv, .tsv "
        "(optionally .gz) or .parquet"
    )


def _open_text(path: Path) -> TextIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _columns(path: Path, fmt: str) -> list[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(c) for c in pq.ParquetFile(path).schema_arrow.names]
    import pandas as pd

    return [str(c) for c in pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", nrows=0).columns]


def _smiles_column(columns: list[str], wanted: str | None) -> str:
    """The given column, or the one named ``smiles`` (any case), or the only one containing it."""
    if wanted is not None:
        if wanted not in columns:
            raise UnknownNameError.for_name("SMILES column", wanted, columns)
        return wanted
    exact = [c for c in columns if c.lower() == "smiles"]
    loose = [c for c in columns if "smiles" in c.lower()]
    if exact or len(loose) == 1:
        return (exact or loose)[0]
    raise ValidationError(
        f"cannot tell which column holds the SMILES (columns: {', '.join(columns)}); give --smiles COLUMN"
    )


def read_library(
    path: str | Path, smiles_column: str | None = None, id_column: str | None = None, chunk_size: int = 10_000
) -> Iterator[LibraryChunk]:
    """Stream a library file in chunks of ``chunk_size`` molecules.

    Parameters
    ----------
    path : str or Path
        ``.smi`` / ``.smiles`` / ``.txt`` (one ``SMILES [name]`` per line; blank lines, lines
        starting with ``#`` and a first line ``smiles …`` are skipped), ``.csv`` / ``.tsv``
        (optionally gzipped) or ``.parquet``.
    smiles_column, id_column : str, optional
        Tables only. The SMILES column defaults to one named ``smiles`` (any case).
    chunk_size : int

    Raises
    ------
    FileNotFoundError, ValidationError, UnknownNameError
        Before the first chunk is yielded: a missing file, an unknown format or column.
    """
    p = Path(path)
    fmt = library_format(p)
    if not p.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be >= 1; got {chunk_size}")
    if fmt == "smi":
        if smiles_column is not None or id_column is not None:
            raise ValidationError(
                "--smiles and --id apply to tables; a .smi file is 'SMILES [name]' per line"
            )
        return _read_smi(p, chunk_size)
    columns = _columns(p, fmt)
    smiles_col = _smiles_column(columns, smiles_column)
    if id_column is not None and id_column not in columns:
        raise UnknownNameError.for_name("id column", id_column, columns)
    if fmt == "parquet":
        return _read_parquet(p, smiles_col, id_column, chunk_size)
    return _read_csv(p, fmt, smiles_col, id_column, chunk_size)


def _read_smi(path: Path, chunk_size: int) -> Iterator[LibraryChunk]:
    smiles: list[str] = []
    lines: list[int] = []
    ids: list[str] = []
    with _open_text(path) as f:
        for number, raw in enumerate(f, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 1)
            if number == 1 and parts[0].lower() == "smiles":
                continue  # a header line
            smiles.append(parts[0])
            ids.append(parts[1].strip() if len(parts) > 1 else "")
            lines.append(number)
            if len(smiles) == chunk_size:
                yield LibraryChunk(smiles, np.asarray(lines), ids)
                smiles, lines, ids = [], [], []
    if smiles:
        yield LibraryChunk(smiles, np.asarray(lines), ids)


def _text(values: Any) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _read_csv(
    path: Path, fmt: str, smiles_col: str, id_col: str | None, chunk_size: int
) -> Iterator[LibraryChunk]:
    import pandas as pd

    usecols = [smiles_col] if id_col is None else [smiles_col, id_col]
    reader = pd.read_csv(
        path,
        sep="\t" if fmt == "tsv" else ",",
        usecols=usecols,
        dtype=str,
        chunksize=chunk_size,
        keep_default_na=False,
    )
    row = 0
    with reader:
        for frame in reader:
            n = len(frame)
            ids = _text(frame[id_col]) if id_col is not None else [""] * n
            # line of data row r (0-based) is r + 2: the header is line 1 (no multi-line fields)
            yield LibraryChunk(_text(frame[smiles_col]), np.arange(row + 2, row + 2 + n), ids)
            row += n


def _read_parquet(path: Path, smiles_col: str, id_col: str | None, chunk_size: int) -> Iterator[LibraryChunk]:
    import pyarrow.parquet as pq

    columns = [smiles_col] if id_col is None else [smiles_col, id_col]
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size, columns=columns):
        n = batch.num_rows
        data = batch.to_pydict()
        ids = _text(data[id_col]) if id_col is not None else [""] * n
        yield LibraryChunk(_text(data[smiles_col]), np.arange(row + 1, row + 1 + n), ids)
        row += n


# -- screening ----------------------------------------------------------------------------------
@dataclass
class ScreenResult:
    """The best molecules of a screen and its counts.

    Attributes
    ----------
    table : pandas.DataFrame
        ``rank`` (1 = best), ``line``, ``smiles``, ``id`` (if the library has names), ``mean``,
        ``std``, ``lower``, ``upper`` (the ``level`` interval), sorted by rank.
    n_read, n_valid, n_rejected : int
    seconds : float
    """

    table: pd.DataFrame
    n_read: int = 0
    n_valid: int = 0
    n_rejected: int = 0
    seconds: float = 0.0
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def molecules_per_second(self) -> float:
        """Throughput: molecules read per second of wall time."""
        return self.n_read / self.seconds if self.seconds > 0 else 0.0


class _TopK:
    """The ``k`` best rows seen so far (ties: the earlier line wins)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.cols: dict[str, np.ndarray] = {}

    def add(self, cols: dict[str, np.ndarray]) -> None:
        if not len(cols["score"]):
            return
        merged = {c: np.concatenate([self.cols[c], v]) if self.cols else v for c, v in cols.items()}
        order = np.lexsort((merged["line"], -merged["score"]))[: self.k]
        self.cols = {c: v[order] for c, v in merged.items()}


def _chunk_columns(
    model: ScreeningModel, chunk: LibraryChunk, j: int, level: float, direction: str, rank_by: str, top: int
) -> tuple[dict[str, np.ndarray], list[Reject], int]:
    """Featurize and predict one chunk; return the columns of its ``top`` best, rejects, valid count.

    Cutting to the chunk's own best before returning keeps what a worker sends back (and what
    the main process merges) at ``top`` rows whatever the chunk size.
    """
    feats = model.featurize(chunk.smiles, lines=chunk.lines)
    res = model.screen_features(feats)
    pred = res.prediction
    lower, upper = pred.interval(level)
    mean, std, lo, hi = pred.mean[:, j], pred.std[:, j], lower[:, j], upper[:, j]
    if model.task == "classification":
        lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    if direction == "max":
        score = mean if rank_by == "mean" else hi
    else:
        score = -(mean if rank_by == "mean" else lo)
    rows = feats.rows
    cols = {
        "score": score,
        "line": np.asarray(chunk.lines)[rows],
        "smiles": np.asarray(chunk.smiles, dtype=object)[rows],
        "id": np.asarray(chunk.ids, dtype=object)[rows],
        "mean": mean,
        "std": std,
        "lower": lo,
        "upper": hi,
    }
    n_valid = len(score)
    if n_valid > top:
        keep = np.sort(np.lexsort((cols["line"], -score))[:top])
        cols = {c: v[keep] for c, v in cols.items()}
    return cols, feats.rejects, n_valid


_WORKER: dict[str, Any] = {}


def _worker_init(directory: str) -> None:
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from scientia.screen.models import ScreeningModel

    torch.set_num_threads(1)
    _WORKER["model"] = ScreeningModel.load(directory)


def _worker_run(args: tuple[Any, ...]) -> tuple[dict[str, np.ndarray], list[Reject], int]:
    return _chunk_columns(_WORKER["model"], *args)


def _parallel(
    directory: str, chunks: Iterable[LibraryChunk], workers: int, args: tuple[Any, ...]
) -> Iterator[tuple[dict[str, np.ndarray], list[Reject], int]]:
    """Results of the chunks in order, computed by ``workers`` processes, ≤ 2·workers in flight."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")  # no forked torch state
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_worker_init, initargs=(directory,)
    ) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_worker_run, (chunk, *args)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _RayScreener:
    """A Ray actor holding one copy of the model, rebuilt from its files."""

    def __init__(self, files: dict[str, bytes]) -> None:
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="scientia-model-")
        for name, data in files.items():
            (Path(self._dir.name) / name).write_bytes(data)
        _worker_init(self._dir.name)

    def run(self, args: tuple[Any, ...]) -> tuple[dict[str, np.ndarray], list[Reject], int]:
        return _worker_run(args)


def _ray_parallel(
    directory: str, chunks: Iterable[LibraryChunk], workers: int, args: tuple[Any, ...]
) -> Iterator[tuple[dict[str, np.ndarray], list[Reject], int]]:
    """Results of the chunks in order, computed by ``workers`` Ray actors, ≤ 2·workers in flight."""
    import os
    from collections import deque

    try:
        import ray
    except ImportError:
        raise ConfigError('backend "ray" needs Ray: pip install "scientia[ray]"') from None
    started = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if not address:
            kwargs["num_cpus"] = workers
        ray.init(address=address, **kwargs)
        started = True
    try:
        files = ray.put({f.name: f.read_bytes() for f in Path(directory).iterdir() if f.is_file()})
        actor = ray.remote(num_cpus=1)(_RayScreener)
        actors = [actor.remote(files) for _ in range(workers)]  # type: ignore[attr-defined]
        pending: deque[Any] = deque()
        for i, chunk in enumerate(chunks):
            pending.append(actors[i % workers].run.remote((chunk, *args)))  # type: ignore[attr-defined]
            if len(pending) >= 2 * workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())
    finally:
        if started:
            ray.shutdown()


def screen_library(
    model: ScreeningModel,
    chunks: Iterable[LibraryChunk],
    top: int = 1000,
    *,
    target: str | None = None,
    direction: str = "max",
    rank_by: str = "mean",
    level: float = 0.9,
    workers: int = 1,
    backend: str = "local",
    model_dir: str | Path | None = None,
    on_rejects: Callable[[list[Reject]], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> ScreenResult:
    """Predict every molecule of a streamed library and keep the ``top`` best.

    Parameters
    ----------
    model : ScreeningModel
    chunks : iterable of LibraryChunk
        E.g. :func:`read_library`.
    top : int
        How many molecules to keep (memory is bounded by ``top`` plus one chunk).
    target : str, optional
        The output to rank by (default the model's first target).
    direction : {"max", "min"}
        Whether high or low predictions are hits (classifiers: ``max``, the probability).
    rank_by : {"mean", "optimistic"}
        Rank by the predicted mean, or by the optimistic end of the ``level`` interval (upper
        bound for ``max``, lower for ``min``): favours uncertain molecules that might be hits.
    level : float
        Interval level of the ``lower`` / ``upper`` columns.
    workers : int
        Processes featurizing and predicting chunks (``model_dir`` is then required: each worker
        loads the saved model).
    backend : {"local", "ray"}
        Where the workers run: local processes, or Ray actors (see the module docstring); with
        ``"ray"`` one worker is allowed.
    on_rejects : callable, optional
        Called with each chunk's list of :class:`~scientia.screen.features.Reject`.
    on_progress : callable, optional
        Called after each chunk with ``(n_read, n_valid, n_rejected)`` so far.
    """
    import pandas as pd

    if top < 1:
        raise ConfigError(f"--top must be >= 1; got {top}")
    if direction not in ("max", "min"):
        raise UnknownNameError.for_name("direction", direction, ("max", "min"))
    if rank_by not in ("mean", "optimistic"):
        raise UnknownNameError.for_name("ranking", rank_by, ("mean", "optimistic"))
    if backend not in ("local", "ray"):
        raise UnknownNameError.for_name("backend", backend, ("local", "ray"))
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {workers}")
    parallel = workers > 1 or backend == "ray"
    if parallel and model_dir is None:
        raise ConfigError("parallel screening needs the saved model's directory")
    names = list(model.targets_)
    name = target if target is not None else names[0]
    if name not in names:
        raise UnknownNameError.for_name("target", name, names)
    args = (names.index(name), level, direction, rank_by, top)
    start = time.perf_counter()
    best = _TopK(top)
    n_read = n_valid = n_rejected = 0
    results: Iterable[tuple[dict[str, np.ndarray], list[Reject], int]]
    if backend == "ray":
        results = _ray_parallel(str(model_dir), chunks, workers, args)
    elif workers > 1:
        results = _parallel(str(model_dir), chunks, workers, args)
    else:
        results = (_chunk_columns(model, chunk, *args) for chunk in chunks)
    for cols, rejects, valid in results:
        n_valid += valid
        n_rejected += len(rejects)
        n_read += valid + len(rejects)
        best.add(cols)
        if rejects and on_rejects is not None:
            on_rejects(rejects)
        if on_progress is not None:
            on_progress(n_read, n_valid, n_rejected)
    table = pd.DataFrame({c: v for c, v in best.cols.items() if c != "score"})
    if table.empty:
        table = pd.DataFrame(columns=["line", "smiles", "id", "mean", "std", "lower", "upper"])
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    if not (table["id"].astype(str) != "").any():
        table = table.drop(columns=["id"])
    seconds = time.perf_counter() - start
    return ScreenResult(table, n_read, n_valid, n_rejected, seconds, name)
