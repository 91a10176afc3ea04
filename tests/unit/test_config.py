"""Campaign configuration: strict validation with did-you-mean, and --set overrides."""

from __future__ import annotations

import copy
import textwrap

import pytest

from scientia.config import CampaignConfig, apply_overrides, load_config, parse_config
from scientia.errors import ConfigError, ScientiaError

BASE = {
    "name": "demo",
    "space": {"parameters": [{"name": "t", "kind": "real", "low": 0, "high": 1}]},
    "objectives": [{"name": "yield"}],
}


def _with(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


def test_minimal_config_gets_defaults():
    # a name, a space and an objective are enough; the rest has defaults
    cfg = parse_config(BASE)
    assert isinstance(cfg, CampaignConfig)
    assert (cfg.seed, cfg.batch_size, cfg.review, cfg.proposer.kind, cfg.surrogate.kind) == (
        0,
        5,
        "auto",
        "bo",
        "gp",
    )
    assert cfg.evaluator.kind == "manual" and cfg.objectives[0].direction == "max"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(seeed=1), "unknown key 'seeed'; did you mean 'seed'?"),
        (
            lambda d: d["space"].update(paramters=[]),
            "unknown key 'space.paramters'; did you mean 'parameters'?",
        ),
        (
            lambda d: d["space"]["parameters"][0].update(lwo=0),
            "unknown key 'space.parameters[0].lwo'; did you mean 'low'?",
        ),
        (
            lambda d: d.update(proposer={"n_inital": 3}),
            "unknown key 'proposer.n_inital'; did you mean 'n_initial'?",
        ),
        (lambda d: d.update(surrogate={"knd": "gp"}), "unknown key 'surrogate.knd'; did you mean 'kind'?"),
    ],
    ids=["top", "space", "parameter", "proposer", "surrogate"],
)
def test_unknown_key_is_an_error_with_did_you_mean(change, message):
    # a misspelt key anywhere is refused, naming where it is and the closest valid key
    with pytest.raises(ConfigError) as info:
        parse_config(_with(change), "campaign.toml")
    assert str(info.value) == f"campaign.toml: {message}"


def test_config_error_is_a_value_error_and_a_scientia_error():
    # ConfigError inherits both the root ScientiaError and the builtin ValueError
    with pytest.raises(ValueError):
        parse_config(_with(lambda d: d.update(seeed=1)))
    assert issubclass(ConfigError, ScientiaError)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda d: d["space"]["parameters"][0].pop("low"),
            "space.parameters[0]: parameter 't' of kind real needs low and high",
        ),
        (lambda d: d["objectives"][0].update(direction="up"), "objectives[0].direction"),
        (lambda d: d.update(batch_size=0), "batch_size"),
        (lambda d: d.update(evaluator={"kind": "function"}), "function = 'module:callable'"),
        (lambda d: d.update(objectives=[{"name": "y"}, {"name": "y"}]), "distinct"),
        (lambda d: d.update(space={"kind": "pool"}), "exactly one of dataset or table"),
        (lambda d: d.update(space={"kind": "parameters"}), "at least one"),
    ],
    ids=[
        "missing-bound",
        "bad-direction",
        "batch-size",
        "function",
        "duplicate-objective",
        "pool-source",
        "no-parameters",
    ],
)
def test_invalid_values_give_one_line_saying_where(change, fragment):
    # a wrong or missing value is one line naming its location
    with pytest.raises(ConfigError) as info:
        parse_config(_with(change))
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_options_tables_accept_any_keys():
    # surrogate and proposer options are passed through to the component
    cfg = parse_config(
        _with(lambda d: d.update(surrogate={"kind": "forest", "options": {"n_estimators": 10}}))
    )
    assert cfg.surrogate.options == {"n_estimators": 10}


def test_overrides_set_nested_keys_with_toml_values():
    # "a.b=value" sets nested keys, reading numbers, booleans and lists as TOML
    data = apply_overrides(
        copy.deepcopy(BASE),
        ["seed=3", "proposer.n_initial=4", "budget=20", "space.parameters=[]", "x.y.z=true", "ratio=0.5"],
    )
    assert data["seed"] == 3 and data["proposer"] == {"n_initial": 4} and data["budget"] == 20
    assert data["space"]["parameters"] == [] and data["x"] == {"y": {"z": True}} and data["ratio"] == 0.5


def test_overrides_keep_bare_words_as_strings():
    # values that are not TOML (bare words, spaces) are kept as text
    data = apply_overrides(
        copy.deepcopy(BASE), ["name=hello world", "review=human", 'proposer.kind="random"']
    )
    assert (
        data["name"] == "hello world" and data["review"] == "human" and data["proposer"]["kind"] == "random"
    )


@pytest.mark.parametrize("bad", ["noequals", "=3", "space.parameters.x=1"])
def test_malformed_overrides_are_config_errors(bad):
    # an override without key=value, or reaching into a non-table, is refused
    with pytest.raises(ConfigError, match="override"):
        apply_overrides(copy.deepcopy(BASE), [bad])


CAMPAIGN_TOML = """
name = "suzuki"
batch_size = 3
ledger = "runs/ledger.sqlite"

[space]
kind = "pool"
table = "data/table.csv"

[[objectives]]
name = "yield"

[evaluator]
kind = "emulator"
table = "data/table.csv"
"""


def test_load_config_applies_overrides_and_resolves_paths(tmp_path):
    # --set overrides apply before validation; relative paths resolve against the file's folder
    path = tmp_path / "campaign.toml"
    path.write_text(CAMPAIGN_TOML)
    cfg = load_config(path, ["batch_size=7", "proposer.n_initial=2"])
    assert cfg.batch_size == 7 and cfg.proposer.n_initial == 2
    assert cfg.space.table == str(tmp_path / "data" / "table.csv")
    assert cfg.evaluator.table == str(tmp_path / "data" / "table.csv")
    assert cfg.ledger == str(tmp_path / "runs" / "ledger.sqlite")


def test_load_config_override_with_unknown_key_suggests_one(tmp_path):
    # a misspelt --set key is caught like one in the file, naming the file
    path = tmp_path / "campaign.toml"
    path.write_text(CAMPAIGN_TOML)
    with pytest.raises(
        ConfigError, match=r"campaign.toml: unknown key 'batch_sise'; did you mean 'batch_size'\?"
    ):
        load_config(path, ["batch_sise=2"])


def test_load_config_reports_missing_file_and_bad_toml(tmp_path):
    # a missing file and invalid TOML are config errors, not tracebacks
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent("name = \n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
