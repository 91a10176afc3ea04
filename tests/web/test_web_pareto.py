"""The Pareto front of multi-objective campaigns: campaign page, its JSON twin, figures, reports.

Campaigns are ``examples/manual.toml`` with two or three objectives instead of one; their
observations are written by hand so that the data hold dominated points, a duplicate on the
front, a failure and points beyond a threshold. Which rows are Pareto-optimal is checked
against a brute-force domination test written here, independently of the engine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import human_config
from typer.testing import CliRunner

from scientia.campaign import Campaign
from scientia.campaign.state import Objective
from scientia.cli.main import app
from scientia.config import load_config
from scientia.report.figures import pareto_figure, to_png
from scientia.types import Observation
from scientia.web import create_app

PNG = b"\x89PNG\r\n\x1a\n"
YIELD = 'name = "yield"           # %\ndirection = "max"\n'

# (yield, cost, impurity) per experiment; None is a failed experiment
THREE = [
    (80.0, 50.0, 5.0),  # front: best yield within the cost threshold
    (60.0, 20.0, 4.0),  # front
    (60.0, 20.0, 4.0),  # the same again: a duplicate stays on the front
    (55.0, 25.0, 6.0),  # dominated by the two above
    (40.0, 10.0, 9.0),  # front: cheapest
    (30.0, 30.0, 1.0),  # front only through impurity (dominated in yield-cost)
    (95.0, 95.0, 2.0),  # beyond the cost threshold (90): never on the front
    None,  # failed
    (20.0, 60.0, 8.0),  # dominated
]
# (yield, cost, purity): purity is an outcome constraint (>= 90)
TWO = [
    (70.0, 40.0, 95.0),  # front
    (50.0, 15.0, 99.0),  # front
    (65.0, 45.0, 97.0),  # dominated by the first
    (90.0, 30.0, 80.0),  # would dominate everything, but fails the purity constraint
    (30.0, 10.0, 91.0),  # front
    (45.0, 35.0, 92.0),  # dominated
]


def _config(folder: Path, name: str, extra: str) -> Path:
    path = human_config(folder, name=name)
    text = path.read_text(encoding="utf-8")
    assert YIELD in text
    path.write_text(text.replace(YIELD, YIELD + extra), encoding="utf-8")
    return path


def _campaign(ledger: Path, name: str, extra: str, names: list[str], table: list[Any]) -> None:
    camp = Campaign.create(load_config(_config(ledger.parent / "configs", name, extra)), str(ledger))
    observations = []
    for cand, values in zip(camp.space.sample(len(table), seed=3), table, strict=True):
        if values is None:
            observations.append(Observation(cand, {}, status="failed"))
        else:
            observations.append(Observation(cand, dict(zip(names, values, strict=True))))
    camp.observe(observations, actor="robot")
    camp.ledger.close()


THREE_EXTRA = """
[[objectives]]
name = "cost"
direction = "min"
threshold = 90.0

[[objectives]]
name = "impurity"
direction = "min"
"""
TWO_EXTRA = """
[[objectives]]
name = "cost"
direction = "min"

[[objectives]]
name = "purity"
direction = "max"
role = "constraint"
threshold = 90.0
"""


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A ledger with three campaigns: 1 three objectives, 2 two objectives and a constraint,
    3 one objective (the hand-run example as it is)."""
    ledger = tmp_path / "lab.sqlite"
    _campaign(ledger, "three", THREE_EXTRA, ["yield", "cost", "impurity"], THREE)
    _campaign(ledger, "two", TWO_EXTRA, ["yield", "cost", "purity"], TWO)
    camp = Campaign.create(load_config(human_config(tmp_path / "configs", name="single")), str(ledger))
    camp.observe([Observation(c, {"yield": 10.0 + i}) for i, c in enumerate(camp.space.sample(4, seed=1))])
    camp.ledger.close()
    return ledger


@pytest.fixture
def client(lab: Path):
    app = create_app(str(lab))
    with TestClient(app) as c:
        yield c
    app.state.web.store.close()


