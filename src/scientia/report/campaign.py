"""``scientia report``: a campaign as one self-contained HTML file and a Markdown summary.

Both show the figures of the web app's campaign page (built by :mod:`scientia.report.figures`):
the HTML file draws them with plotly.js, inlined from the installed ``plotly`` package so that
the file opens anywhere offline; the Markdown summary links PNG renderings of the same figures
written next to it. Both also hold the best result, the calibration of the predictions, the
observations, the resolved settings, the seed and the package versions (recorded when the
campaign was created, and those that wrote the report). For a campaign with two or more
objectives to optimise, both add its Pareto front: the pairwise figure and a table of the
Pareto-optimal observations.

The input is a :class:`~scientia.web.views.CampaignView` (the web app passes its cached one;
:func:`view_of` builds one for a campaign), so the report and the page cannot disagree.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scientia.report.figures import FIGURE_TITLES, to_png
from scientia.types import utcnow
from scientia.versions import package_versions

if TYPE_CHECKING:
    from scientia.campaign import Campaign
    from scientia.web.views import CampaignView

__all__ = ["render_html", "render_markdown", "slug", "view_of", "write_reports"]

_MD_ROWS = 20  # observations shown in the Markdown summary (the HTML file has them all)

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ s.name }} — scientia report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 76em;
       padding: 0 1em; color: #222; line-height: 1.45; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.muted { color: #666; }
table { border-collapse: collapse; font-size: 0.86em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow: auto; max-height: 40em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; } dt { font-weight: 600; }
.figure { min-height: 380px; margin-bottom: 1em; }
</style>
</head>
<body>
<h1>{{ s.name }}</h1>
{% if s.description %}<p>{{ s.description }}</p>{% endif %}
<p class="muted">scientia campaign report · generated {{ generated }} · scientia {{ now.get("scientia", "?") }}</p>
<h2>Summary</h2>
<dl>
<dt>objective{{ "s" if s.objectives|length > 1 }}</dt><dd>{{ objectives }}</dd>
<dt>observations</dt><dd>{{ s.counts.observations }} ({{ s.counts.ok }} ok, {{ s.counts.failed }} failed);
 {{ s.counts.awaiting }} awaiting review, {{ s.counts.approved }} approved, {{ s.counts.rejected }} rejected</dd>
<dt>best so far</dt><dd>{{ best }}</dd>
<dt>calibration</dt><dd>{{ calibration }}</dd>
<dt>seed</dt><dd>{{ s.seed }}</dd>
<dt>proposer</dt><dd>{{ proposer }}</dd>
<dt>review</dt><dd>{{ s.review }}</dd>
</dl>
<h2>Figures</h2>
{% if shown %}<p>{{ shown }}</p>{% endif %}
{% for key, title in titles.items() %}<div class="figure" id="fig-{{ key }}" data-figure="{{ key }}" role="img" aria-label="{{ title }}"></div>
{% endfor %}
{% if pareto %}
<h2 id="pareto">Pareto front</h2>
<p>{{ pareto_text }}</p>
<div class="figure" id="fig-pareto" data-figure="pareto" role="img" aria-label="Pareto front"></div>
<div class="scroll"><table id="pareto-table">
<thead><tr>{% for c in pareto_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in pareto_rows %}<tr>{% for cell, numeric in row %}<td{% if numeric %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
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
<p>The resolved configuration stored in the ledger when the campaign was created. Proposal round
<var>r</var> draws its random numbers from a child seed of (<code>seed</code>, <var>r</var>), so the
same seed gives the same proposals.</p>
<pre>{{ config }}</pre>
<h3>Package versions</h3>
<table><thead><tr><th>package</th><th>when the campaign was created</th><th>when this report was written</th></tr></thead>
<tbody>{% for k in packages %}<tr><th>{{ k }}</th><td>{{ then.get(k, "—") }}</td><td>{{ now.get(k, "—") }}</td></tr>{% endfor %}</tbody></table>
<script>{{ plotly_js }}</script>
<script type="application/json" id="figures">{{ figures }}</script>
<script>
(function () {
  var figures = JSON.parse(document.getElementById("figures").textContent);
  document.querySelectorAll("[data-figure]").forEach(function (div) {
    var fig = figures[div.dataset.figure];
    Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false});
  });
})();
</script>
</body>
</html>
"""


def slug(name: str) -> str:
    """A file-name-safe form of a campaign name (``a/b c`` → ``a-b-c``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "campaign"


def view_of(campaign: Campaign) -> CampaignView:
    """A campaign's view (tables and figures, as the web app shows them), up to date."""
    from scientia.web.views import CampaignView

    view = CampaignView(campaign.id, campaign.name, campaign.config, campaign.space)
    view.sync(campaign.ledger)
    return view


