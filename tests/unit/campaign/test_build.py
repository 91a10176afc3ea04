"""Building live components from a config: mistakes surface at creation, not mid-run."""

from __future__ import annotations

import pytest

from scientia.campaign.build import build_proposer, build_space
from scientia.config import parse_config
from scientia.errors import ConfigError, UnknownNameError
from scientia.spaces import Integer


def cfg(**changes):
    data = {
        "name": "b",
        "space": {"parameters": [{"name": "n", "kind": "integer", "low": 1, "high": 5}]},
        "objectives": [{"name": "y"}],
    }
    data.update(changes)
    return parse_config(data)


def test_unknown_surrogate_fails_when_the_proposer_is_built():
    # a misspelt surrogate kind is caught before any experiment, with a did-you-mean
    with pytest.raises(UnknownNameError, match="did you mean 'gp'"):
        build_proposer(cfg(surrogate={"kind": "gpp"}))


def test_wrong_surrogate_option_is_a_config_error_when_built():
    # an option the surrogate does not take is a ConfigError naming the surrogate
    with pytest.raises(ConfigError, match=r"surrogate 'forest'.*n_estimator"):
        build_proposer(cfg(surrogate={"kind": "forest", "options": {"n_estimator": 5}}))


@pytest.mark.parametrize("kind", ["bo", "random"])
def test_wrong_proposer_option_is_a_config_error(kind):
    # an option the proposer does not take is a ConfigError naming the proposer
    with pytest.raises(ConfigError, match=rf"proposer '{kind}': \w+"):
        build_proposer(cfg(proposer={"kind": kind, "options": {"num_restart": 2}}))


def test_integer_bounds_must_be_whole_numbers():
    # low = 1.5 for an integer is refused instead of being silently truncated to 1
    bad = cfg(space={"parameters": [{"name": "n", "kind": "integer", "low": 1.5, "high": 5}]})
    with pytest.raises(ConfigError, match="integer low < high"):
        build_space(bad)


def test_integer_bounds_from_toml_floats_become_ints():
    # low = 1.0 (TOML float) gives an integer parameter with int bounds
    space, table = build_space(
        cfg(space={"parameters": [{"name": "n", "kind": "integer", "low": 1.0, "high": 5.0}]})
    )
    (p,) = space.parameters
    assert table is None and isinstance(p, Integer) and (p.low, p.high) == (1, 5) and type(p.low) is int
