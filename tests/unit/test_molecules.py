"""Molecular descriptor tables from SMILES (RDKit)."""

from __future__ import annotations

import numpy as np
import pytest

from scientia.errors import ConfigError

pytest.importorskip("rdkit")

from scientia.featurize.molecules import descriptor_table

SMILES = ["CCO", "c1ccccc1", "[Na+].[OH-]"]


@pytest.mark.parametrize("kind", ["rdkit", "morgan", "rdkit+morgan"])
def test_descriptor_table_has_one_row_per_molecule(kind):
    # one row per SMILES; the combined table is the two side by side
    t = descriptor_table(SMILES, kind)
    assert t.shape[0] == 3 and t.shape[1] > 10
    if kind == "morgan":
        assert t.shape[1] == 1024 and np.all(t >= 0)


def test_combined_table_is_rdkit_then_morgan():
    # "rdkit+morgan" concatenates the two tables
    both = descriptor_table(SMILES, "rdkit+morgan")
    np.testing.assert_array_equal(both[:, -1024:], descriptor_table(SMILES, "morgan"))


def test_unknown_descriptor_kind_lists_the_known_ones():
    # an unknown featurizer name is a config error listing the valid ones
    with pytest.raises(ConfigError, match="rdkit, morgan"):
        descriptor_table(SMILES, "maccs")
