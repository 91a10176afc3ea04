"""Trajectories for equation discovery of ODE systems: checking, reading and differentiating them.

:class:`Trajectories` checks states and times (one trajectory or several), :func:`load_trajectories`
reads them from a CSV table, and :func:`estimate_derivatives` takes one trajectory ``(X (n, d), t (n,))`` or several (lists) and
returns ``dX/dt`` in the same layout. Methods (:data:`DERIVATIVE_METHODS`):

* ``"savgol"`` (default) — Savitzky–Golay: a polynomial of degree ``order`` (default 4) fitted by
  least squares to the ``window`` (default 9) samples around each point, differentiated there.
  Inside a trajectory degrees 3 and 4 give the same slope; near its ends degree 4 is far more
  accurate on a fast transient. Widen the window for noisy data. On a uniform grid this
  is exactly :func:`scipy.signal.savgol_filter` (``deriv=1, mode="interp"``); it also accepts an
  uneven grid (local polynomial regression in ``t``). At the ends the nearest full window is used.
* ``"finite_difference"`` — second-order central differences (:func:`numpy.gradient`): exact for
  quadratics, no smoothing; for clean, finely sampled data.
* ``"spline"`` — a cubic smoothing spline (:func:`scipy.interpolate.make_smoothing_spline`) with
  its penalty chosen by generalised cross-validation (or ``smoothing``), differentiated: the choice
  for noisy data inside a trajectory; its natural end conditions (zero curvature) make the first
  and last few derivatives of a fast transient poor.

Each trajectory is differentiated on its own, so a jump between trajectories never leaks into a
derivative. Errors in the input (shapes, times that do not increase, NaN) raise
:class:`~scientia.errors.ValidationError` with the trajectory, row and column at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scientia.errors import ConfigError, UnknownNameError, ValidationError

__all__ = [
    "DERIVATIVE_METHODS",
    "Trajectories",
    "TrajectoryTable",
    "check_derivative_options",
    "estimate_derivatives",
    "load_trajectories",
]

DERIVATIVE_METHODS: dict[str, tuple[str, ...]] = {
    "savgol": ("window", "order"),
    "finite_difference": (),
    "spline": ("smoothing",),
}
"""Each method and the options it takes."""


@dataclass(frozen=True)
class Trajectories:
    """Validated trajectories: ``X[k]`` of shape ``(n_k, d)`` sampled at times ``t[k]`` ``(n_k,)``.

    ``t`` is None when no times were given (derivatives then come with the data).
    """

    X: list[np.ndarray]
    t: list[np.ndarray] | None
    names: list[str]

    @property
    def n_states(self) -> int:
        """Number of state variables ``d``."""
        return int(self.X[0].shape[1])

    def stacked(self) -> np.ndarray:
        """All states in one array ``(sum n_k, d)``."""
        return np.concatenate(self.X)

    @classmethod
    def build(
        cls, X: Any, t: Any = None, names: Sequence[str] | None = None, what: str = "X"
    ) -> Trajectories:
        """Check and convert ``X`` (one array/DataFrame or a list of them) and the times ``t``.

        ``t`` may be an array ``(n,)`` (one trajectory), a list of arrays (one per trajectory),
        a float (uniform step, starting at 0) or None.
        """
        several = isinstance(X, (list, tuple))
        parts = list(X) if several else [X]
        if not parts:
            raise ValidationError(f"{what} is an empty list; give at least one trajectory")
        frames = [p for p in parts if isinstance(p, pd.DataFrame)]
        if names is None and frames:
            names = [str(c) for c in frames[0].columns]
        arrays = [_matrix(p, k, what, several) for k, p in enumerate(parts)]
        d = arrays[0].shape[1]
        for k, a in enumerate(arrays):
            if a.shape[1] != d:
                raise ValidationError(
                    f"trajectory {k} of {what} has {a.shape[1]} state columns, trajectory 0 has {d}; "
                    "every trajectory needs the same states"
                )
        names = [f"x{i}" for i in range(d)] if names is None else [str(n) for n in names]
        if len(names) != d or len(set(names)) != len(names):
            raise ValidationError(f"need {d} distinct state names, got {names}")
        times = None if t is None else _times(t, arrays, several)
        return cls(arrays, times, names)

    def like(self, values: np.ndarray) -> np.ndarray | list[np.ndarray]:
        """Split stacked rows ``(sum n_k, ...)`` back into this layout (an array when one trajectory)."""
        cuts = np.cumsum([len(a) for a in self.X])[:-1]
        parts = np.split(values, cuts)
        return parts[0] if len(parts) == 1 else parts


def _where(k: int, several: bool) -> str:
    return f" (trajectory {k})" if several else ""


def _matrix(X: Any, k: int, what: str, several: bool) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise ValidationError(f"column {bad[0]!r} of {what}{_where(k, several)} is not numeric")
    try:
        arr = np.array(X, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what}{_where(k, several)} is not a numeric array ({exc})") from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.shape[0] == 0:
        raise ValidationError(
            f"{what}{_where(k, several)} must have shape (n, d) with n, d >= 1, got {arr.shape}"
        )
    bad_rows = np.argwhere(~np.isfinite(arr))
    if len(bad_rows):
        row, col = (int(v) for v in bad_rows[0])
        raise ValidationError(
            f"{what}{_where(k, several)} has {len(bad_rows)} NaN or infinite value(s), the first at "
            f"row {row}, column {col}; drop or fill those rows"
        )
    return arr


def _times(t: Any, arrays: list[np.ndarray], several: bool) -> list[np.ndarray]:
    if not isinstance(t, (list, tuple)) and np.ndim(t) == 0:
        step = float(t)
        if not (np.isfinite(step) and step > 0):
            raise ValidationError(f"a time step t must be positive, got {t!r}")
        return [np.arange(len(a)) * step for a in arrays]
    if several != isinstance(t, (list, tuple)):
        given = "a list of" if several else "one"
        raise ValidationError(
            f"X holds {given} trajectory(ies) but t does not match: give one time array per "
            "trajectory (a list for several trajectories), or one time step"
        )
    ts = list(t) if several else [t]
    if len(ts) != len(arrays):
        raise ValidationError(
            f"{len(arrays)} trajectories but {len(ts)} time arrays; give one per trajectory"
        )
    out = []
    for k, (tk, a) in enumerate(zip(ts, arrays, strict=True)):
        try:
            tk = np.array(tk, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValidationError(f"t{_where(k, several)} is not numeric") from None
        if len(tk) != len(a):
            raise ValidationError(
                f"t{_where(k, several)} has {len(tk)} values and X {len(a)} rows; need one time per row"
            )
        if not np.all(np.isfinite(tk)):
            raise ValidationError(f"t{_where(k, several)} has a NaN or infinite value")
        steps = np.diff(tk)
        if np.any(steps <= 0):
            i = int(np.argmax(steps <= 0)) + 1
            raise ValidationError(
                f"t{_where(k, several)} must be strictly increasing, but t[{i}] = {tk[i]:g} follows "
                f"t[{i - 1}] = {tk[i - 1]:g}; sort the rows by time, or pass separate trajectories as lists"
            )
        out.append(tk)
    return out


def check_derivative_options(method: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate ``method`` and its ``options``; return the options with defaults filled in."""
    if method not in DERIVATIVE_METHODS:
        raise UnknownNameError.for_name("derivative method", method, DERIVATIVE_METHODS)
    opts = dict(options or {})
    allowed = DERIVATIVE_METHODS[method]
    for key in opts:
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no options"
            raise ConfigError(
                f"derivative option {key!r} does not apply to method {method!r} (it takes: {takes})"
            )
    if method == "savgol":
        window, order = opts.setdefault("window", 9), opts.setdefault("order", 4)
        if not (isinstance(window, (int, np.integer)) and window >= 3 and window % 2 == 1):
            raise ConfigError(f"savgol window must be an odd integer >= 3, got {window!r}")
        if not (isinstance(order, (int, np.integer)) and 1 <= order < window):
            raise ConfigError(f"savgol order must be an integer in [1, window), got {order!r}")
    if method == "spline":
        lam = opts.setdefault("smoothing", None)
        if lam is not None and not (isinstance(lam, (int, float)) and lam >= 0):
            raise ConfigError(f"spline smoothing must be a non-negative number or None (GCV), got {lam!r}")
    return opts


