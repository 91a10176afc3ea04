"""Seeds: ``int | numpy.random.Generator | None`` everywhere; no global RNG is touched."""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator | None

__all__ = ["Seed", "child_seeds", "rng", "torch_seed"]


def rng(seed: Seed) -> np.random.Generator:
    """Return a Generator for ``seed`` (a Generator is passed through unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def child_seeds(seed: Seed, n: int) -> list[int]:
    """Return ``n`` independent integer seeds derived from ``seed`` by ``SeedSequence.spawn``."""
    base: int | None = int(seed.integers(2**63)) if isinstance(seed, np.random.Generator) else seed
    seq = np.random.SeedSequence(base)
    return [int(child.generate_state(1, dtype=np.uint64)[0] % 2**63) for child in seq.spawn(n)]


def torch_seed(seed: Seed) -> int:
    """Return an integer seed for a local ``torch.Generator`` derived from ``seed``."""
    return child_seeds(seed, 1)[0] % 2**31
