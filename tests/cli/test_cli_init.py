"""``scientia init``, ``--version``, ``datasets``, and the cost of importing the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_version(cli):
    # --version prints the installed version and exits 0
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("scientia ")


def test_datasets_lists_bundled_tables(cli):
    # every bundled dataset is listed with its license
    result = cli("datasets")
    assert result.exit_code == 0, result.output
    for name in ("suzuki_miyaura", "buchwald_hartwig", "MIT"):
        assert name in result.stdout


def test_init_creates_campaign_and_describes_it(cli, manual_toml, tmp_path, events):
    # init records one creation event and prints name, space, objective and ledger
    result = cli("init", manual_toml, "--ledger", "lab.sqlite")
    assert result.exit_code == 0, result.output
    for text in (
        "amide_coupling",
        "temperature: real in [20, 120]",
        "solvent",
        "maximise yield",
        "lab.sqlite",
    ):
        assert text in result.stdout
    assert events(tmp_path / "lab.sqlite") == 1


def test_init_pool_prints_pool_size(cli, tiny_toml):
    # a pool space reports how many combinations it holds
    result = cli("init", tiny_toml)
    assert result.exit_code == 0, result.output
    assert "pool of 23 combinations" in result.stdout


@pytest.mark.parametrize(
    ("flag", "config_key", "env", "expected"),
    [
        (False, False, False, "scientia.sqlite"),
        (False, False, True, "env.sqlite"),
        (False, True, True, "conf/cfg.sqlite"),
        (True, True, True, "flag.sqlite"),
    ],
    ids=["default", "env", "config-over-env", "flag-over-all"],
)
def test_ledger_location_precedence(
    tmp_path, monkeypatch, make_manual, make_invoker, flag, config_key, env, expected
):
    # --ledger, then the config's ledger key (relative to the config), then $SCIENTIA_LEDGER, then ./scientia.sqlite
    monkeypatch.chdir(tmp_path)
    config = make_manual(tmp_path / "conf")
    args = ["init", config]
    if flag:
        args += ["--ledger", "flag.sqlite"]
    if config_key:
        args += ["--set", "ledger=cfg.sqlite"]
    invoke = make_invoker({"SCIENTIA_LEDGER": str(tmp_path / "env.sqlite")} if env else None)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.sqlite"))
    assert made == [expected]


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('name = "amide_coupling"', 'nmae = "amide_coupling"', ("unknown key 'nmae'", "did you mean 'name'")),
        ("batch_size = 5", "batchsize = 5", ("unknown key 'batchsize'", "did you mean 'batch_size'")),
        (
            'acquisition = "qlognei"',
            'acqusition = "qlognei"',
            ("proposer.acqusition", "did you mean 'acquisition'"),
        ),
        ("batch_size = 5", "batch_size = 0", ("batch_size",)),
        ("high = 120.0", "high = [", ("not valid TOML",)),
        ('choices = ["DMF", "MeCN", "THF"]', 'choices = ["DMF", "DMF"]', ("solvent", "distinct")),
    ],
    ids=["nmae", "batchsize", "nested-typo", "out-of-range", "bad-toml", "bad-choices"],
)
def test_bad_config_is_one_line_and_writes_nothing(
    cli, manual_toml, tmp_path, user_error, old, new, fragments
):
    # a config mistake gives one line naming it, exit 2, and no ledger file
    text = manual_toml.read_text(encoding="utf-8")
    assert old in text
    manual_toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = cli("init", manual_toml, "--ledger", "lab.sqlite")
    user_error(result, *fragments)
    assert not (tmp_path / "lab.sqlite").exists()


def test_missing_config_file(cli, user_error):
    # a missing config file is named
    user_error(cli("init", "nope.toml"), "no config file", "nope.toml")


def test_bad_override(cli, manual_toml, user_error):
    # an override without '=' is refused
    user_error(cli("init", manual_toml, "--set", "batch_size"), "override 'batch_size'")


def test_init_twice_is_refused_and_changes_nothing(cli, manual_toml, tmp_path, events, user_error):
    # a second campaign of the same name is refused; the ledger keeps its one event
    assert cli("init", manual_toml).exit_code == 0
    before = events(tmp_path / "scientia.sqlite")
    user_error(cli("init", manual_toml), "already exists")
    assert events(tmp_path / "scientia.sqlite") == before


def test_usage_error_exit_code(cli):
    # Typer's own usage errors keep exit code 2
    assert cli("init").exit_code == 2
    assert cli("suggest", "x", "-n", "0").exit_code == 2
    assert cli("no-such-command").exit_code == 2


def test_importing_the_cli_is_light():
    # the CLI entry module imports no heavy dependency (they load inside commands)
    code = (
        "import sys, scientia.cli.main; "
        "print(sorted(m for m in ('torch', 'botorch', 'pandas', 'rdkit', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_runs(tmp_path: Path):
    # the module entry point works end to end in a fresh process
    out = subprocess.run(
        [sys.executable, "-m", "scientia.cli", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0
    assert out.stdout.startswith("scientia ")
