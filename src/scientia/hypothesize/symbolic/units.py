"""Physical units: a small parser into SI base dimensions, dimensional checks, Buckingham π.

A unit is a vector of exponents over the seven SI base dimensions :data:`BASE`
(``m, kg, s, A, K, mol, cd``). :func:`parse_units` reads strings such as ``"m/s^2"``,
``"kg*m^2*s^-2"``, ``"m^2 * s^(-2) * kg^1"`` (the AI Feynman / PMLB spelling), ``"N"`` or
``"dimensionless"``; only the dimension is kept, so prefixes (``km``, ``mg``) are accepted and ignored.

:func:`expression_dims` propagates dimensions through a SymPy expression. A fitted constant (a
``Float``) may carry any unit — it is a *free* dimension, as in PySR — whereas exact numbers
(``2``, ``1/2``, ``pi``) are dimensionless. Sums must agree, arguments of ``exp``, ``log``,
``sin``… must be dimensionless, exponents must be numbers or dimensionless.

:func:`buckingham_pi` reduces a problem to dimensionless groups as AI Feynman does: the target is
written ``y = prod_i x_i**p_i * f(pi_1, …, pi_k)`` with ``p`` a particular solution of
``D p = dims(y)`` and the ``pi_j = prod_i x_i**n_ji`` spanning the integer null space of the
dimension matrix ``D``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from math import gcd, lcm
from typing import Any

import numpy as np
import sympy as sp

from scientia.errors import ValidationError

__all__ = [
    "BASE",
    "DimensionError",
    "PiGroups",
    "as_dims",
    "buckingham_pi",
    "expression_dims",
    "format_dims",
    "is_consistent",
    "parse_units",
]

BASE = ("m", "kg", "s", "A", "K", "mol", "cd")


def _v(**exps: float) -> tuple[float, ...]:
    return tuple(float(exps.get(b, 0.0)) for b in BASE)


# named units -> dimension vectors (only dimensions matter, not scale)
_UNITS: dict[str, tuple[float, ...]] = {
    "m": _v(m=1),
    "g": _v(kg=1),
    "kg": _v(kg=1),
    "s": _v(s=1),
    "A": _v(A=1),
    "K": _v(K=1),
    "mol": _v(mol=1),
    "cd": _v(cd=1),
    "Hz": _v(s=-1),
    "N": _v(kg=1, m=1, s=-2),
    "Pa": _v(kg=1, m=-1, s=-2),
    "J": _v(kg=1, m=2, s=-2),
    "eV": _v(kg=1, m=2, s=-2),
    "W": _v(kg=1, m=2, s=-3),
    "C": _v(A=1, s=1),
    "V": _v(kg=1, m=2, s=-3, A=-1),
    "F": _v(kg=-1, m=-2, s=4, A=2),
    "Ohm": _v(kg=1, m=2, s=-3, A=-2),
    "ohm": _v(kg=1, m=2, s=-3, A=-2),
    "Ω": _v(kg=1, m=2, s=-3, A=-2),
    "S": _v(kg=-1, m=-2, s=3, A=2),
    "Wb": _v(kg=1, m=2, s=-2, A=-1),
    "T": _v(kg=1, s=-2, A=-1),
    "H": _v(kg=1, m=2, s=-2, A=-2),
    "L": _v(m=3),
    "min": _v(s=1),
    "h": _v(s=1),
    "rad": _v(),
    "sr": _v(),
}
_PREFIXES = "YZEPTGMkhdcmunpfazyµμ"
_DIMENSIONLESS = {"", "1", "dimensionless", "none", "-"}
_TOKEN = re.compile(r"\s*(?:(\*\*|\^)|([A-Za-zΩµμ]+)|([-+]?\d+(?:\.\d+)?(?:/\d+)?)|(.))")


class DimensionError(ValidationError):
    """An expression is not dimensionally consistent (or a unit string cannot be read)."""


def _lookup(name: str, text: str) -> np.ndarray:
    if name in _UNITS:
        return np.array(_UNITS[name])
    if len(name) > 1 and name[0] in _PREFIXES and name[1:] in _UNITS:
        return np.array(_UNITS[name[1:]])
    if len(name) > 2 and name[:2] == "da" and name[2:] in _UNITS:
        return np.array(_UNITS[name[2:]])
    known = ", ".join(sorted(k for k in _UNITS if k.isascii()))
    raise DimensionError(f"unknown unit {name!r} in {text!r}; known units: {known} (with SI prefixes)")


class _Parser:
    """Recursive descent over ``product := power (('*' | '/' | ' ') power)*``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            op, name, num, other = m.groups()
            if op:
                self.tokens.append(("^", op))
            elif name:
                self.tokens.append(("name", name))
            elif num:
                self.tokens.append(("num", num))
            elif other and not other.isspace():
                self.tokens.append(("op", "*" if other in "·⋅" else other))
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise DimensionError(f"unexpected end of unit {self.text!r}")
        self.i += 1
        return tok

    def product(self) -> np.ndarray:
        dims = self.power()
        while (tok := self.peek()) is not None and tok != ("op", ")"):
            if tok == ("op", "*"):
                self.take()
                dims = dims + self.power()
            elif tok == ("op", "/"):
                self.take()
                dims = dims - self.power()
            elif tok[0] in ("name", "num") or tok == ("op", "("):
                dims = dims + self.power()  # "kg m" means kg*m
            else:
                raise DimensionError(f"unexpected {tok[1]!r} in unit {self.text!r}")
        return dims

    def power(self) -> np.ndarray:
        dims = self.atom()
        if self.peek() is not None and self.peek()[0] == "^":  # type: ignore[index]
            self.take()
            dims = dims * self.exponent()
        return dims

    def exponent(self) -> float:
        tok = self.take()
        if tok == ("op", "("):
            sign = -1.0 if self.peek() == ("op", "-") else 1.0
            if self.peek() in (("op", "-"), ("op", "+")):
                self.take()
            value = sign * self.exponent()
            if self.take() != ("op", ")"):
                raise DimensionError(f"missing ')' in unit {self.text!r}")
            return value
        if tok == ("op", "-"):
            return -self.exponent()
        if tok[0] != "num":
            raise DimensionError(f"expected an exponent in unit {self.text!r}, got {tok[1]!r}")
        return float(Fraction(tok[1]))

    def atom(self) -> np.ndarray:
        tok = self.take()
        if tok == ("op", "("):
            dims = self.product()
            if self.take() != ("op", ")"):
                raise DimensionError(f"missing ')' in unit {self.text!r}")
            return dims
        if tok[0] == "name":
            return _lookup(tok[1], self.text)
        if tok[0] == "num" and float(Fraction(tok[1])) != 0:
            return np.zeros(len(BASE))  # a pure number such as the 1 in "1/s"
        raise DimensionError(f"unexpected {tok[1]!r} in unit {self.text!r}")