def non_dominated(rows: list[dict[str, Any]], objectives: list[dict[str, Any]]) -> set[int]:
    """Seqs of the ok rows that meet every threshold and that no such row dominates (brute force)."""

    def good(o: dict[str, Any], v: float) -> float:
        return v if o["direction"] == "max" else -v

    def meets(r: dict[str, Any]) -> bool:
        return all(
            o["threshold"] is None or good(o, r[o["name"]]) >= good(o, o["threshold"]) for o in objectives
        )

    opt = [o for o in objectives if o["role"] == "optimise"]
    pool = [r for r in rows if r["status"] == "ok" and meets(r)]
    out = set()
    for r in pool:
        a = [good(o, r[o["name"]]) for o in opt]
        beaten = False
        for s in pool:
            b = [good(o, s[o["name"]]) for o in opt]
            if all(y >= x for x, y in zip(a, b, strict=True)) and any(
                y > x for x, y in zip(a, b, strict=True)
            ):
                beaten = True
        if not beaten:
            out.add(r["seq"])
    return out


def _page(client: TestClient, cid: int, query: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The campaign's JSON twin (all observations on one page) and its figures."""
    data = client.get(f"/campaigns/{cid}.json?size=1000{query}").json()
    return data, client.get(data["links"]["figures"]).json()


def _rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    cols = data["observations"]["columns"]
    return [dict(zip(cols, r, strict=True)) for r in data["observations"]["rows"]]


FRONT_YIELDS = {1: [80.0, 60.0, 60.0, 40.0, 30.0], 2: [70.0, 50.0, 30.0]}  # best yield first


@pytest.mark.parametrize("cid", [1, 2])
def test_json_twin_pareto_rows_are_exactly_the_non_dominated(client, lab, cid):
    # the twin's Pareto rows are the ok, within-threshold rows that no other beats (brute force
    # here), the same as the engine's Campaign.pareto(), best first by the first objective
    data, _ = _page(client, cid)
    pareto, rows = data["pareto"], _rows(data)
    seqs = [r["seq"] for r in pareto["rows"]]
    assert sorted(seqs) == sorted(non_dominated(rows, data["campaign"]["objectives"]))
    assert [r["outcomes"]["yield"] for r in pareto["rows"]] == FRONT_YIELDS[cid]
    assert pareto["size"] == len(seqs) and pareto["ok"] == sum(r["status"] == "ok" for r in rows)
    by_seq = {r["seq"]: r for r in rows}
    for r in pareto["rows"]:  # each row is the observation's parameters and outcomes
        assert r["params"] == {k: by_seq[r["seq"]][k] for k in ("temperature", "time", "solvent")}
        assert r["outcomes"] == {
            o["name"]: by_seq[r["seq"]][o["name"]] for o in data["campaign"]["objectives"]
        }
    camp = Campaign.open(str(lab), cid)
    names = [o.name for o in camp.objectives]
    engine = sorted(tuple(o.outcomes[n] for n in names) for o in camp.pareto())
    camp.ledger.close()
    assert engine == sorted(tuple(r["outcomes"][n] for n in names) for r in pareto["rows"])
    assert [o["name"] for o in pareto["objectives"]] == ["yield", "cost"] + (["impurity"] if cid == 1 else [])


def test_best_so_far_card_skips_observations_that_fail_a_constraint(client, lab):
    # campaign 2's highest yield (90) fails the purity constraint: the card shows 70, as the engine
    data, _ = _page(client, 2)
    camp = Campaign.open(str(lab), 2)
    engine = camp.state().best().outcomes["yield"]
    camp.ledger.close()
    assert data["campaign"]["best"]["value"] == engine == 70.0


def _panels(fig: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A figure's traces by the x axis (panel) they are drawn on."""
    out: dict[str, list[dict[str, Any]]] = {}
    for t in fig["data"]:
        out.setdefault(t.get("xaxis", "x"), []).append(t)
    return out


def test_figure_marks_exactly_the_front_in_every_panel(client):
    # three objectives: three panels (each pair once); in each, the orange points are the front
    # and the grey ones every other successful experiment, both carrying their ledger seq
    data, figures = _page(client, 1)
    front = {r["seq"] for r in data["pareto"]["rows"]}
    ok = {r["seq"] for r in _rows(data) if r["status"] == "ok"}
    fig = figures["pareto"]
    assert fig["layout"]["meta"]["grid"] == [1, 3]
    panels = _panels(fig)
    assert sorted(panels) == ["x", "x2", "x3"]
    titles = [
        (fig["layout"][f"xaxis{s}"]["title"]["text"], fig["layout"][f"yaxis{s}"]["title"]["text"])
        for s in ("", "2", "3")
    ]
    assert titles == [
        ("yield (higher is better)", "cost (lower is better)"),
        ("yield (higher is better)", "impurity (lower is better)"),
        ("cost (lower is better)", "impurity (lower is better)"),
    ]
    for traces in panels.values():
        (optimal,) = [t for t in traces if t["name"] == "Pareto-optimal"]
        (rest,) = [t for t in traces if t["name"].startswith("dominated")]
        assert sorted(optimal["customdata"]) == sorted(front) and len(optimal["x"]) == len(front)
        assert set(rest["customdata"]) == ok - front and len(rest["x"]) == len(ok - front)
        assert optimal["marker"]["size"] > rest["marker"]["size"]
        assert "ledger event %{customdata}" in optimal["hovertemplate"]
        assert not [t for t in traces if t["name"] == "Pareto front"]  # no staircase with three
    by_seq = {r["seq"]: r for r in _rows(data)}
    first = panels["x"]
    (optimal,) = [t for t in first if t["name"] == "Pareto-optimal"]
    for seq, x, y in zip(optimal["customdata"], optimal["x"], optimal["y"], strict=True):
        assert (x, y) == (by_seq[seq]["yield"], by_seq[seq]["cost"])
    # the cost threshold (90) is a dashed line in the two panels with a cost axis
    dashed = [t for t in fig["data"] if t["name"] == "threshold"]
    assert len(dashed) == 2 and all(t["line"]["dash"] == "dash" for t in dashed)
    assert dashed[0]["y"] == [90.0, 90.0] and dashed[1]["x"] == [90.0, 90.0]
    assert sum(t["showlegend"] for t in dashed) == 1


def test_two_objectives_draw_the_front_as_a_staircase(client):
    # one panel; the front's points joined in order of the x objective, each step improving y
    data, figures = _page(client, 2)
    fig = figures["pareto"]
    assert fig["layout"]["meta"]["grid"] == [1, 1]
    (step,) = [t for t in fig["data"] if t["name"] == "Pareto front"]
    assert step["line"]["shape"] == "vh" and step["mode"] == "lines"
    front = {(r["outcomes"]["yield"], r["outcomes"]["cost"]) for r in data["pareto"]["rows"]}
    points = list(zip(step["x"], step["y"], strict=True))
    assert set(points) == front
    assert [x for x, _ in points] == sorted(x for x, _ in points)  # yield up ...
    assert [y for _, y in points] == sorted(y for _, y in points)  # ... and cost up with it
    # the purity constraint has no axis and no line; the point failing it is grey
    assert not [t for t in fig["data"] if t["name"] == "threshold"]
    (rest,) = [t for t in fig["data"] if t["name"].startswith("dominated")]
    assert 90.0 in rest["x"] and rest["name"] == "dominated or outside a threshold"


def test_page_renders_the_pareto_table(client):
    # the page shows the figure's place and a table with one row per Pareto-optimal observation,
    # best yield first, with parameters and every objective
    data, _ = _page(client, 1)
    html = client.get("/campaigns/1").text
    assert 'id="pareto"' in html and 'data-figure="pareto"' in html
    table = re.search(r'<table class="data" id="pareto-table">(.*?)</table>', html, re.S).group(1)
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', table)] == [
        r["seq"] for r in data["pareto"]["rows"]
    ]
    head = re.findall(r"<th>([^<]*)</th>", table)
    assert head == [
        "seq",
        "yield",
        "cost",
        "impurity",
        "temperature",
        "time",
        "solvent",
        "proposal",
        "recorded by",
    ]
    assert "5 of 8 successful experiments are Pareto-optimal" in html
    assert "they meet every threshold" in html


def test_page_says_which_objective_the_other_figures_show(client):
    # with several objectives the page names the one shown; ?objective= switches it (figures,
    # value filters), and an unknown name is a one-line error
    html = client.get("/campaigns/1").text
    assert 'data-objective="yield"' in html and 'name="objective"' in html
    data, figures = _page(client, 1, "&objective=cost&sort=value")
    assert data["objective"]["name"] == "cost" and "objective=cost" in data["links"]["figures"]
    assert (
        "cost" in figures["best"]["layout"]["title"]["text"]
        and "lower is better" in figures["best"]["layout"]["title"]["text"]
    )
    assert figures["pareto"] == _page(client, 1)[1]["pareto"]
    costs = [r["cost"] for r in _rows(data) if r["status"] == "ok"]
    assert costs == sorted(costs)
    r = client.get("/campaigns/1.json?objective=costs")
    assert r.status_code == 400 and "did you mean 'cost'" in r.json()["error"]
    assert client.get("/campaigns/1/figures.json?objective=costs").status_code == 400


def test_single_objective_pages_have_no_pareto_section(client):
    # one objective: no Pareto rows, figure, table or objective picker; the same three figures
    data, figures = _page(client, 3)
    assert data["pareto"] is None and set(figures) == {"best", "predicted", "effects"}
    html = client.get("/campaigns/3").text
    assert 'id="pareto"' not in html and "pareto-table" not in html and 'id="shown-objective"' not in html


def test_pareto_figure_survives_png_rendering(client):
    # the Markdown report's PNG of the Pareto figure, for two and three objectives and none yet
    for cid in (1, 2):
        assert to_png(_page(client, cid)[1]["pareto"], width=11).startswith(PNG)
    objectives = [Objective("yield", "max"), Objective("cost", "min", 90.0)]
    empty = pareto_figure(pd.DataFrame(columns=["seq", "yield", "cost", "status"]), objectives, [])
    assert empty["layout"]["annotations"] and to_png(empty).startswith(PNG)


@pytest.fixture
def reported(lab: Path, tmp_path: Path) -> Path:
    """`scientia report` of the three-objective and the single-objective campaigns into out/."""
    runner = CliRunner(env={"SCIENTIA_LEDGER": None})
    for name in ("three", "single"):
        result = runner.invoke(app, ["report", name, "--ledger", str(lab), "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
    return tmp_path / "out"


def test_report_holds_the_pareto_figure_and_table(reported, client):
    # HTML: the figure (drawn from the inlined figures) and a table of the front; Markdown: a
    # Pareto section linking its PNG and the same rows; a single objective has neither
    front = [r["seq"] for r in _page(client, 1)[0]["pareto"]["rows"]]
    html = (reported / "three-report.html").read_text(encoding="utf-8")
    figures = json.loads(
        re.search(r'<script type="application/json" id="figures">(.*?)</script>', html, re.S).group(1)
    )
    (optimal, *_) = [t for t in figures["pareto"]["data"] if t["name"] == "Pareto-optimal"]
    assert sorted(optimal["customdata"]) == sorted(front)
    table = re.search(r'<table id="pareto-table">(.*?)</table>', html, re.S).group(1)
    assert [int(s) for s in re.findall(r'<tr><td class="num">(\d+)</td>', table)] == front
    assert 'data-figure="pareto"' in html and "show yield." in html
    md = (reported / "three-report.md").read_text(encoding="utf-8")
    section = md.split("## Pareto front", 1)[1].split("## Observations", 1)[0]
    assert "![Pareto front](three-report_files/pareto.png)" in section
    assert (reported / "three-report_files" / "pareto.png").read_bytes().startswith(PNG)
    assert [int(s) for s in re.findall(r"^\| (\d+) \|", section, re.M)] == front
    single_html = (reported / "single-report.html").read_text(encoding="utf-8")
    single_md = (reported / "single-report.md").read_text(encoding="utf-8")
    assert "pareto-table" not in single_html and '"pareto"' not in single_html
    assert "Pareto" not in single_md and not (reported / "single-report_files" / "pareto.png").exists()


def test_run_report_holds_the_pareto_table(lab):
    # the report of `scientia run --report` adds the Pareto figure and table for several objectives
    from scientia.report.html import render_report

    camp = Campaign.open(str(lab), "two")
    try:
        html = render_report(camp)
    finally:
        camp.ledger.close()
    table = re.search(r'<table id="pareto-table">(.*?)</table>', html, re.S).group(1)
    yields = re.findall(r'<tr><td class="num">\d+</td><td class="num">([^<]+)</td>', table)
    assert [float(y) for y in yields] == FRONT_YIELDS[2]
    assert "3 of 6 successful experiments are Pareto-optimal" in html
    camp = Campaign.open(str(lab), "single")
    try:
        assert "pareto-table" not in render_report(camp)
    finally:
        camp.ledger.close()
