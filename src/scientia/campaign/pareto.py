"""Pareto fronts and hypervolumes for campaigns with several objectives.

Everything here works in sign-adjusted units (bigger is better for every column), as the
models do. The hypervolume uses BoTorch's exact box decomposition.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hypervolume", "pareto_mask"]


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Rows of ``Y`` (n, m; bigger is better) that no other row dominates; duplicates are kept."""
    Y = np.asarray(Y, dtype=float).reshape(len(Y), -1)
    # in lexicographically decreasing order a row can only be dominated by an earlier one, and a
    # row dominated by a dominated row is dominated by the front too: compare with the front only
    order = np.lexsort(tuple(-Y[:, k] for k in reversed(range(Y.shape[1]))))
    front: list[int] = []
    for i in order:
        best = Y[front]
        if not ((best >= Y[i]).all(1) & (best > Y[i]).any(1)).any():
            front.append(int(i))
    mask = np.zeros(len(Y), dtype=bool)
    mask[front] = True
    return mask


def hypervolume(Y: np.ndarray, ref: np.ndarray) -> float:
    """Volume dominated by the rows of ``Y`` (n, m) and bounded below by ``ref`` (m,)."""
    import torch
    from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning

    Y = np.asarray(Y, dtype=float).reshape(-1, len(ref))
    Y = Y[(np.asarray(ref) < Y).all(1)]
    if len(Y) == 0:
        return 0.0
    part = DominatedPartitioning(
        ref_point=torch.as_tensor(ref, dtype=torch.float64), Y=torch.as_tensor(Y, dtype=torch.float64)
    )
    return float(part.compute_hypervolume())
