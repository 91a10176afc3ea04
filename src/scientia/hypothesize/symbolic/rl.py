"""The reinforcement-learning engine: deep symbolic regression (Petersen et al., ICLR 2021).

A GRU policy (:mod:`._policy`) samples expressions token by token in prefix order under in-situ
constraints (length, no self-inverting unary pairs, no nested trigonometry, no all-constant
subtree, at most ``max_constants`` constants), so every sample is a complete tree of at most
``max_length`` tokens. Each iteration:

1. sample ``batch_size`` expressions;
2. fit the constants of each new one (placeholders start at 1; Levenberg–Marquardt,
   ``scipy.optimize.least_squares``, at most ``const_steps * (k + 1)`` evaluations on ``const_rows``
   rows) — results are cached by token sequence, so a sequence is fitted once per search;
3. reward ``R = 1 / (1 + NRMSE)`` on ``n_rows`` rows, with ``NRMSE = RMSE / std(y)``; with
   ``linear_scaling`` (default, as our GP engine) the expression is first scaled as ``a + b*f`` in
   closed form, so the policy looks for shape and not scale (a departure from DSR, which has only
   its constants); a non-finite or, with units, dimensionally inconsistent expression gets 0;
4. risk-seeking policy gradient: with ``R_eps`` the ``1 - epsilon`` quantile of the batch, the loss
   over the samples with ``R >= R_eps`` is ``-mean((R - R_eps) * log p) - entropy_weight *
   mean(H)``, where ``H`` sums the per-token entropies weighted ``entropy_gamma**t``; one Adam step.

A hall of fame keeps the best expression of every length (its non-dominated part is the front
that is reported and returned) and the ``hall_of_fame`` best distinct expressions by reward
(:meth:`RLEngine.elite`, which seeds the hybrid engine). The search stops after ``time_limit``
CPU seconds or ``generations`` iterations, when ``report`` returns True, or once an exact fit has
not improved the front for 10 iterations. Torch runs on one thread inside the search (the
previous setting is restored) and the weights are initialised under a forked RNG, so the global
torch RNG is untouched and the same seed gives the same result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from scientia.errors import ConfigError
from scientia.hypothesize.symbolic import _trees as T
from scientia.hypothesize.symbolic.engines import CpuClock, Report, SearchProblem
from scientia.hypothesize.symbolic.expressions import symbols_for
from scientia.seeding import Seed, rng

__all__ = ["RLEngine"]

_EXACT = 1e-14
_DAMPING = np.array([1e-3, 1e-1, 1e1, 1e3])  # LM damping factors tried at once, times the current mu
_RTOL = 1e-4  # LM stops when an iteration improves the SSE by less than this (relative)
_PATIENCE = 10  # iterations without a front change after an exact fit before stopping


class _Fit:
    """One evaluated token sequence: its tree (fitted constants), error, scaling and reward."""

    __slots__ = ("a", "b", "nmse", "ok", "reward", "tokens", "tree")

    def __init__(
        self, tokens: tuple[int, ...], tree: T.Tree, nmse: float, a: float, b: float, ok: bool
    ) -> None:
        self.tokens, self.tree, self.nmse, self.a, self.b, self.ok = tokens, tree, nmse, a, b, ok
        good = ok and math.isfinite(nmse)
        self.reward = 1.0 / (1.0 + math.sqrt(max(nmse, 0.0))) if good else 0.0


def scaled_sse(f: Any, y: np.ndarray, linear: bool = True) -> tuple[float, float, float]:
    """Sum of squared errors of ``a + b*f`` for ``y`` (``a, b`` by least squares if ``linear``,
    else 0 and 1); returns ``(sse, a, b)``, sse ``inf`` for non-finite output."""
    if np.ndim(f) == 0:
        v = float(f)
        if not math.isfinite(v):
            return math.inf, 0.0, 0.0
        if linear:
            yc = y - y.mean()
            return float(yc @ yc), float(y.mean()), 0.0
        r = y - v
        return float(r @ r), 0.0, 1.0
    if not np.all(np.isfinite(f)):
        return math.inf, 0.0, 0.0
    if not linear:
        r = y - f
        return float(r @ r), 0.0, 1.0
    fm, ym = float(f.mean()), float(y.mean())
    fc, yc = f - fm, y - ym
    vf = float(fc @ fc)
    if not (1e-300 < vf < 1e300):
        return (float(yc @ yc), ym, 0.0) if vf <= 1e-300 else (math.inf, 0.0, 0.0)
    b = float(fc @ yc) / vf
    r = yc - b * fc
    return float(r @ r), ym - b * fm, b


class RLEngine:
    """Deep symbolic regression: a GRU policy trained by risk-seeking policy gradient.

    Parameters
    ----------
    batch_size : int
        Expressions sampled per iteration.
    epsilon : float
        The policy is trained on the top ``epsilon`` quantile of each batch.
    learning_rate : float
        Adam step size.
    entropy_weight, entropy_gamma : float
        Entropy bonus and its per-token discount.
    hidden : int
        GRU state size.
    max_length : int, optional
        Most tokens per expression (default: the problem's ``max_complexity``).
    min_length : int
        Fewest tokens per expression (lowered to ``max_length - 2`` when larger).
    max_constants : int
        Most ``const`` tokens per expression.
    soft_length : (float, float) or None
        ``(loc, scale)`` of the soft length prior (see :mod:`._policy`); None for none.
    linear_scaling : bool
        Score ``a + b*f`` with ``a, b`` fitted in closed form (see the module docstring).
    n_rows, const_rows : int
        Rows (a fixed random subset) used for the reward and for fitting constants.
    const_steps : int
        LM evaluations per constant (and one more) when fitting a new expression.
    hall_of_fame : int
        Distinct best expressions kept (for :meth:`elite`).
    report_every : float
        CPU seconds between two reports of the front.
    """

    def __init__(
        self,
        batch_size: int = 250,
        epsilon: float = 0.05,
        learning_rate: float = 0.01,
        entropy_weight: float = 0.03,
        entropy_gamma: float = 0.7,
        hidden: int = 32,
        max_length: int | None = None,
        min_length: int = 1,
        max_constants: int = 3,
        soft_length: tuple[float, float] | None = (10.0, 5.0),
        linear_scaling: bool = True,
        n_rows: int = 500,
        const_rows: int = 100,
        const_steps: int = 10,
        hall_of_fame: int = 100,
        report_every: float = 1.0,
    ) -> None:
        self.batch_size = batch_size
        self.epsilon = epsilon
        self.learning_rate = learning_rate
        self.entropy_weight = entropy_weight
        self.entropy_gamma = entropy_gamma
        self.hidden = hidden
        self.max_length = max_length
        self.min_length = min_length
        self.max_constants = max_constants
        self.soft_length = soft_length
        self.linear_scaling = linear_scaling
        self.n_rows = n_rows
        self.const_rows = const_rows
        self.const_steps = const_steps
        self.hall_of_fame = hall_of_fame
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
    ) -> list[sp.Expr]:
        """Train for ``time_limit`` CPU seconds (or ``generations`` iterations); return the front.

        After the search, ``history_`` holds per iteration the mean reward of the batch's top
        ``epsilon`` quantile (``top``) and the best reward so far (``best``); ``iterations_`` and
        ``evaluations_`` (distinct expressions fitted) count the work done.
        """
        import torch

        self._check()
        clock = CpuClock()
        gen = rng(seed)
        self._setup(problem, gen)
        torch_seed = int(gen.integers(2**31))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            from scientia.hypothesize.symbolic._policy import Policy, sample

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(torch_seed)
                policy = Policy(self.lib.size, hidden=self.hidden)
            sampler = torch.Generator().manual_seed(torch_seed + 1)
            opt = torch.optim.Adam(policy.parameters(), lr=self.learning_rate)
            self.history_: list[dict[str, float]] = []
            last_report, stale, it, best = 0.0, 0, 0, 0.0
            last_key: tuple = ()
            while True:
                it += 1
                batch = sample(
                    policy,
                    self.lib,
                    self.batch_size,
                    self.max_len,
                    self.min_length,
                    self.max_constants,
                    sampler,
                    self.soft_length,
                )
                fits = [self._evaluate(batch.tokens(i)) for i in range(self.batch_size)]
                rewards = np.array([f.reward for f in fits])
                self._remember(fits)
                keep = self._train(policy, opt, batch, rewards)
                best = max(best, float(rewards.max()))
                self.history_.append({"top": float(rewards[keep].mean()), "best": best})
                key = self._front_key()
                stale = stale + 1 if key == last_key else 0
                last_key = key
                exact = bool(self.archive) and min(f.nmse for f in self.archive.values()) < _EXACT
                done = (generations is not None and it >= generations) or clock() >= time_limit
                done = done or (exact and stale >= _PATIENCE)
                if report is not None and (done or clock() - last_report >= self.report_every):
                    last_report = clock()
                    if report(self.front()) and not done:
                        break
                if done:
                    break
        finally:
            torch.set_num_threads(threads)
        self.iterations_ = it
        self.evaluations_ = len(self.cache)
        return self.front()

    def _check(self) -> None:
        if int(self.batch_size) < 2:
            raise ConfigError(f"batch_size must be at least 2, got {self.batch_size!r}")
        if not 0.0 < self.epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in (0, 1] (the trained top quantile), got {self.epsilon!r}")
        if int(self.max_constants) < 0 or int(self.min_length) < 1:
            raise ConfigError(
                f"need max_constants >= 0 and min_length >= 1, got {self.max_constants!r} and "
                f"{self.min_length!r}"
            )
        if self.soft_length is not None and not self.soft_length[1] > 0:
            raise ConfigError(f"soft_length must be (loc, scale) with scale > 0, got {self.soft_length!r}")

    def _train(self, policy: Any, opt: Any, batch: Any, rewards: np.ndarray) -> np.ndarray:
        """One risk-seeking policy-gradient step on the top quantile; returns its indices."""
        import torch

        threshold = float(np.quantile(rewards, 1.0 - self.epsilon, method="higher"))
        keep = np.nonzero(rewards >= threshold)[0]
        obs = torch.from_numpy(batch.obs[keep])
        acts = torch.from_numpy(batch.actions[keep])
        prior = torch.from_numpy(batch.prior[keep])
        lengths = torch.from_numpy(batch.lengths[keep])
        logp, entropy = policy.log_probs(obs, acts, prior, lengths, self.entropy_gamma)
        advantage = torch.from_numpy(rewards[keep] - threshold).to(logp.dtype)
        loss = -(advantage * logp).mean() - self.entropy_weight * entropy.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return keep

    # -- set-up ----------------------------------------------------------------------------
    def _setup(self, problem: SearchProblem, gen: np.random.Generator) -> None:
        from scientia.hypothesize.symbolic._policy import Library

        self.lib = Library(problem.operators, problem.n_features)
        self.ops = self.lib.ops
        n = len(problem.y)
        rows = np.sort(gen.choice(n, size=min(n, self.n_rows), replace=False))
        X, y = problem.X[rows], problem.y[rows]
        self.cols = [np.ascontiguousarray(X[:, i]) for i in range(problem.n_features)]
        self.y = y
        yc = y - y.mean()
        self.vy = float(yc @ yc) or 1.0  # NRMSE is relative to the standard deviation of y
        k = min(len(y), max(self.const_rows, self.max_constants + 3))
        self.fit_cols = [c[:k] for c in self.cols]
        self.fit_y = y[:k]
        self.fit_yc = self.fit_y - self.fit_y.mean()
        self.max_len = max(3, min(problem.max_complexity, self.max_length or problem.max_complexity))
        self.dims = problem.dims
        self.symbols = symbols_for(problem.n_features)
        self.cache: dict[tuple[int, ...], _Fit] = {}
        self.archive: dict[int, _Fit] = {}
        self.best_fits: dict[tuple[int, ...], _Fit] = {}

    # -- rewards ---------------------------------------------------------------------------
    def _evaluate(self, tokens: tuple[int, ...]) -> _Fit:
        hit = self.cache.get(tokens)
        if hit is not None:
            return hit
        tree = self.lib.to_tree(tokens)
        if any(code == T.CONST for code, _ in tree):
            tree = self._fit_constants(tree)
        with np.errstate(all="ignore"):
            sse, a, b = scaled_sse(T.evaluate(tree, self.cols, self.ops), self.y, self.linear_scaling)
        nmse = sse / self.vy if math.isfinite(sse) else math.inf
        ok = self.dims is None or T.consistent(tree, self.ops, self.dims)
        fit = _Fit(tokens, tree, nmse, a, b, ok)
        self.cache[tokens] = fit
        return fit

    def _residuals(self, tree: T.Tree, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals ``(m, n)`` on the fitting rows for ``m`` constant vectors ``C`` ``(m, k)`` at
        once (each constant a column broadcast against the data), and their SSE ``(m,)``."""
        y = self.fit_y
        with np.errstate(all="ignore"):
            f = T.evaluate(tree, self.fit_cols, self.ops, [C[:, j : j + 1] for j in range(C.shape[1])])
            F = np.broadcast_to(np.asarray(f, dtype=float), (len(C), len(y)))
            if self.linear_scaling:
                Fc = F - F.sum(axis=1, keepdims=True) / len(y)
                yc = self.fit_yc
                vf = np.einsum("ij,ij->i", Fc, Fc)
                b = np.where(vf > 1e-300, (Fc @ yc) / np.where(vf > 1e-300, vf, 1.0), 0.0)
                R = yc[None, :] - b[:, None] * Fc
            else:
                R = y[None, :] - F
            sse = np.einsum("ij,ij->i", R, R)
        sse = np.where(np.isfinite(sse), sse, np.inf)
        return R, sse

    def _fit_constants(self, tree: T.Tree) -> T.Tree:
        """Levenberg–Marquardt on the constants from their current values, vectorised: one tree
        evaluation gives the residuals and the forward-difference Jacobian, one more tries
        :data:`_DAMPING` step sizes; at most ``const_steps`` iterations."""
        c = np.array(T.constants(tree), dtype=float)
        k = len(c)
        eye = np.eye(k)
        mu = 1e-2
        _, sse0 = self._residuals(tree, c[None, :])
        best = float(sse0[0])
        if not math.isfinite(best):
            return tree
        for _ in range(self.const_steps):
            h = 1e-7 * np.maximum(1.0, np.abs(c))
            R, sse = self._residuals(tree, np.vstack([c, c + eye * h[:, None]]))
            if not np.all(np.isfinite(sse)):
                break
            J = (R[1:] - R[0]) / h[:, None]  # (k, n): dR/dc
            A = J @ J.T
            g = J @ R[0]
            D = np.maximum(np.diag(A), 1e-12)
            systems = A[None, :, :] + (mu * _DAMPING)[:, None, None] * np.diag(D)[None, :, :]
            try:
                steps = np.linalg.solve(systems, np.broadcast_to(-g, (len(_DAMPING), k))[..., None])[..., 0]
            except np.linalg.LinAlgError:
                break
            trial = c + steps
            _, trial_sse = self._residuals(tree, trial)
            i = int(np.argmin(trial_sse))
            if not trial_sse[i] < best:
                mu *= 100.0
                if mu > 1e8:
                    break
                continue
            done = trial_sse[i] > best * (1 - _RTOL)
            c, best, mu = trial[i], float(trial_sse[i]), max(mu * _DAMPING[i] / 10.0, 1e-9)
            if done or best <= 1e-28 * self.vy:
                break
        return T.with_constants(tree, c)

    # -- hall of fame and front ------------------------------------------------------------
    def _remember(self, fits: Sequence[_Fit]) -> None:
        for f in fits:
            if f.reward <= 0.0:
                continue
            cur = self.archive.get(len(f.tokens))
            if cur is None or max(f.nmse, _EXACT) < max(cur.nmse, _EXACT) * (1 - 1e-9):
                self.archive[len(f.tokens)] = f
            self.best_fits[f.tokens] = f
        if len(self.best_fits) > 2 * self.hall_of_fame:
            top = sorted(self.best_fits.values(), key=lambda f: -f.reward)[: self.hall_of_fame]
            self.best_fits = {f.tokens: f for f in top}

    def elite(self, n: int) -> list[T.Tree]:
        """The ``n`` best distinct trees found (hall of fame and best samples), best first.

        Trees use the :mod:`._trees` encoding over the problem's operators, constants fitted.
        """
        pool = {**self.best_fits, **{f.tokens: f for f in self.archive.values()}}
        return [f.tree for f in sorted(pool.values(), key=lambda f: (-f.reward, len(f.tokens)))[:n]]

    def _front_fits(self) -> list[_Fit]:
        out: list[_Fit] = []
        best = math.inf
        for size in sorted(self.archive):
            f = self.archive[size]
            if max(f.nmse, _EXACT) < best * (1 - 1e-9):
                best = max(f.nmse, _EXACT)
                out.append(f)
        return out

    def _front_key(self) -> tuple:
        return tuple((len(f.tokens), float(f"{f.nmse:.6g}")) for f in self._front_fits())

    def front(self) -> list[sp.Expr]:
        """The hall of fame's complexity/loss front as SymPy expressions in ``x0 … x{d-1}``."""
        out: list[sp.Expr] = []
        for f in self._front_fits():
            expr = T.to_sympy(f.tree, self.symbols, self.ops)
            if f.b == 0.0:
                out.append(sp.Float(f.a))
            elif f.a == 0.0 and f.b == 1.0:
                out.append(expr)
            else:
                out.append(sp.Float(f.a) + sp.Float(f.b) * expr)
        return out
