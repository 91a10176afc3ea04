"""Featurizers: fingerprints and descriptors, streamed in chunks, bad SMILES reported with their line."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scientia.errors import ConfigError, UnknownNameError
from scientia.screen.features import Featurizer, parse_smiles

GOOD = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCCCCCCCCC"]


def test_morgan_bits_are_zero_one_and_counts_count():
    # bits are 0/1; counts are >= bits and exceed 1 where an environment repeats (decane's CH2)
    bits = Featurizer("morgan", n_bits=1024).transform(GOOD).X
    counts = Featurizer("morgan-count", n_bits=1024).transform(GOOD).X
    assert bits.shape == counts.shape == (4, 1024)
    assert set(np.unique(bits)) <= {0.0, 1.0}
    assert np.array_equal(counts > 0, bits > 0)
    assert counts[3].max() > 1


@pytest.mark.parametrize("kind", ["morgan", "morgan-count"])
def test_sparse_fingerprints_equal_the_dense_ones(kind):
    # sparse=True gives the same matrix as CSR, with the same rows, lines and rejects
    smiles = [GOOD[0], "C1CC", *GOOD[1:]]
    f = Featurizer(kind, n_bits=1024)
    dense, sparse = f.transform(smiles, start=5), f.transform(smiles, start=5, sparse=True)
    assert sparse.X.format == "csr" and sparse.X.dtype == np.float32
    np.testing.assert_array_equal(sparse.X.toarray(), dense.X)
    np.testing.assert_array_equal(sparse.rows, dense.rows)
    np.testing.assert_array_equal(sparse.lines, [5, 7, 8, 9])
    assert sparse.rejects == dense.rejects and sparse.rejects[0].line == 6
    # descriptors stay dense
    assert isinstance(Featurizer("morgan+rdkit2d").transform(GOOD, sparse=True).X, np.ndarray)


def test_counts_match_the_bo_descriptor_tables():
    # the screening featurizer and featurize.molecules compute the same Morgan counts
    from scientia.featurize.molecules import descriptor_table

    ours = Featurizer("morgan-count", radius=2, n_bits=1024).transform(GOOD).X
    np.testing.assert_array_equal(ours, descriptor_table(GOOD, "morgan"))


def test_descriptors_are_finite_and_named():
    # RDKit 2D descriptors come out finite and clipped, one column per stored name
    smiles = [*GOOD, "[Na+].[Cl-]", "C" * 60]
    f = Featurizer("rdkit2d")
    X = f.transform(smiles).X
    assert f.descriptors is not None and X.shape == (len(smiles), len(f.descriptors)) == (6, f.n_features)
    assert np.all(np.isfinite(X)) and np.abs(X).max() <= 1e8


def test_combined_features_put_the_fingerprint_first():
    # "morgan-count+rdkit2d" is the count fingerprint then the descriptors
    both = Featurizer("morgan-count+rdkit2d", n_bits=512).transform(GOOD).X
    np.testing.assert_array_equal(both[:, :512], Featurizer("morgan-count", n_bits=512).transform(GOOD).X)
    np.testing.assert_allclose(both[:, 512:], Featurizer("rdkit2d").transform(GOOD).X)


def test_invalid_smiles_are_skipped_with_line_and_reason():
    # unreadable SMILES never stop a run: they come back with their line and RDKit's reason
    smiles = ["CCO", "C1CC", "c1ccccc1", "CN(C)(C)(C)C", "", "CC"]
    feats = Featurizer("morgan").transform(smiles, start=10)
    assert feats.rows.tolist() == [0, 2, 5] and feats.lines.tolist() == [10, 12, 15]
    assert feats.X.shape[0] == 3 and feats.n_input == 6
    reasons = {r.line: r.reason for r in feats.rejects}
    assert set(reasons) == {11, 13, 14}
    assert "unclosed ring" in reasons[11]
    assert "valence" in reasons[13].lower()
    assert reasons[14] == "empty SMILES"
    assert not reasons[11].startswith("[")  # the time stamp is stripped


def test_parse_smiles_reports_syntax_errors():
    # a syntax error gives RDKit's parse message
    mol, reason = parse_smiles("C%%%")
    assert mol is None and "syntax error" in reason


def test_stream_chunks_keep_line_numbers_and_read_lazily():
    # stream() yields chunk_size molecules at a time, numbers lines across chunks, and does not
    # consume an endless source beyond the chunk it is working on
    source = itertools.cycle(["CCO", "C1CC", "CCN"])  # endless
    chunks = Featurizer("morgan", n_bits=64).stream(source, chunk_size=4)
    first, second = next(chunks), next(chunks)
    assert first.n_input == second.n_input == 4
    assert first.lines.tolist() == [1, 3, 4] and second.lines.tolist() == [6, 7]
    assert [r.line for r in first.rejects + second.rejects] == [2, 5, 8]


def test_featurizer_round_trips_through_its_dict():
    # to_dict/from_dict give the same featurizer, descriptor names included
    f = Featurizer("morgan+rdkit2d", radius=3, n_bits=256, chirality=True)
    g = Featurizer.from_dict(f.to_dict())
    assert g == f and g.descriptors == f.descriptors
    np.testing.assert_array_equal(g.transform(GOOD).X, f.transform(GOOD).X)


def test_bad_settings_are_refused():
    # unknown kinds suggest a close name; unknown keys and impossible sizes are config errors
    with pytest.raises(UnknownNameError, match="did you mean 'morgan-count'"):
        Featurizer("morgan-counts")
    with pytest.raises(ConfigError, match="unknown featurizer key 'bits'"):
        Featurizer.from_dict({"kind": "morgan", "bits": 3})
    with pytest.raises(ConfigError):
        Featurizer("morgan", n_bits=0)
