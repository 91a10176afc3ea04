"""PoolSpace: a finite table of allowed combinations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scientia import datasets
from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.spaces import Categorical, ExcludedCombination, PoolSpace, Real, space_from_dict
from scientia.types import Candidate

seeds = st.integers(0, 2**32 - 1)


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "base": ["NaOH", "KOH", "NaOH", "DBU", "KOH", "NaOH"],
            "solvent": ["THF", "THF", "DMF", "DMF", "DMF", "THF"],
            "t": [20, 40, 60, 80, 100, 20],
            "yield": [1.0, 2.0, 3.0, 4.0, 5.0, 9.0],
        }
    )


def test_from_table_makes_text_columns_categorical_and_numbers_real(table):
    # text columns become categoricals (sorted choices), numeric ones reals over their range
    space = PoolSpace.from_table(table, ["base", "solvent", "t"])
    base, solvent, t = space.parameters
    assert isinstance(base, Categorical) and base.choices == ("DBU", "KOH", "NaOH")
    assert isinstance(solvent, Categorical)
    assert isinstance(t, Real) and (t.low, t.high) == (20, 100)


def test_from_table_drops_duplicate_rows(table):
    # the repeated combination (NaOH, THF, 20) appears once in the pool
    space = PoolSpace.from_table(table, ["base", "solvent", "t"])
    assert len(space.pool) == 5


def test_from_table_applies_constraints(table):
    # rows violating a constraint are not in the pool
    space = PoolSpace.from_table(
        table, ["base", "solvent", "t"], constraints=[ExcludedCombination({"solvent": ["DMF"]})]
    )
    assert {c["solvent"] for c in space.pool} == {"THF"}


def test_from_table_refuses_an_empty_pool(table):
    # constraints that remove every row give a config error
    with pytest.raises(ConfigError, match="empty"):
        PoolSpace.from_table(
            table, ["solvent"], constraints=[ExcludedCombination({"solvent": ["THF", "DMF"]})]
        )


def test_from_table_unknown_column_suggests_one(table):
    # a misspelt column gives a did-you-mean
    with pytest.raises(UnknownNameError, match="did you mean 'solvent'"):
        PoolSpace.from_table(table, ["base", "solvnt"])


def test_from_table_with_descriptor_tables_per_column(table):
    # a mapping gives a descriptor table to one column; the other stays one-hot
    desc = {"NaOH": [1.0, 0.0], "KOH": [1.2, 0.1], "DBU": [0.0, 3.0]}
    space = PoolSpace.from_table(table, ["base", "solvent"], descriptors={"base": desc})
    assert space.by_name["base"].uses_descriptors and not space.by_name["solvent"].uses_descriptors
    assert space.dim == space.by_name["base"].width + 2


def test_contains_only_rows_of_the_pool(table):
    # a combination each parameter allows, but absent from the table, is not in the pool
    space = PoolSpace.from_table(table, ["base", "solvent"])
    assert space.contains(Candidate({"base": "KOH", "solvent": "THF"}))
    assert not space.contains(Candidate({"base": "DBU", "solvent": "THF"}))
    with pytest.raises(ValidationError, match="not in the pool"):
        space.candidate({"base": "DBU", "solvent": "THF"})


def test_candidate_from_table_row_matches_the_pool(table):
    # a row read back from the table (numbers as floats) is the pool's candidate
    space = PoolSpace.from_table(table, ["base", "solvent", "t"])
    row = table.astype({"t": float}).iloc[3][["base", "solvent", "t"]].to_dict()
    assert space.contains(space.candidate(row))


@given(seeds, st.integers(1, 8))
def test_sample_gives_distinct_rows_reproducibly(seed, n):
    # sample(n) draws min(n, pool size) distinct pool rows, the same for the same seed
    space = PoolSpace.from_table(pd.DataFrame({"a": list("abcdef"), "b": [1, 2, 3, 4, 5, 6]}), ["a", "b"])
    draw = space.sample(n, seed)
    assert len(draw) == min(n, 6) and len({c.id for c in draw}) == len(draw)
    assert all(space.contains(c) for c in draw)
    assert draw == space.sample(n, seed)


def test_encoded_pool_is_the_encoding_of_every_row(table):
    # encoded_pool() has one row per pool candidate and equals encode(pool)
    space = PoolSpace.from_table(table, ["base", "solvent", "t"])
    X = space.encoded_pool()
    assert X.shape == (len(space.pool), space.dim)
    np.testing.assert_array_equal(X, space.encode(space.pool))


def test_pool_dict_round_trip(table):
    # space_from_dict(JSON(to_dict())) rebuilds the same pool
    space = PoolSpace.from_table(table, ["base", "solvent", "t"])
    rebuilt = space_from_dict(json.loads(json.dumps(space.to_dict())))
    assert isinstance(rebuilt, PoolSpace)
    assert [c.id for c in rebuilt.pool] == [c.id for c in space.pool]


def test_suzuki_pool_with_rdkit_descriptors_is_compact_and_exact():
    # the real Suzuki table with RDKit descriptors: every row decodes to itself, in fewer
    # columns than one-hot
    pytest.importorskip("rdkit")
    df = datasets.load("suzuki_miyaura")
    cols = [c for c in df.columns if c.endswith("_SMILES")]
    rdkit = PoolSpace.from_table(df, cols, descriptors="rdkit", encoding="descriptors")
    onehot = PoolSpace.from_table(df, cols, encoding="onehot")
    assert len(rdkit.pool) == len(df) == 3696
    assert rdkit.dim < onehot.dim == 4 + 3 + 11 + 7 + 4
    assert [c.id for c in rdkit.decode(rdkit.encoded_pool())] == [c.id for c in rdkit.pool]
