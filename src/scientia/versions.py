"""Package versions recorded with every campaign, read without importing the packages."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

_PACKAGES = (
    "scientia",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "botorch",
    "gpytorch",
    "rdkit",
    "sqlalchemy",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
