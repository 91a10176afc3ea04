"""Shared data for the screening tests: ESOL (bundled under ``data/``) and its fingerprints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def esol():
    """ESOL as a DataFrame with columns ``smiles`` and ``logS`` (1,128 molecules)."""
    import pandas as pd

    return pd.read_csv(DATA / "esol.csv")


@pytest.fixture(scope="session")
def esol_counts(esol):
    """Morgan count fingerprints (radius 2, 2,048 bits) of ESOL, computed once per session."""
    from scientia.screen.features import Featurizer

    feats = Featurizer("morgan-count").transform(esol["smiles"].tolist())
    assert len(feats.rows) == len(esol)
    return feats.X


@pytest.fixture(scope="session")
def esol_split(esol):
    """A fixed random 80/20 split of ESOL: (train rows, test rows)."""
    order = np.random.default_rng(0).permutation(len(esol))
    return np.sort(order[226:]), np.sort(order[:226])
