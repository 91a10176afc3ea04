"""Surrogate models that return a :class:`~scientia.types.Prediction` (mean and std)."""

from scientia.registry import Registry

surrogates = Registry("surrogates")
surrogates.register("gp", "scientia.models.gp:GPSurrogate")
surrogates.register("forest", "scientia.models.forest:ForestSurrogate")

__all__ = ["surrogates"]
