"""Molecular features for screening, computed in chunks from a stream of SMILES.

A :class:`Featurizer` turns SMILES into a float matrix: Morgan fingerprints as bits or counts,
RDKit 2D descriptors, or fingerprints and descriptors side by side. It is a small frozen value
whose :meth:`~Featurizer.to_dict` is stored with every trained model, so that a library is
featurized at prediction time exactly as the training data were (the descriptor names are stored
too: RDKit releases add descriptors).

A screening library may hold millions of lines and a few bad ones. :meth:`Featurizer.stream`
consumes any iterable of SMILES in chunks (memory bounded by the chunk size), and a SMILES that
RDKit cannot read never stops a run: it becomes a :class:`Reject` with its line number and
RDKit's own reason (captured with ``rdBase.CaptureErrorLog``, which changes no global logging
state; RDKit's warnings are silenced with ``rdBase.BlockLogs`` for the same span only). The
per-molecule RDKit calls are shared with :mod:`scientia.featurize.molecules`.

Why our own and not scikit-fingerprints or datamol: both featurize whole lists and raise (or
return NaN rows) on bad input; we need chunked streaming with line-numbered rejects and a
serialisable config, and the RDKit calls underneath are the same few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scientia.errors import ConfigError, UnknownNameError

__all__ = ["KINDS", "Features", "Featurizer", "Reject", "chunked", "parse_smiles"]

KINDS = ("morgan", "morgan-count", "rdkit2d", "morgan+rdkit2d", "morgan-count+rdkit2d")
_CLIP = 1e8  # descriptors beyond this magnitude (e.g. Ipc) are clipped: float32-safe, still ordered


@dataclass(frozen=True)
class Reject:
    """A SMILES that could not be featurized.

    Attributes
    ----------
    line : int
        Its line in the source (1-based; for a list, its position counted from ``start``).
    smiles : str
    reason : str
        RDKit's message, e.g. ``unclosed ring for input: 'C1CC'``.
    """

    line: int
    smiles: str
    reason: str


@dataclass(frozen=True)
class Features:
    """Features of one chunk of SMILES.

    Attributes
    ----------
    X : ndarray, shape (k, d)
        One row per valid SMILES, float32, finite; a SciPy CSR matrix when asked for with
        ``transform(..., sparse=True)``. (For
        :class:`~scientia.screen.graphs.GraphFeaturizer`: an object array of shape (k,) holding
        one ``torch_geometric.data.Data`` graph per valid SMILES.)
    rows : ndarray of int, shape (k,)
        Position of each valid SMILES within the chunk given.
    lines : ndarray of int, shape (k,)
        Their line numbers.
    rejects : list of Reject
        The SMILES that were skipped, with line and reason.
    n_input : int
        Number of SMILES in the chunk.
    """

    X: np.ndarray
    rows: np.ndarray
    lines: np.ndarray
    rejects: list[Reject] = field(default_factory=list)
    n_input: int = 0


def parse_smiles(smiles: str) -> tuple[Any, str]:
    """Parse one SMILES with RDKit.

    Returns
    -------
    mol : rdkit Mol or None
    reason : str
        Empty when ``mol`` is a molecule; otherwise RDKit's first message without its time
        stamp (``Explicit valence for atom # 1 N, 5, is greater than permitted``), or
        ``empty SMILES``.
    """
    from rdkit import Chem, rdBase

    text = smiles.strip()
    if not text:
        return None, "empty SMILES"
    with rdBase.CaptureErrorLog() as capture:
        mol = Chem.MolFromSmiles(text)
    if mol is not None and mol.GetNumAtoms() > 0:
        return mol, ""
    if mol is not None:
        return None, "no atoms"
    return None, _reason(str(capture.messages))


def _reason(messages: str) -> str:
    """The first line of RDKit's log, without ``[hh:mm:ss]`` and ``SMILES Parse Error:``."""
    for line in messages.splitlines():
        text = line.split("] ", 1)[1] if line.startswith("[") and "] " in line else line
        text = text.removeprefix("SMILES Parse Error: ").strip()
        if text:
            return text
    return "RDKit could not parse it"


@dataclass(frozen=True)
class Featurizer:
    """Fingerprints and/or RDKit 2D descriptors of molecules.

    Parameters
    ----------
    kind : str
        ``morgan`` (bits), ``morgan-count`` (how often each substructure occurs, folded),
        ``rdkit2d`` (RDKit's 2D descriptors), or a fingerprint and the descriptors side by side
        (``morgan+rdkit2d``, ``morgan-count+rdkit2d``; fingerprint columns first).
    radius : int
        Morgan radius (2 is ECFP4-like).
    n_bits : int
        Fingerprint length (substructure ids are folded onto it).
    chirality : bool
        Whether Morgan environments distinguish stereo-centres.
    descriptors : tuple of str, optional
        RDKit descriptor names, in column order; filled with every descriptor of the installed
        RDKit when the featurizer is made, and stored, so a saved model asks for the same ones.

    Notes
    -----
    Descriptor values are "finite-cleaned": a descriptor that fails or is not finite becomes 0,
    and magnitudes are clipped at 1e8 (a few, such as ``Ipc``, overflow on large molecules).
    Models standardise columns with training statistics, so 0 is a neutral fill only after
    that step; the point is that no NaN or infinity ever reaches a model.
    """

    kind: str = "morgan-count"
    radius: int = 2
    n_bits: int = 2048
    chirality: bool = False
    descriptors: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UnknownNameError.for_name("feature kind", self.kind, KINDS)
        if self.radius < 0 or self.n_bits < 1:
            raise ConfigError(f"Morgan radius must be >= 0 and n_bits >= 1; got {self.radius}, {self.n_bits}")
        if self.uses_descriptors and self.descriptors is None:
            from scientia.featurize.molecules import descriptor_functions

            object.__setattr__(self, "descriptors", tuple(n for n, _ in descriptor_functions()))
        elif self.descriptors is not None:
            object.__setattr__(self, "descriptors", tuple(self.descriptors))

    # -- description ----------------------------------------------------------------------------
    @property
    def uses_fingerprint(self) -> bool:
        """Whether the features include a Morgan fingerprint."""
        return self.kind.startswith("morgan")

    @property
    def uses_descriptors(self) -> bool:
        """Whether the features include RDKit descriptors."""
        return "rdkit2d" in self.kind

    @property
    def counts(self) -> bool:
        """Whether the fingerprint holds counts (else 0/1 bits)."""
        return self.kind.startswith("morgan-count")

    @property
    def n_features(self) -> int:
        """Number of columns ``d`` of the feature matrix."""
        d = self.n_bits if self.uses_fingerprint else 0
        return d + (len(self.descriptors or ()) if self.uses_descriptors else 0)

    @property
    def fingerprint_columns(self) -> slice:
        """The columns that hold the fingerprint (empty for ``rdkit2d``)."""
        return slice(0, self.n_bits if self.uses_fingerprint else 0)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form (stored with a trained model)."""
        return {
            "kind": self.kind,
            "radius": self.radius,
            "n_bits": self.n_bits,
            "chirality": self.chirality,
            "descriptors": list(self.descriptors) if self.uses_descriptors and self.descriptors else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Featurizer:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {"kind", "radius", "n_bits", "chirality", "descriptors"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown featurizer key {unknown[0]!r}; known: {', '.join(sorted(known))}")
        desc = data.get("descriptors")
        return cls(
            kind=data.get("kind", "morgan-count"),
            radius=int(data.get("radius", 2)),
            n_bits=int(data.get("n_bits", 2048)),
            chirality=bool(data.get("chirality", False)),
            descriptors=tuple(desc) if desc else None,
        )

    # -- computing ------------------------------------------------------------------------------
    def _tools(self) -> tuple[Any, list[tuple[str, Any]]]:
        from scientia.featurize.molecules import descriptor_functions, morgan_generator

        gen = morgan_generator(self.radius, self.n_bits, self.chirality) if self.uses_fingerprint else None
        functions = descriptor_functions(self.descriptors) if self.uses_descriptors else []
        return gen, functions

    def _row(self, mol: Any, gen: Any, functions: list[tuple[str, Any]], out: np.ndarray) -> None:
        from scientia.featurize.molecules import descriptor_vector

        k = 0
        if gen is not None:
            fp = gen.GetCountFingerprintAsNumPy(mol) if self.counts else gen.GetFingerprintAsNumPy(mol)
            out[: self.n_bits] = fp
            k = self.n_bits
        if functions:
            values = descriptor_vector(mol, functions)
            values[~np.isfinite(values)] = 0.0
            out[k:] = np.clip(values, -_CLIP, _CLIP)

    def transform(
        self,
        smiles: Sequence[str],
        lines: Sequence[int] | np.ndarray | None = None,
        start: int = 1,
        sparse: bool = False,
    ) -> Features:
        """Featurize a list of SMILES, skipping (and reporting) the ones RDKit cannot read.

        Parameters
        ----------
        smiles : sequence of str, length n
        lines : sequence of int, length n, optional
            The line number of each SMILES in its source; default ``start, start + 1, …``.
        start : int
            First line number when ``lines`` is not given.
        sparse : bool
            For a fingerprint without descriptors: return ``X`` as a SciPy CSR matrix (float32)
            built from the set bits only. A screen of millions of molecules spends a fifth of
            its time filling and copying dense 2,048-wide rows otherwise. Ignored for kinds
            with descriptors.

        Returns
        -------
        Features
            ``X`` of shape (k, d) for the k valid SMILES, their positions and lines, and the
            rejects.
        """
        n = len(smiles)
        line_no = np.arange(start, start + n) if lines is None else np.asarray(lines, dtype=np.int64)
        gen, functions = self._tools()
        as_csr = sparse and not functions
        X = None if as_csr else np.zeros((n, self.n_features), dtype=np.float32)
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        keep = np.zeros(n, dtype=bool)
        rejects: list[Reject] = []
        from rdkit import rdBase

        with rdBase.BlockLogs():  # RDKit's warnings (e.g. on lone H atoms) stay off the terminal
            for i, s in enumerate(smiles):
                text = "" if s is None else str(s)
                mol, reason = parse_smiles(text)
                if mol is None:
                    rejects.append(Reject(int(line_no[i]), text, reason))
                    continue
                if X is None:
                    if self.counts:
                        bits = gen.GetCountFingerprint(mol).GetNonzeroElements()
                        indices.extend(bits)
                        values.extend(bits.values())
                    else:
                        on = list(gen.GetFingerprint(mol).GetOnBits())
                        indices.extend(on)
                        values.extend([1] * len(on))
                    indptr.append(len(indices))
                else:
                    self._row(mol, gen, functions, X[i])
                keep[i] = True
        rows = np.flatnonzero(keep)
        if X is None:
            import scipy.sparse

            csr = scipy.sparse.csr_matrix(
                (np.asarray(values, np.float32), np.asarray(indices, np.int32), np.asarray(indptr, np.int64)),
                shape=(len(rows), self.n_features),
            )
            csr.sort_indices()
            return Features(csr, rows, line_no[rows], rejects, n)
        return Features(X if len(rows) == n else X[rows], rows, line_no[rows], rejects, n)

    def stream(self, smiles: Iterable[str], chunk_size: int = 10_000, start: int = 1) -> Iterator[Features]:
        """Featurize an iterable of SMILES lazily, ``chunk_size`` at a time.

        Parameters
        ----------
        smiles : iterable of str
            E.g. the lines of a file; consumed once, never held whole.
        chunk_size : int
        start : int
            Line number of the first SMILES.

        Returns
        -------
        iterator of Features
            One per chunk; ``rows`` count within the chunk, ``lines`` across the stream.
        """
        return chunked(self.transform, smiles, chunk_size, start)


def chunked(
    transform: Callable[..., Features], smiles: Iterable[str], chunk_size: int = 10_000, start: int = 1
) -> Iterator[Features]:
    """Apply a featurizer's ``transform`` to an iterable of SMILES, ``chunk_size`` at a time.

    Shared by :class:`Featurizer` and :class:`~scientia.screen.graphs.GraphFeaturizer`;
    ``chunk_size`` is checked at once, the SMILES are consumed lazily.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1; got {chunk_size}")
    return _chunks(transform, smiles, chunk_size, start)


def _chunks(
    transform: Callable[..., Features], smiles: Iterable[str], chunk_size: int, start: int
) -> Iterator[Features]:
    buffer: list[str] = []
    first = start
    for s in smiles:
        buffer.append(s)
        if len(buffer) == chunk_size:
            yield transform(buffer, start=first)
            first += len(buffer)
            buffer = []
    if buffer:
        yield transform(buffer, start=first)
