"""Featurizers: descriptors and fingerprints of molecules (RDKit)."""
