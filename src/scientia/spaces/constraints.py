"""Constraints on parameter spaces: linear inequalities and equalities (mixtures), excluded
combinations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scientia.errors import ConfigError, did_you_mean

__all__ = ["Constraint", "ExcludedCombination", "LinearInequality", "constraint_from_dict", "mixture"]


@dataclass(frozen=True)
class LinearInequality:
    """``sum(coefficients[p] * x[p]) <= rhs`` (or ``>=``, or ``==``) over real or integer
    parameters; ``==`` only over reals (e.g. mixture fractions that sum to 1)."""

    coefficients: Mapping[str, float]
    rhs: float
    sense: Literal["<=", ">=", "=="] = "<="
    kind: Literal["linear"] = field(default="linear", init=False)

    def __post_init__(self) -> None:
        if self.sense not in ("<=", ">=", "=="):
            raise ConfigError(f"linear constraint sense must be '<=', '>=' or '=='; got {self.sense!r}")
        if not self.coefficients:
            raise ConfigError("a linear constraint needs at least one coefficient")

    @property
    def is_equality(self) -> bool:
        return self.sense == "=="

    def satisfied(self, params: Mapping[str, Any], rtol: float = 1e-6) -> bool:
        """Whether ``params`` meet the constraint, to a relative ``rtol``: numbers from an
        optimiser (which lands on the boundary) or a spreadsheet are rounded a little."""
        terms = [float(c) * float(params[p]) for p, c in self.coefficients.items()]
        total = sum(terms)
        tol = rtol * max(1.0, abs(self.rhs), *map(abs, terms))
        if self.sense == "==":
            return abs(total - self.rhs) <= tol
        return total <= self.rhs + tol if self.sense == "<=" else total >= self.rhs - tol

    def describe(self) -> str:
        terms = " + ".join(f"{c:g}·{p}" for p, c in self.coefficients.items())
        return f"{terms} {self.sense} {self.rhs:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "linear",
            "coefficients": dict(self.coefficients),
            "rhs": self.rhs,
            "sense": self.sense,
        }


@dataclass(frozen=True)
class ExcludedCombination:
    """Exclude every candidate whose values all match: ``{"base": ["NaOH"], "solvent": ["THF"]}``.

    A real parameter may be matched by a range ``{"low": a, "high": b}`` instead of a list.
    """

    values: Mapping[str, Sequence[Any] | Mapping[str, float]]
    kind: Literal["excluded"] = field(default="excluded", init=False)

    def __post_init__(self) -> None:
        if not self.values:
            raise ConfigError("an excluded combination needs at least one parameter")

    def _matches(self, name: str, value: Any) -> bool:
        rule = self.values[name]
        if isinstance(rule, Mapping):
            v = float(value)
            return float(rule.get("low", -float("inf"))) <= v <= float(rule.get("high", float("inf")))
        return any(value == r or str(value) == str(r) for r in rule)

    def satisfied(self, params: Mapping[str, Any]) -> bool:
        return not all(self._matches(name, params[name]) for name in self.values)

    def describe(self) -> str:
        return "not (" + " and ".join(f"{k} in {v}" for k, v in self.values.items()) + ")"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "excluded",
            "values": {k: dict(v) if isinstance(v, Mapping) else list(v) for k, v in self.values.items()},
        }


Constraint = LinearInequality | ExcludedCombination


def mixture(parameters: Sequence[str], total: float = 1.0) -> LinearInequality:
    """Fractions that add up to ``total``: ``sum(x[p] for p in parameters) == total``."""
    if len(parameters) < 2:
        raise ConfigError("a mixture needs at least two parameters")
    return LinearInequality({p: 1.0 for p in parameters}, float(total), "==")


def constraint_from_dict(data: Mapping[str, Any]) -> Constraint:
    """Build a constraint from its :meth:`to_dict` form."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind == "linear":
        return LinearInequality(**data)
    if kind == "excluded":
        return ExcludedCombination(**data)
    raise ConfigError(f"unknown constraint kind {kind!r}{did_you_mean(str(kind), ['linear', 'excluded'])}")
