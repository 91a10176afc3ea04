"""Train / validation / test splits of molecules: random, scaffold and cluster.

A random split measures how well a model interpolates among molecules like its training set;
a virtual screen asks about *new* chemistry, which scaffold and cluster splits imitate by keeping
whole groups of similar molecules on one side:

* ``scaffold`` — groups by Bemis–Murcko scaffold (ring systems and linkers, RDKit
  ``MurckoScaffoldSmiles`` without stereo); acyclic molecules share the empty scaffold. As in
  Chemprop's balanced scaffold split (Yang et al., JCIM 2019), groups larger than half the
  validation or test size go to training first (in random order), then the rest in random order,
  each group filling training, then validation, then test.
* ``cluster`` — Butina clustering (Butina, JCICS 1999; RDKit's implementation) of Morgan bit
  fingerprints (radius 2, 2,048 bits) at a Tanimoto *distance* cutoff (default 0.65, i.e.
  neighbours share ≥ 35% similarity); clusters are then assigned like scaffolds. Needs the
  n(n−1)/2 pairwise distances: fine up to ~30,000 molecules.
* ``random`` — a seeded permutation.

Sizes are fractions ``(train, validation, test)``; the validation part is what a model is
calibrated on. Invalid SMILES are not accepted here: featurize first and split the valid rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.seeding import Seed, rng

__all__ = ["SPLITS", "Split", "bemis_murcko", "butina_clusters", "split_molecules"]

SPLITS = ("random", "scaffold", "cluster")


@dataclass(frozen=True)
class Split:
    """Row indices of the three parts (disjoint, together every row); for group splits, the
    group (scaffold or cluster) of every row, which no two parts share."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    kind: str = "random"
    groups: np.ndarray | None = None

    def sizes(self) -> dict[str, int]:
        """Number of molecules in each part."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def bemis_murcko(smiles: Sequence[str]) -> list[str]:
    """Bemis–Murcko scaffold SMILES of each molecule ("" for acyclic ones)."""
    from rdkit import rdBase
    from rdkit.Chem.Scaffolds import MurckoScaffold

    from scientia.screen.features import parse_smiles

    out = []
    with rdBase.BlockLogs():
        for i, s in enumerate(smiles):
            mol, reason = parse_smiles(s)
            if mol is None:
                raise ValidationError(f"row {i}: cannot parse SMILES {s!r} ({reason})")
            out.append(MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False))
    return out


def butina_clusters(smiles: Sequence[str], cutoff: float = 0.65) -> list[int]:
    """Butina cluster id of each molecule at a Tanimoto distance ``cutoff`` (Morgan r=2, 2,048 bits)."""
    from rdkit import DataStructs
    from rdkit.ML.Cluster import Butina

    from scientia.featurize.molecules import morgan_generator
    from scientia.screen.features import parse_smiles

    if not 0 < cutoff < 1:
        raise ConfigError(f"cluster cutoff is a Tanimoto distance in (0, 1); got {cutoff}")
    from rdkit import rdBase

    gen = morgan_generator(2, 2048)
    fps = []
    with rdBase.BlockLogs():
        for i, s in enumerate(smiles):
            mol, reason = parse_smiles(s)
            if mol is None:
                raise ValidationError(f"row {i}: cannot parse SMILES {s!r} ({reason})")
            fps.append(gen.GetFingerprint(mol))
    dists: list[float] = []
    for i in range(1, len(fps)):
        sims = DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])
        dists.extend(1.0 - x for x in sims)
    clusters = Butina.ClusterData(dists, len(fps), cutoff, isDistData=True)
    labels = [0] * len(fps)
    for c, members in enumerate(clusters):
        for i in members:
            labels[i] = c
    return labels


def _group_split(groups: Sequence[object], sizes: tuple[float, float, float], seed: Seed, kind: str) -> Split:
    """Assign whole groups: big ones to training first, then the rest at random (Chemprop's balance)."""
    gen = rng(seed)
    n = len(groups)
    members: dict[object, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    n_train, n_val = sizes[0] * n, sizes[1] * n
    n_test = n - round(n_train) - round(n_val)
    sets = list(members.values())
    big = [s for s in sets if len(s) > n_val / 2 or len(s) > n_test / 2]
    small = [s for s in sets if not (len(s) > n_val / 2 or len(s) > n_test / 2)]
    gen.shuffle(big)  # type: ignore[arg-type]
    gen.shuffle(small)  # type: ignore[arg-type]
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for s in big + small:
        if len(train) + len(s) <= n_train:
            train += s
        elif len(val) + len(s) <= n_val:
            val += s
        else:
            test += s
    return Split(np.sort(train), np.sort(val), np.sort(test), kind, np.asarray(groups, dtype=object))


def split_molecules(
    smiles: Sequence[str],
    kind: str = "random",
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: Seed = 0,
    cutoff: float = 0.65,
) -> Split:
    """Split molecules into training, validation (calibration) and test parts.

    Parameters
    ----------
    smiles : sequence of str, length n
    kind : {"random", "scaffold", "cluster"}
    sizes : (float, float, float)
        Fractions of training, validation and test molecules (summing to 1; validation may be 0).
    seed : int, Generator or None
    cutoff : float
        Butina's Tanimoto distance cutoff (``cluster`` only).

    Returns
    -------
    Split
        Group splits fill parts with whole groups, so sizes are approximate.
    """
    if kind not in SPLITS:
        raise UnknownNameError.for_name("split", kind, SPLITS)
    if len(sizes) != 3 or min(sizes) < 0 or abs(sum(sizes) - 1) > 1e-6 or sizes[0] <= 0 or sizes[2] <= 0:
        raise ConfigError(
            f"split sizes must be three fractions summing to 1 with train, test > 0; got {sizes}"
        )
    n = len(smiles)
    if n < 3:
        raise ValidationError(f"cannot split {n} molecules into training, validation and test parts")
    if kind == "random":
        order = rng(seed).permutation(n)
        a, b = round(sizes[0] * n), round((sizes[0] + sizes[1]) * n)
        return Split(np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:]), kind)
    groups: Sequence[object] = bemis_murcko(smiles) if kind == "scaffold" else butina_clusters(smiles, cutoff)
    return _group_split(groups, sizes, seed, kind)
