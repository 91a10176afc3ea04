"""Symmetry-aware augmentation: more training data from the symmetries the data are known to have.

A model should not have to learn from examples what is already known about the data: a micrograph
rotated by 90° is still a micrograph, a field on a periodic domain shifted by a few cells is still
a solution, and a molecule is the same molecule whatever atom its SMILES string starts from. This
module turns such knowledge into extra training samples (and into test-time averaging):

* :func:`dihedral` and :func:`dihedral_orbit` — the eight symmetries of the square (rotations by
  multiples of 90° and reflections), :func:`translate` — periodic or zero-padded shifts;
* :class:`SymmetryAugmenter` — random draws of those symmetries, one per sample, for a batch of
  images or 2-D fields, with the index of each augmented sample's source (so labels follow);
* :func:`enumerate_smiles` and :func:`augment_smiles` — SMILES enumeration (Bjerrum 2017,
  arXiv:1703.07076) with RDKit's randomised SMILES, every string checked to canonicalise back
  to the input molecule.

Which symmetries hold is a property of the data, not of the code: a Darcy field on a square with
the same boundary condition on every side has all eight, a field that is periodic in one
direction only allows shifts along that one, and a space–time field (time on one axis) allows no
rotation at all. Choose them with the constructor's flags. A rectangular (non-square) field only
has the symmetries of the rectangle (rotation by 180° and the two reflections); the augmenter
keeps to those so that shapes do not change.

These are a few lines of NumPy (``numpy.rot90``, ``numpy.flip``, ``numpy.roll``); libraries such
as torchvision or albumentations add interpolated rotations, colour jitter and the like, which
change the values of a scientific measurement and are deliberately not offered here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from scientia.errors import ValidationError
from scientia.seeding import Seed, rng

__all__ = [
    "SymmetryAugmenter",
    "augment_smiles",
    "dihedral",
    "dihedral_orbit",
    "enumerate_smiles",
    "invert_dihedral",
    "translate",
]

Axes = tuple[int, int]
Mode = Literal["periodic", "zero"]


def _axes(x: np.ndarray, axes: Axes) -> Axes:
    if x.ndim < 2:
        raise ValidationError(f"an image or field needs at least 2 dimensions; got shape {x.shape}")
    a, b = (int(ax) % x.ndim for ax in axes)
    if a == b:
        raise ValidationError(f"axes must name two different dimensions; got {axes}")
    return a, b


def dihedral(x: np.ndarray, k: int, axes: Axes = (-2, -1)) -> np.ndarray:
    """Apply the ``k``-th of the eight symmetries of the square to the plane ``axes`` of ``x``.

    ``k = 0..3`` rotate by ``k × 90°`` (counter-clockwise, as :func:`numpy.rot90`); ``k = 4..7``
    first reflect the first of ``axes`` (an up–down flip) and then rotate by ``(k - 4) × 90°``.

    Parameters
    ----------
    x : ndarray, shape (..., H, W) or any shape with the plane at ``axes``
        An image, a field or a batch of them.
    k : int
        Which symmetry, 0 to 7 (0 is the identity).
    axes : (int, int)
        The two spatial dimensions; ``(0, 1)`` for a channels-last image ``(H, W, C)``.

    Returns
    -------
    ndarray
        A view of ``x`` where possible; shape ``(..., W, H)`` for odd rotations.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(4).reshape(2, 2)
    >>> dihedral(x, 1).tolist(), dihedral(x, 4).tolist()
    ([[1, 3], [0, 2]], [[2, 3], [0, 1]])
    """
    a, b = _axes(x, axes)
    if not 0 <= int(k) < 8:
        raise ValidationError(f"k must be one of 0..7 (the 8 symmetries of the square); got {k}")
    out = np.flip(x, axis=a) if k >= 4 else x
    return np.rot90(out, k=int(k) % 4, axes=(a, b))


def invert_dihedral(x: np.ndarray, k: int, axes: Axes = (-2, -1)) -> np.ndarray:
    """Undo :func:`dihedral`: ``invert_dihedral(dihedral(x, k), k) == x``."""
    a, b = _axes(x, axes)
    if not 0 <= int(k) < 8:
        raise ValidationError(f"k must be one of 0..7 (the 8 symmetries of the square); got {k}")
    out = np.rot90(x, k=-(int(k) % 4), axes=(a, b))
    return np.flip(out, axis=a) if k >= 4 else out


def dihedral_orbit(x: np.ndarray, axes: Axes = (-2, -1)) -> list[np.ndarray]:
    """All eight symmetric copies of ``x`` (``dihedral(x, k)`` for ``k = 0..7``)."""
    return [dihedral(x, k, axes) for k in range(8)]


def translate(
    x: np.ndarray, shift: int | Sequence[int], axes: Axes = (-2, -1), mode: Mode = "periodic"
) -> np.ndarray:
    """Shift the plane ``axes`` of ``x`` by ``shift`` cells, wrapping around or filling with zeros.

    Parameters
    ----------
    x : ndarray
        An image, a field or a batch of them.
    shift : int or (int, int)
        Cells to move along each of ``axes`` (positive: towards higher indices); one int shifts
        both by the same amount.
    axes : (int, int)
        The two spatial dimensions.
    mode : {"periodic", "zero"}
        ``"periodic"`` wraps around (right for a periodic domain); ``"zero"`` fills the cells
        that come in with zeros (right when the field is zero outside the frame).

    Returns
    -------
    ndarray, same shape as ``x``
    """
    a, b = _axes(x, axes)
    shifts = (int(shift), int(shift)) if isinstance(shift, int | np.integer) else tuple(int(s) for s in shift)
    if len(shifts) != 2:
        raise ValidationError(f"shift needs one value per axis (2); got {shift!r}")
    if mode == "periodic":
        return np.roll(x, shifts, axis=(a, b))
    if mode != "zero":
        raise ValidationError(f"mode must be 'periodic' or 'zero'; got {mode!r}")
    out = np.zeros_like(x)
    src: list[slice] = [slice(None)] * x.ndim
    dst: list[slice] = [slice(None)] * x.ndim
    for ax, s in zip((a, b), shifts, strict=True):
        n = x.shape[ax]
        if abs(s) >= n:
            return out
        src[ax] = slice(0, n - s) if s >= 0 else slice(-s, n)
        dst[ax] = slice(s, n) if s >= 0 else slice(0, n + s)
    out[tuple(dst)] = x[tuple(src)]
    return out


@dataclass(frozen=True)
class SymmetryAugmenter:
    """Random symmetries of images or 2-D fields, drawn independently for each sample.

    Parameters
    ----------
    rotate : bool
        Allow rotations by multiples of 90° (only 180° when the plane is not square).
    flip : bool or {0, 1}
        Allow reflections; ``0`` or ``1`` allows only the reflection that reverses the first or
        second of ``axes`` (with ``rotate=False``; with rotations one reflection generates all).
    max_shift : int or (int, int)
        Largest translation along each spatial axis (0: none); a shift is drawn uniformly from
        ``-max_shift..max_shift``.
    mode : {"periodic", "zero"}
        How translations treat the border (see :func:`translate`).
    axes : (int, int)
        The spatial dimensions *of one sample* (the batch dimension 0 is not counted): ``(-2, -1)``
        for ``(C, H, W)`` or ``(H, W)`` samples, ``(0, 1)`` for channels-last ``(H, W, C)``.

    Examples
    --------
    >>> import numpy as np
    >>> fields = np.random.default_rng(0).normal(size=(10, 16, 16))
    >>> X, source = SymmetryAugmenter(max_shift=4).augment(fields, copies=3, seed=0)
    >>> X.shape, source[:4].tolist()
    ((30, 16, 16), [0, 1, 2, 3])
    """

    rotate: bool = True
    flip: bool | int = True
    max_shift: int | tuple[int, int] = 0
    mode: Mode = "periodic"
    axes: Axes = (-2, -1)

    def group(self, shape: Sequence[int]) -> list[int]:
        """The symmetries (indices ``k`` of :func:`dihedral`) allowed for samples of ``shape``."""
        a, b = _axes(np.empty((1,) * len(shape)), self.axes)
        square = shape[a] == shape[b]
        rotations = ([0, 1, 2, 3] if square else [0, 2]) if self.rotate else [0]
        ks = list(rotations)
        if self.flip is True and self.rotate:
            ks += [4 + r for r in rotations]  # every reflection composed with the rotations
        elif self.flip is True:
            ks += [4, 6]  # k=4 reverses the first axis, k=6 (= k=4 then 180°) the second
        elif self.flip is not False:
            if self.flip not in (0, 1):
                raise ValidationError(f"flip must be True, False, 0 or 1; got {self.flip!r}")
            ks += [4 + r for r in rotations] if self.rotate else [4 if self.flip == 0 else 6]
        return ks

    def transform(self, x: np.ndarray, seed: Seed = None) -> np.ndarray:
        """One sample ``x`` under one random allowed symmetry (and shift)."""
        gen = rng(seed)
        k = int(gen.choice(self.group(x.shape)))
        out = dihedral(x, k, self.axes)
        shifts = self._shifts()
        if any(shifts):
            out = translate(out, [int(gen.integers(-s, s + 1)) for s in shifts], self.axes, self.mode)
        return np.ascontiguousarray(out)

    def augment(
        self, X: np.ndarray, copies: int = 1, seed: Seed = None, include_original: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augmented copies of a batch, each sample under its own random symmetry.

        Parameters
        ----------
        X : ndarray, shape (n, ...)
            Samples along the first dimension.
        copies : int
            How many versions of each sample to return.
        seed : int, Generator or None
            Random seed.
        include_original : bool
            If true the first ``n`` rows are ``X`` itself (so ``copies=1`` returns ``X``).

        Returns
        -------
        X_aug : ndarray, shape (copies * n, ...)
        source : ndarray of int, shape (copies * n,)
            Row of ``X`` each augmented sample comes from: ``y[source]`` are its labels.
        """
        X = np.asarray(X)
        if X.ndim < 3:
            raise ValidationError(f"X must be a batch of 2-D samples, shape (n, H, W, …); got {X.shape}")
        if int(copies) < 1:
            raise ValidationError(f"copies must be at least 1; got {copies}")
        gen = rng(seed)
        parts, sources = [], []
        for c in range(int(copies)):
            if c == 0 and include_original:
                parts.append(X.copy())
            else:
                parts.append(np.stack([self.transform(x, gen) for x in X]))
            sources.append(np.arange(len(X)))
        return np.concatenate(parts), np.concatenate(sources)

    def _shifts(self) -> tuple[int, int]:
        s = self.max_shift
        shifts = (int(s), int(s)) if isinstance(s, int | np.integer) else (int(s[0]), int(s[1]))
        if min(shifts) < 0:
            raise ValidationError(f"max_shift must be non-negative; got {s}")
        return shifts


