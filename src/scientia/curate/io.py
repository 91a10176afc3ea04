"""Reading and writing the tables the curation tools work on: CSV, Parquet and NumPy ``.npz``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scientia.errors import UnknownNameError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "feature_matrix",
    "label_rows_table",
    "match_labels",
    "partial_labels",
    "read_table",
    "table_format",
    "write_table",
]

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
}


def table_format(path: str | Path) -> str:
    """Return ``csv``, ``tsv``, ``parquet`` or ``npz`` from the file name, or raise."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gz" and Path(p.stem).suffix.lower() == ".tsv":
        return "tsv"
    if suffix not in _FORMATS:
        raise ValidationError(
            f"cannot tell the format of {str(path)!r} from its extension; use .csv, .tsv, .parquet or .npz"
        )
    return _FORMATS[suffix]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table from CSV/TSV (optionally gzipped), Parquet or ``.npz``.

    An ``.npz`` file's 2-D array ``X`` (or its only 2-D array) becomes columns ``x0, x1, …``;
    1-D arrays of the same length (e.g. ``y``) become columns of their own name.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    fmt = table_format(path)
    if not Path(path).is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "npz":
            return _read_npz(path)
        return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",")
    except (ValueError, OSError, KeyError) as exc:
        if isinstance(exc, ValidationError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(f"cannot read {str(path)!r} as {fmt}: {first}") from None


def _read_npz(path: str | Path) -> pd.DataFrame:
    import pandas as pd

    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    matrices = [k for k, v in arrays.items() if v.ndim == 2]
    key = "X" if "X" in matrices else (matrices[0] if len(matrices) == 1 else None)
    if key is None:
        raise ValidationError(
            f"{str(path)!r} holds {len(matrices)} 2-D arrays ({', '.join(matrices) or 'none'}); "
            "save the features as one array named X"
        )
    X = arrays[key]
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for k, v in arrays.items():
        if v.ndim == 1 and v.shape[0] == X.shape[0]:
            frame[k] = v
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV/TSV, Parquet or ``.npz`` (one array per column) by extension."""
    fmt = table_format(path)
    path = Path(path)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "npz":
        np.savez(path, **{str(c): frame[c].to_numpy() for c in frame.columns})
    else:
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    return path


def feature_matrix(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Return the feature matrix (n, d) and its column names.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence of str, optional
        Feature columns; default every numeric (or boolean) column.
    """
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UnknownNameError.for_name("column", missing[0], frame.columns)
        names = list(columns)
    else:
        names = [str(c) for c in frame.columns if frame[c].dtype.kind in "biuf"]
        if not names:
            raise ValidationError(
                "the table has no numeric columns; give the feature columns with --columns or "
                "convert them to numbers"
            )
    bad = [c for c in names if frame[c].dtype.kind not in "biuf"]
    if bad:
        raise ValidationError(f"column {bad[0]!r} is not numeric; choose numeric feature columns")
    X = frame[names].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise ValidationError(
            f"{rows.size} rows have missing or infinite feature values (first: row {rows[0]}); "
            "drop or impute them first"
        )
    return X, names


# -- label files -------------------------------------------------------------------------------
def _keys(frame: pd.DataFrame, id_column: str | None) -> tuple[str, np.ndarray]:
    """The key column name of a label file and the key of every row of ``frame``."""
    if id_column is None:
        return "row", np.arange(len(frame))
    if id_column not in frame.columns:
        raise UnknownNameError.for_name("id column", id_column, frame.columns)
    keys = frame[id_column].astype(str).to_numpy()
    if len(set(keys)) != len(keys):
        raise ValidationError(
            f"id column {id_column!r} has repeated values; choose a column that names each row once"
        )
    return id_column, keys


def match_labels(
    table: pd.DataFrame, frame: pd.DataFrame, id_column: str | None = None, source: str = "labels file"
) -> tuple[np.ndarray, np.ndarray]:
    """Match a label table to the rows of ``frame``.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``label`` and ``row`` (0-based row of ``frame``) or ``id_column``.
    frame : pandas.DataFrame
        The data being labelled.
    id_column : str, optional
        Match on this column of both tables instead of row positions.
    source : str
        What to call ``table`` in error messages.

    Returns
    -------
    rows : ndarray of int, shape (m,)
        Rows of ``frame`` that received a (non-blank) label.
    labels : ndarray of object, shape (m,)
        Their labels, as written (strings or numbers).
    """
    key, keys = _keys(frame, id_column)
    for col in (key, "label"):
        if col not in table.columns:
            raise ValidationError(
                f"the {source} has no {col!r} column; expected columns {key!r} and 'label' "
                f"(got {', '.join(map(str, table.columns)) or 'none'})"
            )
    table = table[table["label"].notna() & (table["label"].astype(str).str.strip() != "")]
    if key == "row":
        rows = np.asarray(pd_numeric(table["row"], source), dtype=np.int64)
        bad = rows[(rows < 0) | (rows >= len(frame))]
        if bad.size:
            raise ValidationError(
                f"the {source} names row {bad[0]}, but the data has rows 0 to {len(frame) - 1}"
            )
    else:
        position = {k: i for i, k in enumerate(keys)}
        wanted = table[key].astype(str).to_numpy()
        unknown = [w for w in wanted if w not in position]
        if unknown:
            raise ValidationError(f"the {source} names {key} {unknown[0]!r}, which is not in the data")
        rows = np.asarray([position[w] for w in wanted], dtype=np.int64)
    labels = np.asarray([_plain(v) for v in table["label"].to_numpy()], dtype=object)
    if len(set(rows.tolist())) != rows.size:
        raise ValidationError(f"the {source} labels some row twice; keep one label per row")
    return rows, labels


def pd_numeric(series: pd.Series, source: str) -> np.ndarray:
    """Integer row numbers from a column, or a one-line error."""
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    if values.isna().any() or (values % 1 != 0).any():
        raise ValidationError(f"the {source} has a 'row' value that is not a whole number")
    return values.to_numpy()


def _plain(value: object) -> object:
    """Numbers stay numbers (1.0 -> 1), text stays text."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return value.strip()
    return value


def partial_labels(n_rows: int, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A partial label vector (n,) of objects: ``labels`` at ``rows``, None elsewhere."""
    y = np.full(n_rows, None, dtype=object)
    y[rows] = labels
    if {type(v) for v in labels} - {int} and any(isinstance(v, str) for v in labels):
        y[rows] = np.asarray([str(v) for v in labels], dtype=object)
    return y


def label_rows_table(
    frame: pd.DataFrame, rows: np.ndarray, id_column: str | None, labels: Sequence[object] | None = None
) -> pd.DataFrame:
    """A label table (key column and ``label``) for ``rows`` of ``frame``; blank labels by default."""
    import pandas as pd

    key, keys = _keys(frame, id_column)
    values = list(labels) if labels is not None else [""] * len(rows)
    return pd.DataFrame({key: keys[np.asarray(rows, dtype=np.int64)], "label": values})
