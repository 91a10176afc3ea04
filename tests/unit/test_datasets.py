"""Bundled datasets: loaders agree with their datasheets."""

from __future__ import annotations

import pytest

from scientia import datasets
from scientia.errors import UnknownNameError


@pytest.mark.parametrize("sheet", datasets.list_datasets(), ids=lambda s: s.name)
def test_dataset_matches_its_datasheet(sheet):
    # each bundled table has the rows and columns its datasheet lists, and a license
    df = datasets.load(sheet.name)
    assert len(df) == sheet.rows
    assert set(sheet.columns) == set(df.columns) and sheet.objective in df.columns
    assert sheet.license and sheet.citation
    assert df[sheet.objective].between(0, 100).all()


def test_unknown_dataset_suggests_one():
    # a misspelt dataset name gives a did-you-mean
    with pytest.raises(UnknownNameError, match="did you mean 'suzuki_miyaura'"):
        datasets.load("suzuki_miyuara")