def estimate_derivatives(
    X: Any,
    t: Any,
    method: str = "savgol",
    **options: Any,
) -> np.ndarray | list[np.ndarray]:
    """Estimate ``dX/dt`` along each trajectory.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, d), or a list of them
        States sampled along one trajectory, or a list of trajectories ``(n_k, d)``.
    t : array-like of shape (n,), a list of them, or float
        Sampling times (strictly increasing within each trajectory), or a uniform time step.
    method : {"savgol", "finite_difference", "spline"}
        See the module docstring.
    **options
        ``window`` (odd, default 9) and ``order`` (default 4) for ``savgol``; ``smoothing``
        (the spline penalty, default None: chosen by generalised cross-validation) for ``spline``.

    Returns
    -------
    ndarray of shape (n, d), or a list of arrays ``(n_k, d)`` when ``X`` is a list

    Examples
    --------
    >>> t = np.linspace(0, 2, 201)
    >>> dx = estimate_derivatives(np.sin(t), t)
    >>> bool(np.max(np.abs(dx[:, 0] - np.cos(t))) < 1e-6)
    True
    """
    opts = check_derivative_options(method, options)
    if t is None:
        raise ValidationError("estimate_derivatives needs the sampling times t (or a time step)")
    traj = Trajectories.build(X, t)
    assert traj.t is not None
    out = [_one(x, tk, method, opts) for x, tk in zip(traj.X, traj.t, strict=True)]
    return traj.like(np.concatenate(out))


