"""Random, scaffold and cluster splits: disjoint, complete, and groups never cross parts."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import ConfigError, UnknownNameError
from scientia.screen.splits import bemis_murcko, butina_clusters, split_molecules


def _check_partition(split, n):
    parts = [split.train, split.val, split.test]
    joined = np.concatenate(parts)
    assert len(joined) == n and len(np.unique(joined)) == n


def test_random_split_is_a_seeded_partition(esol):
    # every molecule lands in exactly one part, sizes follow the fractions, the seed fixes it
    smiles = esol["smiles"].tolist()
    a = split_molecules(smiles, "random", (0.8, 0.1, 0.1), seed=1)
    _check_partition(a, len(smiles))
    assert abs(len(a.train) - 0.8 * len(smiles)) <= 1 and abs(len(a.test) - 0.1 * len(smiles)) <= 1
    assert np.array_equal(a.test, split_molecules(smiles, "random", seed=1).test)
    assert not np.array_equal(a.test, split_molecules(smiles, "random", seed=2).test)


def test_scaffold_split_keeps_scaffolds_together(esol):
    # no Bemis–Murcko scaffold appears in two parts; the biggest groups go to training
    smiles = esol["smiles"].tolist()
    s = split_molecules(smiles, "scaffold", (0.8, 0.1, 0.1), seed=0)
    _check_partition(s, len(smiles))
    scaf = np.asarray(bemis_murcko(smiles), dtype=object)
    train, val, test = (set(scaf[p]) for p in (s.train, s.val, s.test))
    assert not (train & val or train & test or val & test)
    values, counts = np.unique(scaf, return_counts=True)
    assert values[np.argmax(counts)] in train  # the benzene / acyclic groups
    assert 0.7 < len(s.train) / len(smiles) <= 0.8


def test_cluster_split_keeps_clusters_together():
    # Butina clusters are not split between parts
    smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "C1CCNCC1", "CC1CCNCC1",
              "OC(=O)c1ccccc1", "OC(=O)c1ccccc1C", "CCN(CC)CC", "CCCN(CC)CC"]  # fmt: skip
    labels = np.asarray(butina_clusters(smiles, cutoff=0.7))
    s = split_molecules(smiles, "cluster", (0.6, 0.2, 0.2), seed=0, cutoff=0.7)
    _check_partition(s, len(smiles))
    parts = [set(labels[p]) for p in (s.train, s.val, s.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(set(labels)) > 2  # it did cluster


def test_bad_split_requests_are_refused():
    # unknown kinds suggest a name; fractions must make sense
    with pytest.raises(UnknownNameError, match="scaffold"):
        split_molecules(["C", "CC", "CCC"], "scafold")
    with pytest.raises(ConfigError):
        split_molecules(["C", "CC", "CCC"], "random", (0.5, 0.5, 0.5))
