"""Parameter spaces: the product of parameters under constraints, and finite pools.

A space turns human-readable candidates into the model matrix ``X`` (every column scaled to
[0, 1]) and back, samples valid candidates, and checks candidates given by a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scientia.errors import ConfigError, UnknownNameError, ValidationError
from scientia.seeding import Seed, rng
from scientia.spaces.constraints import (
    Constraint,
    ExcludedCombination,
    LinearInequality,
    constraint_from_dict,
)
from scientia.spaces.parameters import Categorical, Integer, Parameter, Real, parameter_from_dict
from scientia.types import Candidate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ParameterSpace", "PoolSpace", "space_from_dict"]


class ParameterSpace:
    """The product of named parameters, restricted by constraints.

    Parameters
    ----------
    parameters : sequence of Parameter
    constraints : sequence of Constraint, optional
    """

    kind = "parameters"

    def __init__(self, parameters: Sequence[Parameter], constraints: Sequence[Constraint] = ()) -> None:
        names = [p.name for p in parameters]
        if not names:
            raise ConfigError("a space needs at least one parameter")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ConfigError(f"parameter {sorted(dup)[0]!r} is defined twice")
        self.parameters = list(parameters)
        self.by_name = {p.name: p for p in self.parameters}
        self.constraints = list(constraints)
        for c in self.constraints:
            keys = c.coefficients if isinstance(c, LinearInequality) else c.values
            for name in keys:
                if name not in self.by_name:
                    raise UnknownNameError.for_name("parameter in constraint", name, self.by_name)
                if isinstance(c, LinearInequality):
                    p = self.by_name[name]
                    if not isinstance(p, (Real, Integer)) or (isinstance(p, Real) and p.log):
                        raise ConfigError(
                            f"linear constraint on {name!r}: only linear-scale real or integer "
                            "parameters can appear in a linear constraint"
                        )
                    if c.is_equality and not isinstance(p, Real):
                        raise ConfigError(
                            f"equality constraint on {name!r}: only real parameters can appear in an "
                            "equality (an integer would rarely hit it exactly)"
                        )

    # -- names and validation --------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def dim(self) -> int:
        """Number of columns of the encoded matrix."""
        return sum(p.width for p in self.parameters)

    def candidate(self, params: Mapping[str, Any]) -> Candidate:
        """Validate a parameter mapping (e.g. from a CSV row) and return the candidate.

        Raises
        ------
        ValidationError
            Naming the first problem: an unknown or missing parameter, a value out of range or
            not among the choices, or a violated constraint.
        UnknownNameError
            For an unknown parameter name, with a "did you mean" suggestion.
        """
        for key in params:
            if key not in self.by_name:
                raise UnknownNameError.for_name("parameter", key, self.by_name)
        missing = [n for n in self.names if n not in params]
        if missing:
            raise ValidationError(f"missing value for parameter {missing[0]!r}")
        clean = {p.name: p.validate(params[p.name]) for p in self.parameters}
        for c in self.constraints:
            if not c.satisfied(clean):
                raise ValidationError(f"candidate violates constraint {c.describe()}")
        return Candidate(clean)

    def contains(self, candidate: Candidate) -> bool:
        try:
            self.candidate(candidate.params)
        except (ValidationError, UnknownNameError):
            return False
        return True

    def feasible(self, params: Mapping[str, Any]) -> bool:
        return all(c.satisfied(params) for c in self.constraints)

    # -- sampling and encoding --------------------------------------------------------------
    @property
    def has_equalities(self) -> bool:
        return any(isinstance(c, LinearInequality) and c.is_equality for c in self.constraints)

    def sample(self, n: int, seed: Seed = None) -> list[Candidate]:
        """Draw ``n`` candidates uniformly (in encoded coordinates) that meet the constraints.

        Linear equalities (mixtures) have measure zero in the box, so spaces with them are
        sampled by hit-and-run on the polytope the linear constraints cut out (BoTorch's
        ``get_polytope_samples``); other spaces by rejection.
        """
        gen = rng(seed)
        if self.has_equalities:
            return self._sample_polytope(n, gen)
        out: list[Candidate] = []
        for _ in range(1000):
            need = n - len(out)
            if need <= 0:
                break
            m = max(4 * need, 64)
            cols = {p.name: p.sample(gen, m) for p in self.parameters}
            for i in range(m):
                params = {k: v[i] for k, v in cols.items()}
                if self.feasible(params):
                    out.append(Candidate(params))
                    if len(out) == n:
                        break
        if len(out) < n:
            raise ValidationError("could not sample feasible candidates: are the constraints satisfiable?")
        return out

    def encode(self, candidates: Sequence[Candidate]) -> np.ndarray:
        """Return the model matrix, shape (n, dim), every column in [0, 1]."""
        if not candidates:
            return np.zeros((0, self.dim))
        blocks = [p.encode([c.params[p.name] for c in candidates]) for p in self.parameters]
        return np.hstack(blocks).astype(float)

    def decode(self, X: np.ndarray) -> list[Candidate]:
        """Map rows of an encoded matrix, shape (n, dim), back to the nearest candidates."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        cols: dict[str, list[Any]] = {}
        start = 0
        for p in self.parameters:
            cols[p.name] = p.decode(X[:, start : start + p.width])
            start += p.width
        return [Candidate({k: v[i] for k, v in cols.items()}) for i in range(X.shape[0])]

    def slices(self) -> dict[str, slice]:
        """Return the encoded column slice of each parameter."""
        out, start = {}, 0
        for p in self.parameters:
            out[p.name] = slice(start, start + p.width)
            start += p.width
        return out

    def _sample_polytope(self, n: int, gen: np.random.Generator) -> list[Candidate]:
        import torch
        from botorch.utils.sampling import get_polytope_samples

        def tensors(items: list[tuple[list[int], list[float], float]]) -> Any:
            return [(torch.tensor(i), torch.tensor(c, dtype=torch.float64), r) for i, c, r in items] or None

        out: list[Candidate] = []
        for _ in range(20):
            m = max(4 * (n - len(out)), 64)
            X = get_polytope_samples(
                m,
                bounds=torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]).double(),
                inequality_constraints=tensors(self.linear_constraints_encoded()),
                equality_constraints=tensors(self.linear_constraints_encoded(equalities=True)),
                seed=int(gen.integers(2**31)),
                n_burnin=200,
                n_thinning=8,
            ).numpy()
            out += [c for c in self.decode(X) if self.feasible(c.params)][: n - len(out)]
            if len(out) >= n:
                return out
        raise ValidationError("could not sample feasible candidates: are the constraints satisfiable?")

    def linear_constraints_encoded(
        self, equalities: bool = False
    ) -> list[tuple[list[int], list[float], float]]:
        """Linear inequalities (or, with ``equalities``, the equalities) in encoded coordinates,
        as ``(indices, coefs, rhs)`` meaning ``sum(coefs * X[indices]) >= rhs`` (or ``==``;
        BoTorch's convention)."""
        out = []
        sl = self.slices()
        for c in self.constraints:
            if not isinstance(c, LinearInequality) or c.is_equality != equalities:
                continue
            idx, coefs, rhs = [], [], float(c.rhs)
            for name, a in c.coefficients.items():
                p = self.by_name[name]
                assert isinstance(p, (Real, Integer))
                idx.append(sl[name].start)
                coefs.append(float(a) * (p.high - p.low))
                rhs -= float(a) * p.low
            sign = -1.0 if c.sense == "<=" else 1.0
            out.append((idx, [sign * x for x in coefs], sign * rhs))
        return out

    @property
    def is_continuous(self) -> bool:
        return all(isinstance(p, Real) for p in self.parameters)

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "parameters": [p.to_dict() for p in self.parameters],
            "constraints": [c.to_dict() for c in self.constraints],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpace:
        return cls(
            [parameter_from_dict(p) for p in data["parameters"]],
            [constraint_from_dict(c) for c in data.get("constraints", [])],
        )


