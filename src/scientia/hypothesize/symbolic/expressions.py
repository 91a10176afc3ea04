"""Expressions shared by every engine: the operator table, complexity, evaluation and constants.

Engines hand back SymPy expressions in the symbols ``x0 … x{d-1}``; a fitted constant is a SymPy
``Float`` and an exact number (``2``, ``1/2``, ``pi``) is part of the structure.

* :data:`OPERATORS` — the operators an engine may use, with their arity and NumPy function.
* :func:`complexity` — nodes of the expression written with binary ``+ - * /`` and unary functions
  (``x0*x1**2`` has 5: ``*``, ``x0``, ``**``, ``x1``, ``2``; ``sqrt(x0)`` has 2).
* :func:`compile_expr` — a vectorised NumPy function ``f(X, c)`` of the data and the constants.
* :func:`fit_constants` — Levenberg–Marquardt (or BFGS) on the constants, from their current values.
* :func:`snap_constants` — replace constants by nearby simple numbers (0, integers, halves) when the
  loss does not get worse, so that ``2.4999999997*x`` reads ``5*x/2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from scientia.errors import ValidationError

__all__ = [
    "DEFAULT_OPERATORS",
    "OPERATORS",
    "Operator",
    "check_operators",
    "compile_expr",
    "complexity",
    "fit_constants",
    "fold_constants",
    "mse",
    "parametrize",
    "round_floats",
    "snap_constants",
    "symbols_for",
]


@dataclass(frozen=True)
class Operator:
    """One operator: its name, arity, vectorised NumPy function and SymPy builder."""

    name: str
    arity: int
    numpy: Callable[..., np.ndarray]
    sympy: Callable[..., sp.Expr]


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("add", 2, np.add, lambda a, b: a + b),
        Operator("sub", 2, np.subtract, lambda a, b: a - b),
        Operator("mul", 2, np.multiply, lambda a, b: a * b),
        Operator("div", 2, np.divide, lambda a, b: a / b),
        Operator("pow", 2, np.power, lambda a, b: a**b),
        Operator("square", 1, np.square, lambda a: a**2),
        Operator("sqrt", 1, np.sqrt, sp.sqrt),
        Operator("exp", 1, np.exp, sp.exp),
        Operator("log", 1, np.log, sp.log),
        Operator("sin", 1, np.sin, sp.sin),
        Operator("cos", 1, np.cos, sp.cos),
        Operator("tan", 1, np.tan, sp.tan),
        Operator("tanh", 1, np.tanh, sp.tanh),
        Operator("asin", 1, np.arcsin, sp.asin),
        Operator("acos", 1, np.arccos, sp.acos),
        Operator("atan", 1, np.arctan, sp.atan),
        Operator("abs", 1, np.abs, sp.Abs),
    )
}
_ALIASES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow", "**": "pow", "ln": "log"}
DEFAULT_OPERATORS = ("add", "sub", "mul", "div", "square", "sqrt", "exp", "log", "sin", "cos")


def check_operators(names: Sequence[str]) -> tuple[str, ...]:
    """Validate operator names (aliases ``+ - * / ^ ln`` allowed); returns canonical names."""
    from scientia.errors import UnknownNameError

    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    out = []
    for name in names:
        canonical = _ALIASES.get(name, name)
        if canonical not in OPERATORS:
            raise UnknownNameError.for_name("operator", name, OPERATORS)
        if canonical not in out:
            out.append(canonical)
    if not any(OPERATORS[n].arity == 2 for n in out):
        raise ValidationError(f"operators need at least one binary operator (add, mul, …); got {list(names)}")
    return tuple(out)


def symbols_for(n: int) -> list[sp.Symbol]:
    """The internal variable symbols ``x0 … x{n-1}``."""
    return [sp.Symbol(f"x{i}") for i in range(n)]


def complexity(expr: sp.Expr) -> int:
    """Nodes of ``expr`` written with binary ``+ - * /`` and unary functions (see module doc)."""
    if expr.is_Atom:
        return 1
    if expr.is_Add:
        terms = expr.args
        return sum(_term_size(t) for t in terms) + len(terms) - 1
    if expr.is_Mul:
        num, den = [], []
        for f in expr.args:
            if f == -1:
                continue  # a sign: absorbed by the enclosing subtraction or counted once below
            if f.is_Pow and f.exp.is_number and f.exp.is_negative:
                den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp, evaluate=False))
            else:
                num.append(f)
        size = sum(complexity(f) for f in num) + max(len(num) - 1, 0)
        if den:
            size += sum(complexity(f) for f in den) + len(den) - 1 + 1 + (0 if num else 1)
        return size + (1 if sp.Integer(-1) in expr.args else 0)
    if expr.is_Pow:
        if expr.exp == sp.Rational(1, 2):
            return 1 + complexity(expr.base)
        if expr.exp.is_number and expr.exp.is_negative:
            return 2 + complexity(sp.Pow(expr.base, -expr.exp, evaluate=False))
        return 1 + complexity(expr.base) + complexity(expr.exp)
    return 1 + sum(complexity(a) for a in expr.args)


def _term_size(term: sp.Expr) -> int:
    # a subtracted term (-x) costs what x costs: the sign is the enclosing operator
    if term.is_Mul and sp.Integer(-1) in term.args:
        return complexity(-term)
    return complexity(term)


def parametrize(expr: sp.Expr) -> tuple[sp.Expr, list[sp.Symbol], np.ndarray]:
    """Replace every ``Float`` of ``expr`` by a symbol ``_c0, _c1, …``; return their values too."""
    symbols: list[sp.Symbol] = []
    values: list[float] = []

    def walk(e: sp.Expr) -> sp.Expr:
        if e.is_Float:
            s = sp.Symbol(f"_c{len(symbols)}")
            symbols.append(s)
            values.append(float(e))
            return s
        if e.is_Atom or not e.args:
            return e
        return e.func(*[walk(a) for a in e.args])

    out = walk(expr)
    return out, symbols, np.array(values, dtype=float)


_NUMPY_FUNCS: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    sp.exp: np.exp,
    sp.log: np.log,
    sp.sin: np.sin,
    sp.cos: np.cos,
    sp.tan: np.tan,
    sp.tanh: np.tanh,
    sp.sinh: np.sinh,
    sp.cosh: np.cosh,
    sp.asin: np.arcsin,
    sp.acos: np.arccos,
    sp.atan: np.arctan,
    sp.Abs: np.abs,
    sp.sign: np.sign,
    sp.cot: lambda a: 1.0 / np.tan(a),
}


class _Unsupported(Exception):
    pass


def _closure(expr: sp.Expr, env: dict[sp.Symbol, int]) -> Callable[[list[Any]], Any]:
    """Compile ``expr`` once into nested closures ``f(values) -> array or float``, where
    ``values[env[symbol]]`` holds each symbol's value; raises ``_Unsupported``."""
    if expr.is_Symbol:
        if expr not in env:
            raise _Unsupported
        k = env[expr]  # type: ignore[index]
        return lambda v: v[k]
    if expr.is_number:
        value = complex(expr)
        if value.imag:
            raise _Unsupported
        c = value.real
        return lambda v: c
    args = [_closure(a, env) for a in expr.args]
    if expr.is_Add or expr.is_Mul:
        op = np.add if expr.is_Add else np.multiply
        first, rest = args[0], args[1:]

        def nary(v: list[Any]) -> Any:
            out = first(v)
            for f in rest:
                out = op(out, f(v))
            return out

        return nary
    if expr.is_Pow:
        base, ex = args
        e = expr.exp
        if e == sp.Rational(1, 2):
            return lambda v: np.sqrt(base(v))
        if e.is_Integer:
            n = int(e)
            if n >= 0:
                return lambda v: np.power(base(v), n)
            return lambda v: 1.0 / np.power(base(v), -n)
        return lambda v: np.power(base(v), ex(v))
    fn = _NUMPY_FUNCS.get(expr.func)
    if fn is None or len(args) != 1:
        raise _Unsupported
    (a,) = args
    return lambda v: fn(a(v))