def _one(x: np.ndarray, t: np.ndarray, method: str, opts: dict[str, Any]) -> np.ndarray:
    n = len(x)
    if method == "finite_difference":
        if n < 3:
            raise ValidationError(f"finite differences need at least 3 samples per trajectory, got {n}")
        return np.gradient(x, t, axis=0, edge_order=2)
    if method == "savgol":
        window, order = int(opts["window"]), int(opts["order"])
        if n < window:
            raise ValidationError(
                f"a trajectory has {n} samples, fewer than the Savitzky-Golay window ({window}); "
                "use a smaller window or longer trajectories"
            )
        return _local_polynomial(x, t, window, order)
    # spline
    from scipy.interpolate import make_smoothing_spline

    if n < 5:
        raise ValidationError(f"a smoothing spline needs at least 5 samples per trajectory, got {n}")
    cols = []
    for j in range(x.shape[1]):
        spline = make_smoothing_spline(t, x[:, j], lam=opts["smoothing"])
        cols.append(spline.derivative()(t))
    return np.stack(cols, axis=1)


def _local_polynomial(x: np.ndarray, t: np.ndarray, window: int, order: int) -> np.ndarray:
    """Slope at each ``t[i]`` of the degree-``order`` least-squares polynomial through the
    ``window`` samples around ``i`` (the first/last full window near the ends)."""
    n, half = len(t), window // 2
    start = np.clip(np.arange(n) - half, 0, n - window)
    idx = start[:, None] + np.arange(window)[None, :]  # (n, window)
    scale = float(np.median(np.diff(t))) * half or 1.0
    dt = (t[idx] - t[:, None]) / scale  # centred on the point, well conditioned
    V = dt[:, :, None] ** np.arange(order + 1)[None, None, :]  # (n, window, order + 1)
    coef = np.linalg.pinv(V) @ x[idx]  # (n, order + 1, d)
    return coef[:, 1, :] / scale