def parse_units(text: str) -> np.ndarray:
    """Parse a unit string into exponents over :data:`BASE`, shape ``(7,)``.

    Examples
    --------
    >>> parse_units("m/s^2").tolist()
    [1.0, 0.0, -2.0, 0.0, 0.0, 0.0, 0.0]
    >>> parse_units("m^2 * s^(-2) * kg^1").tolist()[:3]
    [2.0, 1.0, -2.0]
    """
    if not isinstance(text, str):
        raise DimensionError(f"a unit must be a string, got {type(text).__name__}")
    if text.strip().lower() in _DIMENSIONLESS:
        return np.zeros(len(BASE))
    parser = _Parser(text)
    dims = parser.product()
    if parser.peek() is not None:
        raise DimensionError(f"unexpected {parser.peek()[1]!r} in unit {text!r}")  # type: ignore[index]
    return dims


def as_dims(value: Any) -> np.ndarray:
    """A unit string or a sequence of up to 7 exponents (over :data:`BASE`) as a ``(7,)`` array."""
    if isinstance(value, str):
        return parse_units(value)
    try:
        arr = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise DimensionError(f"a unit must be a string or a list of exponents, got {value!r}") from None
    if arr.size > len(BASE) or not np.all(np.isfinite(arr)):
        raise DimensionError(
            f"a dimension vector has at most {len(BASE)} finite exponents {BASE}; got {value!r}"
        )
    return np.concatenate([arr, np.zeros(len(BASE) - arr.size)])