def _walk(expr: sp.Expr, env: Mapping[sp.Symbol, Any]) -> Any:
    """Evaluate ``expr`` once with NumPy (``env`` maps symbols to values)."""
    keys = list(env)
    return _closure(expr, {k: i for i, k in enumerate(keys)})([env[k] for k in keys])


def compile_expr(
    expr: sp.Expr, n_vars: int, constants: Sequence[sp.Symbol] = ()
) -> Callable[..., np.ndarray]:
    """A vectorised ``f(X, c) -> (n,)`` for ``expr`` in ``x0 … x{n_vars-1}`` and ``constants``.

    The expression is compiled once into NumPy closures (cheap to build, no code generation);
    functions outside the common set go through ``sympy.lambdify``. Raises ``ValueError`` for
    an expression holding an infinity or NaN (e.g. ``zoo`` left by simplifying ``c/0``).
    """
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ValueError(f"expression is not finite: {expr}")
    xs = symbols_for(n_vars)
    try:
        closure = _closure(expr, {s: i for i, s in enumerate([*xs, *constants])})

        def raw(*values: Any) -> Any:
            return closure(list(values))

    except _Unsupported:
        raw = sp.lambdify([*xs, *constants], expr, modules="numpy")

    def f(X: np.ndarray, c: Any = ()) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            out = np.asarray(raw(*(X[:, i] for i in range(n_vars)), *(float(v) for v in c)))
        if np.iscomplexobj(out):
            out = np.where(np.abs(out.imag) > 1e-12, np.nan, out.real)
        return np.broadcast_to(out.astype(float, copy=False), (X.shape[0],))

    return f


