"""Proposers: random, space-filling, Bayesian optimisation, and active screening of a SMILES pool."""

from scientia.registry import Registry

proposers = Registry("proposers")
proposers.register("random", "scientia.proposers.simple:RandomProposer")
proposers.register("space-filling", "scientia.proposers.simple:SpaceFillingProposer")
proposers.register("bo", "scientia.proposers.bo:BOProposer")
proposers.register("active-screen", "scientia.screen.acquire:PoolProposer")

__all__ = ["proposers"]
