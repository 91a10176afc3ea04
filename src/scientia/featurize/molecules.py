"""Descriptor tables for molecules given as SMILES (RDKit).

Used to encode categorical parameters whose choices are chemicals (ligands, bases, solvents):
the GP then sees chemically meaningful similarity instead of one-hot distances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scientia.errors import ConfigError, ValidationError

__all__ = ["KINDS", "descriptor_table"]

KINDS = ("rdkit", "morgan", "rdkit+morgan")


def _mol(smiles: str):  # type: ignore[no-untyped-def]
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValidationError(f"cannot parse SMILES {smiles!r}; give a descriptor table instead")
    return mol


def _rdkit(smiles: Sequence[str]) -> np.ndarray:
    from rdkit.Chem import Descriptors

    rows = []
    for s in smiles:
        mol = _mol(s)
        values = []
        for _, fn in Descriptors.descList:
            try:
                values.append(float(fn(mol)))
            except Exception:  # noqa: BLE001 - some descriptors fail on salts; keep the column
                values.append(np.nan)
        rows.append(values)
    return np.asarray(rows, dtype=float)


def _morgan(smiles: Sequence[str], radius: int = 2, n_bits: int = 1024) -> np.ndarray:
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
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
