"""Reading a table and a units file for an equation search (used by ``scientia equations fit``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from scientia.errors import UnknownNameError, ValidationError

__all__ = ["load_table", "read_units"]


def load_table(path: str | Path, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Read a CSV file and split it into the numeric inputs and the ``target`` column.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    UnknownNameError
        If ``target`` is not a column (the message suggests the closest one).
    ValidationError
        If a column is not numeric, a value is missing, or there are fewer than 3 rows.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValidationError(f"{str(path)!r} is empty") from None
    except pd.errors.ParserError as exc:
        raise ValidationError(f"{str(path)!r} is not a valid CSV file ({exc})") from None
    if target not in df.columns:
        raise UnknownNameError.for_name("target column", target, df.columns)
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
            row = int(bad.to_numpy().argmax()) + 2 if bad.any() else 2
            value = df[col][bad].iloc[0] if bad.any() else "?"
            raise ValidationError(f"column {col!r} is not numeric (line {row}: {value!r})")
        missing = int(df[col].isna().sum())
        if missing:
            raise ValidationError(f"column {col!r} has {missing} missing value(s); fill or drop those rows")
    if len(df) < 3:
        raise ValidationError(f"{str(path)!r} has {len(df)} data rows; at least 3 are needed")
    if df.shape[1] < 2:
        raise ValidationError(f"{str(path)!r} has no input columns besides the target {target!r}")
    return df.drop(columns=[target]), df[target]


def read_units(path: str | Path) -> dict[str, Any]:
    """Read a TOML units file: ``name = "unit"`` pairs, at the top level or in a ``[units]`` table.

    Values are unit strings (``"m/s^2"``) or lists of exponents over ``m kg s A K mol cd``.
    """
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    units = data.get("units", data) if isinstance(data.get("units"), dict) else data
    extra = [k for k in data if k != "units"] if "units" in data else []
    if extra:
        raise ValidationError(f"units file: unexpected key {extra[0]!r} next to the [units] table")
    for key, value in units.items():
        if not isinstance(value, (str, list)):
            raise ValidationError(f"units file: {key!r} must be a unit string or a list of exponents")
    return dict(units)
