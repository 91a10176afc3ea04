"""Search spaces: parameters, constraints and finite pools."""

from scientia.spaces.constraints import ExcludedCombination, LinearInequality
from scientia.spaces.parameters import Categorical, Integer, Ordinal, Real
from scientia.spaces.space import ParameterSpace, PoolSpace, space_from_dict

__all__ = [
    "Categorical",
    "ExcludedCombination",
    "Integer",
    "LinearInequality",
    "Ordinal",
    "ParameterSpace",
    "PoolSpace",
    "Real",
    "space_from_dict",
]