def mse(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean squared error; ``inf`` if any prediction is not finite."""
    if not np.all(np.isfinite(pred)):
        return math.inf
    return float(np.mean((y - pred) ** 2))


def fit_constants(
    expr: sp.Expr, X: np.ndarray, y: np.ndarray, method: str = "lm", max_nfev: int = 50
) -> tuple[sp.Expr, float]:
    """Polish the constants of ``expr`` on ``(X, y)``; return the expression and its MSE.

    Parameters
    ----------
    expr : sympy.Expr
        In ``x0 … x{d-1}``; its ``Float`` atoms are the constants, started from their values.
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    method : {"lm", "bfgs"}
        Levenberg–Marquardt (``scipy.optimize.least_squares``) or BFGS on the MSE. LM falls back to
        the trust-region reflective method when there are fewer rows than constants.
    """
    from scipy.optimize import least_squares, minimize

    pexpr, csyms, c0 = parametrize(expr)
    try:
        f = compile_expr(pexpr, X.shape[1], csyms)
    except ValueError:  # an infinity or NaN in the expression: nothing to fit
        return expr, math.nan
    base = mse(y, f(X, c0))
    if not csyms:
        return expr, base
    if not math.isfinite(base):
        return expr, base

    def resid(c: np.ndarray) -> np.ndarray:
        r = f(X, c) - y
        return np.where(np.isfinite(r), r, 1e150)

    try:
        if method == "bfgs":
            res = minimize(
                lambda c: float(np.mean(resid(c) ** 2)), c0, method="BFGS", options={"maxiter": max_nfev}
            )
            c = res.x
        else:
            lm = "lm" if len(y) >= len(c0) else "trf"
            c = least_squares(resid, c0, method=lm, max_nfev=max_nfev * (len(c0) + 1)).x
    except (ValueError, FloatingPointError, OverflowError, np.linalg.LinAlgError):
        return expr, base
    new = mse(y, f(X, c))
    if not new < base:
        return expr, base
    return pexpr.xreplace({s: sp.Float(v) for s, v in zip(csyms, c, strict=True)}), new


def fold_constants(expr: sp.Expr, X: np.ndarray, rtol: float = 1e-5) -> sp.Expr:
    """Replace each sub-expression whose value hardly varies over the rows of ``X`` by a constant.

    Engines sometimes build a constant out of variables (``sin(exp(sqrt((6.35*x + 10.1)/(1.35*x +
    2.16))))``); folding it lets the constants be refitted and the structure be recognised.
    """
    env = {x: X[:, i] for i, x in enumerate(symbols_for(X.shape[1]))}

    def walk(e: sp.Expr) -> sp.Expr:
        if e.is_Atom or not e.free_symbols:
            return e
        try:
            with np.errstate(all="ignore"):
                v: Any = np.asarray(_walk(e, env), dtype=float)
        except (_Unsupported, TypeError, ValueError, KeyError):
            return e
        if v.size and np.all(np.isfinite(v)):
            mean = float(np.mean(v))
            if float(np.ptp(v)) <= rtol * abs(mean) or float(np.ptp(v)) == 0.0:
                return sp.Float(mean)
        return e.func(*[walk(a) for a in e.args])

    return walk(expr)


def _snap_targets(v: float) -> list[sp.Number]:
    out: list[sp.Number] = []
    for cand in (sp.Integer(round(v)), sp.Rational(round(2 * v), 2)):
        if abs(float(cand) - v) <= 1e-3 * max(1.0, abs(v)) and cand not in out:
            out.append(cand)
    if abs(v) < 1e-6:
        out.insert(0, sp.Integer(0))
    return out


def snap_constants(
    expr: sp.Expr,
    X: np.ndarray,
    y: np.ndarray,
    loss: float,
    accept: Callable[[sp.Expr], bool] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-10,
) -> tuple[sp.Expr, float]:
    """Replace constants by nearby integers/halves (or 0) while the MSE stays within tolerance.

    A replacement is kept if, after refitting the other constants, the MSE is at most
    ``loss * (1 + rtol) + atol * var(y)`` and ``accept(new_expr)`` (e.g. a units check) holds.
    """
    tol = loss * (1 + rtol) + atol * float(np.var(y))
    for _ in range(8):  # each pass snaps at most one constant, then the expression is rebuilt
        changed = False
        for f in sorted(expr.atoms(sp.Float), key=lambda a: -abs(float(a))):
            for target in _snap_targets(float(f)):
                cand = expr.xreplace({f: target})
                if cand.atoms(sp.Float):
                    cand, new = fit_constants(cand, X, y, max_nfev=20)
                elif cand.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                    continue
                else:
                    new = mse(y, compile_expr(cand, X.shape[1])(X, ()))
                if new <= tol and (accept is None or accept(cand)):
                    expr, loss, changed = cand, min(new, loss), True
                    break
            if changed:
                break
        if not changed:
            break
    return expr, loss


def round_floats(expr: sp.Expr, digits: int) -> sp.Expr:
    """``expr`` with every ``Float`` rounded to ``digits`` significant digits (for display)."""
    reps = {}
    for f in expr.atoms(sp.Float):
        v = float(f)
        reps[f] = sp.Float(float(f"{v:.{digits}g}"), digits) if math.isfinite(v) else f
    return expr.xreplace(reps)
