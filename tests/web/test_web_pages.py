"""The pages and their JSON twins, read through FastAPI's in-process client."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest
from tests.web.conftest import add_proposals, flashes, seed_observations

from scientia.campaign import Campaign

PAGES = [
    "/campaigns",
    "/campaigns/new",
    "/campaigns/1",
    "/campaigns/1/queue",
    "/campaigns/1/results",
    "/campaigns/1/log",
]


@pytest.fixture
def seeded(ledger, browser):
    """The campaign with 23 observations (with predictions) and 2 proposals awaiting review."""
    camp = Campaign.open(str(ledger), 1)
    seed_observations(camp, 23)
    add_proposals(camp, 2, actor="planner")
    camp.ledger.close()
    return browser


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_json_twin(seeded, url):
    # each HTML page renders, and the same address + .json answers JSON
    page = seeded.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    twin = seeded.get(url + ".json")
    assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
    assert isinstance(twin.json(), dict)


@pytest.mark.parametrize("url", PAGES)
def test_pages_load_nothing_from_the_network(seeded, url):
    # no script, stylesheet or image comes from another host: the app works offline
    html = seeded.get(url).text
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "cdn" not in html.lower()


def test_campaign_json_holds_summary_figures_and_observations(seeded):
    # the twin carries what the page shows: best so far, counts, three figures, the table
    data = seeded.get("/campaigns/1.json").json()
    data["figures"] = seeded.get(data["links"]["figures"]).json()
    c = data["campaign"]
    assert c["counts"]["observations"] == 23 and c["counts"]["awaiting"] == 2
    ys = [r[data["observations"]["columns"].index("yield")] for r in data["observations"]["rows"]]
    assert c["best"]["value"] == pytest.approx(max(ys))
    assert set(data["figures"]) == {"best", "predicted", "effects"}
    best_trace = data["figures"]["best"]["data"][1]
    assert best_trace["y"][-1] == pytest.approx(max(ys), rel=1e-5)
    predicted = data["figures"]["predicted"]["data"][0]
    assert len(predicted["x"]) == 23 and len(predicted["error_x"]["array"]) == 23
    assert c["coverage"]["total"] == 23


def test_page_figures_come_from_a_cacheable_url(seeded):
    # the page names its figures by ledger state; that URL answers JSON (no NaN), gzipped once,
    # cacheable for good, and 304 when the browser already has it
    html = seeded.get("/campaigns/1").text
    src = re.search(r'id="figures" hidden data-src="([^"]+)"', html).group(1)
    seq = seeded.get("/campaigns/1.json").json()["campaign"]["last_seq"]
    assert src == f"/campaigns/1/figures.json?seq={seq}"
    r = seeded.get(src)
    figures = json.loads(r.text)
    assert set(figures) == {"best", "predicted", "effects"}
    assert seeded.get("/campaigns/1.json").json()["links"]["figures"] == src
    assert r.headers["content-encoding"] == "gzip" and "immutable" in r.headers["cache-control"]
    assert seeded.get(src, headers={"if-none-match": r.headers["etag"]}).status_code == 304
    plain = seeded.get(src, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and json.loads(plain.content) == figures
    stale = seeded.get("/campaigns/1/figures.json?seq=1")
    assert stale.headers["cache-control"] == "no-cache"
    assert '<script src="/static/plotly.min.js' in html
    js = seeded.get("/static/plotly.min.js")
    assert js.status_code == 200 and b"plotly.js" in js.content[:200]


def test_observations_filters_and_pages(seeded):
    # filters keep matching rows; the page size cuts the table into pages
    data = seeded.get("/campaigns/1.json?size=10&page=3").json()["observations"]
    assert data["total"] == 23 and data["pages"] == 3 and len(data["rows"]) == 3
    cols = seeded.get("/campaigns/1.json").json()["observations"]["columns"]
    y = cols.index("yield")
    low = seeded.get("/campaigns/1.json?min=20&sort=-value").json()["observations"]
    values = [r[y] for r in low["rows"]]
    assert values and all(v >= 20 for v in values) and values == sorted(values, reverse=True)
    none = seeded.get("/campaigns/1.json?actor=nobody").json()["observations"]
    assert none["total"] == 0


def test_csv_download_follows_the_filters(seeded):
    # the CSV has every matching row (not only one page), with a header
    full = list(csv.DictReader(io.StringIO(seeded.get("/campaigns/1/observations.csv").text)))
    assert len(full) == 23 and "predicted_yield" in full[0]
    some = list(csv.DictReader(io.StringIO(seeded.get("/campaigns/1/observations.csv?min=20").text)))
    assert 0 < len(some) < 23 and all(float(r["yield"]) >= 20 for r in some)
    r = seeded.get("/campaigns/1/observations.csv")
    assert r.headers["content-disposition"] == 'attachment; filename="amide_coupling-observations.csv"'


def test_bad_filter_is_a_one_line_message(seeded):
    # a filter that is not a number is named, with status 400 and no traceback
    r = seeded.get("/campaigns/1?min=abc")
    assert r.status_code == 400
    assert flashes(r) == [("error", "filter 'min': 'abc' is not a number")]
    assert "Traceback" not in r.text


def test_unknown_campaign_and_page(seeded):
    # an unknown campaign or page is a 404 with a message, for HTML and JSON alike
    r = seeded.get("/campaigns/42")
    assert r.status_code == 404 and flashes(r) == [("error", "there is no campaign 42 in this ledger")]
    assert seeded.get("/campaigns/42.json").json() == {"error": "there is no campaign 42 in this ledger"}
    assert seeded.get("/nowhere").status_code == 404


def test_audit_log_lists_every_event_with_who_and_when(seeded):
    # every ledger event is in the log (newest first) with its actor and time; kind filter works
    log = seeded.get("/campaigns/1/log.json").json()["log"]
    assert log["total"] == 1 + 25 + 23  # created, proposals, observations
    seqs = [e["seq"] for e in log["events"]]
    assert seqs == sorted(seqs, reverse=True)
    assert {e["actor"] for e in log["events"]} >= {"robot", "planner"}
    assert all(e["at"] for e in log["events"])
    only = seeded.get("/campaigns/1/log.json?kind=proposal").json()["log"]
    assert only["total"] == 25 and {e["kind"] for e in only["events"]} == {"proposal"}


def test_campaign_list_shows_best_and_counts(seeded):
    # the list names each campaign with its observations, best value and awaiting count
    data = seeded.get("/campaigns.json").json()
    (c,) = data["campaigns"]
    assert c["name"] == "amide_coupling" and c["counts"]["observations"] == 23
    assert c["counts"]["awaiting"] == 2 and math.isfinite(c["best"]["value"])


def test_openapi_is_published(seeded):
    # the API description lists the pages, their twins and the writes
    paths = seeded.get("/openapi.json").json()["paths"]
    for p in ("/campaigns.json", "/campaigns/{cid}.json", "/campaigns/{cid}/queue/{pid}/{decision}"):
        assert p in paths, p
    assert seeded.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_pages_see_writes_from_another_process(seeded, ledger):
    # the page reads only new events, including those another process appended
    before = seeded.get("/campaigns/1.json").json()["campaign"]["counts"]["observations"]
    camp = Campaign.open(str(ledger), 1)
    seed_observations(camp, 5, seed=9)
    camp.ledger.close()
    after = seeded.get("/campaigns/1.json").json()["campaign"]["counts"]["observations"]
    assert after == before + 5


def test_report_download_is_self_contained(seeded):
    # the campaign's report comes as one HTML file with plotly.js inlined
    r = seeded.get("/campaigns/1/report.html")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "<script src=" not in r.text and "Plotly.newPlot" in r.text
