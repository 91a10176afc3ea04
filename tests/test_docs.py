"""Every command and option of the CLI is documented in docs/cli.md, and its example runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from scientia.cli.main import app

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "cli.md"


def _sections() -> dict[str, str]:
    """docs/cli.md split at its ``## `scientia <command>` `` headings."""
    parts = re.split(r"^## `scientia (\w+)`\s*$", DOC.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _commands() -> dict[str, list[str]]:
    """Each command's name and the spellings of its options (``--out``, ``-o``, …)."""
    group = typer.main.get_command(app)
    return {
        name: [
            opt for p in cmd.params if p.param_type_name == "option" for opt in (*p.opts, *p.secondary_opts)
        ]
        for name, cmd in group.commands.items()  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("command", sorted(_commands()))
def test_command_has_a_section(command):
    # every command has its own `## scientia <command>` section
    assert command in _sections()


@pytest.mark.parametrize(
    ("command", "option"), [(c, o) for c, opts in sorted(_commands().items()) for o in opts]
)
def test_option_documented_in_its_section(command, option):
    # every option (long and short spelling) is named in its command's section
    assert f"`{option}" in _sections().get(command, ""), f"{option} of {command} is not documented"


def test_global_options_documented():
    # the root options are documented too
    text = DOC.read_text(encoding="utf-8")
    for p in typer.main.get_command(app).params:
        for opt in p.opts:
            assert f"`{opt}`" in text, opt


def test_no_section_for_a_missing_command():
    # the documentation does not describe commands that do not exist
    assert set(_sections()) <= set(_commands())


def test_example_sequence_runs(tmp_path):
    # the hand-run example (init → suggest --out → fill → observe → status → export) runs as written
    script = re.search(r"```bash\n(# 1\..*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert script is not None
    bindir = Path(sys.executable).parent
    if not (bindir / "scientia").exists():
        pytest.skip("the scientia console script is not installed next to this Python")
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO / "examples" / "manual.toml", tmp_path / "examples" / "manual.toml")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    env.pop("SCIENTIA_LEDGER", None)
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.group(1)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "recorded 5 observations" in out.stdout
    lines = (tmp_path / "observations.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) == 6


def test_every_config_key_is_documented():
    # every field of every config model appears in docs/config.md as `key`
    from pydantic import BaseModel

    import scientia.config as config

    text = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    models = [
        obj
        for obj in vars(config).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == config.__name__
    ]
    forms = ("`{}`", "`[{}]`", "`[[{}]]`", "## `[{}]`", "## `[[{}]]`")
    missing = [
        f"{m.__name__}.{f}"
        for m in models
        for f in m.model_fields
        if not any(form.format(f) in text for form in forms)
    ]
    assert not missing, f"undocumented config keys: {missing}"


def _subcommands() -> list[tuple[str, str, list[str]]]:
    """(group, subcommand, option spellings) for every command group such as ``curate``."""
    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        for sub, subcmd in getattr(cmd, "commands", {}).items():
            opts = [
                o
                for p in subcmd.params
                if p.param_type_name == "option"
                for o in (*p.opts, *p.secondary_opts)
            ]
            out.append((name, sub, opts))
    return out


@pytest.mark.parametrize(
    ("group", "sub", "opts"), _subcommands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_subcommand_and_its_options_are_documented(group, sub, opts):
    # a group's subcommands and all their options appear in its cli.md section or its own page
    page = DOC.parent / f"{group}.md"
    text = _sections().get(group, "") + (page.read_text(encoding="utf-8") if page.exists() else "")
    assert f"scientia {group} {sub}" in text, f"`scientia {group} {sub}` is not documented"
    missing = [o for o in opts if f"`{o}" not in text and f"{o} " not in text and f"[{o}" not in text]
    assert not missing, f"options of `scientia {group} {sub}` not documented: {missing}"
