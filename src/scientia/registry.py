"""Registries of component families (surrogates, proposers, evaluators, spaces).

Built-ins register by name exactly as a third-party plugin would through the entry-point group
``scientia.<family>``; a duplicate name is an error and an unknown one says "did you mean …?".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from scientia.errors import ConfigError, UnknownNameError

__all__ = ["Registry"]


class Registry:
    """A name → factory mapping for one component family.

    Factories may be given lazily as ``"module:attribute"`` strings so that registering a
    component does not import its heavy dependencies.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._items: dict[str, Callable[..., Any] | str] = {}
        self._plugins_loaded = False

    def register(self, name: str, factory: Callable[..., Any] | str) -> None:
        """Register ``factory`` under ``name``; registering a name twice is an error."""
        if name in self._items:
            raise ConfigError(f"{self.family} {name!r} is already registered")
        self._items[name] = factory

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=f"scientia.{self.family}"):
            self.register(ep.name, ep.value)

    def get(self, name: str) -> Callable[..., Any]:
        """Return the factory registered under ``name``."""
        self._load_plugins()
        if name not in self._items:
            raise UnknownNameError.for_name(self.family, name, self._items)
        factory = self._items[name]
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            factory = getattr(import_module(module), attr)
            self._items[name] = factory
        return factory

    def create(self, name: str, /, **kwargs: Any) -> Any:
        """Instantiate the component ``name`` with keyword arguments."""
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
