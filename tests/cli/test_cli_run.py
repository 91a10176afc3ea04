"""``scientia run`` (create, resume, report), ``status`` and ``export`` on a tiny emulated pool."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import Result

XSS = "<script>alert('x')</script>"


@dataclass
class Ran:
    folder: Path
    config: Path
    ledger: Path
    report: Path
    first: Result
    second: Result
    invoke: object


@pytest.fixture(scope="module")
def ran(tmp_path_factory, make_tiny, make_invoker) -> Ran:
    """The tiny campaign run to 10 experiments, then resumed to 15 with a report."""
    folder = tmp_path_factory.mktemp("run")
    config = make_tiny(folder)
    ledger, report = folder / "tiny.sqlite", folder / "report.html"
    invoke = make_invoker()
    first = invoke("run", config, "--budget", 10, "--ledger", ledger, "--set", f"description={XSS}")
    assert first.exit_code == 0, first.output
    second = invoke("run", config, "--budget", 15, "--ledger", ledger, "--report", report)
    assert second.exit_code == 0, second.output
    return Ran(folder, config, ledger, report, first, second, invoke)


def _export_rows(ran: Ran) -> list[dict[str, str]]:
    out = ran.folder / "export.csv"
    result = ran.invoke("export", "tiny", "--ledger", ran.ledger, "--out", out)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_first_run_creates_campaign(ran):
    # a config not yet in the ledger is created
    assert "created campaign tiny" in ran.first.stdout


def test_plain_progress_lines_without_terminal(ran):
    # without a TTY progress is one plain line per experiment
    lines = [ln for ln in ran.first.stdout.splitlines() if re.match(r"^\d+/10 ", ln)]
    assert [ln.split()[0] for ln in lines] == [f"{k}/10" for k in range(1, 11)]
    assert all("best" in ln for ln in lines)


def test_progress_best_is_monotone(ran):
    # the best so far shown after each experiment never gets worse (maximised objective)
    best = [float(m.group(1)) for m in re.finditer(r"best (\S+)$", ran.first.stdout, re.M)]
    assert best == sorted(best)


def test_second_run_resumes(ran):
    # the same config and ledger resume the campaign
    assert "resuming tiny: 10 observations recorded" in ran.second.stdout


def test_resume_ends_at_budget_without_duplicates(ran):
    # budget 10 then 15 gives exactly 15 observations, distinct proposals and distinct rows
    rows = _export_rows(ran)
    assert len(rows) == 15
    ids = [r["proposal_id"] for r in rows]
    assert all(ids) and len(set(ids)) == 15
    assert len({(r["cat"], r["temp"], r["sol"]) for r in rows}) == 15


def test_best_vs_experiments_table(ran):
    # the summary lists the best yield at 5, 10 and 15 experiments
    table = ran.second.stdout.split("best yield vs experiments", 1)[1]
    marks = [int(m) for m in re.findall(r"^│\s+(\d+) │", table, re.M)]
    assert marks == [5, 10, 15]


def test_rerun_at_budget_writes_nothing(ran, events):
    # running again with a budget already reached records nothing
    before = events(ran.ledger)
    result = ran.invoke("run", ran.config, "--budget", 15, "--ledger", ran.ledger)
    assert result.exit_code == 0, result.output
    assert "nothing to run" in result.stdout
    assert events(ran.ledger) == before


def test_resume_with_changed_config_is_refused(ran, events, user_error):
    # a different setting under the same name is named, not silently ignored
    before = events(ran.ledger)
    result = ran.invoke(
        "run", ran.config, "--budget", 20, "--ledger", ran.ledger, "--set", "proposer.acquisition=qucb"
    )
    user_error(result, "proposer.acquisition", "'qlognei'", "'qucb'")
    assert events(ran.ledger) == before


def test_report_is_self_contained(ran):
    # one HTML file: embedded PNG, settings, versions, observations, no external resource
    html = ran.report.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 1
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "http://" not in html and "https://" not in html
    for text in ("tiny", "Package versions", "botorch", "&#34;seed&#34;: 0", "Observations", "coverage"):
        assert text in html, text


def test_report_escapes_text(ran):
    # text from the campaign is HTML-escaped
    html = ran.report.read_text(encoding="utf-8")
    assert XSS not in html
    assert "&lt;script&gt;" in html


def test_status(ran):
    # status shows counts, the best row and a best-so-far sparkline
    result = ran.invoke("status", "tiny", "--ledger", ran.ledger)
    assert result.exit_code == 0, result.output
    assert "observations 15 (15 ok, 0 failed)" in result.stdout
    assert "pending      0 proposals" in result.stdout
    assert "calibration  yield: 10 predictions checked; 90% intervals held" in result.stdout
    best = max(float(r["yield"]) for r in _export_rows(ran))
    assert f"best so far  yield {best:.4g}" in result.stdout
    spark = result.stdout.strip().splitlines()[-1].strip()
    assert len(spark) == 15 and set(spark) <= set("▁▂▃▄▅▆▇█")


def test_export_csv_to_stdout(ran):
    # without --out a CSV goes to stdout, one line per observation plus the header
    result = ran.invoke("export", "tiny", "--ledger", ran.ledger)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("seq,cat,temp,sol,yield,status")
    assert len(lines) == 16


def test_export_parquet(ran):
    # parquet export holds the same table
    import pandas as pd

    out = ran.folder / "obs.parquet"
    result = ran.invoke("export", "tiny", "--format", "parquet", "--out", out, "--ledger", ran.ledger)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 15
    assert {"cat", "temp", "sol", "yield", "status", "proposal_id", "predicted_yield"} <= set(frame.columns)


def test_export_parquet_needs_out(ran, user_error):
    # binary output is never written to the terminal
    user_error(ran.invoke("export", "tiny", "--format", "parquet", "--ledger", ran.ledger), "--out")


def test_run_manual_campaign_refused(cli, manual_toml, tmp_path, user_error):
    # a hand-run campaign cannot be run by the loop; no ledger is created
    user_error(cli("run", manual_toml, "--budget", 5), "manual evaluator", "scientia suggest")
    assert not (tmp_path / "scientia.sqlite").exists()


def test_run_needs_a_budget(cli, tiny_toml, tmp_path, user_error):
    # without --budget or a budget key, run says how to give one
    user_error(cli("run", tiny_toml), "no budget", "--budget")
    assert not (tmp_path / "scientia.sqlite").exists()


def test_run_report_folder_must_exist(cli, tiny_toml, tmp_path, user_error):
    # a report path in a missing folder is refused before anything runs
    user_error(cli("run", tiny_toml, "--budget", 5, "--report", "missing/report.html"), "report")
    assert not (tmp_path / "scientia.sqlite").exists()


def test_run_stops_at_target_and_says_so(cli, tiny_toml):
    # the tiny table's best yield is 3 * 4 + 2 = 14; a target of 10 is reached well before 23
    r = cli("run", tiny_toml, "--budget", "23", "--set", "stop.target=10")
    assert r.exit_code == 0, r.output
    assert "stopped early: target yield >= 10 reached" in r.stdout
    r = cli("run", tiny_toml, "--budget", "23")  # without the rule (resumable key) it finishes
    assert r.exit_code == 0, r.output
    assert "stopped early" not in r.stdout and "23" in r.stdout


def test_status_shows_the_pareto_front(cli, tmp_path):
    from tests.cli.conftest import tiny_config

    cfg = tiny_config(tmp_path / "mo")
    text = cfg.read_text().replace(
        '[[objectives]]\nname = "yield"\n',
        '[[objectives]]\nname = "yield"\n\n[[objectives]]\nname = "temp"\ndirection = "min"\n',
    )
    # a second objective from the table itself: temp is both a parameter and, here, a cost to keep low
    rows = (tmp_path / "mo" / "tiny.csv").read_text().splitlines()
    (tmp_path / "mo" / "tiny.csv").write_text(
        "\n".join([rows[0] + ",cost"] + [r + f",{float(r.split(',')[1]) * 10}" for r in rows[1:]]) + "\n"
    )
    cfg.write_text(text.replace('name = "temp"', 'name = "cost"'))
    r = cli("run", cfg, "--budget", "12")
    assert r.exit_code == 0, r.output
    r = cli("status", "tiny")
    assert r.exit_code == 0, r.output
    assert "Pareto front:" in r.stdout and "(max yield, min cost)" in r.stdout
