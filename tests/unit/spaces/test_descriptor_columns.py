"""Descriptors given in the data's own columns."""

from __future__ import annotations

import pandas as pd
import pytest

from scientia.errors import ConfigError, UnknownNameError
from scientia.spaces import PoolSpace


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "solvent": ["a", "b", "c", "a", "b", "c"],
            "eps": [2.0, 30.0, 80.0, 2.0, 30.0, 80.0],
            "lig": ["x", "y", "x", "y", "x", "y"],
            "lig_smiles": ["CCO", "c1ccccc1", "CCO", "c1ccccc1", "CCO", "c1ccccc1"],
            "T": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )


def test_descriptor_columns_are_not_parameters():
    # columns named as descriptors describe a categorical and are not searched themselves
    space = PoolSpace.from_table(_table(), descriptor_columns={"solvent": ["eps"], "lig": ["lig_smiles"]})
    assert space.names == ["solvent", "lig", "T"]


def test_numeric_descriptor_column_orders_choices_by_value():
    # a one-column numeric descriptor encodes choices in the order of its values
    space = PoolSpace.from_table(_table(), descriptor_columns={"solvent": ["eps"]})
    solvent = space.by_name["solvent"]
    codes = solvent.encode(["a", "b", "c"])[:, 0]
    assert codes[0] < codes[1] < codes[2] or codes[0] > codes[1] > codes[2]


def test_smiles_descriptor_column_is_featurized():
    # a text descriptor column is read as SMILES and featurized (distinct molecules, distinct codes)
    space = PoolSpace.from_table(_table(), descriptor_columns={"lig": ["lig_smiles"]})
    lig = space.by_name["lig"]
    assert lig.uses_descriptors
    assert not (lig.encode(["x"]) == lig.encode(["y"])).all()


def test_descriptor_that_varies_within_a_choice_is_rejected():
    # a descriptor must be a property of the choice: two values for one choice is a config error
    bad = _table().assign(eps=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    with pytest.raises(ConfigError, match="more than one value"):
        PoolSpace.from_table(bad, descriptor_columns={"solvent": ["eps"]})


def test_unknown_descriptor_column_suggests_a_name():
    # a misspelt descriptor column gives "did you mean"
    with pytest.raises(UnknownNameError, match="did you mean 'eps'"):
        PoolSpace.from_table(_table(), descriptor_columns={"solvent": ["epz"]})
