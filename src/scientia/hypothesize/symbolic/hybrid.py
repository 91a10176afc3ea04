"""The hybrid engine: a reinforcement-learned policy seeds the genetic programming population.

The budget is split in two phases:

1. :class:`~scientia.hypothesize.symbolic.rl.RLEngine` samples and trains for a share ``share``
   (default 0.3) of ``time_limit`` (or of ``generations``, counted as training iterations);
2. its best distinct expressions — the hall of fame of each length and the highest-reward samples,
   constants as fitted — fill up to ``seed_fraction`` (default half) of the initial population of
   :class:`~scientia.hypothesize.symbolic.gp.GPEngine`, random trees the rest, and GP evolves for
   the remaining CPU time (or generations).

Both engines score linearly scaled trees in the same encoding, so a seed keeps its fitness. The
policy finds promising shapes quickly but refines them slowly; crossover and mutation recombine
and polish them. If the policy already found an exact fit the GP phase is skipped. The reported
front covers both phases; the returned candidates are both engines' fronts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from scientia.errors import ConfigError
from scientia.hypothesize.symbolic.engines import CpuClock, Report, SearchProblem
from scientia.seeding import Seed, child_seeds

__all__ = ["HybridEngine"]


class HybridEngine:
    """Policy-seeded genetic programming (see the module docstring).

    Parameters
    ----------
    share : float
        Fraction of the budget (CPU seconds, or generations) given to the policy, in (0, 1).
    seed_fraction : float
        Largest fraction of the GP population seeded by the policy, in (0, 1].
    rl_options, gp_options : dict, optional
        Keyword arguments for :class:`~.rl.RLEngine` and :class:`~.gp.GPEngine`.
    """

    def __init__(
        self,
        share: float = 0.3,
        seed_fraction: float = 0.5,
        rl_options: Mapping[str, Any] | None = None,
        gp_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not 0.0 < share < 1.0:
            raise ConfigError(f"share must be in (0, 1) (the policy's fraction of the budget), got {share!r}")
        if not 0.0 < seed_fraction <= 1.0:
            raise ConfigError(f"seed_fraction must be in (0, 1], got {seed_fraction!r}")
        self.share = share
        self.seed_fraction = seed_fraction
        self.rl_options = rl_options
        self.gp_options = gp_options

    def search(
        self,
        problem: SearchProblem,
        *,
        time_limit: float,
        generations: int | None = None,
        seed: Seed = None,
        report: Report | None = None,
    ) -> list[sp.Expr]:
        """Train the policy, then evolve from its best expressions; return both fronts.

        With ``generations``, the policy trains ``max(1, round(share * generations))`` iterations
        and GP evolves the rest (at least one generation). After the search ``rl_`` and ``gp_``
        are the two engines (``gp_`` is None when the GP phase was skipped).
        """
        from scientia.hypothesize.symbolic.gp import GPEngine
        from scientia.hypothesize.symbolic.rl import _EXACT, RLEngine

        clock = CpuClock()
        rl_seed, gp_seed = child_seeds(seed, 2)
        stopped = False

        def relay(front: Sequence[sp.Expr]) -> bool:
            nonlocal stopped
            stopped = stopped or bool(report is not None and report(front))
            return stopped

        rl_generations = gp_generations = None
        if generations is not None:
            rl_generations = max(1, round(self.share * generations))
            gp_generations = max(1, generations - rl_generations)
        self.rl_ = RLEngine(**dict(self.rl_options or {}))
        self.gp_: GPEngine | None = None
        out = self.rl_.search(
            problem,
            time_limit=self.share * time_limit,
            generations=rl_generations,
            seed=rl_seed,
            report=relay,
        )
        best = min((f.nmse for f in self.rl_.archive.values()), default=math.inf)
        if stopped or best < _EXACT:
            return out
        self.gp_ = GPEngine(**dict(self.gp_options or {}))
        n_seeds = max(1, int(self.seed_fraction * self.gp_.population_size))
        out += self.gp_.search(
            problem,
            time_limit=max(time_limit - clock(), 0.0),
            generations=gp_generations,
            seed=gp_seed,
            report=relay,
            initial=self.rl_.elite(n_seeds),
        )
        return out
