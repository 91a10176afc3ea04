"""Proposers: random, space-filling, Bayesian optimisation."""

from scientia.registry import Registry

proposers = Registry("proposers")
proposers.register("random", "scientia.proposers.simple:RandomProposer")
proposers.register("space-filling", "scientia.proposers.simple:SpaceFillingProposer")
proposers.register("bo", "scientia.proposers.bo:BOProposer")

__all__ = ["proposers"]
