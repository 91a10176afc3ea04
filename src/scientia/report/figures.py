"""A campaign's figures, built once as data and drawn by Plotly (pages) or Matplotlib (PNG).

The web app's campaign page and ``scientia report`` (its HTML file and its Markdown summary)
show the same figures, so they are built here and nowhere else:

* **best so far** — the best value of one objective (the first, unless another is asked for)
  after each experiment (a step line) over every measured value;
* **measured vs predicted** — each measurement against the prediction made *before* it was
  measured, with the 90% predictive interval as a horizontal error bar, and the diagonal;
* **parameter effects** — the measured objective against each parameter (a scatter for
  numbers, a box with its points for categories);
* **Pareto front** (campaigns with two or more objectives to optimise) — each pair of
  objectives against each other: every successful experiment in grey, the Pareto-optimal ones
  in orange (with two objectives, joined by the front's staircase), thresholds as dashed lines.
  Which experiments are Pareto-optimal is the caller's answer (the engine's
  :meth:`CampaignState.pareto <scientia.campaign.state.CampaignState.pareto>`), given as ledger
  sequence numbers; nothing here decides domination.

Each figure is a plain Plotly figure ``dict`` (``{"data": [...], "layout": {...}}``): plotly.js
draws it as it is, no Python ``plotly`` import or validation is needed (both are slow with
thousands of points), and numbers are rounded to six significant digits to keep pages small.
:func:`to_png` draws the same dict with Matplotlib, for the Markdown summary (Plotly's own PNG
export needs Chrome through kaleido, which is not a dependency).

The input is a table of observations in the layout of :meth:`Campaign.to_frame
<scientia.campaign.Campaign.to_frame>`: ``seq``, one column per parameter and objective,
``status``, ``predicted_<objective>`` and ``predicted_<objective>_std``.
"""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Collection, Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from scientia.campaign.state import Objective

__all__ = [
    "FIGURE_TITLES",
    "Z90",
    "best_so_far",
    "campaign_figures",
    "coverage",
    "figure_json",
    "pareto_figure",
    "to_png",
]

Z90 = 1.6448536269514722  # standard normal 0.95 quantile: a central 90% interval is mean ± Z90·std
FIGURE_TITLES = {
    "best": "Best so far",
    "predicted": "Measured vs predicted",
    "effects": "Parameter effects",
    "pareto": "Pareto front",
}
_BLUE, _ORANGE, _GREY = "#1f77b4", "#ff7f0e", "#9a9a9a"
_MAX_EFFECTS = 12  # parameters shown in the effects figure


def _num(value: Any) -> float | None:
    """A JSON-safe number: six significant digits, NaN and infinities as ``None``."""
    v = float(value)
    if not math.isfinite(v):
        return None
    return float(f"{v:.6g}")


def _nums(values: Any) -> list[float | None]:
    """JSON-safe numbers for a whole array: rounded to six significant digits of its largest
    value, NaN and infinities as ``None`` (vectorised: figures hold thousands of points)."""
    a = np.asarray(values, dtype=float)
    finite = np.isfinite(a)
    if finite.any():
        top = float(np.abs(a[finite]).max())
        digits = 5 - math.floor(math.log10(top)) if top > 0 else 6
        a = np.round(a, min(max(digits, 0), 12))
    out: list[float | None] = a.tolist()
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist(), strict=True)]
    return out


def _text(value: Any) -> str:
    """Text shown by plotly.js, which reads a few HTML tags: escape user-given strings."""
    return html.escape(str(value), quote=False)


def best_so_far(
    values: Sequence[float] | np.ndarray, ok: Sequence[bool] | np.ndarray, direction: str
) -> np.ndarray:
    """Best value after each experiment (NaN before the first successful one).

    Parameters
    ----------
    values : sequence of float, shape (n,)
        The objective of each experiment in ledger order (NaN where there is none).
    ok : sequence of bool, shape (n,)
        Whether each experiment succeeded; failed ones do not count but take a place.
    direction : {"max", "min"}

    Returns
    -------
    ndarray, shape (n,)
    """
    y = np.where(np.asarray(ok, dtype=bool), np.asarray(values, dtype=float), np.nan)
    sign = 1.0 if direction == "max" else -1.0
    filled = np.where(np.isnan(y), -np.inf, sign * y)
    best = np.maximum.accumulate(filled) if len(filled) else filled
    return np.where(np.isinf(best), np.nan, sign * best)