def _cell(value: Any) -> tuple[str, bool]:
    """Text of a table cell and whether it is a number."""
    if value is None:
        return "", False
    if isinstance(value, float):
        return ("" if math.isnan(value) else f"{value:.6g}"), True
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), True
    return str(value), False


def _aim(o: dict[str, Any]) -> str:
    """``maximise yield (threshold 50)`` or, for an outcome constraint, ``keep purity ≥ 95``."""
    if o["role"] == "constraint":
        return f"keep {o['name']} {'≥' if o['direction'] == 'max' else '≤'} {o['threshold']:g}"
    aim = f"{'maximise' if o['direction'] == 'max' else 'minimise'} {o['name']}"
    return aim + (f" (threshold {o['threshold']:g})" if o["threshold"] is not None else "")


def _texts(view: CampaignView) -> dict[str, str]:
    """The summary's sentences, shared by the HTML and Markdown reports."""
    s = view.summary()
    objectives = ", ".join(_aim(o) for o in s["objectives"])
    best = "no successful observation yet"
    if s["best"]:
        b = s["best"]
        params = ", ".join(f"{k} = {_cell(v)[0]}" for k, v in b["params"].items())
        best = f"{b['objective']} = {_cell(float(b['value']))[0]} at {params} (ledger event {b['seq']})"
    cov = s["coverage"]
    calibration = "no measured value had a prediction yet (the first experiments are space-filling)"
    if cov["total"]:
        calibration = (
            f"{cov['inside']} of {cov['total']} measured values fell inside the 90% interval predicted "
            f"before measuring them (coverage {cov['inside'] / cov['total']:.2f}; a calibrated model gives about 0.90)"
        )
    proposer = s["proposer"]
    if s["acquisition"]:
        proposer += f" ({s['acquisition']}, {s['surrogate']} surrogate)"
    proposer += f", batches of {s['batch_size']}"
    shown = ""
    if len(s["objectives"]) > 1:
        shown = (
            f"The best-so-far, measured-vs-predicted and effects figures show {s['objectives'][0]['name']}."
        )
    out = {"objectives": objectives, "best": best, "calibration": calibration, "proposer": proposer}
    out["shown"] = shown
    pareto = view.pareto()
    if pareto is not None:
        aims = ", ".join(f"{o['direction']} {o['name']}" for o in pareto["objectives"])
        thresholds = any(o["threshold"] is not None for o in s["objectives"])
        out["pareto"] = (
            f"{pareto['size']} of {pareto['ok']} successful experiments are Pareto-optimal: no other is at "
            f"least as good on every objective ({aims}) and better on one"
            + (", and they meet every threshold" if thresholds else "")
            + f". Best {s['objectives'][0]['name']} first."
        )
    return out


