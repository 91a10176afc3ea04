"""Chemprop's directed message-passing neural network (D-MPNN) on PyTorch Geometric graphs.

The network of Yang et al. (*J. Chem. Inf. Model.* 59, 3370 (2019)), as in Chemprop: a hidden
state lives on every *directed* bond ``v→w`` and is updated from the bonds entering ``v`` except
the one coming back from ``w``, which keeps messages from echoing straight back::

    h⁰_vw = ReLU(W_i [x_v, e_vw])
    hᵗ_vw = ReLU(h⁰_vw + W_h Σ_{k→v, k≠w} hᵗ⁻¹_kv)        t = 1 … depth − 1
    a_v   = ReLU(W_o [x_v, Σ_{k→v} h_kv] + b_o)           atom states
    g     = mean (or sum) of a_v over the molecule's atoms
    ŷ     = FFN(g)                                        one hidden layer

with the atom and bond features of :mod:`scientia.screen.graphs`. The sums are
``torch_geometric.utils.scatter``; the two directions of bond ``k`` are edges ``2k`` and
``2k + 1``, so the subtraction of the reverse message is two strided in-place subtractions (no
index gather). The weights are a flat ``ParameterDict`` drawn from a local ``torch.Generator``
(no global RNG), so a member's state is a dict of tensors.

Cost: the network does about ``2·E·h² + N·(d + h)·h`` multiply-adds per molecule (``E`` directed
bonds, ``N`` atoms, ``h = hidden``), ~15 million for a drug-like molecule at ``h = 300``: on one
CPU core an ensemble of 5 predicts a few hundred molecules per second (twice as many at
``h = 150``). Batches of about 64 graphs are fastest on a CPU: the ``(E, h)`` tensors of larger
batches fall out of cache.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["DMPNN", "GraphBatch", "noam_schedule"]


class GraphBatch:
    """A batch of ``n`` molecular graphs as the tensors the network uses.

    Attributes
    ----------
    x : torch.Tensor, shape (N, d_atom)
    edge_attr : torch.Tensor, shape (E, d_bond)
    src, dst : torch.Tensor, shape (E,)
        Ends of each directed edge; edges ``2k`` and ``2k + 1`` are one bond's two directions.
    batch : torch.Tensor, shape (N,)
        The graph of each atom.
    n_atoms, n : int
    """

    def __init__(self, graphs: Sequence[Any] | np.ndarray) -> None:
        from scientia.screen.graphs import collate

        self.x, edge_index, self.edge_attr, self.batch = collate(graphs)
        self.src, self.dst = edge_index[0], edge_index[1]
        self.n_atoms = int(self.x.shape[0])
        self.n = len(graphs)


def _param(shape: tuple[int, ...], fan_in: int, gen: Any) -> Any:
    """PyTorch's default ``Linear`` initialisation, U(±1/√fan_in), drawn from ``gen``."""
    import torch

    bound = 1.0 / math.sqrt(max(fan_in, 1))
    return torch.nn.Parameter((torch.rand(shape, generator=gen) * 2 - 1) * bound)


class DMPNN:
    """One D-MPNN with its feed-forward head (see the module docstring).

    Parameters
    ----------
    d_atom, d_bond : int
        Atom and bond feature widths.
    hidden : int
        Width of the bond and atom states.
    depth : int
        Message-passing steps.
    ffn : int
        Width of the head's hidden layer.
    n_out : int
        Outputs per molecule.
    readout : {"mean", "sum"}
    gen : torch.Generator
        Draws the initial weights (PyTorch's default ``Linear`` initialisation).

    Attributes
    ----------
    params : torch.nn.ParameterDict
        ``w_i``, ``w_h``, ``w_o``, ``b_o``, ``w_1``, ``b_1``, ``w_2``, ``b_2``.
    """

    def __init__(
        self, d_atom: int, d_bond: int, hidden: int, depth: int, ffn: int, n_out: int, readout: str, gen: Any
    ) -> None:
        import torch

        d_in = d_atom + d_bond
        self.depth, self.readout = depth, readout
        self.params = torch.nn.ParameterDict(
            {
                "w_i": _param((d_in, hidden), d_in, gen),
                "w_h": _param((hidden, hidden), hidden, gen),
                "w_o": _param((d_atom + hidden, hidden), d_atom + hidden, gen),
                "b_o": _param((hidden,), d_atom + hidden, gen),
                "w_1": _param((hidden, ffn), hidden, gen),
                "b_1": _param((ffn,), hidden, gen),
                "w_2": _param((ffn, n_out), ffn, gen),
                "b_2": _param((n_out,), ffn, gen),
            }
        )

    def forward(self, g: GraphBatch, dropout: float = 0.0, gen: Any = None) -> Any:
        """Outputs, shape (b, n_out), of the ``b`` graphs of a batch."""
        import torch
        from torch_geometric.utils import scatter

        p = self.params

        def drop(t: Any) -> Any:
            if dropout > 0 and gen is not None:
                return t * (torch.rand(t.shape, generator=gen) >= dropout) / (1 - dropout)
            return t

        width = p["w_h"].shape[0]
        h0 = torch.cat([g.x[g.src], g.edge_attr], dim=1) @ p["w_i"]  # (E, h)
        h = torch.relu(h0)
        for _ in range(self.depth - 1):
            into = scatter(h, g.dst, dim=0, dim_size=g.n_atoms, reduce="sum")  # Σ over bonds k→v
            message = into.index_select(0, g.src)  # for v→w: Σ_{k→v} h_kv …
            pairs, back = message.view(-1, 2, width), h.view(-1, 2, width)
            pairs[:, 0] -= back[:, 1]  # … − h_wv: bond k's two directions are edges 2k and 2k + 1
            pairs[:, 1] -= back[:, 0]
            h = drop(torch.addmm(h0, message, p["w_h"]).relu_())
        into = scatter(h, g.dst, dim=0, dim_size=g.n_atoms, reduce="sum")
        atoms = drop(torch.addmm(p["b_o"], torch.cat([g.x, into], dim=1), p["w_o"]).relu_())
        mol = scatter(atoms, g.batch, dim=0, dim_size=g.n, reduce=self.readout)
        return torch.addmm(p["b_2"], drop(torch.addmm(p["b_1"], mol, p["w_1"]).relu_()), p["w_2"])


def noam_schedule(lr: float, steps_per_epoch: int, epochs: int, warmup_epochs: int = 2) -> Any:
    """Chemprop's learning rate: ``lr/10 → lr`` linearly over the warm-up, then exponentially to ``lr/10``.

    Returns
    -------
    callable
        The learning rate at an optimiser step (0-based).
    """
    warm = max(1, warmup_epochs * steps_per_epoch)
    total = max(warm + 1, epochs * steps_per_epoch)
    decay = 0.1 ** (1.0 / (total - warm))

    def at(step: int) -> float:
        if step < warm:
            return lr * (0.1 + 0.9 * step / warm)
        return lr * decay ** (step - warm)

    return at