def format_dims(dims: np.ndarray | None) -> str:
    """``m*kg^-2`` style text for a dimension vector (``"1"`` when dimensionless, ``"any"`` if None)."""
    if dims is None:
        return "any"
    parts = []
    for base, e in zip(BASE, dims, strict=True):
        if abs(e) > 1e-12:
            e_txt = f"{e:g}"
            parts.append(base if e_txt == "1" else f"{base}^{e_txt}")
    return "*".join(parts) or "1"


def _zero(d: np.ndarray | None) -> bool:
    return d is None or bool(np.allclose(d, 0.0, atol=1e-9))


def expression_dims(expr: sp.Expr, dims: Mapping[sp.Symbol, np.ndarray]) -> np.ndarray | None:
    """Dimension vector of ``expr``; ``None`` when a free constant makes it take any unit.

    Parameters
    ----------
    expr : sympy.Expr
    dims : mapping of sympy.Symbol to ndarray of shape (7,)
        The dimensions of every free symbol of ``expr``.

    Raises
    ------
    DimensionError
        If the expression adds quantities of different dimensions, applies a transcendental
        function to a dimensional argument, or raises to a dimensional power.
    """
    if expr.is_Symbol:
        if expr not in dims:
            raise DimensionError(f"no units for variable {expr}")
        return np.asarray(dims[expr], dtype=float)  # type: ignore[index]
    if expr.is_Float:
        return None
    if expr.is_number:
        return np.zeros(len(BASE))
    args = [expression_dims(a, dims) for a in expr.args]
    if expr.is_Add:
        known = [d for d in args if d is not None]
        for d in known[1:]:
            if not np.allclose(d, known[0], atol=1e-9):
                raise DimensionError(f"adds {format_dims(known[0])} to {format_dims(d)} in {expr}")
        return known[0] if known else None
    if expr.is_Mul:
        if any(d is None for d in args):
            return None
        return reduce(np.add, args)  # type: ignore[arg-type]
    if expr.is_Pow:
        exp = expr.args[1]
        if exp.is_number:
            if args[0] is None:
                return None
            return args[0] * float(exp)
        if not _zero(args[1]) or not _zero(args[0]):
            raise DimensionError(f"dimensional power in {expr}")
        return np.zeros(len(BASE))
    if isinstance(expr, (sp.Abs, sp.sign)):
        return args[0] if isinstance(expr, sp.Abs) else np.zeros(len(BASE))
    if isinstance(expr, sp.Function):
        if not all(_zero(d) for d in args):
            raise DimensionError(f"{expr.func.__name__} of a dimensional argument in {expr}")
        return np.zeros(len(BASE))
    raise DimensionError(f"cannot analyse the dimensions of {expr}")


def is_consistent(
    expr: sp.Expr, dims: Mapping[sp.Symbol, np.ndarray], target: np.ndarray | None = None
) -> bool:
    """True if ``expr`` is dimensionally consistent and (if given) has the ``target`` dimension."""
    try:
        d = expression_dims(expr, dims)
    except DimensionError:
        return False
    return d is None or target is None or bool(np.allclose(d, target, atol=1e-9))