class PoolSpace(ParameterSpace):
    """A finite pool: a table of allowed combinations (e.g. a full-factorial screen).

    Parameters
    ----------
    parameters : sequence of Parameter
        One per column of ``rows`` that is a parameter.
    rows : sequence of mappings
        The allowed combinations; duplicates are dropped.
    constraints : sequence of Constraint, optional
        Applied on top of the table (rows that violate them are removed).
    """

    kind = "pool"

    def __init__(
        self,
        parameters: Sequence[Parameter],
        rows: Iterable[Mapping[str, Any]],
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__(parameters, constraints)
        seen: dict[str, Candidate] = {}
        for row in rows:
            params = {p.name: p.validate(row[p.name]) for p in self.parameters}
            if self.feasible(params):
                c = Candidate(params)
                seen.setdefault(c.id, c)
        if not seen:
            raise ConfigError("the pool is empty (after applying constraints)")
        self.pool = list(seen.values())
        self.index = {c.id: i for i, c in enumerate(self.pool)}
        self._X: np.ndarray | None = None

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        columns: Sequence[str] | None = None,
        *,
        descriptors: Mapping[str, Any] | str | None = None,
        encoding: str = "auto",
        constraints: Sequence[Constraint] = (),
        max_components: int = 8,
        descriptor_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> PoolSpace:
        """Build a pool from a DataFrame: text columns become categoricals, numeric ones reals.

        Parameters
        ----------
        table : DataFrame
        columns : sequence of str, optional
            Parameter columns (default: all).
        descriptors : str or mapping, optional
            A featurizer name (``"rdkit"``) for every text column, or a mapping column → name
            or column → descriptor table.
        encoding : {"auto", "onehot", "descriptors", "descriptors+onehot"}
            For every text column with descriptors (see :class:`Categorical`); columns without
            are one-hot.
        max_components : int
            Principal components kept per descriptor-encoded categorical.
        descriptor_columns : mapping of parameter to list of columns, optional
            Descriptors given in the data: numeric columns holding one value per choice, or one
            text column holding each choice's SMILES (featurized with ``descriptors``, default
            ``"rdkit"``). These columns are not parameters themselves.
        """
        descriptor_columns = dict(descriptor_columns or {})
        used = {c for cols in descriptor_columns.values() for c in cols}
        columns = [c for c in (columns or table.columns) if c not in used]
        params: list[Parameter] = []
        for col in columns:
            if col not in table.columns:
                raise UnknownNameError.for_name("column", col, table.columns)
            series = table[col]
            if series.dtype.kind in "if":
                lo, hi = float(series.min()), float(series.max())
                params.append(Real(col, lo, hi if hi > lo else lo + 1.0))
            else:
                desc = descriptors.get(col) if isinstance(descriptors, Mapping) else descriptors
                choices = tuple(sorted(series.astype(str).unique()))
                if col in descriptor_columns:
                    kind = desc if isinstance(desc, str) else "rdkit"
                    desc = _descriptors_from_columns(table, col, descriptor_columns[col], kind)
                enc = encoding if (encoding == "onehot" or desc is not None) else "auto"
                params.append(
                    Categorical(col, choices, descriptors=desc, encoding=enc, max_components=max_components)  # type: ignore[arg-type]
                )
        return cls(params, table[columns].to_dict("records"), constraints)

    def contains(self, candidate: Candidate) -> bool:
        return candidate.id in self.index

    def candidate(self, params: Mapping[str, Any]) -> Candidate:
        c = super().candidate(params)
        if c.id not in self.index:
            raise ValidationError(
                "combination " + ", ".join(f"{k}={v}" for k, v in c.params.items()) + " is not in the pool"
            )
        return c

    def sample(self, n: int, seed: Seed = None) -> list[Candidate]:
        gen = rng(seed)
        take = gen.choice(len(self.pool), size=min(n, len(self.pool)), replace=False)
        return [self.pool[i] for i in take]

    def encoded_pool(self) -> np.ndarray:
        """The encoded matrix of the whole pool, shape (pool size, dim), computed once."""
        if self._X is None:
            self._X = self.encode(self.pool)
        return self._X

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rows"] = [dict(c.params) for c in self.pool]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PoolSpace:
        return cls(
            [parameter_from_dict(p) for p in data["parameters"]],
            data["rows"],
            [constraint_from_dict(c) for c in data.get("constraints", [])],
        )


def _descriptors_from_columns(
    table: pd.DataFrame, col: str, dcols: Sequence[str], kind: str
) -> dict[str, list[float]]:
    """Per-choice descriptors read from the table's own columns (numbers, or one SMILES column)."""
    for c in dcols:
        if c not in table.columns:
            raise UnknownNameError.for_name(f"descriptor column for {col!r}", c, table.columns)
    groups = table.groupby(table[col].astype(str))[list(dcols)]
    varying = groups.nunique().gt(1).any()
    if varying.any():
        bad = varying[varying].index[0]
        raise ConfigError(
            f"descriptor column {bad!r} has more than one value for some {col!r} choice; "
            "a descriptor must be a property of the choice"
        )
    first = groups.first()
    if len(dcols) == 1 and first[dcols[0]].dtype.kind not in "if":
        from scientia.featurize.molecules import descriptor_table

        smiles = [str(v) for v in first[dcols[0]]]
        raw = descriptor_table(smiles, kind)
        return {choice: list(raw[i]) for i, choice in enumerate(first.index)}
    if not all(first[c].dtype.kind in "if" for c in dcols):
        raise ConfigError(f"descriptor columns for {col!r} must be numeric, or one SMILES column")
    return {
        choice: [float(v) for v in row] for choice, row in zip(first.index, first.to_numpy(), strict=True)
    }


def space_from_dict(data: Mapping[str, Any]) -> ParameterSpace:
    """Rebuild a space (parameters or pool) from its :meth:`to_dict` form."""
    if data.get("kind") == "pool":
        return PoolSpace.from_dict(data)
    return ParameterSpace.from_dict(data)


__all__ += ["ExcludedCombination", "LinearInequality"]
