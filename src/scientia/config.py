"""Campaign configuration: TOML files validated by pydantic, unknown keys forbidden.

A typo in a key gives one line naming where it is and the closest valid key; ``--set a.b=1``
overrides are applied before validation; the resolved config is stored in the ledger.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from scientia.errors import ConfigError, did_you_mean

__all__ = [
    "CampaignConfig",
    "ConstraintConfig",
    "EvaluatorConfig",
    "ObjectiveConfig",
    "ParameterConfig",
    "ProposerConfig",
    "SpaceConfig",
    "SurrogateConfig",
    "apply_overrides",
    "load_config",
    "parse_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterConfig(_Strict):
    """One parameter of a ``kind = "parameters"`` space."""

    name: str
    kind: Literal["real", "integer", "ordinal", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: list[Any] | None = None
    choices: list[str] | None = None
    descriptors: str | dict[str, list[float]] | None = None
    encoding: Literal["auto", "onehot", "descriptors", "descriptors+onehot"] = "auto"

    @model_validator(mode="after")
    def _check(self) -> ParameterConfig:
        if self.kind in ("real", "integer") and (self.low is None or self.high is None):
            raise ValueError(f"parameter {self.name!r} of kind {self.kind} needs low and high")
        if self.kind == "ordinal" and not self.values:
            raise ValueError(f"ordinal parameter {self.name!r} needs values")
        if self.kind == "categorical" and not self.choices:
            raise ValueError(f"categorical parameter {self.name!r} needs choices")
        return self


class ConstraintConfig(_Strict):
    """A linear constraint (``kind = "linear"``), a mixture, or an excluded combination."""

    kind: Literal["linear", "mixture", "excluded"]
    coefficients: dict[str, float] | None = None
    rhs: float | None = None
    sense: Literal["<=", ">=", "=="] = "<="
    values: dict[str, list[Any] | dict[str, float]] | None = None
    parameters: list[str] | None = None
    total: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> ConstraintConfig:
        if self.kind == "linear" and (not self.coefficients or self.rhs is None):
            raise ValueError("a linear constraint needs coefficients and rhs")
        if self.kind == "excluded" and not self.values:
            raise ValueError("an excluded combination needs values")
        if self.kind == "mixture" and (not self.parameters or len(self.parameters) < 2):
            raise ValueError("a mixture needs parameters = [at least two names]")
        return self


class SpaceConfig(_Strict):
    """Where candidates come from: declared parameters, or a pool (a table of combinations)."""

    kind: Literal["parameters", "pool"] = "parameters"
    parameters: list[ParameterConfig] = Field(default_factory=list)
    constraints: list[ConstraintConfig] = Field(default_factory=list)
    dataset: str | None = None
    table: str | None = None
    columns: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    descriptors: str | None = None
    encoding: Literal["auto", "onehot", "descriptors", "descriptors+onehot"] = "auto"
    max_components: int = Field(default=8, ge=1, le=64)
    descriptor_columns: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> SpaceConfig:
        if self.kind == "parameters" and not self.parameters:
            raise ValueError("space of kind 'parameters' needs at least one [[space.parameters]]")
        if self.kind == "pool" and (self.dataset is None) == (self.table is None):
            raise ValueError("a pool space needs exactly one of dataset or table")
        return self


class ObjectiveConfig(_Strict):
    name: str
    direction: Literal["max", "min"] = "max"
    threshold: float | None = None
    role: Literal["optimise", "constraint"] = "optimise"

    @model_validator(mode="after")
    def _check(self) -> ObjectiveConfig:
        if self.role == "constraint" and self.threshold is None:
            raise ValueError(f"outcome constraint {self.name!r} needs a threshold (e.g. threshold = 50)")
        return self


class SurrogateConfig(_Strict):
    kind: str = "gp"
    options: dict[str, Any] = Field(default_factory=dict)


class ProposerConfig(_Strict):
    kind: str = "bo"
    n_initial: int = Field(default=5, ge=0)
    acquisition: str = "qlognei"
    options: dict[str, Any] = Field(default_factory=dict)


class EvaluatorConfig(_Strict):
    """How experiments are run: ``function``, ``emulator`` (a real lookup table) or ``manual``."""

    kind: Literal["function", "emulator", "model", "manual"] = "manual"
    function: str | None = None
    dataset: str | None = None
    table: str | None = None
    noise: float | None = Field(default=None, ge=0)
    model: Literal["gp", "forest"] = "gp"
    workers: int = Field(default=1, ge=1, le=1024)
    backend: Literal["local", "ray"] = "local"

    @model_validator(mode="after")
    def _check(self) -> EvaluatorConfig:
        if self.kind == "function" and not self.function:
            raise ValueError("a function evaluator needs function = 'module:callable'")
        if self.kind in ("emulator", "model") and (self.dataset is None) == (self.table is None):
            raise ValueError(f"an {self.kind} evaluator needs exactly one of dataset or table")
        return self


class StopConfig(_Strict):
    """When ``run`` stops before its budget (every rule is off unless given)."""

    target: float | None = None
    min_expected_improvement: float | None = Field(default=None, gt=0, lt=1)
    max_minutes: float | None = Field(default=None, gt=0)


class TransferConfig(_Strict):
    """Data from a related earlier campaign (same parameters and objectives) to learn from."""

    campaign: str | None = None
    table: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _check(self) -> TransferConfig:
        if (self.campaign is None) == (self.table is None):
            raise ValueError("a transfer source needs exactly one of campaign (in the same ledger) or table")
        return self

    @property
    def label(self) -> str:
        return self.name or self.campaign or Path(self.table or "").stem


class CampaignConfig(_Strict):
    """A whole campaign, as written in a TOML file."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    seed: int = 0
    batch_size: int = Field(default=5, ge=1, le=1000)
    budget: int | None = Field(default=None, ge=1)
    review: Literal["auto", "human"] = "auto"
    ledger: str | None = None
    space: SpaceConfig
    objectives: list[ObjectiveConfig] = Field(min_length=1)
    surrogate: SurrogateConfig = Field(default_factory=SurrogateConfig)
    proposer: ProposerConfig = Field(default_factory=ProposerConfig)
    evaluator: EvaluatorConfig = Field(default_factory=EvaluatorConfig)
    stop: StopConfig = Field(default_factory=StopConfig)
    transfer: list[TransferConfig] = Field(default_factory=list)

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, v: list[ObjectiveConfig]) -> list[ObjectiveConfig]:
        names = [o.name for o in v]
        if len(set(names)) != len(names):
            raise ValueError("objective names must be distinct")
        if v and v[0].role == "constraint":
            raise ValueError(
                "the first [[objectives]] entry must be one to optimise (list outcome constraints after it)"
            )
        return v

    @model_validator(mode="after")
    def _transfer_surrogate(self) -> CampaignConfig:
        opts = self.surrogate.options
        if self.transfer and (opts.get("kernel", "rbf") != "rbf" or opts.get("warp", "none") != "none"):
            raise ValueError(
                "[[transfer]] fits a multi-task GP with an RBF kernel and no output warping; "
                "remove kernel/warp from [surrogate] options"
            )
        if self.transfer and len(self.objectives) > 1:
            raise ValueError("[[transfer]] works with one objective; list one [[objectives]] entry")
        return self


