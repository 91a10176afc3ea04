"""Symmetry-aware augmentation: the dihedral group, translations, the batch augmenter, SMILES enumeration."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from scientia.curate.augment import (
    SymmetryAugmenter,
    augment_smiles,
    dihedral,
    dihedral_orbit,
    enumerate_smiles,
    invert_dihedral,
    translate,
)
from scientia.errors import ValidationError


def _square(seed: int = 0, n: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n))


def _in_orbit(x: np.ndarray, orbit: list[np.ndarray]) -> bool:
    return any(o.shape == x.shape and np.array_equal(o, x) for o in orbit)


def test_dihedral_gives_eight_distinct_copies():
    # a generic square array has 8 different images under the symmetries of the square
    orbit = dihedral_orbit(_square())
    assert len({o.tobytes() for o in orbit}) == 8


def test_dihedral_is_a_group_action():
    # applying any symmetry to any member of the orbit stays inside the orbit
    x = _square(1)
    orbit = dihedral_orbit(x)
    for o in orbit:
        for k in range(8):
            assert _in_orbit(dihedral(o, k), orbit)


@pytest.mark.parametrize("k", range(8))
def test_invert_dihedral_undoes_it(k):
    # invert_dihedral(dihedral(x, k), k) is x, for stacked channels-first arrays too
    x = np.random.default_rng(k).normal(size=(2, 3, 4, 6))
    assert np.array_equal(invert_dihedral(dihedral(x, k), k), x)


def test_dihedral_channels_last_axes():
    # with axes=(0, 1) the channel axis of an (H, W, C) image is left alone
    x = np.random.default_rng(0).normal(size=(4, 4, 3))
    for k in range(8):
        y = dihedral(x, k, axes=(0, 1))
        for c in range(3):
            assert np.array_equal(y[..., c], dihedral(x[..., c], k))


def test_dihedral_rejects_bad_k_and_1d():
    # k outside 0..7 and 1-D input are refused
    with pytest.raises(ValidationError, match=r"0\.\.7"):
        dihedral(_square(), 8)
    with pytest.raises(ValidationError, match="2 dimensions"):
        dihedral(np.arange(4), 1)


def test_translate_periodic_is_roll_and_zero_mode_fills_zeros():
    # periodic shifts wrap around; zero-padded shifts keep the overlap and fill the rest with 0
    x = np.arange(1, 26, dtype=float).reshape(5, 5)
    assert np.array_equal(translate(x, (1, -2)), np.roll(x, (1, -2), axis=(0, 1)))
    z = translate(x, (1, -2), mode="zero")
    assert np.array_equal(z[1:, :3], x[:-1, 2:])
    assert (z[0] == 0).all() and (z[:, 3:] == 0).all()
    assert (translate(x, 5, mode="zero") == 0).all()
    with pytest.raises(ValidationError, match="mode"):
        translate(x, 1, mode="reflect")  # type: ignore[arg-type]


def test_augmenter_keeps_originals_and_returns_sources():
    # copies=3 gives 3n samples, the first n are the originals, sources index the rows
    X = np.random.default_rng(0).normal(size=(6, 8, 8))
    Xa, source = SymmetryAugmenter().augment(X, copies=3, seed=0)
    assert Xa.shape == (18, 8, 8)
    assert np.array_equal(Xa[:6], X)
    assert np.array_equal(source, np.tile(np.arange(6), 3))


def test_augmented_samples_are_symmetries_of_their_source():
    # every augmented sample is in the dihedral orbit of the sample it came from
    X = np.random.default_rng(2).normal(size=(10, 6, 6))
    Xa, source = SymmetryAugmenter().augment(X, copies=4, seed=3)
    for xa, s in zip(Xa, source, strict=True):
        assert _in_orbit(xa, dihedral_orbit(X[s]))


def test_rectangles_keep_their_shape_and_shifts_only_mode():
    # non-square fields get only shape-preserving symmetries; shift-only mode gives rolls of the source
    X = np.random.default_rng(4).normal(size=(5, 6, 10))
    Xa, _ = SymmetryAugmenter().augment(X, copies=5, seed=0)
    assert Xa.shape == (25, 6, 10)
    aug = SymmetryAugmenter(rotate=False, flip=False, max_shift=(0, 5))
    Xs, source = aug.augment(X, copies=3, seed=1)
    for xa, s in zip(Xs, source, strict=True):
        assert any(np.array_equal(xa, np.roll(X[s], d, axis=1)) for d in range(-5, 6))


def test_augmenter_group_choices():
    # the allowed symmetries follow the flags and the shape
    assert SymmetryAugmenter().group((8, 8)) == list(range(8))
    assert SymmetryAugmenter().group((8, 9)) == [0, 2, 4, 6]
    assert SymmetryAugmenter(rotate=False).group((8, 8)) == [0, 4, 6]
    assert SymmetryAugmenter(rotate=False, flip=1).group((8, 8)) == [0, 6]
    assert SymmetryAugmenter(rotate=False, flip=False).group((8, 8)) == [0]


def test_augment_is_reproducible_and_permutes_values():
    # the same seed gives the same copies; a symmetry only moves values around
    X = np.random.default_rng(5).normal(size=(4, 7, 7))
    aug = SymmetryAugmenter(max_shift=2)
    a, _ = aug.augment(X, copies=2, seed=11)
    b, _ = aug.augment(X, copies=2, seed=11)
    assert np.array_equal(a, b)
    for i in range(4, 8):
        assert np.allclose(np.sort(a[i].ravel()), np.sort(X[i - 4].ravel()))


def test_augment_channels_last_images():
    # (n, H, W, C) batches with axes=(0, 1) keep channel order
    X = np.random.default_rng(6).normal(size=(3, 5, 5, 2))
    Xa, source = SymmetryAugmenter(axes=(0, 1)).augment(X, copies=2, seed=0)
    for xa, s in zip(Xa, source, strict=True):
        assert _in_orbit(xa, dihedral_orbit(X[s], axes=(0, 1)))


def test_augment_rejects_bad_input():
    # single samples and non-positive copies are refused
    with pytest.raises(ValidationError, match="batch"):
        SymmetryAugmenter().augment(np.zeros((4, 4)))
    with pytest.raises(ValidationError, match="copies"):
        SymmetryAugmenter().augment(np.zeros((2, 4, 4)), copies=0)


# -- SMILES ------------------------------------------------------------------------------------
needs_rdkit = pytest.mark.skipif(importlib.util.find_spec("rdkit") is None, reason="needs rdkit (chem extra)")


@needs_rdkit
@pytest.mark.parametrize(
    "smiles", ["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "F/C=C/Cl", "c1ccc2[nH]ccc2c1"]
)
def test_enumerated_smiles_are_the_same_molecule(smiles):
    # every string is distinct and canonicalises to the input molecule (stereo included)
    from rdkit import Chem

    canonical = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    out = enumerate_smiles(smiles, 8, seed=0)
    assert out[0] == canonical
    assert len(set(out)) == len(out) > 1
    assert {Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in out} == {canonical}


@needs_rdkit
def test_enumerate_smiles_is_reproducible_and_bounded():
    # the same seed gives the same list; methane has a single spelling
    a = enumerate_smiles("CCOC(=O)c1ccccc1N", 6, seed=3)
    assert a == enumerate_smiles("CCOC(=O)c1ccccc1N", 6, seed=3)
    assert len(a) == 6
    assert enumerate_smiles("C", 5, seed=0) == ["C"]


@needs_rdkit
def test_augment_smiles_sources_and_errors():
    # sources point back to the input rows; an unparsable row is named
    strings, source = augment_smiles(["CCO", "c1ccccc1O"], copies=3, seed=0)
    assert set(source.tolist()) == {0, 1}
    assert len(strings) == len(source) <= 6
    with pytest.raises(ValidationError, match="row 1"):
        augment_smiles(["CCO", "not a molecule("], copies=2)
