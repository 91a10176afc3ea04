"""Small laws shared by the equation-search tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def power_law() -> tuple[np.ndarray, np.ndarray]:
    """y = 2.5 x0 x1^2 on 300 points in [1, 3]^2."""
    X = np.random.default_rng(0).uniform(1, 3, size=(300, 2))
    return X, 2.5 * X[:, 0] * X[:, 1] ** 2


@pytest.fixture(scope="session")
def gravity() -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    """F = G m1 m2 / r^2 with G as an input, and the units of every column."""
    gen = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame(
        {
            "G": gen.uniform(1, 2, n),
            "m1": gen.uniform(1, 5, n),
            "m2": gen.uniform(1, 5, n),
            "r": gen.uniform(1, 5, n),
        }
    )
    F = pd.Series(df.G * df.m1 * df.m2 / df.r**2, name="F")
    units = {"G": "m^3/(kg*s^2)", "m1": "kg", "m2": "kg", "r": "m", "F": "N"}
    return df, F, units
