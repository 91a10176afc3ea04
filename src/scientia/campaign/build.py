"""Turn a validated :class:`~scientia.config.CampaignConfig` into live components."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from scientia.config import CampaignConfig
from scientia.errors import ConfigError
from scientia.spaces.constraints import Constraint, constraint_from_dict, mixture
from scientia.spaces.parameters import parameter_from_dict
from scientia.spaces.space import ParameterSpace, PoolSpace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_evaluator", "build_proposer", "build_space", "read_table", "table_hash"]


def read_table(dataset: str | None, table: str | None) -> pd.DataFrame:
    """Load a bundled dataset by name or a CSV / Parquet file."""
    import pandas as pd

    if dataset is not None:
        from scientia import datasets

        return datasets.load(dataset)
    assert table is not None
    try:
        if table.endswith(".parquet"):
            return pd.read_parquet(table)
        return pd.read_csv(table)
    except FileNotFoundError:
        raise ConfigError(f"no table file at {table!r}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read table {table!r}: {exc}") from None


def table_hash(df: pd.DataFrame) -> str:
    """A content hash of a table, to notice when a campaign's pool file changed."""
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()[:16]


def _constraints(cfg: CampaignConfig) -> list[Constraint]:
    out: list[Constraint] = []
    for c in cfg.space.constraints:
        if c.kind == "mixture":
            assert c.parameters is not None
            out.append(mixture(c.parameters, c.total))
            continue
        fields = {"kind", "values"} if c.kind == "excluded" else {"kind", "coefficients", "rhs", "sense"}
        out.append(constraint_from_dict(c.model_dump(exclude_none=True, include=fields)))
    return out


def build_space(cfg: CampaignConfig) -> tuple[ParameterSpace, pd.DataFrame | None]:
    """Build the space; for a pool also return the table it came from."""
    sc = cfg.space
    if sc.kind == "parameters":
        params = []
        for p in sc.parameters:
            d: dict[str, Any] = p.model_dump(exclude_none=True)
            if p.kind in ("real", "integer"):
                d = {k: d[k] for k in ("name", "kind", "low", "high", "log") if k in d}
                if p.kind == "integer":
                    d.pop("log", None)  # Integer itself refuses a fractional low or high
            elif p.kind == "ordinal":
                d = {"name": p.name, "kind": "ordinal", "values": p.values}
            else:
                d = {k: d[k] for k in ("name", "kind", "choices", "descriptors", "encoding") if k in d}
            params.append(parameter_from_dict(d))
        return ParameterSpace(params, _constraints(cfg)), None
    df = read_table(sc.dataset, sc.table)
    outcome_names = {o.name for o in cfg.objectives}
    described = {c for cols in sc.descriptor_columns.values() for c in cols}
    columns = sc.columns or [
        c for c in df.columns if c not in outcome_names and c not in sc.exclude and c not in described
    ]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        from scientia.errors import UnknownNameError

        raise UnknownNameError.for_name("column", missing[0], df.columns)
    space = PoolSpace.from_table(
        df,
        columns,
        descriptors=sc.descriptors,
        encoding=sc.encoding,
        constraints=_constraints(cfg),
        max_components=sc.max_components,
        descriptor_columns=sc.descriptor_columns,
    )
    return space, df


def build_proposer(cfg: CampaignConfig) -> Any:
    """Create the configured proposer (BO gets the configured surrogate)."""
    from scientia.proposers import proposers

    pc = cfg.proposer
    try:
        if pc.kind == "bo":
            _check_surrogate(cfg)
            return proposers.create(
                "bo",
                surrogate=cfg.surrogate.kind,
                surrogate_options=dict(cfg.surrogate.options),
                acquisition=pc.acquisition,
                n_initial=pc.n_initial,
                **pc.options,
            )
        return proposers.create(pc.kind, **pc.options)
    except TypeError as exc:
        raise ConfigError(f"proposer {pc.kind!r}: {exc}") from None


def _check_surrogate(cfg: CampaignConfig) -> None:
    """Make the configured surrogate once, so that a wrong kind or option fails now rather than
    at the first model-based round, after experiments have already been run."""
    from scientia.models import surrogates

    try:
        surrogates.create(cfg.surrogate.kind, **cfg.surrogate.options)
    except TypeError as exc:
        raise ConfigError(f"surrogate {cfg.surrogate.kind!r}: {exc}") from None


def build_evaluator(cfg: CampaignConfig, space: ParameterSpace) -> Any:
    """Create the configured evaluator."""
    from scientia.evaluators import EmulatorEvaluator, FunctionEvaluator, ManualEvaluator

    ec = cfg.evaluator
    outcomes = [o.name for o in cfg.objectives]
    if ec.kind == "function":
        assert ec.function is not None
        return FunctionEvaluator(ec.function, outcomes)
    if ec.kind == "emulator":
        df = read_table(ec.dataset, ec.table)
        return EmulatorEvaluator(df, space.names, outcomes, noise=ec.noise, seed=cfg.seed)
    if ec.kind == "model":
        from scientia.evaluators import ModelEmulator

        df = read_table(ec.dataset, ec.table)
        return ModelEmulator(df, space, outcomes, model=ec.model, noise=bool(ec.noise), seed=cfg.seed)
    return ManualEvaluator()