def _predictions(frame: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Measured rows with a prediction made before measuring: columns seq, y, mean, std."""
    cols = ["seq", objective, f"predicted_{objective}", f"predicted_{objective}_std"]
    if frame.empty or any(c not in frame.columns for c in cols):
        import pandas as pd

        return pd.DataFrame(columns=["seq", "y", "mean", "std"])
    sub = frame.loc[frame["status"] == "ok", cols].astype(float).dropna()
    return sub.set_axis(["seq", "y", "mean", "std"], axis=1)


def coverage(frame: pd.DataFrame, objective: str) -> tuple[int, int]:
    """How many measured values fell inside the 90% interval predicted for them, out of how many."""
    pred = _predictions(frame, objective)
    inside = int(((pred["y"] - pred["mean"]).abs() <= Z90 * pred["std"]).sum())
    return inside, len(pred)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": _text(title), "x": 0.02, "xanchor": "left"},
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "hovermode": "closest",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": _text(title)}, "gridcolor": "#e5e5e5", "zeroline": False, **extra}


def _best_figure(frame: pd.DataFrame, objective: str, direction: str) -> dict[str, Any]:
    n = len(frame)
    x = list(range(1, n + 1))
    values = frame[objective].to_numpy(dtype=float) if n else np.array([])
    ok = (frame["status"] == "ok").to_numpy() if n else np.array([], dtype=bool)
    curve = best_so_far(values, ok, direction)
    measured = [i for i in range(n) if ok[i] and math.isfinite(values[i])]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": f"measured {_text(objective)}",
            "x": [x[i] for i in measured],
            "y": _nums(values[measured]),
            "marker": {"color": _GREY, "size": 5, "opacity": 0.6},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "best so far",
            "x": x,
            "y": _nums(curve),
            "line": {"color": _BLUE, "width": 2.5, "shape": "hv"},
        },
    ]
    goal = "higher is better" if direction == "max" else "lower is better"
    return {
        "data": data,
        "layout": _layout(
            f"Best {objective} so far ({goal})",
            xaxis=_axis("experiments", **({"dtick": 1} if n <= 12 else {})),
            yaxis=_axis(objective),
        ),
    }


def _predicted_figure(frame: pd.DataFrame, objective: str) -> dict[str, Any]:
    pred = _predictions(frame, objective)
    inside, total = coverage(frame, objective)
    title = "Measured vs predicted (before measuring)"
    if total:
        title += f" — 90% intervals cover {inside} of {total}"
    data: list[dict[str, Any]] = []
    if total:
        lo = float(min(pred["y"].min(), (pred["mean"] - Z90 * pred["std"]).min()))
        hi = float(max(pred["y"].max(), (pred["mean"] + Z90 * pred["std"]).max()))
        data = [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "measured (90% predictive interval)",
                "x": _nums(pred["mean"]),
                "y": _nums(pred["y"]),
                "customdata": pred["seq"].astype(int).tolist(),
                "hovertemplate": "ledger event %{customdata}<br>predicted %{x}<br>measured %{y}<extra></extra>",
                "error_x": {
                    "type": "data",
                    "array": _nums(Z90 * pred["std"]),
                    "visible": True,
                    "color": _GREY,
                    "thickness": 1,
                    "width": 2,
                },
                "marker": {"color": _ORANGE, "size": 6, "opacity": 0.8},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "measured = predicted",
                "x": [_num(lo), _num(hi)],
                "y": [_num(lo), _num(hi)],
                "line": {"color": "#444444", "width": 1, "dash": "dash"},
            },
        ]
    layout = _layout(
        title,
        xaxis=_axis(f"predicted {objective}"),
        yaxis=_axis(f"measured {objective}"),
    )
    if not total:
        layout["annotations"] = [_note("no model predictions yet")]
    return {"data": data, "layout": layout}


def _note(text: str) -> dict[str, Any]:
    return {
        "text": _text(text),
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
        "font": {"size": 14, "color": "#666666"},
    }


def _grid(k: int) -> tuple[int, int]:
    cols = min(3, max(1, k))
    return math.ceil(k / cols), cols


def _panel(layout: dict[str, Any], k: int, rows: int, cols: int, xtitle: str, ytitle: str) -> str:
    """Put the axes of panel ``k`` (row by row) of a rows × cols grid into ``layout``; return
    their suffix (``""``, ``"2"``, …) for the panel's traces."""
    gap_x, gap_y = 0.06, 0.14 / max(rows, 1) + 0.04
    r, c = divmod(k, cols)
    suffix = "" if k == 0 else str(k + 1)
    x0 = c / cols + (gap_x / 2 if c else 0)
    x1 = (c + 1) / cols - (gap_x / 2 if c < cols - 1 else 0)
    y1 = 1 - r / rows - (gap_y / 2 if r else 0)
    y0 = 1 - (r + 1) / rows + (gap_y / 2 if r < rows - 1 else 0)
    layout[f"xaxis{suffix}"] = _axis(xtitle, domain=[x0, x1], anchor=f"y{suffix}")
    layout[f"yaxis{suffix}"] = _axis(ytitle, domain=[y0, y1], anchor=f"x{suffix}")
    return suffix


def _effects_figure(frame: pd.DataFrame, objective: str, parameters: Sequence[str]) -> dict[str, Any]:
    params = list(parameters)[:_MAX_EFFECTS]
    rows, cols = _grid(len(params))
    ok = frame[frame["status"] == "ok"] if len(frame) else frame
    ok = ok[np.isfinite(ok[objective].to_numpy(dtype=float))] if len(ok) else ok
    y = _nums(ok[objective]) if len(ok) else []
    layout = _layout(
        f"{objective} against each parameter",
        showlegend=False,
        height=max(320, 280 * rows),
        meta={"grid": [rows, cols]},
    )
    data: list[dict[str, Any]] = []
    for k, name in enumerate(params):
        suffix = _panel(layout, k, rows, cols, name, objective if k % cols == 0 else "")
        column: Any = ok[name] if len(ok) else []
        numeric = len(ok) > 0 and column.dtype.kind in "iuf"
        trace: dict[str, Any] = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "name": _text(name), "y": y}
        if numeric:
            trace.update(
                type="scatter",
                mode="markers",
                x=_nums(column),
                marker={"color": _BLUE, "size": 5, "opacity": 0.6},
            )
        else:
            values = column.tolist() if len(ok) else []  # one pass over (Arrow-backed) strings
            labels = {v: _text(v) for v in set(values)}
            trace.update(
                type="box",
                x=[labels[v] for v in values],
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"color": _BLUE, "size": 4, "opacity": 0.6},
                line={"color": _BLUE},
                fillcolor="rgba(31,119,180,0.08)",
            )
        data.append(trace)
    if not len(ok):
        layout["annotations"] = [_note("no successful observations yet")]
    return {"data": data, "layout": layout}