# -- molecules -----------------------------------------------------------------------------------
def enumerate_smiles(smiles: str, n: int = 10, seed: Seed = None, max_tries: int | None = None) -> list[str]:
    """Up to ``n`` different SMILES strings of one molecule, each checked to mean the same molecule.

    RDKit writes randomised SMILES (``doRandom=True``: a random atom order for the depth-first
    walk); every string is parsed again and its canonical SMILES compared with the input's, so a
    string that does not round-trip (it happens with unusual stereochemistry) is dropped.

    Parameters
    ----------
    smiles : str
        The molecule.
    n : int
        Largest number of strings returned. Small molecules have fewer spellings than that.
    seed : int, Generator or None
        Random seed (the same seed gives the same strings).
    max_tries : int, optional
        Random strings drawn at most (default ``10 * n``).

    Returns
    -------
    list of str
        Distinct strings; the first one is the canonical SMILES.

    Raises
    ------
    ValidationError
        If RDKit cannot parse ``smiles``.
    """
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValidationError(f"RDKit cannot parse the SMILES {smiles!r}")
    canonical = Chem.MolToSmiles(mol)
    out = [canonical]
    tries = int(max_tries) if max_tries is not None else 10 * int(n)
    if int(n) <= 1 or tries <= 0:
        return out[: max(int(n), 0)]
    gen = rng(seed)
    candidates = Chem.MolToRandomSmilesVect(mol, tries, randomSeed=int(gen.integers(1, 2**31 - 1)))
    seen = {canonical}
    for s in candidates:
        if s in seen:
            continue
        seen.add(s)
        back = Chem.MolFromSmiles(s)
        if back is not None and Chem.MolToSmiles(back) == canonical:
            out.append(s)
            if len(out) >= n:
                break
    return out


def augment_smiles(smiles: Sequence[str], copies: int = 5, seed: Seed = None) -> tuple[list[str], np.ndarray]:
    """Every molecule spelt up to ``copies`` ways; returns the strings and each one's source row.

    Parameters
    ----------
    smiles : sequence of str
        The molecules.
    copies : int
        Spellings per molecule at most (its canonical SMILES among them).
    seed : int, Generator or None
        Random seed.

    Returns
    -------
    strings : list of str
    source : ndarray of int, shape (len(strings),)
        Index into ``smiles`` of each string: ``y[source]`` are the labels.

    Raises
    ------
    ValidationError
        If a SMILES cannot be parsed (its row is named).
    """
    gen = rng(seed)
    strings: list[str] = []
    source: list[int] = []
    for i, s in enumerate(smiles):
        try:
            variants = enumerate_smiles(s, copies, gen)
        except ValidationError as exc:
            raise ValidationError(f"row {i}: {exc}") from None
        strings += variants
        source += [i] * len(variants)
    return strings, np.asarray(source, dtype=np.int64)
