"""The token library, in-situ constraints and recurrent policy of the reinforcement-learning engine.

An expression is a sequence of tokens in prefix order (Petersen et al., ICLR 2021): the problem's
operators, the variables ``x0 … x{d-1}`` and a constant placeholder ``const``. A recurrent network
(:class:`Policy`, a GRU) emits one token at a time; at each step its input is the previous token,
the parent and the left sibling of the slot being filled. The sampler (:func:`sample`) applies
*in-situ* constraints by masking tokens before drawing, so every sample is a complete tree:

* length: a token of arity ``a`` is allowed only if the ``open + a - 1`` slots it leaves can still
  be filled within ``max_len`` (every open slot needs at least one token); terminals are masked while
  they would close the tree before ``min_len`` tokens;
* no unary operator directly inverts its parent (``exp(log ·)``, ``log(exp ·)``, ``sqrt(square ·)``,
  ``sin(asin ·)``, ``abs(abs ·)``, …);
* no trigonometric operator (``sin cos tan``) below another one;
* no all-constant subtree: ``const`` is never the only child of a unary operator nor the second
  child of a binary operator whose first child is ``const`` (by induction no operator then has only
  constant leaves below it); at most ``max_const`` constants per expression.

and, as DSO's soft length prior, a penalty ``((n - loc) / scale)**2 / 2`` on the log-probability of
a token that would leave the expression at length ``n`` shorter than ``loc`` (a terminal closing
the tree) or make it grow past ``loc`` (an operator), which keeps the policy from drifting towards
long expressions that fit as well as short ones.

Sampling runs the whole batch at once: the stack of open slots of every sample is held in arrays of
shape ``(batch, max_len + 1)``. What the sampler saw (inputs and log-priors) is kept so that the policy
gradient can recompute the log-probabilities of a few chosen samples with teacher forcing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from scientia.hypothesize.symbolic import _trees as T
from scientia.hypothesize.symbolic.expressions import OPERATORS

__all__ = ["Library", "Policy", "Samples", "sample"]

_INVERSE = {
    "exp": "log",
    "log": "exp",
    "square": "sqrt",
    "sqrt": "square",
    "sin": "asin",
    "asin": "sin",
    "cos": "acos",
    "acos": "cos",
    "tan": "atan",
    "atan": "tan",
    "abs": "abs",
}
_TRIG = {"sin", "cos", "tan"}


class Library:
    """The tokens of one search: operators, then variables, then ``const``.

    Token ``i < n_ops`` is operator ``operators[i]`` (the same code as in :mod:`._trees`), token
    ``n_ops + j`` is variable ``x{j}`` and token ``n_ops + n_vars`` is ``const``. Index
    :attr:`empty` (= :attr:`size`) stands for "no token" (no parent, no sibling, before the start).
    """

    def __init__(self, operators: Sequence[str], n_vars: int) -> None:
        self.ops = T.Ops([OPERATORS[name] for name in operators])
        self.names = [*operators, *(f"x{j}" for j in range(n_vars)), "const"]
        self.n_ops = len(operators)
        self.n_vars = n_vars
        self.const = self.n_ops + n_vars
        self.size = self.const + 1
        self.empty = self.size
        self.arity = np.array([*self.ops.arity, *([0] * (n_vars + 1))], dtype=np.int64)
        # indexed by parent (which may be `empty`): the token a unary parent must not have as child
        self.inverse = np.full(self.size + 1, -1, dtype=np.int64)
        for i, name in enumerate(operators):
            if self.ops.arity[i] == 1 and _INVERSE.get(name) in operators:
                self.inverse[i] = list(operators).index(_INVERSE[name])
        self.trig = np.array([n in _TRIG for n in self.names] + [False])
        self.unary_parent = np.array([a == 1 for a in self.arity[: self.size]] + [False])

    def to_tree(self, tokens: Sequence[int], consts: Sequence[float] | None = None) -> T.Tree:
        """The :mod:`._trees` tree of a token sequence; constants default to 1."""
        values = iter(consts if consts is not None else ())
        out: list[T.Node] = []
        for tok in tokens:
            if tok < self.n_ops:
                out.append((int(tok), 0.0))
            elif tok < self.const:
                out.append((T.VAR, float(tok - self.n_ops)))
            else:
                out.append((T.CONST, float(next(values, 1.0))))
        return tuple(out)

    def to_tokens(self, tree: T.Tree) -> tuple[int, ...]:
        """The token sequence of a tree (constants become ``const``)."""
        return tuple(
            code if code >= 0 else (self.n_ops + int(v) if code == T.VAR else self.const) for code, v in tree
        )


class Policy(nn.Module):
    """GRU policy: ``(previous, parent, sibling)`` token embeddings -> logits over the tokens.

    Parameters
    ----------
    n_tokens : int
        Library size ``V``; the embeddings have ``V + 1`` rows (the last is "none").
    hidden : int
        GRU state size.
    embedding : int
        Size of each of the three embeddings.
    """

    def __init__(self, n_tokens: int, hidden: int = 32, embedding: int = 8) -> None:
        super().__init__()
        self.embed = nn.ModuleList([nn.Embedding(n_tokens + 1, embedding) for _ in range(3)])
        self.gru = nn.GRU(3 * embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_tokens)

    def forward(self, obs: torch.Tensor, h: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(B, L, V)`` and the last state for inputs ``obs`` of shape ``(B, L, 3)``."""
        x = torch.cat([emb(obs[..., k]) for k, emb in enumerate(self.embed)], dim=-1)
        out, h_new = self.gru(x, h)
        return self.head(out), h_new

    def log_probs(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        prior: torch.Tensor,
        lengths: torch.Tensor,
        gamma: float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability ``(K,)`` of each sequence and its entropy ``(K,)``, weighted ``gamma**t``.

        ``obs`` ``(K, L, 3)``, ``actions`` ``(K, L)``, ``prior`` ``(K, L, V)`` (the log-prior
        used when sampling) and ``lengths`` ``(K,)``.
        """
        logits, _ = self(obs)
        masks = torch.isfinite(prior)
        logits = (logits + prior.to(logits.dtype)).masked_fill(~masks, -torch.inf)
        logp = torch.log_softmax(logits, dim=-1)
        steps = torch.arange(obs.shape[1])
        live = (steps[None, :] < lengths[:, None]).to(logp.dtype)
        chosen = logp.gather(-1, actions.clamp(min=0)[..., None])[..., 0]
        safe = logp.masked_fill(~masks, 0.0)  # no 0 * inf: the gradient would be NaN
        plogp = safe.exp() * safe * masks
        entropy = -plogp.sum(-1) * (gamma**steps)[None, :].to(logp.dtype)
        return (chosen * live).sum(-1), (entropy * live).sum(-1)


@dataclass
class Samples:
    """A batch of sampled sequences and what the sampler saw.

    Attributes
    ----------
    actions : ndarray of shape (B, L)
        Tokens, ``-1`` after the end.
    lengths : ndarray of shape (B,)
    obs : ndarray of shape (B, L, 3)
        The policy's inputs (previous token, parent, sibling).
    prior : ndarray of shape (B, L, V)
        The log-prior added to the policy's logits at each step: ``-inf`` for a token the
        constraints forbid, the soft length penalty otherwise (0 after the end).
    """

    actions: np.ndarray
    lengths: np.ndarray
    obs: np.ndarray
    prior: np.ndarray

    def tokens(self, i: int) -> tuple[int, ...]:
        return tuple(int(a) for a in self.actions[i, : self.lengths[i]])


def _allowed(
    lib: Library,
    t: int,
    max_len: int,
    min_len: int,
    max_const: int,
    open_: np.ndarray,
    parent: np.ndarray,
    sibling: np.ndarray,
    trig_above: np.ndarray,
    n_const: np.ndarray,
) -> np.ndarray:
    """Mask ``(B, V)`` of the tokens allowed at step ``t`` (see the module docstring)."""
    remaining = max_len - t - 1  # tokens that may follow this one
    ok = (open_[:, None] + lib.arity[None, :] - 1) <= remaining
    if t + 1 < min_len:
        ok[np.ix_(open_ == 1, lib.arity == 0)] = False
    inv = lib.inverse[parent]
    rows = np.nonzero(inv >= 0)[0]
    ok[rows, inv[rows]] = False
    if lib.trig.any():
        ok[np.ix_(trig_above, lib.trig[: lib.size])] = False
    no_const = lib.unary_parent[parent] | (sibling == lib.const) | (n_const >= max_const)
    ok[no_const, lib.const] = False
    return ok


def sample(
    policy: Policy,
    lib: Library,
    batch: int,
    max_len: int,
    min_len: int,
    max_const: int,
    generator: torch.Generator,
    soft_length: tuple[float, float] | None = None,
) -> Samples:
    """Draw ``batch`` sequences from ``policy`` under the in-situ constraints.

    ``min_len`` is lowered to ``max_len - 2`` when larger (so a binary operator always fits);
    ``soft_length`` is ``(loc, scale)`` of the soft length prior (None: no prior).
    """
    B, L, V = batch, max_len, lib.size
    min_len = min(min_len, L - 2)
    rows = np.arange(B)
    actions = np.full((B, L), -1, dtype=np.int64)
    obs = np.full((B, L, 3), lib.empty, dtype=np.int64)
    prior = np.zeros((B, L, V), dtype=np.float32)
    terminal = lib.arity == 0
    # the stack of open slots: parent, sibling (set once the left sibling is chosen), is-left, trig above
    par = np.full((B, L + 1), lib.empty, dtype=np.int64)
    sib = np.full((B, L + 1), lib.empty, dtype=np.int64)
    left = np.zeros((B, L + 1), dtype=bool)
    trig = np.zeros((B, L + 1), dtype=bool)
    depth = np.ones(B, dtype=np.int64)  # open slots; the root slot is open
    n_const = np.zeros(B, dtype=np.int64)
    prev = np.full(B, lib.empty, dtype=np.int64)
    lengths = np.zeros(B, dtype=np.int64)
    h: torch.Tensor | None = None
    with torch.no_grad():
        for t in range(L):
            live = depth > 0
            if not live.any():
                break
            top = np.maximum(depth - 1, 0)
            parent, sibling, is_left, trig_above = (
                par[rows, top],
                sib[rows, top],
                left[rows, top],
                trig[rows, top],
            )
            ok = _allowed(
                lib, t, L, min_len, max_const, np.maximum(depth, 1), parent, sibling, trig_above, n_const
            )
            ok[~live] = True
            bias = np.where(ok, np.float32(0.0), np.float32(-np.inf))
            if soft_length is not None:
                loc, scale = soft_length
                penalty = np.float32(((t + 1 - loc) / scale) ** 2 / 2)
                if t + 1 < loc:
                    bias[np.ix_(live & (depth == 1), terminal)] -= penalty
                elif t + 1 > loc:
                    bias[np.ix_(live, ~terminal)] -= penalty
            step_obs = np.stack([prev, parent, sibling], axis=1)
            obs[:, t] = step_obs
            prior[:, t] = bias
            logits, h = policy(torch.from_numpy(step_obs[:, None, :]), h)
            logits = logits[:, 0] + torch.from_numpy(bias)
            tok = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0].numpy()
            tok = np.where(live, tok, -1)
            actions[:, t] = tok
            lengths += live
            # fill the slot: pop it, and tell a pending right sibling what its left sibling is
            r = np.nonzero(live)[0]
            k = tok[r]
            d = depth[r] - 1
            set_sib = r[is_left[r]]
            sib[set_sib, depth[set_sib] - 2] = tok[set_sib]
            a = lib.arity[k]
            below = trig_above[r] | lib.trig[k]
            # push the children: right slot first, then the left one on top
            for arity, kind in ((2, "right"), (2, "left"), (1, "only")):
                m = a == arity
                rm, dm = r[m], d[m]
                if kind == "left":
                    dm = dm + 1
                par[rm, dm] = k[m]
                sib[rm, dm] = lib.empty
                left[rm, dm] = kind == "left"
                trig[rm, dm] = below[m]
            depth[r] = d + a
            n_const[r] += k == lib.const
            prev = np.where(live, tok, prev)
    return Samples(actions, lengths, obs, prior)
