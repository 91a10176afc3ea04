"""Proposers without a model: uniform random, and space-filling initial designs.

Space-filling uses a scrambled Sobol sequence in encoded coordinates for spaces with parameters,
and greedy farthest-point (maximin) selection in the encoded pool for finite pools, starting from
whatever has been observed already.
"""

from __future__ import annotations

import numpy as np

from scientia.campaign.state import CampaignState
from scientia.proposers.base import Proposal, fill_random
from scientia.seeding import Seed, rng
from scientia.spaces.space import PoolSpace

__all__ = ["RandomProposer", "SpaceFillingProposer"]


class RandomProposer:
    """Uniform random candidates that are not observed, pending or excluded."""

    name = "random"

    def propose(self, state: CampaignState, n: int, seed: Seed = None) -> list[Proposal]:
        gen = rng(seed)
        taken = state.taken_ids()
        if isinstance(state.space, PoolSpace):
            idx, _ = state.available_pool()
            pick = gen.permutation(idx)[:n]
            cands = [state.space.pool[i] for i in pick]
        else:
            cands = [c for c in state.space.sample(4 * n + 8, gen) if c.id not in taken]
        return fill_random([], cands, n, self.name, "uniform random")


class SpaceFillingProposer:
    """Sobol points for parameter spaces; farthest-point selection for pools."""

    name = "space-filling"

    def propose(self, state: CampaignState, n: int, seed: Seed = None) -> list[Proposal]:
        gen = rng(seed)
        space = state.space
        if isinstance(space, PoolSpace):
            return self._farthest(state, n, gen)
        from scipy.stats import qmc

        taken = state.taken_ids()
        if space.has_equalities:  # Sobol points miss an equality: spread out polytope samples
            pool = [c for c in space.sample(max(64, 16 * n), gen) if c.id not in taken]
            anchors = [o.candidate for o in state.observations] + list(state.pending)
            picks = _maximin(space.encode(pool), space.encode(anchors) if anchors else None, n, gen)
            return fill_random(
                [], [pool[j] for j in picks], n, self.name, "farthest-point design on the constraints"
            )
        sobol = qmc.Sobol(d=space.dim, scramble=True, seed=gen)
        m = 1 << int(np.ceil(np.log2(max(8 * n, 16))))
        cands = [c for c in space.decode(sobol.random(m)) if space.feasible(c.params) and c.id not in taken]
        chosen = fill_random([], cands, n, self.name, "Sobol space-filling design")
        if len(chosen) < n:  # constraints cut most of the cube: fall back to rejection sampling
            extra = [c for c in space.sample(4 * n, gen) if c.id not in taken]
            chosen = fill_random(chosen, extra, n, self.name, "random feasible (constrained)")
        return chosen

    def _farthest(self, state: CampaignState, n: int, gen: np.random.Generator) -> list[Proposal]:
        assert isinstance(state.space, PoolSpace)
        idx, X = state.available_pool()
        if not idx:
            return []
        anchors = [o.candidate for o in state.observations] + list(state.pending)
        anchors = [c for c in anchors if state.space.contains(c)]
        chosen = _maximin(X, state.space.encode(anchors) if anchors else None, n, gen)
        return [
            Proposal(state.space.pool[idx[j]], self.name, reason="farthest from what is known")
            for j in chosen
        ]


def _maximin(X: np.ndarray, anchors: np.ndarray | None, n: int, gen: np.random.Generator) -> list[int]:
    """Greedy farthest-point selection of ``n`` rows of ``X`` away from ``anchors`` and each other."""
    d = (
        np.min(_sqdist(X, anchors), axis=1)
        if anchors is not None and len(anchors)
        else np.full(len(X), np.inf)
    )
    chosen: list[int] = []
    for _ in range(min(n, len(X))):
        if np.all(np.isinf(d)):
            j = int(gen.integers(len(X)))
        else:
            ties = np.flatnonzero(d >= d.max() - 1e-12)
            j = int(gen.choice(ties))
        chosen.append(j)
        d = np.minimum(d, _sqdist(X, X[[j]])[:, 0])
        d[j] = -1.0
    return chosen


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.maximum(((A[:, None, :] - B[None, :, :]) ** 2).sum(-1), 0.0)