def _pareto_table(view: CampaignView) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows (values) of the Pareto-optimal observations, best first."""
    pareto = view.pareto()
    names = [o.name for o in view.objectives]
    columns = ["seq", *names, *view.parameters, "proposal_id"]
    rows = [
        [
            r["seq"],
            *(r["outcomes"][n] for n in names),
            *(r["params"][n] for n in view.parameters),
            r["proposal_id"],
        ]
        for r in (pareto["rows"] if pareto else [])
    ]
    return columns, rows


def _versions(view: CampaignView) -> tuple[dict[str, str], dict[str, str], list[str]]:
    then, now = dict(view.versions), package_versions()
    try:
        from importlib.metadata import version

        now["plotly"] = version("plotly")
    except Exception:  # noqa: BLE001 - a report without this line is still a report
        pass
    return then, now, sorted(set(then) | set(now))


def _plotly_js() -> str:
    from importlib.resources import files

    text = (files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def render_html(view: CampaignView) -> str:
    """The report as one HTML page (a string) with plotly.js and the figures inlined."""
    import jinja2
    from markupsafe import Markup

    s = view.summary()
    frame = view.frame()
    then, now, packages = _versions(view)
    rows = [[_cell(v) for v in rec] for rec in frame.astype(object).itertuples(index=False, name=None)]
    texts = _texts(view)
    pareto_columns, pareto_rows = _pareto_table(view)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        s=s,
        objectives=texts["objectives"],
        best=texts["best"],
        calibration=texts["calibration"],
        proposer=texts["proposer"],
        shown=texts["shown"],
        pareto="pareto" in texts,
        pareto_text=texts.get("pareto", ""),
        pareto_columns=pareto_columns,
        pareto_rows=[[_cell(v) for v in row] for row in pareto_rows],
        generated=utcnow(),
        titles={k: v for k, v in FIGURE_TITLES.items() if k != "pareto"},
        columns=[str(c) for c in frame.columns],
        rows=rows,
        config=json.dumps(view.config.model_dump(mode="json"), indent=2, ensure_ascii=False),
        then=then,
        now=now,
        packages=packages,
        plotly_js=Markup(_plotly_js()),
        figures=Markup(view.figures_json()),
    )


def _md(value: Any) -> str:
    """A Markdown table cell: pipes and HTML made inert, one line."""
    text = _cell(value)[0] if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render_markdown(view: CampaignView, images: dict[str, str]) -> str:
    """The Markdown summary; ``images`` maps figure keys to the PNG paths to link."""
    s = view.summary()
    t = _texts(view)
    then, now, packages = _versions(view)
    frame = view.frame()
    lines = [f"# {_md(s['name'])} — scientia report", ""]
    if s["description"]:
        lines += [_md(s["description"]), ""]
    lines += [f"Generated {utcnow()} by scientia {now.get('scientia', '?')}.", "", "## Summary", ""]
    lines += ["| | |", "|---|---|"]
    counts = s["counts"]
    observations = (
        f"{counts['observations']} ({counts['ok']} ok, {counts['failed']} failed); {counts['awaiting']} awaiting "
        f"review, {counts['approved']} approved, {counts['rejected']} rejected"
    )
    for key, value in (
        ("objectives" if len(s["objectives"]) > 1 else "objective", t["objectives"]),
        ("observations", observations),
        ("best so far", t["best"]),
        ("calibration", t["calibration"]),
        ("seed", str(s["seed"])),
        ("proposer", t["proposer"]),
        ("review", s["review"]),
    ):
        lines.append(f"| {key} | {_md(value)} |")
    lines += ["", "## Figures", ""]
    if t["shown"]:
        lines += [_md(t["shown"]), ""]
    for key, title in FIGURE_TITLES.items():
        if key in images and key != "pareto":
            lines += [f"![{title}]({images[key]})", ""]
    if "pareto" in t:
        lines += ["## Pareto front", "", _md(t["pareto"]), ""]
        if "pareto" in images:
            lines += [f"![{FIGURE_TITLES['pareto']}]({images['pareto']})", ""]
        columns, front = _pareto_table(view)
        if len(front) > _MD_ROWS:
            lines += [f"The first {_MD_ROWS} of {len(front)} (all of them: the HTML report).", ""]
        lines += ["| " + " | ".join(_md(c) for c in columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in front[:_MD_ROWS]]
        lines.append("")
    lines += ["## Observations", ""]
    shown = frame.tail(_MD_ROWS) if len(frame) > _MD_ROWS else frame
    if len(frame) > _MD_ROWS:
        lines += [f"The last {_MD_ROWS} of {len(frame)} (all of them: `scientia export {s['name']}`).", ""]
    cols = [str(c) for c in frame.columns]
    lines += ["| " + " | ".join(_md(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for rec in shown.astype(object).itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_md(v) for v in rec) + " |")
    lines += ["", "## Settings", "", "The resolved configuration stored in the ledger:", "", "```json"]
    lines += [json.dumps(view.config.model_dump(mode="json"), indent=2, ensure_ascii=False), "```", ""]
    lines += [
        f"Seed {s['seed']}: proposal round *r* draws its random numbers from a child seed of (seed, *r*).",
        "",
        "## Package versions",
        "",
        "| package | when the campaign was created | when this report was written |",
        "|---|---|---|",
    ]
    lines += [f"| {_md(k)} | {_md(then.get(k, '—'))} | {_md(now.get(k, '—'))} |" for k in packages]
    return "\n".join(lines) + "\n"


def write_reports(view: CampaignView, folder: str | Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>.html``, ``<stem>.md`` and ``<stem>_files/<figure>.png`` into ``folder``.

    Returns
    -------
    dict
        ``{"html": path, "markdown": path, "<figure>": png path, ...}``
    """
    folder = Path(folder)
    pictures = folder / f"{stem}_files"
    pictures.mkdir(exist_ok=True)
    out: dict[str, Path] = {}
    images = {}
    for key, fig in view.figures().items():
        path = pictures / f"{key}.png"
        wide = key == "effects" or fig["layout"].get("meta", {}).get("grid", [1, 1])[1] > 1
        path.write_bytes(to_png(fig, width=11 if wide else 8))
        out[key] = path
        images[key] = f"{pictures.name}/{path.name}"
    out["html"] = folder / f"{stem}.html"
    out["html"].write_text(render_html(view), encoding="utf-8")
    out["markdown"] = folder / f"{stem}.md"
    out["markdown"].write_text(render_markdown(view, images), encoding="utf-8")
    return out
