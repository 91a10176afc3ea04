"""End to end in a real browser: Playwright drives Debian's Chromium against a live server.

The server (uvicorn) runs in a thread on a free loopback port. The walk-through is the issue's:
create a campaign by uploading a TOML file, propose, approve two proposals, reject one with a
reason, upload the results as CSV and see the best-so-far plot update. The last test writes
the screenshots used by the README and docs/web.md into docs/images/.

Skipped when Chromium (``apt-get install chromium``) or the Playwright package is missing;
``playwright install`` is never needed.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import REPO, add_proposals, human_config, seed_observations

from scientia.campaign import Campaign

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = REPO / "docs" / "images"
XSS = "<script>document.title='pwned'</script> no stock"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A live server over an empty ledger; yields its base URL and the ledger path."""
    import uvicorn

    from scientia.web import create_app

    folder = tmp_path_factory.mktemp("live")
    ledger = folder / "lab.sqlite"
    app = create_app(str(ledger), create=True, allowed_hosts=["127.0.0.1"])
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ledger
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.web.store.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser tab (its own cookies) that records console errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()


def _config_like(ledger: Path, name: str) -> Any:
    """The walk-through campaign's config under another name."""
    first = Campaign.open(str(ledger), "walkthrough")
    first.ledger.close()
    return first.config.model_copy(update={"name": name})


def _flash(page: Any) -> str:
    return str(page.locator("[data-flash]").inner_text())


def _best_curve(page: Any) -> list[float]:
    page.wait_for_selector("#fig-best[data-rendered]")
    return list(page.evaluate("document.getElementById('fig-best').data[1].y"))


def test_review_and_results_walkthrough(server: tuple[str, Path], page: Any, tmp_path: Path) -> None:
    # create from TOML, propose, approve 2, reject 1 with a reason, upload CSV, best-so-far updates
    base, _ = server
    page.goto(f"{base}/campaigns")
    page.fill("#who-name", "alice")
    page.click("form.who button")
    assert "you are alice" in _flash(page)

    config = human_config(tmp_path, name="walkthrough")
    page.goto(f"{base}/campaigns/new")
    page.set_input_files("#config", str(config))
    page.click("form.card button[type=submit]")
    assert _flash(page) == "created campaign walkthrough"
    assert _best_curve(page) == []  # nothing measured yet
    campaign_url = page.url

    page.click("nav.tabs >> text=Review queue")
    page.fill("#propose-n", "4")
    page.click("#propose")
    assert _flash(page) == "added 4 proposals to the queue"
    rows = page.locator("#queue-table tr[data-proposal]")
    ids = [rows.nth(i).get_attribute("data-proposal") for i in range(rows.count())]
    assert len(ids) == 4

    for pid in ids[:2]:
        page.click(f'tr[data-proposal="{pid}"] button[data-action=approve]')
        assert _flash(page) == f"approved {pid}"
    row = page.locator(f'#queue-table tr[data-proposal="{ids[2]}"]')
    row.locator("summary", has_text="Reject").click()
    row.locator("input[name=reason]").fill(XSS)
    row.locator("button[data-action=reject]").click()
    assert _flash(page) == f"rejected {ids[2]}"
    statuses = page.eval_on_selector_all(
        "#queue-table tr[data-proposal]", "rs => rs.map(r => r.dataset.status)"
    )
    assert statuses == ["approved", "approved", "awaiting"]

    page.goto(page.url.split("?")[0] + "?show=all")
    reason = page.locator("q.reason").first.inner_text()
    assert reason == XSS and page.title() != "pwned"  # shown as text, never run

    template = page.request.get(f"{campaign_url}/template.csv").text()
    rows_csv = list(csv.DictReader(io.StringIO(template)))
    assert [r["proposal_id"] for r in rows_csv] == ids[:2]
    for r, y in zip(rows_csv, ("47.5", "63.25"), strict=True):
        r["yield"] = y
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows_csv[0]))
    writer.writeheader()
    writer.writerows(rows_csv)
    results = tmp_path / "results.csv"
    results.write_text(buf.getvalue(), encoding="utf-8")

    page.click("nav.tabs >> text=Enter results")
    page.set_input_files("#results-file", str(results))
    page.click("#upload")
    assert _flash(page) == "recorded 2 observations from results.csv"
    assert _best_curve(page) == [47.5, 63.25]
    assert page.locator("[data-best]").get_attribute("data-best") == "63.25"
    assert page.locator("#observations-table tbody tr").count() == 2

    page.click("nav.tabs >> text=Audit log")
    kinds = page.eval_on_selector_all("#log-table tr[data-kind]", "rs => rs.map(r => r.dataset.kind)")
    assert kinds.count("review") == 3 and kinds.count("observation") == 2 and "campaign_created" in kinds
    assert page.errors == [], page.errors  # no script error, nothing blocked by the CSP


def test_a_mistake_is_one_line_on_the_page(server: tuple[str, Path], page: Any, tmp_path: Path) -> None:
    # a bad results file is named on the page with its row and column; nothing is recorded
    base, ledger = server
    camp = Campaign.create(_config_like(ledger, "oops"), str(ledger))
    add_proposals(camp, 1)
    camp.ledger.close()
    page.goto(f"{base}/campaigns")
    page.fill("#who-name", "bob")
    page.click("form.who button")
    bad = tmp_path / "bad.csv"
    bad.write_text("temperature,time,solvent,yield\n50,5,DMSO,40\n", encoding="utf-8")
    page.goto(f"{base}/campaigns/{camp.id}/results")
    page.set_input_files("#results-file", str(bad))
    page.click("#upload")
    message = _flash(page)
    assert message.startswith("bad.csv: row 2: parameter 'solvent': 'DMSO' is not one of its values")
    assert "Traceback" not in page.content()


def test_screenshots_of_the_main_pages(server: tuple[str, Path], page: Any) -> None:
    # a campaign with history, photographed for the documentation (docs/images/*.png)
    base, ledger = server
    camp = Campaign.create(_config_like(ledger, "amide_coupling"), str(ledger))
    seed_observations(camp, 40, actor="alice")
    ids = add_proposals(camp, 4, actor="scientia")
    camp.review(ids[0], "approve", actor="alice")
    camp.review(ids[1], "reject", reason="THF is out of stock until Friday", actor="bob")
    camp.ledger.close()
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/campaigns")
    page.fill("#who-name", "alice")
    page.click("form.who button")
    shots = {
        "campaign.png": f"/campaigns/{camp.id}",
        "queue.png": f"/campaigns/{camp.id}/queue?show=all",
        "results.png": f"/campaigns/{camp.id}/results",
        "log.png": f"/campaigns/{camp.id}/log",
    }
    for name, url in shots.items():
        page.goto(base + url)
        if name == "campaign.png":
            page.wait_for_selector("#fig-effects[data-rendered]")
            assert len(_best_curve(page)) == 40
        page.screenshot(path=str(IMAGES / name), full_page=name != "log.png")
        assert (IMAGES / name).stat().st_size > 10_000
    assert page.errors == [], page.errors
