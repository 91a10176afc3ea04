"""Exports of a fitted equation: LaTeX and a differentiable PyTorch module.

:func:`torch_module` compiles a SymPy expression into a ``torch.nn.Module`` whose fitted constants
(the expression's ``Float`` atoms) are ``nn.Parameter``s, so the equation can be fine-tuned or used
inside a larger model. Exact numbers (``2``, ``1/2``, ``pi``) stay fixed. torch is imported only
when a module is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

from scientia.errors import ValidationError
from scientia.hypothesize.symbolic.expressions import parametrize, round_floats

__all__ = ["latex", "torch_module"]


def latex(expr: sp.Expr, precision: int = 3) -> str:
    """LaTeX for ``expr`` with constants rounded to ``precision`` significant digits."""
    return sp.latex(round_floats(expr, precision))


_UNARY = {
    sp.exp: "exp",
    sp.log: "log",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.tanh: "tanh",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.asin: "asin",
    sp.acos: "acos",
    sp.atan: "atan",
    sp.Abs: "abs",
    sp.sign: "sign",
}


def _compile(expr: sp.Expr, index: dict[sp.Symbol, int], consts: dict[sp.Symbol, int]) -> Callable[..., Any]:
    """A closure ``f(columns, params) -> tensor`` evaluating ``expr``."""
    import torch

    if expr in consts:
        k = consts[expr]  # type: ignore[index]
        return lambda cols, p: p[k]
    if expr in index:
        i = index[expr]  # type: ignore[index]
        return lambda cols, p: cols[i]
    if expr.is_number:
        value = complex(expr)
        if value.imag != 0 or not math.isfinite(value.real):
            raise ValidationError(f"cannot export the constant {expr} to torch")
        v = value.real
        return lambda cols, p: v
    args = [_compile(a, index, consts) for a in expr.args]
    if expr.is_Add:
        return lambda cols, p: sum((f(cols, p) for f in args[1:]), args[0](cols, p))

    if expr.is_Mul:

        def mul(cols: Any, p: Any) -> Any:
            out = args[0](cols, p)
            for f in args[1:]:
                out = out * f(cols, p)
            return out

        return mul
    if expr.is_Pow:
        base, ex = args
        e = expr.exp
        if e == sp.Rational(1, 2):
            return lambda cols, p: torch.sqrt(base(cols, p))
        if e.is_Integer:
            n = int(e)
            return lambda cols, p: torch.pow(base(cols, p), n)
        return lambda cols, p: torch.pow(base(cols, p), ex(cols, p))
    if expr.func in _UNARY:
        fn = getattr(torch, _UNARY[expr.func])
        (a,) = args
        return lambda cols, p: fn(_tensor(a(cols, p), cols))
    if expr.func == sp.cot:
        (a,) = args
        return lambda cols, p: 1.0 / torch.tan(_tensor(a(cols, p), cols))
    raise ValidationError(f"cannot export {expr.func.__name__} to torch")


def _tensor(value: Any, cols: Sequence[Any]) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(value, dtype=cols[0].dtype if cols else torch.float64)


def torch_module(expr: sp.Expr, symbols: Sequence[sp.Symbol], dtype: Any = None) -> Any:
    """A ``torch.nn.Module`` computing ``expr``; its constants are trainable parameters.

    Parameters
    ----------
    expr : sympy.Expr
    symbols : sequence of sympy.Symbol
        The inputs, in column order: the module maps ``X`` of shape ``(n, d)`` to ``(n,)``.
    dtype : torch.dtype, optional
        Of the parameters (default ``torch.float64``).

    Returns
    -------
    torch.nn.Module
        With attribute ``constants`` (an ``nn.Parameter`` of shape ``(k,)``) and ``expression``
        (the SymPy expression with the constants named ``_c0 … _c{k-1}``).
    """
    import torch

    dtype = dtype or torch.float64
    pexpr, csyms, values = parametrize(expr)
    index = {s: i for i, s in enumerate(symbols)}
    unknown = pexpr.free_symbols - set(index) - set(csyms)
    if unknown:
        raise ValidationError(f"the expression uses {sorted(map(str, unknown))}, which are not inputs")
    fn = _compile(pexpr, index, {s: k for k, s in enumerate(csyms)})

    class SymbolicModule(torch.nn.Module):
        """An equation as a differentiable module: ``forward(X (n, d)) -> (n,)``."""

        def __init__(self) -> None:
            super().__init__()
            self.constants = torch.nn.Parameter(torch.as_tensor(values, dtype=dtype))
            self.expression = pexpr
            self.n_inputs = len(symbols)

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            if X.ndim != 2 or X.shape[1] != self.n_inputs:
                raise ValidationError(f"expected X of shape (n, {self.n_inputs}), got {tuple(X.shape)}")
            cols = [X[:, i] for i in range(self.n_inputs)]
            out = fn(cols, self.constants)
            if not isinstance(out, torch.Tensor) or out.ndim == 0:
                out = _tensor(out, cols).expand(X.shape[0])
            return out.expand(X.shape[0]) if out.ndim == 0 else out

        def extra_repr(self) -> str:
            return str(self.expression)

    return SymbolicModule()
