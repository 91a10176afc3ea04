"""``scientia suggest`` and ``scientia observe``: the hand-run workflow and every bad results file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def proposed(cli, manual_toml, tmp_path):
    """A manual campaign with 3 pending proposals written to proposals.csv."""
    assert cli("init", manual_toml).exit_code == 0
    result = cli("suggest", "amide_coupling", "-n", "3", "--out", "proposals.csv")
    assert result.exit_code == 0, result.output
    return tmp_path / "proposals.csv"


def test_suggest_prints_and_writes_template(proposed, cli):
    # --out writes proposal_id, every parameter and one empty column per objective
    rows = _read(proposed)
    assert list(rows[0]) == ["proposal_id", "temperature", "time", "solvent", "yield"]
    assert [r["proposal_id"] for r in rows] == ["r0000.0", "r0000.1", "r0000.2"]
    assert all(r["yield"] == "" for r in rows)
    assert all(20 <= float(r["temperature"]) <= 120 for r in rows)


def test_suggest_table_shows_ids_and_strategy(cli, manual_toml):
    # the printed table names each proposal and its strategy
    cli("init", manual_toml)
    result = cli("suggest", "amide_coupling", "-n", "2")
    assert result.exit_code == 0, result.output
    assert "r0000.0" in result.stdout and "r0000.1" in result.stdout
    assert "space-fil" in result.stdout


def test_suggest_refuses_to_overwrite(proposed, cli, tmp_path, events, user_error):
    # an existing --out file is kept, and nothing is proposed
    before = events(tmp_path / "scientia.sqlite")
    user_error(cli("suggest", "amide_coupling", "--out", "proposals.csv"), "exists", "--force")
    assert events(tmp_path / "scientia.sqlite") == before


def test_unknown_campaign_did_you_mean(proposed, cli, tmp_path, events, user_error):
    # a misspelt campaign name suggests the right one; nothing is written
    before = events(tmp_path / "scientia.sqlite")
    for command in ("suggest", "status", "export"):
        user_error(
            cli(command, "amide_copling"), "unknown campaign 'amide_copling'", "did you mean 'amide_coupling'"
        )
    user_error(cli("observe", "amide_copling", proposed), "did you mean 'amide_coupling'")
    assert events(tmp_path / "scientia.sqlite") == before


def test_missing_ledger(cli, user_error):
    # a campaign command without a ledger says how to create one
    user_error(cli("status", "x", "--ledger", "nowhere.sqlite"), "no ledger file", "scientia init")


def test_observe_round_trip_and_reimport(proposed, cli, tmp_path, events):
    # filled-in proposals are recorded, linked to their proposals; importing again writes nothing
    rows = _read(proposed)
    for i, row in enumerate(rows):
        row["yield"] = str(10.0 * (i + 1))
    rows[-1]["yield"] = ""
    for row in rows:
        row["status"] = "ok"
    rows[-1]["status"] = "failed"
    results = _write(tmp_path / "results.csv", rows)
    result = cli("observe", "amide_coupling", results)
    assert result.exit_code == 0, result.output
    assert "recorded 3 observations" in result.stdout
    assert "3 linked to proposals, 1 failed" in result.stdout
    after = events(tmp_path / "scientia.sqlite")

    again = cli("observe", "amide_coupling", results)
    assert again.exit_code == 0, again.output
    assert "already imported" in again.stdout
    assert events(tmp_path / "scientia.sqlite") == after

    status = cli("status", "amide_coupling")
    assert status.exit_code == 0, status.output
    assert "3 (2 ok, 1 failed)" in status.stdout
    assert "0 proposals" in status.stdout
    assert "yield 20" in status.stdout  # the best of 10, 20 and a failure


def test_observe_without_proposal_ids_links_matching_rows(proposed, cli, tmp_path):
    # a row matching a pending proposal's parameters answers it even without proposal_id
    rows = _read(proposed)
    row = {k: v for k, v in rows[0].items() if k != "proposal_id"}
    row["yield"] = "42"
    result = cli("observe", "amide_coupling", _write(tmp_path / "r.csv", [row]))
    assert result.exit_code == 0, result.output
    assert "1 linked to proposals" in result.stdout
    assert "2 proposals still pending" in result.stdout


# name -> (file content, fragments of the message); rows are numbered as in a spreadsheet
_HEADER = "temperature,time,solvent,yield\n"
BAD_FILES = {
    "unknown-column": (
        "temprature,time,solvent,yield\n50,3,THF,1\n",
        ("unknown column 'temprature'", "did you mean 'temperature'"),
    ),
    "missing-parameter": ("temperature,time,yield\n50,3,1\n", ("missing column 'solvent'",)),
    "missing-objective": ("temperature,time,solvent\n50,3,THF\n", ("missing column 'yield'",)),
    "out-of-range": (_HEADER + "50,3,THF,1\n200,3,THF,1\n", ("row 3", "'temperature'", "outside [20, 120]")),
    "not-a-choice": (_HEADER + "50,3,DMSO,1\n", ("row 2", "'solvent'", "'DMSO' is not one of")),
    "not-an-integer": (_HEADER + "50,3.5,THF,1\n", ("row 2", "'time'", "expected an integer")),
    "violates-constraint": (_HEADER + "119,20,THF,1\n", ("row 2", "constraint")),
    "non-numeric-outcome": (
        _HEADER + "50,3,THF,1\n60,3,THF,high\n",
        ("row 3", "'yield'", "'high' is not a number"),
    ),
    "empty-outcome": (_HEADER + "50,3,THF,\n", ("row 2", "'yield'", "empty", "failed")),
    "non-finite-outcome": (_HEADER + "50,3,THF,inf\n", ("row 2", "not a finite number")),
    "bad-status": (
        "temperature,time,solvent,yield,status\n50,3,THF,1,done\n",
        ("row 2", "'status'", "'done'"),
    ),
    "duplicate-rows": (_HEADER + "50,3,THF,1\n60,3,THF,2\n50,3,THF,1\n", ("row 4 repeats row 2",)),
    "empty-file": ("", ("is empty",)),
    "blank-lines-only": ("\n\n", ("is empty",)),
    "header-only": (_HEADER, ("no rows",)),
    "too-many-cells": (_HEADER + "50,3,THF,1,7\n", ("row 2", "5 cells", "4 columns")),
    "duplicate-column": ("temperature,time,solvent,yield,time\n50,3,THF,1,3\n", ("'time' appears twice",)),
    "unknown-proposal": (
        "proposal_id," + _HEADER + "r0000.9,50,3,THF,1\n",
        ("row 2", "'r0000.9' is not a pending proposal", "did you mean"),
    ),
    "same-proposal-twice": (
        "proposal_id," + _HEADER + "r0000.1,50,3,THF,1\nr0000.1,60,3,THF,2\n",
        ("row 3", "'r0000.1'", "first in row 2"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_results_file_writes_nothing(proposed, cli, tmp_path, events, user_error, case):
    # the whole file is checked first: one line naming the problem, exit 2, ledger unchanged
    content, fragments = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = events(tmp_path / "scientia.sqlite")
    user_error(cli("observe", "amide_coupling", path), "bad.csv", *fragments)
    assert events(tmp_path / "scientia.sqlite") == before


def test_answered_proposal_cannot_be_answered_again(proposed, cli, tmp_path, events, user_error):
    # a second file answering an answered proposal is refused as a whole
    rows = _read(proposed)
    rows[0]["yield"] = "5"
    assert cli("observe", "amide_coupling", _write(tmp_path / "a.csv", rows[:1])).exit_code == 0
    before = events(tmp_path / "scientia.sqlite")
    rows[0]["yield"] = "6"
    rows[1]["yield"] = "7"
    user_error(
        cli("observe", "amide_coupling", _write(tmp_path / "b.csv", rows[:2])),
        "row 2",
        "already has an observation",
    )
    assert events(tmp_path / "scientia.sqlite") == before


def test_results_file_errors(proposed, cli, tmp_path, events, user_error):
    # a missing or binary results file is one line, and writes nothing
    before = events(tmp_path / "scientia.sqlite")
    user_error(cli("observe", "amide_coupling", "missing.csv"), "No such file", "missing.csv")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    user_error(cli("observe", "amide_coupling", tmp_path / "binary.csv"), "not a UTF-8 text")
    assert events(tmp_path / "scientia.sqlite") == before


def test_not_in_pool(cli, tiny_toml, tmp_path, events, user_error):
    # in a pool space, a combination absent from the table is refused with its row number
    assert cli("init", tiny_toml).exit_code == 0
    before = events(tmp_path / "scientia.sqlite")
    path = tmp_path / "pool.csv"
    path.write_text("cat,temp,sol,yield\nx,1,p,3\nz,1,q,4\n", encoding="utf-8")
    user_error(cli("observe", "tiny", path), "row 3", "not in the pool")
    assert events(tmp_path / "scientia.sqlite") == before