@dataclass(frozen=True)
class TrajectoryTable:
    """Trajectories read from a table by :func:`load_trajectories`.

    Attributes
    ----------
    X : list of DataFrame
        The states of each trajectory ``(n_k, d)``, columns named after the states.
    t : list of ndarray or None
        The times of each trajectory ``(n_k,)`` (None when derivatives were read instead).
    dXdt : list of ndarray or None
        The measured derivatives of each trajectory ``(n_k, d)``, when derivative columns were named.
    labels : list of str
        The trajectory of each part (its value in the trajectory column, else ``"all"``).
    """

    X: list[pd.DataFrame]
    t: list[np.ndarray] | None
    dXdt: list[np.ndarray] | None
    labels: list[str]

    @property
    def states(self) -> list[str]:
        """The state names ``d``."""
        return [str(c) for c in self.X[0].columns]


def load_trajectories(
    path: str | Path,
    *,
    time_column: str | None = None,
    states: Sequence[str] | None = None,
    trajectory_column: str | None = None,
    derivative_columns: Sequence[str] | None = None,
) -> TrajectoryTable:
    """Read trajectories from a CSV table: one row per sample, one column per state.

    Parameters
    ----------
    path : str or Path
    time_column : str, optional
        The sampling times (strictly increasing within each trajectory). Needed unless
        ``derivative_columns`` are given.
    states : sequence of str, optional
        The state columns (default: every column not named in the other arguments).
    trajectory_column : str, optional
        A column whose value tells the trajectories apart (rows of one trajectory keep their order).
    derivative_columns : sequence of str, optional
        Measured derivatives, one column per state in the order of ``states``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    UnknownNameError
        If a named column is not in the table (the message suggests the closest one).
    ValidationError
        If a column is not numeric or has missing values, or the times do not increase.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValidationError(f"{str(path)!r} is empty") from None
    except pd.errors.ParserError as exc:
        raise ValidationError(f"{str(path)!r} is not a valid CSV file ({exc})") from None
    if time_column is None and not derivative_columns:
        raise ValidationError("name the time column, or the columns of measured derivatives")
    columns = [str(c) for c in df.columns]
    named = [c for c in (time_column, trajectory_column) if c is not None] + list(derivative_columns or [])
    for col in [*named, *(states or [])]:
        if col not in columns:
            raise UnknownNameError.for_name("column", col, columns)
    state_cols = list(states) if states else [c for c in columns if c not in named]
    if not state_cols:
        raise ValidationError(f"{str(path)!r} has no state columns besides {', '.join(named)}")
    if len(set(state_cols)) != len(state_cols):
        raise ValidationError(f"a state is named twice: {', '.join(state_cols)}")
    if derivative_columns is not None and len(derivative_columns) != len(state_cols):
        raise ValidationError(
            f"{len(derivative_columns)} derivative column(s) for {len(state_cols)} state(s); "
            "give one per state, in the same order"
        )
    numeric = [*state_cols, *([time_column] if time_column else []), *(derivative_columns or [])]
    for col in numeric:
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise ValidationError(f"column {col!r} is not numeric")
        missing = int(df[col].isna().sum())
        if missing:
            raise ValidationError(f"column {col!r} has {missing} missing value(s); fill or drop those rows")
    if trajectory_column is not None:
        groups = [(str(key), part) for key, part in df.groupby(trajectory_column, sort=False)]
    else:
        groups = [("all", df)]
    X = [part[state_cols].reset_index(drop=True).astype(float) for _, part in groups]
    t = dXdt = None
    if derivative_columns:
        dXdt = [part[list(derivative_columns)].to_numpy(dtype=float) for _, part in groups]
    elif time_column is not None:
        t = []
        for label, part in groups:
            tk = part[time_column].to_numpy(dtype=float)
            steps = np.diff(tk)
            if np.any(steps <= 0):
                i = int(np.argmax(steps <= 0)) + 1
                where = f" in trajectory {label!r}" if trajectory_column is not None else ""
                hint = (
                    ""
                    if trajectory_column is not None
                    else ", or name the column that tells trajectories apart (--trajectory-column)"
                )
                raise ValidationError(
                    f"time column {time_column!r} does not increase{where} at line {int(part.index[i]) + 2} "
                    f"({tk[i - 1]:g} then {tk[i]:g}); sort the rows by time{hint}"
                )
            t.append(tk)
    return TrajectoryTable(X, t, dXdt, [label for label, _ in groups])