@dataclass(frozen=True)
class PiGroups:
    """A reduction ``y = prod_i x_i**scale_i * f(pi_1, …, pi_k)`` with ``pi_j = prod_i x_i**groups[j, i]``.

    Attributes
    ----------
    names : tuple of str
        The input variables, in column order.
    groups : ndarray of shape (k, d)
        Integer exponents of each dimensionless group.
    scale : ndarray of shape (d,)
        Exponents of the product carrying the target's dimension.
    """

    names: tuple[str, ...]
    groups: np.ndarray
    scale: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of dimensionless groups ``k``."""
        return int(self.groups.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The groups evaluated on ``X`` of shape ``(n, d)``; returns ``(n, k)``."""
        X = np.asarray(X, dtype=float)
        if self.n_groups == 0:
            return np.empty((len(X), 0))
        with np.errstate(all="ignore"):
            return np.stack([np.prod(X**g, axis=1) for g in self.groups], axis=1).reshape(len(X), -1)

    def scale_values(self, X: np.ndarray) -> np.ndarray:
        """``prod_i x_i**scale_i`` on ``X`` of shape ``(n, d)``; returns ``(n,)``."""
        with np.errstate(all="ignore"):
            return np.prod(np.asarray(X, dtype=float) ** self.scale, axis=1)

    def group_exprs(self, symbols: Sequence[sp.Symbol]) -> list[sp.Expr]:
        """Each group as a SymPy expression in ``symbols`` (one per input variable)."""
        return [_monomial(symbols, g) for g in self.groups]

    def scale_expr(self, symbols: Sequence[sp.Symbol]) -> sp.Expr:
        """The dimensional prefactor as a SymPy expression in ``symbols``."""
        return _monomial(symbols, self.scale)

    def describe(self) -> list[str]:
        """Human-readable groups, e.g. ``["pi1 = m1/m2"]``."""
        syms = [sp.Symbol(n) for n in self.names]
        return [f"pi{j + 1} = {e}" for j, e in enumerate(self.group_exprs(syms))]


def _monomial(symbols: Sequence[sp.Symbol], exps: np.ndarray) -> sp.Expr:
    out: sp.Expr = sp.Integer(1)
    for s, e in zip(symbols, exps, strict=True):
        if e != 0:
            out = out * s ** sp.nsimplify(float(e), rational=True)
    return out


def _integer_vector(vec: sp.Matrix) -> list[int]:
    fracs = [sp.Rational(v) for v in vec]
    den = reduce(lcm, (int(f.q) for f in fracs), 1)
    ints = [int(f * den) for f in fracs]
    g = reduce(gcd, (abs(i) for i in ints if i), 0) or 1
    ints = [i // g for i in ints]
    first = next((i for i in ints if i), 1)
    return [-i for i in ints] if first < 0 else ints


def buckingham_pi(input_dims: np.ndarray, target_dims: np.ndarray, names: Sequence[str]) -> PiGroups:
    """Dimensionless groups of the inputs and the prefactor carrying the target's dimension.

    Parameters
    ----------
    input_dims : ndarray of shape (d, 7)
        Dimension vector of each input variable.
    target_dims : ndarray of shape (7,)
    names : sequence of str
        The input variables' names (length ``d``).

    Raises
    ------
    ValidationError
        If the target's dimension cannot be formed from the inputs' (a dimensional constant is
        missing from the inputs).

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([parse_units(u) for u in ("m^3/(kg*s^2)", "kg", "kg", "m")])
    >>> pi = buckingham_pi(D, parse_units("N"), ["G", "m1", "m2", "r"])
    >>> pi.describe(), pi.scale.tolist()
    (['pi1 = m1/m2'], [1.0, 2.0, 0.0, -2.0])
    """
    D = np.asarray(input_dims, dtype=float)
    M = sp.Matrix([[sp.nsimplify(float(v), rational=True) for v in row] for row in D.T])  # (7, d)
    t = sp.Matrix([sp.nsimplify(float(v), rational=True) for v in np.asarray(target_dims, float)])
    try:
        sol, params = M.gauss_jordan_solve(t)
    except ValueError:
        raise ValidationError(
            "the target's units cannot be formed from the inputs' units (a dimensional constant is "
            "missing from the inputs); add it as a variable or fit with dimensionless=False"
        ) from None
    particular = sol.subs({p: 0 for p in params})
    groups = [_integer_vector(v) for v in M.nullspace()]
    return PiGroups(
        names=tuple(names),
        groups=np.array(groups, dtype=float).reshape(len(groups), D.shape[0]),
        scale=np.array([float(v) for v in particular]),
    )
