"""Partial label vectors: which rows are labelled, with what, and the classes seen."""

from __future__ import annotations

from typing import Any

import numpy as np

from scientia.errors import ValidationError

__all__ = ["UNLABELLED", "decode", "encode_partial", "is_unlabelled"]

UNLABELLED = -1
"""Code of an unlabelled row in the integer label vectors used internally (scikit-learn's)."""


def is_unlabelled(y: Any) -> np.ndarray:
    """Return a mask (n,) of unlabelled entries: -1 or NaN in numeric labels, None/NaN/"" in others."""
    arr = np.asarray(y, dtype=object if not isinstance(y, np.ndarray) else None)
    if arr.ndim != 1:
        raise ValidationError(f"labels must be a vector of shape (n,); got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        return arr == UNLABELLED
    if arr.dtype.kind == "f":
        return np.isnan(arr) | (arr == UNLABELLED)
    if arr.dtype.kind == "b":
        return np.zeros(arr.shape, dtype=bool)
    out = np.zeros(arr.shape, dtype=bool)
    for i, v in enumerate(arr):
        if (
            v is None
            or (isinstance(v, float) and np.isnan(v))
            or (isinstance(v, str) and v.strip() == "")
            or (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v == UNLABELLED)
        ):
            out[i] = True
    return out


def encode_partial(y: Any, n_rows: int | None = None, min_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Turn partial labels into integer codes (unlabelled = -1) and the sorted classes.

    Parameters
    ----------
    y : array-like, shape (n,)
        Class labels (numbers or strings); unlabelled rows hold -1, NaN, None or "".
    n_rows : int, optional
        Required length (the number of rows of ``X``).
    min_classes : int
        Fewest distinct classes the labelled rows must show.

    Returns
    -------
    codes : ndarray of int, shape (n,)
        Index into ``classes`` for labelled rows, -1 for the others.
    classes : ndarray, shape (k,)
        The distinct labels, sorted.
    """
    missing = is_unlabelled(y)
    arr = np.asarray(y, dtype=object if not isinstance(y, np.ndarray) else None)
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValidationError(
            f"there are {arr.shape[0]} labels for {n_rows} rows; give one label (or -1/blank) per row"
        )
    known = arr[~missing]
    if known.dtype == object:
        kinds = {type(v) for v in known}
        if len(kinds) > 1 and any(issubclass(k, str) for k in kinds):
            known = known.astype(str)
    classes = np.unique(known) if known.size else np.array([])
    if classes.size < min_classes:
        raise ValidationError(
            f"the labelled rows show {classes.size} class(es); label at least one row of each of "
            f"{min_classes} classes"
        )
    codes = np.full(arr.shape[0], UNLABELLED, dtype=np.int64)
    codes[~missing] = np.searchsorted(classes, known)
    return codes, classes


def decode(codes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map integer codes (n,) back to class labels; -1 stays -1 only if no class is missing."""
    return classes[np.asarray(codes, dtype=np.int64)]
