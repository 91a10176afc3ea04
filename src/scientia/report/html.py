"""A campaign as one self-contained HTML file.

The page holds the campaign's settings (resolved config, seed, package versions), the best result
so far, two figures embedded as base64 PNG (best so far vs experiments; measured vs predicted
with the model's error bars, the prediction being the one made *before* the measurement) with the
coverage of the 90% predictive intervals, and the table of observations; a campaign with two or
more objectives to optimise adds its Pareto front (the pairwise figure of
:func:`scientia.report.figures.pareto_figure` and a table of the Pareto-optimal observations). It
loads nothing from the network and every piece of text goes through Jinja2's autoescape.

:func:`render_report` returns the page as a string (for a web app); :func:`write_report` writes
it to a file.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scientia.types import utcnow

if TYPE_CHECKING:
    import pandas as pd

    from scientia.campaign import Campaign
    from scientia.campaign.state import CampaignState

__all__ = ["render_report", "write_report"]

Z90 = 1.6448536269514722  # standard normal quantile 0.95: a central 90% interval is mean ± Z90·std

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }} — scientia report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 70em;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.muted { color: #666; }
table { border-collapse: collapse; font-size: 0.86em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; max-height: 40em; overflow-y: auto; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; } dt { font-weight: 600; }
</style>
</head>
<body>
<h1>{{ name }}</h1>
{% if description %}<p>{{ description }}</p>{% endif %}
<p class="muted">scientia campaign report · generated {{ generated }} · scientia {{ versions.get("scientia", "?") }}</p>

<h2>Summary</h2>
<dl>
<dt>objective</dt><dd>{{ objective }}</dd>
<dt>observations</dt><dd>{{ n_obs }} ({{ n_ok }} ok, {{ n_obs - n_ok }} failed); {{ n_pending }} proposals pending</dd>
<dt>best so far</dt><dd>{% if best %}{{ best.value }} — {{ best.params }}{% else %}no successful observation yet{% endif %}</dd>
<dt>seed</dt><dd>{{ seed }}</dd>
</dl>

<h2>Figures</h2>
{% if figure %}<img alt="best so far vs experiments, and measured vs predicted" src="data:image/png;base64,{{ figure }}">{% else %}<p>No observations yet.</p>{% endif %}
{% if calibration %}<p>{{ calibration }}</p>{% endif %}
{% if pareto %}
<h2 id="pareto">Pareto front</h2>
<p>{{ pareto.text }}</p>
<img alt="Pareto front: each pair of objectives, the Pareto-optimal experiments marked" src="data:image/png;base64,{{ pareto.png }}">
<div class="scroll"><table id="pareto-table">
<thead><tr>{% for c in pareto.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in pareto.rows %}<tr>{% for cell, numeric in row %}<td{% if numeric %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table></div>
{% endif %}

<h2>Observations</h2>
<div class="scroll"><table>
<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr>{% for cell, numeric in row %}<td{% if numeric %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table></div>

<h2>Settings</h2>
<p>The resolved configuration stored in the ledger when the campaign was created:</p>
<pre>{{ config }}</pre>
<h3>Package versions</h3>
<table>{% for k, v in versions.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
</body>
</html>
"""


def _cell(value: Any) -> tuple[str, bool]:
    """Text of a table cell and whether it is a number."""
    if value is None:
        return "", False
    if isinstance(value, float):
        return ("" if math.isnan(value) else f"{value:.6g}"), True
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), True
    return str(value), False


