"""Molecular graphs for graph neural networks, computed in chunks from a stream of SMILES.

A :class:`GraphFeaturizer` turns each readable SMILES into a PyTorch Geometric
:class:`~torch_geometric.data.Data` graph: atoms are nodes, every bond is a pair of directed
edges. Like the fingerprint :class:`~scientia.screen.features.Featurizer` it returns
:class:`~scientia.screen.features.Features` — here ``X`` is a 1-D object array holding one
``Data`` per valid molecule, so that rows are selected with the same indexing — and a SMILES that
RDKit cannot read becomes a :class:`~scientia.screen.features.Reject` with its line and RDKit's
reason, never an exception.

Node features (:data:`ATOM_FEATURES`, one-hot, Chemprop-like): element (a list of common
elements plus "other"), number of bonded neighbours, formal charge, hybridisation, aromaticity,
number of attached hydrogens, ring membership. Edge features (:data:`BOND_FEATURES`): bond type,
conjugation, ring membership. ``edge_index`` holds the two directions of bond ``k`` in columns
``2k`` and ``2k + 1``, so the reverse of directed edge ``e`` is ``e ^ 1`` — which the directed
message passing of :mod:`scientia.screen.gnn` relies on; :func:`collate` keeps that order when it
joins graphs into one batch.

Why our own and not ``torch_geometric.utils.from_smiles``: that returns integer codes (not
one-hot), raises on bad SMILES and sorts edges (losing the pairing of directions); the RDKit calls
are the same few.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scientia.errors import ConfigError
from scientia.screen.features import Features, Reject, chunked, parse_smiles

__all__ = [
    "ATOM_FEATURES",
    "BOND_FEATURES",
    "DEFAULT_ELEMENTS",
    "GraphFeaturizer",
    "collate",
    "graph_array",
]

SCHEME = 1  # version of the feature layout below; stored with every model
DEFAULT_ELEMENTS = ("H", "B", "C", "N", "O", "F", "Na", "Si", "P", "S", "Cl", "K", "Se", "Br", "I")
_DEGREES = (0, 1, 2, 3, 4, 5)
_CHARGES = (-2, -1, 0, 1, 2)
_HYBRID = ("S", "SP", "SP2", "SP3", "SP3D", "SP3D2")
_HYDROGENS = (0, 1, 2, 3, 4)
_BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")

#: Atom feature groups after the element one-hot: (name, values); "other" closes each list.
ATOM_FEATURES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("degree", _DEGREES),
    ("formal_charge", _CHARGES),
    ("hybridisation", _HYBRID),
    ("aromatic", ()),  # one 0/1 column
    ("hydrogens", _HYDROGENS),
    ("in_ring", ()),
)
#: Bond feature groups: bond type one-hot (+ other), conjugated, in a ring.
BOND_FEATURES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("bond_type", _BOND_TYPES),
    ("conjugated", ()),
    ("in_ring", ()),
)
N_BOND_FEATURES = len(_BOND_TYPES) + 1 + 2


def _names(groups: Sequence[tuple[str, tuple[Any, ...]]]) -> list[str]:
    out: list[str] = []
    for name, values in groups:
        out += [f"{name}={v}" for v in values] + [f"{name}=other"] if values else [name]
    return out


def graph_array(graphs: Iterable[Any]) -> np.ndarray:
    """A 1-D object array of graphs (numpy would otherwise unpack ``Data``, which is iterable)."""
    items = list(graphs)
    out = np.empty(len(items), dtype=object)
    for i, g in enumerate(items):
        out[i] = g
    return out


@dataclass(frozen=True)
class GraphFeaturizer:
    """Molecular graphs with one-hot atom and bond features, as PyTorch Geometric ``Data``.

    Parameters
    ----------
    elements : tuple of str
        Element symbols with their own column; any other element shares one "other" column.
    kind : str
        Always ``"graph"`` (stored, so a saved model knows which featurizer to rebuild).

    Examples
    --------
    >>> feats = GraphFeaturizer().transform(["CCO", "C1CC"])
    >>> g = feats.X[0]
    >>> (g.num_nodes, g.edge_index.shape[1], g.x.shape[1] == GraphFeaturizer().n_atom_features)
    (3, 4, True)
    >>> [(r.line, r.reason) for r in feats.rejects]
    [(2, "unclosed ring for input: 'C1CC'")]
    """

    elements: tuple[str, ...] = DEFAULT_ELEMENTS
    kind: str = "graph"

    def __post_init__(self) -> None:
        if self.kind != "graph":
            raise ConfigError(f"a GraphFeaturizer has kind 'graph'; got {self.kind!r}")
        elements = tuple(str(e) for e in self.elements)
        if len(set(elements)) != len(elements) or not elements:
            raise ConfigError(f"elements must be distinct symbols, at least one; got {elements}")
        object.__setattr__(self, "elements", elements)

    # -- description (shared names with Featurizer) ----------------------------------------------
    uses_fingerprint = False
    uses_descriptors = False

    @property
    def n_atom_features(self) -> int:
        """Columns of ``Data.x``."""
        return len(self.atom_feature_names)

    @property
    def n_bond_features(self) -> int:
        """Columns of ``Data.edge_attr``."""
        return N_BOND_FEATURES

    @property
    def atom_feature_names(self) -> list[str]:
        """Name of each column of ``Data.x`` (``element=C``, ``degree=2``, ``aromatic`` …)."""
        return _names((("element", self.elements), *ATOM_FEATURES))

    @property
    def bond_feature_names(self) -> list[str]:
        """Name of each column of ``Data.edge_attr``."""
        return _names(BOND_FEATURES)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (stored with a trained model)."""
        return {"kind": "graph", "elements": list(self.elements), "scheme": SCHEME}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GraphFeaturizer:
        """Inverse of :meth:`to_dict`; unknown keys and other feature layouts are errors."""
        known = {"kind", "elements", "scheme"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown graph featurizer key {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        if data.get("scheme", SCHEME) != SCHEME:
            raise ConfigError(
                f"graph features of scheme {data['scheme']!r}; this scientia computes scheme {SCHEME}"
            )
        return cls(elements=tuple(data.get("elements", DEFAULT_ELEMENTS)), kind=data.get("kind", "graph"))

    # -- computing ------------------------------------------------------------------------------
    def _tables(self) -> tuple[dict[int, int], dict[Any, int], dict[Any, int]]:
        """Column offsets: atomic number → element column, RDKit enums → their columns."""
        from rdkit import Chem

        table = Chem.GetPeriodicTable()
        element: dict[int, int] = {}
        for j, symbol in enumerate(self.elements):
            try:
                element[int(table.GetAtomicNumber(symbol))] = j
            except RuntimeError:
                raise ConfigError(f"unknown element symbol {symbol!r}") from None
        hybrid = {getattr(Chem.HybridizationType, h): j for j, h in enumerate(_HYBRID)}
        bonds = {getattr(Chem.BondType, b): j for j, b in enumerate(_BOND_TYPES)}
        return element, hybrid, bonds

    def transform(
        self, smiles: Sequence[str], lines: Sequence[int] | np.ndarray | None = None, start: int = 1
    ) -> Features:
        """Build the graphs of a list of SMILES, skipping (and reporting) the unreadable ones.

        Parameters
        ----------
        smiles : sequence of str, length n
        lines : sequence of int, length n, optional
            The line number of each SMILES in its source; default ``start, start + 1, …``.
        start : int
            First line number when ``lines`` is not given.

        Returns
        -------
        Features
            ``X``: object array of shape (k,), one ``torch_geometric.data.Data`` per valid SMILES
            with ``x`` (atoms, n_atom_features) float32, ``edge_index`` (2, 2·bonds) int64 and
            ``edge_attr`` (2·bonds, n_bond_features) float32; their positions, lines and the
            rejects.
        """
        from rdkit import rdBase

        n = len(smiles)
        line_no = np.arange(start, start + n) if lines is None else np.asarray(lines, dtype=np.int64)
        element, hybrid, bond_types = self._tables()
        n_el = len(self.elements)
        # column offsets of each group in x: element (n_el + 1), degree 7, charge 6, hybrid 7, …
        o_deg = n_el + 1
        o_chg = o_deg + len(_DEGREES) + 1
        o_hyb = o_chg + len(_CHARGES) + 1
        o_aro = o_hyb + len(_HYBRID) + 1
        o_hs = o_aro + 1
        o_ring = o_hs + len(_HYDROGENS) + 1
        atom_cols: list[int] = []  # 7 column indices per atom, -1 = no column set
        bond_rows: list[int] = []  # begin, end, type column, conjugated, ring per bond
        n_atoms: list[int] = []
        n_bonds: list[int] = []
        keep: list[int] = []
        rejects: list[Reject] = []
        with rdBase.BlockLogs():
            for i, s in enumerate(smiles):
                text = "" if s is None else str(s)
                mol, reason = parse_smiles(text)
                if mol is None:
                    rejects.append(Reject(int(line_no[i]), text, reason))
                    continue
                n_a, n_b = mol.GetNumAtoms(), mol.GetNumBonds()
                for a in range(n_a):  # by index: RDKit's GetAtoms() iterator is slow Python
                    atom = mol.GetAtomWithIdx(a)
                    degree = atom.GetDegree()
                    charge = atom.GetFormalCharge()
                    hs = atom.GetTotalNumHs()
                    atom_cols += (
                        element.get(atom.GetAtomicNum(), n_el),
                        o_deg + (degree if degree <= 5 else 6),
                        o_chg + (charge + 2 if -2 <= charge <= 2 else 5),
                        o_hyb + hybrid.get(atom.GetHybridization(), 6),
                        o_aro if atom.GetIsAromatic() else -1,
                        o_hs + (hs if hs <= 4 else 5),
                        o_ring if atom.IsInRing() else -1,
                    )
                for b in range(n_b):
                    bond = mol.GetBondWithIdx(b)
                    bond_rows += (
                        bond.GetBeginAtomIdx(),
                        bond.GetEndAtomIdx(),
                        bond_types.get(bond.GetBondType(), 4),
                        5 if bond.GetIsConjugated() else -1,
                        6 if bond.IsInRing() else -1,
                    )
                n_atoms.append(n_a)
                n_bonds.append(n_b)
                keep.append(i)
        graphs = self._graphs(
            np.asarray(atom_cols, dtype=np.int64).reshape(-1, 7),
            np.asarray(bond_rows, dtype=np.int64).reshape(-1, 5),
            np.asarray(n_atoms, dtype=np.int64),
            np.asarray(n_bonds, dtype=np.int64),
        )
        rows = np.asarray(keep, dtype=np.int64)
        return Features(graphs, rows, line_no[rows], rejects, n)

    def _graphs(
        self, atom_cols: np.ndarray, bond_rows: np.ndarray, n_atoms: np.ndarray, n_bonds: np.ndarray
    ) -> np.ndarray:
        """One ``Data`` per molecule from the chunk's atom and bond tables (vectorised)."""
        import torch
        from torch_geometric.data import Data

        x = _one_hot(atom_cols, self.n_atom_features)
        attr = np.repeat(_one_hot(bond_rows[:, 2:], N_BOND_FEATURES), 2, axis=0)  # both directions
        ends = bond_rows[:, :2]
        index = np.empty((2, 2 * len(ends)), dtype=np.int64)
        index[:, 0::2] = ends.T
        index[:, 1::2] = ends[:, ::-1].T
        tx, tindex, tattr = torch.from_numpy(x), torch.from_numpy(index), torch.from_numpy(attr)
        a_end, b_end = np.cumsum(n_atoms), 2 * np.cumsum(n_bonds)
        out = np.empty(len(n_atoms), dtype=object)
        for i, (a1, b1) in enumerate(zip(a_end.tolist(), b_end.tolist(), strict=True)):
            a0, b0 = a1 - int(n_atoms[i]), b1 - 2 * int(n_bonds[i])
            # .clone(): a graph owns its tensors, so keeping a few does not keep the whole chunk
            out[i] = Data(
                x=tx[a0:a1].clone(), edge_index=tindex[:, b0:b1].clone(), edge_attr=tattr[b0:b1].clone()
            )
        return out

    def stream(self, smiles: Iterable[str], chunk_size: int = 10_000, start: int = 1) -> Iterator[Features]:
        """Featurize an iterable of SMILES lazily, ``chunk_size`` at a time (see ``Featurizer.stream``)."""
        return chunked(self.transform, smiles, chunk_size, start)


def _one_hot(cols: np.ndarray, width: int) -> np.ndarray:
    """Rows of ``width`` float32 columns with a 1 at every non-negative index of ``cols`` (r, g)."""
    out = np.zeros((len(cols), width), dtype=np.float32)
    rows = np.repeat(np.arange(len(cols)), cols.shape[1]) if cols.size else np.zeros(0, dtype=np.int64)
    flat = cols.ravel()
    ok = flat >= 0
    out[rows[ok], flat[ok]] = 1.0
    return out


def collate(graphs: Sequence[Any] | np.ndarray) -> tuple[Any, Any, Any, Any]:
    """Join graphs into one disconnected graph, as PyG batches do (edge pairing kept).

    Parameters
    ----------
    graphs : sequence of torch_geometric.data.Data, length b

    Returns
    -------
    x : torch.Tensor, shape (N, d_atom)
    edge_index : torch.Tensor, shape (2, E)
        Node indices offset per graph; columns ``2k`` and ``2k + 1`` are still reverse edges.
    edge_attr : torch.Tensor, shape (E, d_bond)
    batch : torch.Tensor, shape (N,)
        The graph each node belongs to.
    """
    import torch

    xs = [g.x for g in graphs]
    indices = [g.edge_index for g in graphs]
    sizes = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
    n_edges = torch.tensor([e.shape[1] for e in indices], dtype=torch.long)
    offsets = torch.repeat_interleave(torch.cumsum(sizes, 0) - sizes, n_edges)
    edge_index = torch.cat(indices, dim=1) + offsets
    batch = torch.repeat_interleave(torch.arange(len(xs)), sizes)
    return torch.cat(xs), edge_index, torch.cat([g.edge_attr for g in graphs]), batch
