"""``scientia screen active``: a pool screened batch by batch from a table's oracle column, every
round printed and recorded, bad input refused with one line and exit code 2."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

ESOL = Path(__file__).resolve().parents[1] / "unit" / "screen" / "data" / "esol.csv"
FAST = ["--model", "forest", "--init-size", 40, "--batch-size", 40, "--budget", 120, "--top-k", 20]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    """The first 400 ESOL molecules and an unreadable one, logS as the oracle column."""
    rows = ESOL.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "pool.csv"
    path.write_text("\n".join([*rows[:401], "C1CC,0.1"]) + "\n", encoding="utf-8")
    return path


def test_active_prints_rounds_and_writes_the_chosen(cli, pool, tmp_path):
    # three rounds of 40, each printed with the share of the true top 20 found; the chosen
    # molecules in order in the CSV; the unreadable line listed; the ledger holds the campaign
    from scientia.campaign import Campaign
    from scientia.ledger import Ledger

    result = cli("screen", "active", "--pool", "pool.csv", "--oracle-column", "logS", "--out", "chosen.csv",
                 "--ledger", "run.sqlite", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if x.startswith("round ")]
    assert len(lines) == 3 and "(random)" in lines[0] and "(greedy)" in lines[2]
    assert all("top 20 found" in x for x in lines)
    assert "evaluated 120 of 399 molecules" in result.stdout and "random expects 30.1%" in result.stdout
    chosen = _read(tmp_path / "chosen.csv")
    assert len(chosen) == 120 and len({r["smiles"] for r in chosen}) == 120
    assert list(chosen[0])[:5] == ["order", "round", "smiles", "logS", "status"]
    assert [r["round"] for r in chosen[::40]] == ["0", "1", "2"]
    assert _read(tmp_path / "chosen.rejects.csv")[0]["line"] == "402"
    assert "1 unreadable SMILES" in result.stderr and "1 repeated SMILES" in result.stderr
    store = Ledger(str(tmp_path / "run.sqlite"), create=False)
    assert len(Campaign.open(store, "active-screen").observations()) == 120
    store.close()
    status = cli("status", "active-screen", "--ledger", "run.sqlite")
    assert status.exit_code == 0, status.output


def test_active_on_a_finished_screen_resumes_it(cli, pool, tmp_path):
    # the same command again finds the campaign finished: nothing is evaluated twice
    args = [
        "screen",
        "active",
        "--pool",
        "pool.csv",
        "--oracle-column",
        "logS",
        "--ledger",
        "run.sqlite",
        *FAST,
    ]
    assert cli(*args, "--out", "a.csv").exit_code == 0
    again = cli(*args, "--out", "b.csv")
    assert again.exit_code == 0, again.output
    assert "resumed and finished campaign 'active-screen'" in again.stdout
    assert _read(tmp_path / "a.csv") == _read(tmp_path / "b.csv")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--oracle-column", "logs"], ("unknown oracle column 'logs'", "did you mean 'logS'")),
        (["--oracle-column", "logS", "--acquisition", "greedi"], ("acquisition", "greedy")),
        (["--oracle-column", "logS", "--direction", "down"], ("unknown direction",)),
        (["--oracle-column", "logS", "--top-k", "many"], ("--top-k",)),
        (["--oracle-column", "logS", "--features", "graph"], ("unknown features",)),
        (["--oracle-column", "logS", "--descriptors", "MolWeight"], ("descriptor 'MolWeight'",)),
        (["--oracle-column", "smiles"], ("not numeric",)),
    ],
)
def test_active_refuses_bad_input(cli, pool, user_error, extra, fragments):
    # each mistake is one line on stderr, exit code 2, and no ledger is written
    result = cli("screen", "active", "--pool", "pool.csv", "--out", "c.csv", "--ledger", "x.sqlite", *extra)
    user_error(result, *fragments)
    assert not Path("x.sqlite").exists()


def test_active_refuses_other_settings_under_the_same_name(cli, pool, user_error):
    # a campaign of that name with another acquisition is not silently continued
    args = [
        "screen",
        "active",
        "--pool",
        "pool.csv",
        "--oracle-column",
        "logS",
        "--ledger",
        "run.sqlite",
        *FAST,
    ]
    assert cli(*args, "--out", "a.csv").exit_code == 0
    user_error(cli(*args, "--out", "b.csv", "--acquisition", "ucb"), "different acquisition", "another name")
