"""Registries: names → factories, lazily imported, plugins through entry points."""

from __future__ import annotations

import importlib.metadata

import pytest

from scientia.errors import ConfigError, UnknownNameError
from scientia.registry import Registry


def test_lazy_factory_is_imported_on_first_use():
    # a "module:attribute" string is resolved when the component is first requested
    reg = Registry("things")
    reg.register("od", "collections:OrderedDict")
    assert reg.create("od", a=1) == {"a": 1}


def test_duplicate_name_is_an_error():
    # registering one name twice is refused
    reg = Registry("things")
    reg.register("a", dict)
    with pytest.raises(ConfigError, match="already registered"):
        reg.register("a", list)


def test_unknown_name_suggests_the_closest():
    # an unknown name says "did you mean"; it is also a KeyError
    reg = Registry("surrogates")
    reg.register("forest", dict)
    reg.register("gp", dict)
    with pytest.raises(KeyError):
        reg.get("forst")
    with pytest.raises(UnknownNameError, match="unknown surrogates 'forst'; did you mean 'forest'"):
        reg.get("forst")


def test_names_are_sorted_and_iterable():
    # names() lists registered names sorted; iteration and `in` agree
    reg = Registry("things")
    for n in ("b", "a", "c"):
        reg.register(n, dict)
    assert reg.names() == list(reg) == ["a", "b", "c"] and "b" in reg and "z" not in reg


def test_plugins_register_through_entry_points(monkeypatch):
    # an entry point in group scientia.<family> registers exactly like a built-in
    ep = importlib.metadata.EntryPoint("mine", "collections:Counter", "scientia.things")

    def fake_entry_points(group=None):
        return [ep] if group == "scientia.things" else []

    monkeypatch.setattr("scientia.registry.entry_points", fake_entry_points)
    reg = Registry("things")
    assert "mine" in reg and reg.create("mine") == {}