def _known_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names valid at ``loc`` (a pydantic error location) inside ``model``."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ()) or ()
        nxt = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            return []
        current = nxt
    return list(current.model_fields)


def _format(err: PydanticValidationError, source: str) -> str:
    errors = err.errors()
    # a misspelt key also makes its field "missing": name the typo, which is the cause
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = first["loc"]
    where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    if first["type"] == "extra_forbidden":
        hint = did_you_mean(str(loc[-1]), _known_keys(CampaignConfig, loc))
        return f"{source}: unknown key {where!r}{hint}"
    msg = first["msg"].removeprefix("Value error, ")
    if where:
        return f"{source}: {where}: {msg}"
    return f"{source}: {msg}"


def parse_config(data: Mapping[str, Any], source: str = "config") -> CampaignConfig:
    """Validate a config mapping; raise :class:`ConfigError` with a one-line message."""
    try:
        return CampaignConfig.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``a.b=value`` overrides (values parsed as TOML scalars when possible)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key.sub=value")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {p!r} is not a table")
        node[parts[-1]] = value
    return data


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> CampaignConfig:
    """Read, override and validate a TOML campaign file.

    Relative ``table`` paths are resolved against the file's folder.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no config file at {str(path)!r}") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML ({exc})") from None
    data = apply_overrides(data, overrides)
    base = path.resolve().parent
    sections = [data.get("space"), data.get("evaluator"), *(data.get("transfer") or [])]
    for sec in sections:
        if isinstance(sec, dict) and isinstance(sec.get("table"), str):
            sec["table"] = str((base / sec["table"]).resolve())
    cfg = parse_config(data, path.name)
    if cfg.ledger is not None and not Path(cfg.ledger).is_absolute() and "://" not in cfg.ledger:
        cfg = cfg.model_copy(update={"ledger": str(base / cfg.ledger)})
    return cfg
