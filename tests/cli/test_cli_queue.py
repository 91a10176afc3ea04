"""``scientia queue``: list and decide proposals from the terminal."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import assert_user_error, event_count, manual_config


def _human(cli, tmp_path: Path) -> Path:
    cfg = manual_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("seed = 0", 'seed = 0\nreview = "human"'))
    assert cli("init", cfg).exit_code == 0
    return tmp_path / "scientia.sqlite"


def _ids(cli) -> list[str]:
    from scientia.campaign import Campaign

    camp = Campaign.open("scientia.sqlite", "amide_coupling")
    ids = [it.proposal.id for it in camp.queue()]
    camp.ledger.close()
    return ids


def test_queue_propose_approve_reject_edit(cli, tmp_path):
    _human(cli, tmp_path)
    r = cli("queue", "amide_coupling", "--propose", "4", "--by", "alice")
    assert r.exit_code == 0, r.output
    assert "awaiting" in r.stdout and "added 4 proposals" in r.stdout
    a, b, c, d = _ids(cli)
    r = cli("queue", "amide_coupling", "--approve", a, "--approve", b, "--reject", c, "--reason", "no stock")
    assert r.exit_code == 0, r.output
    assert "2 approvals, 1 rejection" in r.stdout
    r = cli("queue", "amide_coupling", "--all")
    assert "rejected" in r.stdout and "no stock" in r.stdout
    from scientia.campaign import Campaign

    camp = Campaign.open("scientia.sqlite", "amide_coupling")
    name = camp.space.names[0]
    statuses = {it.proposal.id: it.status for it in camp.queue()}
    camp.ledger.close()
    assert statuses == {a: "approved", b: "approved", c: "rejected", d: "awaiting"}
    p = camp.space.parameters[0]
    value = getattr(p, "low", None)
    if value is None:
        value = p.values[0]
    r = cli("queue", "amide_coupling", "--edit", d, "--set", f"{name}={value}")
    assert r.exit_code == 0, r.output


def test_queue_errors_are_one_line_and_write_nothing(cli, tmp_path):
    ledger = _human(cli, tmp_path)
    cli("queue", "amide_coupling", "--propose", "2")
    a, _ = _ids(cli)
    before = event_count(ledger)
    assert_user_error(cli("queue", "amide_coupling", "--reject", a), "--reason")
    assert_user_error(
        cli("queue", "amide_coupling", "--approve", a, "--approve", "r0042.0"), "unknown proposal"
    )
    assert_user_error(cli("queue", "amide_coupling", "--edit", a, "--set", "nope=1"), "unknown parameter")
    assert_user_error(cli("queue", "amide_coupling", "--edit", a), "--set")
    assert_user_error(cli("queue", "nosuch"), "unknown campaign")
    assert event_count(ledger) == before
    assert cli("queue", "amide_coupling", "--approve", a).exit_code == 0
    assert_user_error(cli("queue", "amide_coupling", "--approve", a), "already")


def test_run_refuses_a_human_review_campaign(cli, tmp_path):
    _human(cli, tmp_path)
    r = cli("queue", "amide_coupling")
    assert r.exit_code == 0 and "queue of amide_coupling is empty" in r.stdout
