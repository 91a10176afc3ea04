"""Our genetic-programming engine: vectorised NumPy trees, LM-polished constants, a Pareto archive.

* Trees (:mod:`._trees`) are evaluated column-wise on a fixed random subset of at most ``n_rows``
  rows; every tree is linearly scaled (``a + b*f``, closed form) before its error is measured, so
  the search looks for shape, not scale (Keijzer 2003). The error is the normalised MSE
  ``mean((y - a - b f)^2) / var(y)``.
* Selection: tournaments on ``max(nmse, 1e-14) * (1 + parsimony * length)``; a fraction
  ``p_archive`` of the parents comes from the archive instead. Each generation replaces the
  population by offspring (subtree crossover, point / subtree / hoist / insert / constant mutation)
  and keeps the best ``elite`` individuals.
* Constants: each generation the best ``optimize_top`` not-yet-polished individuals get
  Levenberg–Marquardt on their constants (``scipy.optimize.least_squares``, variable projection
  of the scale and offset), written back into the tree.
* Parsimony: the archive keeps the best tree of every length; its non-dominated part is the front
  that is reported and returned. With units, dimensionally inconsistent trees are penalised and
  never enter the archive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from scientia.hypothesize.symbolic import _trees as T
from scientia.hypothesize.symbolic.engines import CpuClock, Report, SearchProblem
from scientia.hypothesize.symbolic.expressions import OPERATORS, symbols_for
from scientia.seeding import Seed, rng

__all__ = ["GPEngine"]

_EXACT = 1e-14


class _Scored:
    """A tree with its error and linear-scaling coefficients."""

    __slots__ = ("a", "b", "fitness", "nmse", "ok", "tree")

    def __init__(self, tree: T.Tree, nmse: float, a: float, b: float, ok: bool, parsimony: float) -> None:
        self.tree, self.nmse, self.a, self.b, self.ok = tree, nmse, a, b, ok
        penalty = 0.0 if ok else 1.0
        self.fitness = max(nmse, _EXACT) * (1.0 + parsimony * len(tree)) + penalty


class GPEngine:
    """Vectorised genetic programming with LM-polished constants (see the module docstring).

    Parameters
    ----------
    population_size : int
    tournament_size : int
    p_crossover : float
        Probability that an offspring comes from crossover (else from mutation).
    p_archive : float
        Probability that a parent is drawn from the archive rather than the population.
    parsimony : float
        Relative fitness penalty per node.
    elite : int
        Best individuals carried over unchanged to the next generation.
    optimize_top : int
        Individuals whose constants are polished by LM each generation.
    n_rows : int
        Rows (a fixed random subset) used to score trees; LM uses at most ``n_rows // 4``.
    max_depth : int
        Depth of the initial trees (ramped half-and-half from 1).
    report_every : float
        CPU seconds between two reports of the front.
    """

    def __init__(
        self,
        population_size: int = 200,
        tournament_size: int = 5,
        p_crossover: float = 0.7,
        p_archive: float = 0.1,
        parsimony: float = 0.001,
        elite: int = 4,
        optimize_top: int = 6,
        n_rows: int = 1000,
        max_depth: int = 4,
        report_every: float = 1.0,
    ) -> None:
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.p_crossover = p_crossover
        self.p_archive = p_archive
        self.parsimony = parsimony
        self.elite = elite
        self.optimize_top = optimize_top
        self.n_rows = n_rows
        self.max_depth = max_depth
        self.report_every = report_every

    # -- the search ------------------------------------------------------------------------
    def search(
        self,
        problem: SearchProblem,
        *,
        time_limit: float,
        generations: int | None = None,
        seed: Seed = None,
        report: Report | None = None,
        initial: Sequence[T.Tree] = (),
    ) -> list[sp.Expr]:
        """Evolve for ``time_limit`` CPU seconds (or ``generations``); return the archive's front.

        ``initial`` seeds the first population (trees in the :mod:`._trees` encoding over
        ``problem.operators``; those longer than ``max_complexity`` are dropped, at most
        ``population_size`` are used, random trees fill the rest); seeds also enter the archive.
        """
        clock = CpuClock()
        gen = rng(seed)
        self._setup(problem, gen)
        seeds = [t for t in dict.fromkeys(initial) if len(t) <= self.max_len][: self.population_size]
        pop = [self._score(t) for t in seeds]
        pop += [self._score(t) for t in self._initial(gen, self.population_size - len(pop))]
        if seeds:
            self._update_archive(pop)
        last_report, stale, g = 0.0, 0, 0
        last_key: tuple = ()
        while True:
            g += 1
            pop = self._generation(pop, gen)
            self._update_archive(pop)
            key = self._front_key()
            stale = stale + 1 if key == last_key else 0
            last_key = key
            done = (generations is not None and g >= generations) or clock() >= time_limit
            exact = min(s.nmse for s in self.archive.values()) < _EXACT if self.archive else False
            done = done or (exact and stale >= 25)
            if report is not None and (done or clock() - last_report >= self.report_every):
                last_report = clock()
                if report(self._front()) and not done:
                    break
            if done:
                break
        self.generations_ = g
        return self._front()

    # -- set-up ----------------------------------------------------------------------------
    def _setup(self, problem: SearchProblem, gen: np.random.Generator) -> None:
        self.ops = T.Ops([OPERATORS[name] for name in problem.operators])
        n = len(problem.y)
        rows = np.sort(gen.choice(n, size=min(n, self.n_rows), replace=False))
        X, y = problem.X[rows], problem.y[rows]
        self.n_vars = problem.n_features
        self.cols = [np.ascontiguousarray(X[:, i]) for i in range(self.n_vars)]
        self.y = y
        self.y_mean = float(y.mean())
        self.yc = y - self.y_mean
        self.vy = float(self.yc @ self.yc) or 1.0
        k = max(min(n, self.n_rows) // 4, 50)
        self.opt_cols = [c[:k] for c in self.cols]
        self.opt_y = y[:k]
        self.max_len = problem.max_complexity
        self.dims = problem.dims
        self.symbols = symbols_for(self.n_vars)
        self.archive: dict[int, _Scored] = {}
        self.polished: set[T.Tree] = set()

    def _initial(self, gen: np.random.Generator, n: int) -> list[T.Tree]:
        out: list[T.Tree] = []
        while len(out) < n:
            depth = 1 + len(out) % self.max_depth
            tree = T.random_tree(gen, self.ops, self.n_vars, depth, full=bool(len(out) % 2))
            if len(tree) <= self.max_len:
                out.append(tree)
        return out

    # -- scoring ---------------------------------------------------------------------------
    def _scale(self, f: Any, y: np.ndarray) -> tuple[float, float, float]:
        """Best ``a + b*f`` for ``y``: returns (sse, a, b); sse is inf for invalid output."""
        if np.ndim(f) == 0 or not np.all(np.isfinite(f)):
            if np.ndim(f) == 0 and math.isfinite(float(f)):
                yc = y - y.mean()
                return float(yc @ yc), float(y.mean()), 0.0
            return math.inf, 0.0, 0.0
        fm = float(f.mean())
        fc = f - fm
        vf = float(fc @ fc)
        ym = float(y.mean())
        yc = y - ym
        if not vf > 1e-300 or not math.isfinite(vf):
            return float(yc @ yc), ym, 0.0
        b = float(fc @ yc) / vf
        r = yc - b * fc
        return float(r @ r), ym - b * fm, b

    def _score(self, tree: T.Tree) -> _Scored:
        with np.errstate(all="ignore"):
            f = T.evaluate(tree, self.cols, self.ops)
            sse, a, b = self._scale(f, self.y)
        nmse = sse / self.vy if math.isfinite(sse) else math.inf
        ok = self.dims is None or T.consistent(tree, self.ops, self.dims)
        return _Scored(tree, nmse, a, b, ok, self.parsimony)

    def _polish(self, s: _Scored) -> _Scored:
        from scipy.optimize import least_squares

        c0 = np.array(T.constants(s.tree))
        self.polished.add(s.tree)
        if not len(c0) or not math.isfinite(s.nmse):
            return s
        y = self.opt_y

        def resid(c: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                f = T.evaluate(s.tree, self.opt_cols, self.ops, c)
                if np.ndim(f) == 0 or not np.all(np.isfinite(f)):
                    return np.full(len(y), 1e150)
                fc = f - f.mean()
                vf = float(fc @ fc)
                yc = y - y.mean()
                if not (1e-300 < vf < 1e300):
                    return yc if vf <= 1e-300 else np.full(len(y), 1e150)
                return yc - (float(fc @ yc) / vf) * fc

        try:
            c = least_squares(resid, c0, method="lm", max_nfev=30 * (len(c0) + 1)).x
        except (ValueError, np.linalg.LinAlgError):
            return s
        new = self._score(T.with_constants(s.tree, c))
        self.polished.add(new.tree)
        return new if new.fitness < s.fitness else s

    # -- variation -------------------------------------------------------------------------
    def _select(self, pop: list[_Scored], gen: np.random.Generator) -> T.Tree:
        if self.archive and gen.random() < self.p_archive:
            keys = list(self.archive)
            return self.archive[keys[int(gen.integers(len(keys)))]].tree
        idx = gen.integers(len(pop), size=self.tournament_size)
        return min((pop[i] for i in idx), key=lambda s: s.fitness).tree

    def _pick_node(self, tree: T.Tree, gen: np.random.Generator, internal: float = 0.9) -> int:
        inner = [i for i, n in enumerate(tree) if n[0] >= 0]
        if inner and gen.random() < internal:
            return inner[int(gen.integers(len(inner)))]
        return int(gen.integers(len(tree)))

    def _crossover(self, a: T.Tree, b: T.Tree, gen: np.random.Generator) -> T.Tree:
        i = self._pick_node(a, gen)
        j = self._pick_node(b, gen)
        return a[:i] + b[j : T.subtree_end(b, j, self.ops)] + a[T.subtree_end(a, i, self.ops) :]

    def _mutate(self, tree: T.Tree, gen: np.random.Generator) -> T.Tree:
        kind = gen.choice(5, p=[0.25, 0.25, 0.15, 0.2, 0.15])
        i = int(gen.integers(len(tree)))
        end = T.subtree_end(tree, i, self.ops)
        code, value = tree[i]
        if kind == 0:  # point: same arity operator, another variable, a nudged constant
            if code >= 0:
                pool = self.ops.unary if self.ops.arity[code] == 1 else self.ops.binary
                node: T.Node = (int(gen.choice(pool)), 0.0)
            elif code == T.VAR:
                node = T.random_leaf(gen, self.n_vars, p_const=0.0)
            else:
                node = (T.CONST, value * float(np.exp(gen.normal(0, 0.5))))
            return (*tree[:i], node, *tree[i + 1 :])
        if kind == 1:  # subtree replacement
            new = T.random_tree(gen, self.ops, self.n_vars, int(gen.integers(1, 4)), full=False)
            return tree[:i] + new + tree[end:]
        if kind == 2:  # hoist: replace a subtree by one of its own subtrees
            j = i + int(gen.integers(end - i))
            return tree[:i] + tree[j : T.subtree_end(tree, j, self.ops)] + tree[end:]
        if kind == 3:  # insert an operator above a subtree
            use_unary = self.ops.unary and gen.random() < 0.5
            op = int(gen.choice(self.ops.unary if use_unary else self.ops.binary))
            sub = tree[i:end]
            if self.ops.arity[op] == 1:
                wrapped = ((op, 0.0), *sub)
            else:
                leaf = (T.random_leaf(gen, self.n_vars),)
                wrapped = ((op, 0.0), *sub, *leaf) if gen.random() < 0.5 else ((op, 0.0), *leaf, *sub)
            return tree[:i] + wrapped + tree[end:]
        consts = T.constants(tree)  # perturb every constant
        if not consts:
            return (*tree[:i], T.random_leaf(gen, self.n_vars), *tree[end:])
        noise = np.exp(gen.normal(0, 0.3, len(consts)))
        return T.with_constants(tree, np.array(consts) * noise)

    def _generation(self, pop: list[_Scored], gen: np.random.Generator) -> list[_Scored]:
        children: list[T.Tree] = []
        seen: set[T.Tree] = set()
        tries = 0
        while len(children) < self.population_size - self.elite and tries < 20 * self.population_size:
            tries += 1
            parent = self._select(pop, gen)
            if gen.random() < self.p_crossover:
                child = self._crossover(parent, self._select(pop, gen), gen)
            else:
                child = self._mutate(parent, gen)
            if len(child) <= self.max_len and child not in seen:
                seen.add(child)
                children.append(child)
        scored = [self._score(t) for t in children]
        best = sorted(pop, key=lambda s: s.fitness)[: self.elite]
        new = best + scored
        new.sort(key=lambda s: s.fitness)
        done = 0
        for k, s in enumerate(new):
            if done >= self.optimize_top:
                break
            if s.tree not in self.polished and any(c == T.CONST for c, _ in s.tree):
                new[k] = self._polish(s)
                done += 1
        return new

    # -- archive and front -----------------------------------------------------------------
    def _update_archive(self, pop: Sequence[_Scored]) -> bool:
        changed = False
        for s in pop:
            if not s.ok or not math.isfinite(s.nmse):
                continue
            size = len(s.tree)
            cur = self.archive.get(size)
            if cur is None or s.nmse < cur.nmse * (1 - 1e-9):
                self.archive[size] = s
                changed = True
        return changed

    def _front_key(self) -> tuple:
        best, key = math.inf, []
        for size in sorted(self.archive):
            s = self.archive[size]
            if s.nmse < best * (1 - 1e-9):
                best = s.nmse
                key.append((size, float(f"{s.nmse:.6g}")))
        return tuple(key)

    def _front(self) -> list[sp.Expr]:
        out: list[sp.Expr] = []
        best = math.inf
        for size in sorted(self.archive):
            s = self.archive[size]
            if s.nmse < best * (1 - 1e-9):
                best = s.nmse
                f = T.to_sympy(s.tree, self.symbols, self.ops)
                out.append(sp.Float(s.a) + sp.Float(s.b) * f if s.b != 0 else sp.Float(s.a))
        return out
