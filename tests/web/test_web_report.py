"""`scientia report` and the figures it shares with the campaign page."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from tests.web.conftest import make_campaign, seed_observations
from typer.testing import CliRunner

from scientia.campaign import Campaign
from scientia.cli.main import app
from scientia.report.figures import Z90, best_so_far, campaign_figures, coverage, figure_json, to_png

PNG = b"\x89PNG\r\n\x1a\n"


def test_best_so_far_counts_only_successes():
    # the curve holds the best ok value so far; failures keep their place; NaN before the first
    values = [np.nan, 3.0, 9.0, 1.0, 12.0]
    ok = [False, True, False, True, True]
    assert np.allclose(best_so_far(values, ok, "max"), [np.nan, 3, 3, 3, 12], equal_nan=True)
    assert np.allclose(best_so_far(values, ok, "min"), [np.nan, 3, 3, 1, 1], equal_nan=True)


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean = rng.normal(50, 10, n)
    std = np.full(n, 2.0)
    y = mean + rng.normal(0, 2.0, n)
    return pd.DataFrame(
        {
            "seq": np.arange(1, n + 1),
            "t": rng.uniform(20, 120, n),
            "s": rng.choice(["DMF", "<b>THF</b>"], n),
            "yield": y,
            "status": ["ok"] * n,
            "predicted_yield": mean,
            "predicted_yield_std": std,
        }
    )


def test_coverage_counts_values_inside_the_interval():
    # coverage is the number of measurements within mean ± 1.645·std, computed independently here
    frame = _frame(200)
    inside, total = coverage(frame, "yield")
    expected = int((np.abs(frame["yield"] - frame["predicted_yield"]) <= Z90 * 2.0).sum())
    assert (inside, total) == (expected, 200)
    assert 0.8 < inside / total < 0.97  # the model above is calibrated


def test_figures_are_json_without_nan_and_escape_text():
    # missing values become null, categories from the data are escaped for plotly.js
    frame = _frame(30)
    frame.loc[3, ["predicted_yield", "predicted_yield_std"]] = np.nan
    figs = campaign_figures(frame, "yield", "max", ["t", "s"])
    text = figure_json(figs)
    json.loads(text)  # strict JSON: NaN would fail
    assert "<" not in text and "NaN" not in text
    assert len(figs["predicted"]["data"][0]["x"]) == 29
    box = figs["effects"]["data"][1]
    assert box["type"] == "box" and "&lt;b&gt;THF&lt;/b&gt;" in box["x"]


def test_png_rendering_of_every_figure():
    # the Markdown report's PNGs are drawn from the same figure dicts
    for fig in campaign_figures(_frame(40), "yield", "min", ["t", "s"]).values():
        assert to_png(fig).startswith(PNG)
    empty = campaign_figures(_frame(0), "yield", "max", ["t", "s"])
    assert all(to_png(f).startswith(PNG) for f in empty.values())


@pytest.fixture
def reported(tmp_path):
    """A campaign with 12 observations (and a <script> in its description), reported to out/."""
    ledger = tmp_path / "lab.sqlite"
    camp = make_campaign(ledger)
    seed_observations(camp, 12)
    camp.ledger.close()
    text = (tmp_path / "configs" / "amide_coupling.toml").read_text()
    assert "description" in text
    runner = CliRunner(env={"SCIENTIA_LEDGER": None})
    result = runner.invoke(
        app, ["report", "amide_coupling", "--ledger", str(ledger), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "out", result


def test_report_writes_html_markdown_and_pngs(reported):
    # one HTML file, one Markdown file, and a PNG per figure that the Markdown links
    out, result = reported
    assert (out / "amide_coupling-report.html").stat().st_size > 1_000_000  # plotly.js is inlined
    md = (out / "amide_coupling-report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 3
    for link in links:
        assert (out / link).read_bytes().startswith(PNG)
    assert "wrote" in result.stdout


def test_report_html_is_self_contained(reported):
    # plotly.js and the figures are inlined: no script or stylesheet from elsewhere
    html = (reported[0] / "amide_coupling-report.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="', html)
    assert "plotly.js v" in html and html.count('class="figure"') == 3
    figures = json.loads(
        re.search(r'<script type="application/json" id="figures">(.*?)</script>', html, re.S).group(1)
    )
    assert len(figures["best"]["data"][1]["y"]) == 12


def test_report_has_settings_seed_versions_and_best(reported, tmp_path):
    # both files name the seed, the settings, package versions and the best value found
    out, _ = reported
    camp = Campaign.open(str(tmp_path / "lab.sqlite"), "amide_coupling")
    best = camp.state().best().outcomes["yield"]
    camp.ledger.close()
    for name in ("amide_coupling-report.html", "amide_coupling-report.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert f"{best:.6g}" in text, name
        for words in ("seed", "botorch", "qlognei", "Package versions", "coverage"):
            assert words in text, (name, words)


def test_report_escapes_campaign_text(tmp_path):
    # a campaign description with markup is shown as text in the HTML report
    ledger = tmp_path / "lab.sqlite"
    camp = make_campaign(ledger, description="<script>alert(1)</script>")
    camp.ledger.close()
    runner = CliRunner(env={"SCIENTIA_LEDGER": None})
    result = runner.invoke(app, ["report", "amide_coupling", "-l", str(ledger), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "amide_coupling-report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = (tmp_path / "amide_coupling-report.md").read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", md, flags=re.S)  # a code block shows its text verbatim anyway
    assert "<script>" not in prose and "&lt;script&gt;" in prose


def test_report_errors_are_one_line(tmp_path):
    # an unknown campaign or an --out that is a file gives one line and exit code 2
    ledger = tmp_path / "lab.sqlite"
    make_campaign(ledger).ledger.close()
    runner = CliRunner(env={"SCIENTIA_LEDGER": None})
    r = runner.invoke(app, ["report", "amide", "-l", str(ledger)])
    assert r.exit_code == 2 and "did you mean 'amide_coupling'" in r.stderr
    (tmp_path / "afile").write_text("x")
    r = runner.invoke(app, ["report", "amide_coupling", "-l", str(ledger), "-o", str(tmp_path / "afile")])
    assert r.exit_code == 2 and "is a file" in r.stderr