def _goal(o: Objective) -> str:
    return f"{o.name} ({'higher' if o.direction == 'max' else 'lower'} is better)"


def pareto_figure(
    frame: pd.DataFrame, objectives: Sequence[Objective], front: Collection[int]
) -> dict[str, Any]:
    """Each pair of objectives to optimise against each other, the Pareto-optimal experiments marked.

    Parameters
    ----------
    frame : DataFrame
        Observations in ledger order, with the columns of ``Campaign.to_frame()``.
    objectives : sequence of Objective
        The campaign's objectives; outcome constraints get no axis (their thresholds only
        keep experiments off the front).
    front : collection of int
        Ledger sequence numbers (``seq``) of the Pareto-optimal observations, as the engine
        decides them (``CampaignState.pareto()``).

    Returns
    -------
    dict
        A Plotly figure: one panel per pair (a grid, as the effects figure), each with the other
        successful experiments (grey), the Pareto-optimal ones (orange; their ``customdata`` is
        the ledger ``seq``), with two objectives the front as a staircase, and each
        objective's threshold as a dashed line.
    """
    opt = [o for o in objectives if not o.is_constraint]
    pairs = list(combinations(range(len(opt)), 2))[:_MAX_EFFECTS]
    rows, cols = _grid(len(pairs))
    ok = frame[frame["status"] == "ok"] if len(frame) else frame
    if len(ok):  # as the engine's CampaignState.ok: every objective measured
        ok = ok[np.isfinite(ok[[o.name for o in objectives]].to_numpy(dtype=float)).all(1)]
    values = ok[[o.name for o in opt]].to_numpy(dtype=float) if len(ok) else np.empty((0, len(opt)))
    seqs = ok["seq"].to_numpy(dtype=int) if len(ok) else np.array([], dtype=int)
    on = np.isin(seqs, np.fromiter(front, dtype=int, count=len(front)))
    rest = "dominated" + (
        " or outside a threshold" if any(o.threshold is not None for o in objectives) else ""
    )
    layout = _layout(
        f"Pareto front: {int(on.sum())} of {len(seqs)} successful experiments are Pareto-optimal",
        height=460 if rows * cols == 1 else max(340, 300 * rows),
        meta={"grid": [rows, cols]},
    )
    marks = (
        (rest, ~on, {"color": _GREY, "size": 6, "opacity": 0.6}),
        (
            "Pareto-optimal",
            on,
            {"color": _ORANGE, "size": 10, "opacity": 0.95, "line": {"color": "#fff", "width": 1}},
        ),
    )
    data: list[dict[str, Any]] = []
    for k, (i, j) in enumerate(pairs):
        xo, yo = opt[i], opt[j]
        suffix = _panel(layout, k, rows, cols, _goal(xo), _goal(yo))
        common = {"type": "scatter", "xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "showlegend": k == 0}
        hover = f"ledger event %{{customdata}}<br>{_text(xo.name)} %{{x}}<br>{_text(yo.name)} %{{y}}"
        x, y = values[:, i], values[:, j]
        if len(opt) == 2 and on.any():  # the staircase bounding what the front dominates
            order = np.lexsort((-yo.sign * y[on], xo.sign * x[on]))
            line = {"color": _ORANGE, "width": 1.5, "shape": "vh"}
            step = {"mode": "lines", "name": "Pareto front", "line": line, "hoverinfo": "skip"}
            data.append({**common, **step, "x": _nums(x[on][order]), "y": _nums(y[on][order])})
        for name, pick, marker in marks:
            trace = {**common, "mode": "markers", "name": name, "legendgroup": name, "marker": marker}
            trace.update(x=_nums(x[pick]), y=_nums(y[pick]), customdata=seqs[pick].tolist())
            data.append({**trace, "hovertemplate": hover + "<extra></extra>"})
        for o, vertical in ((xo, True), (yo, False)):
            if o.threshold is None or not len(seqs):
                continue
            other = yo if vertical else xo  # the line spans the other axis' data and threshold
            span = _floats([*(y if vertical else x).tolist(), other.threshold])
            ends, at = [_num(np.nanmin(span)), _num(np.nanmax(span))], [_num(o.threshold)] * 2
            legend = not any(t["name"] == "threshold" for t in data)
            dash = {"color": "#444444", "width": 1, "dash": "dash"}
            data.append(
                {**common, "mode": "lines", "name": "threshold", "legendgroup": "threshold", "line": dash}
                | {"showlegend": legend, "x": at if vertical else ends, "y": ends if vertical else at}
                | {"hovertemplate": f"{_text(o.name)} threshold {o.threshold:g}<extra></extra>"}
            )
    if not len(seqs):
        layout["annotations"] = [_note("no successful observations yet")]
    return {"data": data, "layout": layout}


def campaign_figures(
    frame: pd.DataFrame,
    objective: str,
    direction: str,
    parameters: Sequence[str],
    *,
    objectives: Sequence[Objective] = (),
    front: Collection[int] = (),
) -> dict[str, dict[str, Any]]:
    """The campaign's figures as Plotly figure dicts.

    Parameters
    ----------
    frame : DataFrame
        Observations in ledger order, with the columns of ``Campaign.to_frame()``.
    objective : str
        The objective shown by the best-so-far, predicted and effects figures.
    direction : {"max", "min"}
    parameters : sequence of str
        Parameter columns for the effects figure (the first twelve are shown).
    objectives : sequence of Objective, optional
        All the campaign's objectives; with two or more to optimise, a Pareto figure is added.
    front : collection of int, optional
        Ledger ``seq`` of the Pareto-optimal observations (see :func:`pareto_figure`).

    Returns
    -------
    dict
        ``{"best": fig, "predicted": fig, "effects": fig}`` and, for several objectives,
        ``"pareto": fig``; each ``fig`` is JSON-serialisable and holds no NaN (missing values
        are ``None``).
    """
    figures = {
        "best": _best_figure(frame, objective, direction),
        "predicted": _predicted_figure(frame, objective),
        "effects": _effects_figure(frame, objective, parameters),
    }
    if sum(not o.is_constraint for o in objectives) >= 2:
        figures["pareto"] = pareto_figure(frame, objectives, front)
    return figures


def figure_json(figures: Mapping[str, Any]) -> str:
    """Figures as JSON that is safe inside an HTML ``<script>`` element (no ``<``, ``>``, ``&``)."""
    text = json.dumps(figures, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- Matplotlib --------------------------------------------------------------------------------
def _plain(text: Any) -> str:
    return html.unescape(str(text or ""))


def _title(spec: Any) -> str:
    return _plain(spec.get("text", "") if isinstance(spec, Mapping) else spec)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _draw(ax: Any, trace: Mapping[str, Any], rng: np.random.Generator) -> None:
    if trace.get("type") == "box":
        cats = [_plain(v) for v in trace["x"]]
        ys = _floats(trace["y"])
        levels = sorted(set(cats))
        if not levels:
            return
        groups = [ys[[i for i, c in enumerate(cats) if c == lvl]] for lvl in levels]
        ax.boxplot(groups, positions=range(len(levels)), widths=0.5, showfliers=False)
        for i, g in enumerate(groups):
            ax.scatter(i + rng.uniform(-0.18, 0.18, len(g)), g, s=6, alpha=0.5, color=_BLUE)
        ax.set_xticks(range(len(levels)), levels, rotation=30 if len(levels) > 4 else 0, ha="right")
        return
    x, y = _floats(trace["x"]), _floats(trace["y"])
    mode = trace.get("mode", "markers")
    color = (trace.get("marker") or trace.get("line") or {}).get("color", _BLUE)
    label = _plain(trace.get("name", "")) if trace.get("showlegend", True) else ""
    if "error_x" in trace:
        ax.errorbar(
            x, y, xerr=_floats(trace["error_x"]["array"]), fmt="o", ms=3.5, alpha=0.75, color=color,
            ecolor="0.6", elinewidth=1, capsize=2, label=label,
        )  # fmt: skip
    elif "lines" in mode:
        line = trace.get("line", {})
        style = "--" if line.get("dash") == "dash" else "-"
        if line.get("shape") in ("hv", "vh"):  # horizontal first ("post") or vertical first
            ax.step(x, y, where="post" if line["shape"] == "hv" else "pre", color=color, lw=2, label=label)
        else:
            ax.plot(x, y, style, color=color, lw=1, label=label)
    else:
        marker = trace.get("marker", {})
        size = 0.32 * marker.get("size", 5) ** 2  # Plotly's diameter in px as a Matplotlib area
        ax.scatter(
            x, y, s=size, alpha=min(marker.get("opacity", 0.6), 0.9), color=color, label=label, zorder=2
        )


def to_png(
    figure: Mapping[str, Any], width: float = 8.0, height: float | None = None, dpi: int = 100
) -> bytes:
    """Draw a figure of :func:`campaign_figures` with Matplotlib and return PNG bytes.

    Parameters
    ----------
    figure : dict
        A Plotly figure dict as built here (scatter and box traces on a grid of axes).
    width, height : float
        Size in inches (height defaults to the figure's own or 4).
    dpi : int
    """
    from matplotlib.figure import Figure

    layout = figure.get("layout", {})
    rows, cols = layout.get("meta", {}).get("grid", [1, 1])
    height = height or max(4.0, layout.get("height", 400) / 100 * 1.15)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    rng = np.random.default_rng(0)
    used = set()
    for trace in figure.get("data", []):
        ref = str(trace.get("xaxis", "x"))[1:]
        k = int(ref) - 1 if ref else 0
        used.add(k)
        _draw(axes[k], trace, rng)
    for k, ax in enumerate(axes):
        if k >= 1 and k not in used and rows * cols > 1:
            ax.set_visible(False)
            continue
        suffix = "" if k == 0 else str(k + 1)
        ax.set_xlabel(_title(layout.get(f"xaxis{suffix}", {}).get("title", "")))
        ax.set_ylabel(_title(layout.get(f"yaxis{suffix}", {}).get("title", "")))
        ax.grid(alpha=0.3)
    for note in layout.get("annotations", []):
        axes[0].text(0.5, 0.5, _plain(note["text"]), ha="center", va="center", transform=axes[0].transAxes)
    if layout.get("showlegend", True) and any(t.get("name") for t in figure.get("data", [])):
        handles, labels = axes[0].get_legend_handles_labels()
        if handles and rows * cols > 1:  # below the panels, where it hides no point
            fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
        elif handles:
            axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(_title(layout.get("title", "")), fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
