"""Expression trees of the NumPy GP engine: prefix tuples evaluated vectorised over the data.

A tree is a tuple of nodes in prefix order; a node is ``(code, value)`` where ``code >= 0`` is an
index into the engine's operator list, :data:`VAR` a variable (``value`` = column) and
:data:`CONST` a constant (``value`` = its value). Evaluation walks the nodes once from the end with
a stack, each operator acting on whole columns, so one tree costs one NumPy call per node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from scientia.hypothesize.symbolic.expressions import Operator

VAR = -1
CONST = -2
Node = tuple[int, float]
Tree = tuple[Node, ...]

# operators whose argument must be dimensionless (and whose result is)
_TRANSCENDENTAL = {"exp", "log", "sin", "cos", "tan", "tanh", "asin", "acos", "atan"}


class Ops:
    """The operator set of one search: arities, NumPy functions and sampling helpers."""

    def __init__(self, operators: Sequence[Operator]) -> None:
        self.ops = list(operators)
        self.arity = [op.arity for op in self.ops]
        self.numpy = [op.numpy for op in self.ops]
        self.unary = [i for i, op in enumerate(self.ops) if op.arity == 1]
        self.binary = [i for i, op in enumerate(self.ops) if op.arity == 2]

    def node_arity(self, node: Node) -> int:
        return self.arity[node[0]] if node[0] >= 0 else 0


def subtree_end(tree: Tree, i: int, ops: Ops) -> int:
    """Index one past the subtree rooted at ``i``."""
    need = 1
    j = i
    while need:
        need += ops.node_arity(tree[j]) - 1
        j += 1
    return j


def random_leaf(rng: np.random.Generator, n_vars: int, p_const: float = 0.3) -> Node:
    if rng.random() < p_const:
        return (CONST, float(np.round(rng.normal(0.0, 2.0), 3)))
    return (VAR, float(rng.integers(n_vars)))


def random_tree(rng: np.random.Generator, ops: Ops, n_vars: int, depth: int, full: bool) -> Tree:
    """A random tree of at most ``depth`` levels (``full``: every branch reaches it)."""
    out: list[Node] = []

    def grow(d: int) -> None:
        if d == 0 or (not full and rng.random() < 0.3):
            out.append(random_leaf(rng, n_vars))
            return
        use_unary = ops.unary and rng.random() < 0.3
        code = int(rng.choice(ops.unary if use_unary else ops.binary))
        out.append((code, 0.0))
        for _ in range(ops.arity[code]):
            grow(d - 1)

    grow(depth)
    return tuple(out)


def evaluate(tree: Tree, cols: Sequence[np.ndarray], ops: Ops, consts: Any = None) -> Any:
    """Value of ``tree`` on the data columns (an array, or a float for a constant tree).

    ``consts`` overrides the constants' values in prefix order.
    """
    stack: list[Any] = []
    k = sum(1 for n in tree if n[0] == CONST) if consts is not None else 0
    fns = ops.numpy
    for code, value in reversed(tree):
        if code == VAR:
            stack.append(cols[int(value)])
        elif code == CONST:
            if consts is not None:
                k -= 1
                stack.append(consts[k])
            else:
                stack.append(value)
        elif ops.arity[code] == 1:
            stack.append(fns[code](stack.pop()))
        else:
            a = stack.pop()
            stack.append(fns[code](a, stack.pop()))
    return stack[0]


def constants(tree: Tree) -> list[float]:
    """The constants' values, in prefix order."""
    return [v for c, v in tree if c == CONST]


def with_constants(tree: Tree, values: Any) -> Tree:
    """``tree`` with its constants replaced by ``values`` (prefix order)."""
    it = iter(values)
    return tuple((c, float(next(it))) if c == CONST else (c, v) for c, v in tree)


def to_sympy(tree: Tree, symbols: Sequence[sp.Symbol], ops: Ops) -> sp.Expr:
    """The tree as a SymPy expression (constants become ``Float``)."""
    stack: list[sp.Expr] = []
    for code, value in reversed(tree):
        if code == VAR:
            stack.append(symbols[int(value)])
        elif code == CONST:
            stack.append(sp.Float(value))
        else:
            args = [stack.pop() for _ in range(ops.arity[code])]
            stack.append(ops.ops[code].sympy(*args))
    return stack[0]


class _Inconsistent(Exception):
    pass


def consistent(tree: Tree, ops: Ops, var_dims: np.ndarray) -> bool:
    """Dimensional consistency with free-unit constants (as in :mod:`.units`)."""
    stack: list[np.ndarray | None] = []
    try:
        for code, value in reversed(tree):
            if code == VAR:
                stack.append(var_dims[int(value)])
            elif code == CONST:
                stack.append(None)
            else:
                stack.append(_combine(ops.ops[code].name, [stack.pop() for _ in range(ops.arity[code])]))
    except _Inconsistent:
        return False
    return True


def _is_zero(d: np.ndarray | None) -> bool:
    return d is None or not np.any(np.abs(d) > 1e-9)


def _combine(name: str, args: list[np.ndarray | None]) -> np.ndarray | None:
    if name in ("add", "sub"):
        a, b = args
        if a is not None and b is not None and not np.allclose(a, b, atol=1e-9):
            raise _Inconsistent
        return a if a is not None else b
    if name in ("mul", "div"):
        a, b = args
        if a is None or b is None:
            return None
        return a + b if name == "mul" else a - b
    if name == "square":
        return None if args[0] is None else 2 * args[0]
    if name == "sqrt":
        return None if args[0] is None else 0.5 * args[0]
    if name == "abs":
        return args[0]
    if name == "pow":
        if not _is_zero(args[1]):
            raise _Inconsistent
        if not _is_zero(args[0]):
            raise _Inconsistent  # a dimensional base needs a numeric exponent; trees have none
        return args[0]
    if name in _TRANSCENDENTAL:
        if not _is_zero(args[0]):
            raise _Inconsistent
        return np.zeros(7)
    return None