def _predictions(frame: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Rows with a measured value and a prediction made before measuring it."""
    cols = [objective, f"predicted_{objective}", f"predicted_{objective}_std"]
    if frame.empty or any(c not in frame.columns for c in cols):
        return frame.iloc[0:0]
    sub = frame[frame["status"] == "ok"][cols].astype(float).dropna()
    return sub.set_axis(["y", "mean", "std"], axis=1)


def _figure(curve: list[float], pred: pd.DataFrame, objective: str, direction: str) -> str:
    """Base64 PNG of best-so-far and measured-vs-predicted, side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    x = list(range(1, len(curve) + 1))
    ax1.step(x, curve, where="post", color="tab:blue")
    ax1.set_xlabel("experiments")
    ax1.set_ylabel(f"best {objective} so far ({direction})")
    ax1.set_title("Best so far")
    ax1.grid(alpha=0.3)
    if len(pred):
        ax2.errorbar(
            pred["mean"],
            pred["y"],
            xerr=Z90 * pred["std"],
            fmt="o",
            ms=4,
            alpha=0.75,
            color="tab:orange",
            ecolor="0.6",
            elinewidth=1,
            capsize=2,
            label="90% predictive interval",
        )
        lo = float(min(pred["y"].min(), (pred["mean"] - Z90 * pred["std"]).min()))
        hi = float(max(pred["y"].max(), (pred["mean"] + Z90 * pred["std"]).max()))
        ax2.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", label="measured = predicted")
        ax2.legend(loc="upper left", fontsize=8)
    else:
        ax2.text(0.5, 0.5, "no model predictions yet", ha="center", va="center", transform=ax2.transAxes)
    ax2.set_xlabel(f"predicted {objective} (before measuring)")
    ax2.set_ylabel(f"measured {objective}")
    ax2.set_title("Measured vs predicted")
    ax2.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _pareto(campaign: Campaign, state: CampaignState, frame: pd.DataFrame) -> dict[str, Any] | None:
    """The Pareto section (sentence, figure as base64 PNG, table best first) of a campaign with
    two or more objectives to optimise; None for one."""
    from scientia.report.figures import pareto_figure, to_png

    optimised = [o for o in campaign.objectives if not o.is_constraint]
    if len(optimised) < 2:
        return None
    at = {id(o): i for i, o in enumerate(state.observations)}  # the frame's rows, in the same order
    front = [(int(frame["seq"].iloc[at[id(o)]]), o) for o in state.pareto()]
    figure = pareto_figure(frame, campaign.objectives, [seq for seq, _ in front])
    first = campaign.objectives[0]
    front.sort(key=lambda so: (-first.sign * so[1].outcomes[first.name], so[0]))
    names = [o.name for o in campaign.objectives]
    aims = ", ".join(f"{o.direction} {o.name}" for o in optimised)
    met = (
        ", and they meet every threshold" if any(o.threshold is not None for o in campaign.objectives) else ""
    )
    return {
        "text": f"{len(front)} of {len(state.ok)} successful experiments are Pareto-optimal: no other is at "
        f"least as good on every objective ({aims}) and better on one{met}. Best {first.name} first.",
        "png": base64.b64encode(to_png(figure, width=11 if len(optimised) > 2 else 8)).decode("ascii"),
        "columns": ["seq", *names, *campaign.space.names],
        "rows": [
            [
                _cell(seq),
                *(_cell(o.outcomes[n]) for n in names),
                *(_cell(o.candidate.params[n]) for n in campaign.space.names),
            ]
            for seq, o in front
        ],
    }


def render_report(campaign: Campaign) -> str:
    """The campaign report as an HTML page (a string, UTF-8 text, no external resources)."""
    import jinja2

    state = campaign.state()
    frame = campaign.to_frame()
    obj = campaign.objectives[0]
    curve = state.best_so_far()
    pred = _predictions(frame, obj.name)
    calibration = ""
    if len(pred):
        inside = int(((pred["y"] - pred["mean"]).abs() <= Z90 * pred["std"]).sum())
        calibration = (
            f"{inside} of {len(pred)} measured values fell inside the 90% interval predicted before "
            f"measuring them (coverage {inside / len(pred):.2f}; a calibrated model gives about 0.90)."
        )
    best = state.best()
    best_ctx = None
    if best is not None:
        best_ctx = {
            "value": f"{obj.name} = {best.outcomes[obj.name]:.6g}",
            "params": ", ".join(f"{k} = {_cell(v)[0]}" for k, v in best.candidate.params.items()),
        }
    columns = [str(c) for c in frame.columns]
    rows = [[_cell(v) for v in rec] for rec in frame.astype(object).itertuples(index=False, name=None)]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        name=campaign.name,
        description=campaign.config.description,
        generated=utcnow(),
        versions=dict(campaign.versions),
        objective=f"{'maximise' if obj.direction == 'max' else 'minimise'} {obj.name}",
        n_obs=len(state.observations),
        n_ok=len(state.ok),
        n_pending=len(state.pending),
        best=best_ctx,
        seed=campaign.config.seed,
        figure=_figure(curve, pred, obj.name, obj.direction) if curve else "",
        calibration=calibration,
        pareto=_pareto(campaign, state, frame),
        columns=columns,
        rows=rows,
        config=json.dumps(campaign.config.model_dump(mode="json"), indent=2, ensure_ascii=False),
    )


def write_report(campaign: Campaign, path: str | Path) -> Path:
    """Write the campaign report to ``path`` (one self-contained HTML file); return the path."""
    path = Path(path)
    path.write_text(render_report(campaign), encoding="utf-8")
    return path
