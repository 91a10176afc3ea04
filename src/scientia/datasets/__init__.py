"""Bundled real datasets, each with a datasheet and a loader.

The tables ship inside the package (MIT-licensed sources), so nothing here reads outside the
installed package. ``list_datasets()`` lists them; ``load(name)`` returns a :class:`pandas.DataFrame`;
``datasheet(name)`` returns the source, citation, license and column descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

from scientia.errors import UnknownNameError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Datasheet", "datasheet", "list_datasets", "load", "path"]


@dataclass(frozen=True)
class Datasheet:
    """Where a bundled table comes from and what its columns mean."""

    name: str
    file: str
    title: str
    rows: int
    source: str
    citation: str
    license: str
    columns: dict[str, str] = field(default_factory=dict)
    objective: str = "yield"


_EDBO_SOURCE = (
    "GitHub b-shields/edbo, experiments/data/*/experiment_index.csv, "
    "commit 9b41eac3f6d9e520547702fd5b0c7ef6441625a4, copied unchanged"
)

_SHEETS: dict[str, Datasheet] = {
    "suzuki_miyaura": Datasheet(
        name="suzuki_miyaura",
        file="suzuki_miyaura_perera2018_edbo.csv",
        title="Suzuki–Miyaura cross-coupling, full-factorial HTE screen (EDBO subset)",
        rows=3696,
        source=_EDBO_SOURCE,
        citation=(
            "D. Perera et al., Science 359, 429–434 (2018); curated for Bayesian optimisation in "
            "B. J. Shields et al., Nature 590, 89–96 (2021)"
        ),
        license="MIT (edbo repository)",
        columns={
            "entry": "EDBO row index",
            "Electrophile_SMILES": "electrophile (4 options)",
            "Nucleophile_SMILES": "nucleophile (3 options)",
            "Ligand_SMILES": "ligand (11 options)",
            "Base_SMILES": "base (7 options)",
            "Solvent_SMILES": "solvent (4 options)",
            "yield": "measured yield, % (0–100)",
        },
    ),
    "buchwald_hartwig": Datasheet(
        name="buchwald_hartwig",
        file="buchwald_hartwig_ahneman2018.csv",
        title="Buchwald–Hartwig C–N coupling, near-full-factorial HTE screen",
        rows=3955,
        source=_EDBO_SOURCE,
        citation=(
            "D. T. Ahneman, J. G. Estrada, S. Lin, S. D. Dreher, A. G. Doyle, Science 360, "
            "186–190 (2018); curated in B. J. Shields et al., Nature 590, 89–96 (2021)"
        ),
        license="MIT (edbo repository)",
        columns={
            "entry": "EDBO row index",
            "Aryl_halide_SMILES": "aryl halide (15 options)",
            "Additive_SMILES": "additive (22 options)",
            "Base_SMILES": "base (3 options)",
            "Ligand_SMILES": "ligand (4 options)",
            "yield": "measured yield, % (0–100); 5 of 3,960 combinations absent",
        },
    ),
}


def list_datasets() -> list[Datasheet]:
    """Return the datasheets of every bundled dataset, sorted by name."""
    return [_SHEETS[k] for k in sorted(_SHEETS)]


def datasheet(name: str) -> Datasheet:
    """Return the datasheet of the bundled dataset ``name``."""
    try:
        return _SHEETS[name]
    except KeyError:
        raise UnknownNameError.for_name("dataset", name, _SHEETS) from None


def path(name: str) -> str:
    """Return the file path of the bundled dataset ``name`` (inside the installed package)."""
    sheet = datasheet(name)
    return str(resources.files(__name__).joinpath("data", sheet.file))


def load(name: str) -> pd.DataFrame:
    """Load the bundled dataset ``name`` as a DataFrame.

    Examples
    --------
    >>> from scientia import datasets
    >>> datasets.load("suzuki_miyaura").shape
    (3696, 7)
    """
    import pandas as pd

    return pd.read_csv(path(name))
