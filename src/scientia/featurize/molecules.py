"""Descriptor tables for molecules given as SMILES (RDKit).

Used to encode categorical parameters whose choices are chemicals (ligands, bases, solvents):
the GP then sees chemically meaningful similarity instead of one-hot distances. The per-molecule
helpers (:func:`morgan_generator`, :func:`descriptor_functions`, :func:`descriptor_vector`) are
shared with the streamed featurizers of :mod:`scientia.screen.features`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError

__all__ = ["KINDS", "descriptor_functions", "descriptor_table", "descriptor_vector", "morgan_generator"]

KINDS = ("rdkit", "morgan", "rdkit+morgan")


def _mol(smiles: str):  # type: ignore[no-untyped-def]
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValidationError(f"cannot parse SMILES {smiles!r}; give a descriptor table instead")
    return mol


def descriptor_functions(names: Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """Return RDKit's 2D descriptor functions as ``(name, function)`` pairs.

    Parameters
    ----------
    names : sequence of str, optional
        The descriptors wanted, in this order; default every one in ``Descriptors.descList``
        (217 with RDKit 2026.03).

    Raises
    ------
    ValidationError
        A name that this RDKit release does not compute.
    """
    from rdkit.Chem import Descriptors

    table = dict(Descriptors.descList)
    if names is None:
        return list(Descriptors.descList)
    missing = [n for n in names if n not in table]
    if missing:
        raise ValidationError(
            f"RDKit descriptor {missing[0]!r} is not computed by this RDKit release "
            f"({len(missing)} missing); use the RDKit version the features were made with"
        )
    return [(n, table[n]) for n in names]


def descriptor_vector(mol: Any, functions: Sequence[tuple[str, Any]]) -> np.ndarray:
    """Return the descriptors of one RDKit molecule, shape (p,); NaN where a descriptor fails."""
    values = np.empty(len(functions), dtype=float)
    for j, (_, fn) in enumerate(functions):
        try:
            values[j] = float(fn(mol))
        except Exception:  # noqa: BLE001 - some descriptors fail on salts; keep the column
            values[j] = np.nan
    return values


def morgan_generator(radius: int = 2, n_bits: int = 1024, chirality: bool = False) -> Any:
    """Return an RDKit Morgan fingerprint generator (ECFP-like; radius 2 ~ ECFP4)."""
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits, includeChirality=chirality)


def _rdkit(smiles: Sequence[str]) -> np.ndarray:
    functions = descriptor_functions()
    return np.asarray([descriptor_vector(_mol(s), functions) for s in smiles], dtype=float).reshape(
        len(smiles), len(functions)
    )


def _morgan(smiles: Sequence[str], radius: int = 2, n_bits: int = 1024) -> np.ndarray:
    gen = morgan_generator(radius, n_bits)
    return np.asarray([gen.GetCountFingerprintAsNumPy(_mol(s)) for s in smiles], dtype=float)


def descriptor_table(smiles: Sequence[str], kind: str = "rdkit") -> np.ndarray:
    """Compute a descriptor table for a list of SMILES.

    Parameters
    ----------
    smiles : sequence of str, length k
    kind : {"rdkit", "morgan", "rdkit+morgan"}
        RDKit 2D descriptors, Morgan count fingerprints (radius 2, 1024 bits), or both.

    Returns
    -------
    ndarray, shape (k, p)
        Raw descriptors; columns may contain NaN where RDKit failed.
    """
    if kind == "rdkit":
        return _rdkit(smiles)
    if kind == "morgan":
        return _morgan(smiles)
    if kind == "rdkit+morgan":
        return np.hstack([_rdkit(smiles), _morgan(smiles)])
    raise ConfigError(f"unknown descriptor kind {kind!r}; expected one of {', '.join(KINDS)}")
