"""Seeds: int | Generator | None, child seeds by SeedSequence.spawn, no global RNG."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scientia.seeding import child_seeds, rng, torch_seed

seeds = st.integers(0, 2**63 - 1)


def test_rng_passes_a_generator_through():
    # a Generator is used as given, not copied or reseeded
    gen = np.random.default_rng(0)
    assert rng(gen) is gen


@given(seeds, st.integers(1, 8))
def test_child_seeds_are_reproducible_and_distinct(seed, n):
    # the same parent gives the same children, all different from each other
    kids = child_seeds(seed, n)
    assert kids == child_seeds(seed, n) and len(set(kids)) == n and all(0 <= k < 2**63 for k in kids)


def test_child_seeds_from_a_generator_advance_it():
    # drawing children from a Generator consumes it, so two draws differ
    gen = np.random.default_rng(5)
    assert child_seeds(gen, 2) != child_seeds(gen, 2)


@given(seeds)
def test_torch_seed_fits_31_bits(seed):
    # torch seeds are non-negative 31-bit ints
    assert 0 <= torch_seed(seed) < 2**31


def test_seeding_helpers_leave_the_global_rng_alone():
    # nothing here touches numpy's global RNG
    np.random.seed(42)
    before = np.random.get_state()[1].copy()
    rng(None).random()
    child_seeds(None, 3)
    assert np.array_equal(np.random.get_state()[1], before)
