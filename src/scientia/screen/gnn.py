"""Deep ensembles of directed message-passing neural networks (Chemprop's D-MPNN) on molecular graphs.

Each member is Chemprop's directed message-passing network (:mod:`scientia.screen.mpnn`) on
the graphs of :mod:`scientia.screen.graphs`, with a feed-forward head.

The ensemble follows :mod:`scientia.screen.ensemble` (Lakshminarayanan et al., NeurIPS 2017):
regression members have Gaussian heads (β-NLL, β = 0.5, on standardised targets) and the
prediction is their mixture — variance = mean of the members' variances (aleatoric) + variance
of their means (epistemic); classifier members output logits, the prediction is the average
probability and its std the members' spread. Unlike the MLP ensemble (members trained at once
for a fixed number of epochs), the ``M`` networks are trained one after the other, each from its
own child seed — initialisation, minibatch order, dropout masks and its own random internal
validation split (``val_fraction``) — with Adam, Chemprop's learning-rate schedule (linear
warm-up over 2 epochs from ``lr/10`` to ``lr``, exponential decay to ``lr/10``) and early
stopping: each keeps the weights of its epoch with the lowest validation error and stops after
``patience`` epochs without improvement. Different validation splits also make the members see
different molecules, as bootstrap resampling would.

Why our own and not Chemprop: Chemprop v2 brings Lightning, its own data and featurizer stack and
checkpoints that pickle its classes; here the network is ~40 lines over PyTorch Geometric, takes
the graphs our featurizer streams, returns a :class:`~scientia.types.Prediction`, and its state
is a flat dict of tensors that ``torch.load(weights_only=True)`` reads. Chemprop stays the
baseline in benchmarks.

Cost: see :mod:`scientia.screen.mpnn` — a few hundred molecules per second per CPU core for an
ensemble of 5 at ``hidden = 300``, twice as many at ``hidden = 150``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.screen.mpnn import DMPNN, GraphBatch, noam_schedule
from scientia.seeding import Seed, child_seeds
from scientia.types import Prediction

__all__ = ["GNNEnsemble", "GNNEnsembleClassifier"]

READOUTS = ("mean", "sum")
_PARAMS = ("n_members", "hidden", "depth", "ffn_hidden", "readout", "epochs", "batch_size", "lr",
           "weight_decay", "dropout", "val_fraction", "patience", "predict_batch")  # fmt: skip


class _BaseGNNEnsemble:
    """Shared training loop of the regression and classification GNN ensembles."""

    _outputs_per_task = 1
    task = "regression"
    inputs = "graphs"  # ScreeningModel pairs it with a GraphFeaturizer

    def __init__(
        self,
        n_members: int = 5,
        hidden: int = 300,
        depth: int = 3,
        ffn_hidden: int | None = None,
        readout: str = "mean",
        epochs: int = 50,
        batch_size: int = 50,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        dropout: float = 0.0,
        val_fraction: float = 0.1,
        patience: int = 10,
        predict_batch: int = 64,
    ) -> None:
        if min(n_members, hidden, depth, epochs, batch_size, predict_batch) < 1:
            raise ConfigError(
                "n_members, hidden, depth, epochs, batch_size and predict_batch must be >= 1; "
                f"got {n_members}, {hidden}, {depth}, {epochs}, {batch_size}, {predict_batch}"
            )
        if readout not in READOUTS:
            raise ConfigError(f"readout must be one of {', '.join(READOUTS)}; got {readout!r}")
        if not 0 <= dropout < 1 or not 0 <= val_fraction < 1:
            raise ConfigError(f"dropout and val_fraction must lie in [0, 1); got {dropout}, {val_fraction}")
        if patience < 1 or lr <= 0 or weight_decay < 0:
            raise ConfigError(
                f"need patience >= 1, lr > 0, weight_decay >= 0; got {patience}, {lr}, {weight_decay}"
            )
        self.n_members = n_members
        self.hidden = hidden
        self.depth = depth
        self.ffn_hidden = ffn_hidden
        self.readout = readout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.val_fraction = val_fraction
        self.patience = patience
        self.predict_batch = predict_batch

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (stored with a saved model)."""
        return {name: getattr(self, name) for name in _PARAMS}

    def _loss(self, out: Any, y: Any, mask: Any) -> Any:
        """Training loss, averaged over the known targets of a batch."""
        raise NotImplementedError

    def _val_error(self, out: Any, y: Any, mask: Any) -> float:
        """Validation error used for early stopping (lower is better)."""
        raise NotImplementedError

    # -- inputs -----------------------------------------------------------------------------------
    def _check_graphs(self, X: Any) -> np.ndarray:
        from scientia.screen.graphs import graph_array

        if isinstance(X, np.ndarray) and X.dtype != object:
            raise ValidationError(
                f"{type(self).__name__} takes molecular graphs (from GraphFeaturizer), not a feature "
                f"matrix of shape {X.shape}; featurize with scientia.screen.graphs.GraphFeaturizer"
            )
        graphs = X if isinstance(X, np.ndarray) and X.ndim == 1 else graph_array(X)
        for g in graphs[:1]:
            if not all(hasattr(g, a) for a in ("x", "edge_index", "edge_attr")):
                raise ValidationError(
                    f"expected torch_geometric Data graphs with x, edge_index and edge_attr; got {type(g).__name__}"
                )
        return graphs

    def _batch(self, graphs: np.ndarray) -> GraphBatch:
        batch = GraphBatch(graphs)
        d_atom, d_bond = int(batch.x.shape[1]), int(batch.edge_attr.shape[1])
        if hasattr(self, "dims_") and (d_atom, d_bond) != self.dims_[:2]:
            raise ValidationError(
                f"graphs have {d_atom} atom and {d_bond} bond features; the model was trained on "
                f"{self.dims_[0]} and {self.dims_[1]} (featurize with the model's GraphFeaturizer)"
            )
        return batch

    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise ValidationError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _prepare(self, X: Any, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        graphs = self._check_graphs(X)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or len(Y) != len(graphs):
            raise ValidationError(
                f"targets must have shape (n,) or (n, m) with n = {len(graphs)}; got {Y.shape}"
            )
        if len(graphs) < 2:
            raise ValidationError("an ensemble needs at least 2 training molecules")
        first = graphs[0]
        self.dims_ = (int(first.x.shape[1]), int(first.edge_attr.shape[1]), Y.shape[1])
        self.n_outputs_ = Y.shape[1]
        return graphs, Y

    def _new_net(self, gen: Any) -> DMPNN:
        d_atom, d_bond, m = self.dims_
        ffn = self.ffn_hidden or self.hidden
        return DMPNN(
            d_atom, d_bond, self.hidden, self.depth, ffn, m * self._outputs_per_task, self.readout, gen
        )

    # -- training ---------------------------------------------------------------------------------
    def _train(self, graphs: np.ndarray, T: np.ndarray, seed: Seed) -> None:
        """Fit ``n_members`` networks on graphs and targets ``T`` (n, m); NaN targets are skipped."""
        self.members_: list[DMPNN] = []
        self.best_epochs_: list[int] = []
        for member_seed in child_seeds(seed, self.n_members):
            net, best = self._train_member(graphs, T, member_seed)
            self.members_.append(net)
            self.best_epochs_.append(best)

    def _train_member(self, graphs: np.ndarray, T: np.ndarray, seed: int) -> tuple[DMPNN, int]:
        import torch

        s_init, s_split, s_order, s_drop = child_seeds(seed, 4)
        net = self._new_net(torch.Generator().manual_seed(s_init % 2**31))
        drop_gen = torch.Generator().manual_seed(s_drop % 2**31)
        n = len(graphs)
        n_val = round(self.val_fraction * n) if n >= 10 else 0
        perm = np.random.default_rng(s_split).permutation(n)
        val, train = np.sort(perm[:n_val]), perm[n_val:]
        order_rng = np.random.default_rng(s_order)
        mask = torch.from_numpy(np.isfinite(T))
        tT = torch.from_numpy(np.nan_to_num(T, nan=0.0).astype(np.float32))
        val_batches = [
            (self._batch(graphs[rows]), tT[rows], mask[rows])
            for rows in np.array_split(val, max(1, math.ceil(n_val / self.predict_batch)))
            if len(rows)
        ]
        opt = torch.optim.Adam(net.params.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        steps = max(1, math.ceil(len(train) / self.batch_size))
        lr_at = noam_schedule(self.lr, steps, self.epochs)
        best, best_epoch, best_state, step = math.inf, self.epochs, None, 0
        for epoch in range(self.epochs):
            order = order_rng.permutation(train)
            for s in range(steps):
                rows = order[s * self.batch_size : (s + 1) * self.batch_size]
                for group in opt.param_groups:
                    group["lr"] = lr_at(step)
                step += 1
                out = net.forward(self._batch(graphs[rows]), self.dropout, drop_gen)
                loss = self._loss(out, tT[rows], mask[rows])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if not val_batches:
                continue
            with torch.no_grad():
                err = sum(self._val_error(net.forward(b), y, k) * len(y) for b, y, k in val_batches) / n_val
            if err < best:
                best, best_epoch = err, epoch + 1
                best_state = {k: v.detach().clone() for k, v in net.params.items()}
            elif epoch + 1 - best_epoch >= self.patience:
                break
        if best_state is not None:
            net.params.load_state_dict(best_state)
        return net, best_epoch

    def _outputs(self, X: Any) -> np.ndarray:
        """Raw network outputs of every member, shape (M, n, outputs)."""
        import torch

        self._check_fitted()
        graphs = self._check_graphs(X)
        width = self.n_outputs_ * self._outputs_per_task
        out = np.zeros((len(self.members_), len(graphs), width))
        with torch.inference_mode():
            for i in range(0, len(graphs), self.predict_batch):
                batch = self._batch(graphs[i : i + self.predict_batch])
                for j, net in enumerate(self.members_):
                    out[j, i : i + batch.n] = net.forward(batch).numpy()
        return out

    # -- persistence ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Tensors that, with :meth:`get_params`, rebuild the fitted model."""
        import torch

        self._check_fitted()
        state: dict[str, Any] = {}
        for j, net in enumerate(self.members_):
            state.update({f"member{j}.{k}": p.detach().clone() for k, p in net.params.items()})
        extra = {
            "shape": np.array(self.dims_),
            "best_epochs": np.array(self.best_epochs_),
            **self._extra_state(),
        }
        for key, value in extra.items():
            state[key] = torch.as_tensor(np.asarray(value, dtype=np.float64))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> Any:
        """Restore a fitted model from :meth:`state_dict` (the constructor args must match)."""
        import torch

        arrays = {k: v.numpy() for k, v in state.items() if not k.startswith("member")}
        d_atom, d_bond, m = (int(v) for v in arrays["shape"])
        self.dims_, self.n_outputs_ = (d_atom, d_bond, m), m
        self.best_epochs_ = [int(v) for v in arrays["best_epochs"]]
        self.members_ = []
        for j in range(self.n_members):
            net = self._new_net(torch.Generator())
            prefix = f"member{j}."
            net.params.load_state_dict(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )
            self.members_.append(net)
        self._load_extra(arrays)
        return self

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_extra(self, arrays: dict[str, np.ndarray]) -> None:
        return None


class GNNEnsemble(_BaseGNNEnsemble):
    """A deep ensemble of D-MPNNs with Gaussian heads, for regression on molecular graphs.

    Parameters
    ----------
    n_members : int
        Ensemble size ``M``; each member is trained from its own child seed.
    hidden : int
        Width of the bond and atom hidden states (Chemprop's default, 300).
    depth : int
        Message-passing steps (3).
    ffn_hidden : int, optional
        Width of the head's hidden layer (default ``hidden``).
    readout : {"mean", "sum"}
        How atom states become a molecule's vector: mean (size-independent, Chemprop's default)
        or sum (for extensive properties).
    epochs, batch_size, lr, weight_decay, dropout : training settings
        At most ``epochs`` passes of Adam over minibatches of ``batch_size`` molecules, with
        Chemprop's warm-up / decay schedule peaking at ``lr``.
    val_fraction : float
        Each member holds out this fraction of the training molecules (its own random choice)
        to pick its best epoch and stop early; 0, or fewer than 10 molecules, trains all epochs.
    patience : int
        Epochs without a lower validation error before a member stops.
    predict_batch : int
        Graphs per forward pass when predicting. Small batches are fastest on a CPU (their
        ``(bonds, hidden)`` tensors stay in cache): 64 predicts about twice as many molecules per
        second as 1,024.
    loss : {"nll", "mse"}
        ``nll``: Gaussian β-NLL with a learned variance per molecule; ``mse``: squared error,
        uncertainty from the members' spread only.

    Attributes
    ----------
    members_ : list
        The fitted networks (their weights in ``members_[j].params``).
    best_epochs_ : list of int
        The epoch whose weights each member kept.
    fit_seconds_ : float

    Examples
    --------
    >>> from scientia.screen.graphs import GraphFeaturizer
    >>> smiles = ["C" * k for k in range(1, 13)] + ["C" * k + "O" for k in range(1, 13)]
    >>> X = GraphFeaturizer().transform(smiles).X
    >>> y = [len(s) for s in smiles]
    >>> model = GNNEnsemble(n_members=2, hidden=16, epochs=5).fit(X, y, seed=0)
    >>> model.predict(X[:3]).mean.shape
    (3, 1)
    """

    _outputs_per_task = 2
    task = "regression"

    def __init__(self, *args: Any, loss: str = "nll", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if loss not in ("nll", "mse"):
            raise ConfigError(f"loss must be nll or mse; got {loss!r}")
        self.loss = loss

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "loss": self.loss}

    def _loss(self, out: Any, y: Any, mask: Any) -> Any:
        import torch

        m = y.shape[-1]
        mu, raw = out[:, :m], out[:, m:]
        err2 = (mu - y) ** 2
        if self.loss == "mse":
            per = err2
        else:
            var = torch.nn.functional.softplus(raw) + 1e-4
            per = 0.5 * (torch.log(var) + err2 / var) * var.detach() ** 0.5  # β-NLL, β = 0.5
        return (per * mask).sum() / mask.sum().clamp(min=1)

    def _val_error(self, out: Any, y: Any, mask: Any) -> float:
        mu = out[:, : y.shape[-1]]
        return float((((mu - y) ** 2) * mask).sum() / mask.sum().clamp(min=1))

    def fit(self, X: Any, Y: np.ndarray, seed: Seed = None) -> GNNEnsemble:
        """Train the ensemble.

        Parameters
        ----------
        X : array of torch_geometric.data.Data, shape (n,)
            Graphs from :class:`~scientia.screen.graphs.GraphFeaturizer` (``Features.X``).
        Y : ndarray, shape (n,) or (n, m)
            Missing targets (NaN) are left out of the loss.
        seed : int, Generator or None
        """
        start = time.perf_counter()
        graphs, Y = self._prepare(X, Y)
        self.y_mean_ = np.nan_to_num(np.nanmean(Y, axis=0))
        std = np.nan_to_num(np.nanstd(Y, axis=0))
        self.y_scale_ = np.where(std > 1e-12, std, 1.0)
        self._train(graphs, (Y - self.y_mean_) / self.y_scale_, seed)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_members(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean and std, each of shape (M, n, m), in target units."""
        out = self._outputs(X)
        m = self.n_outputs_
        mu = out[..., :m] * self.y_scale_ + self.y_mean_
        if self.loss == "mse":
            return mu, np.zeros_like(mu)
        var = np.logaddexp(0.0, out[..., m:]) + 1e-4  # softplus
        return mu, np.sqrt(var) * self.y_scale_

    def predict(self, X: Any) -> Prediction:
        """The mixture's mean and std (see the module docstring), each of shape (n, m)."""
        mu, sd = self.predict_members(X)
        mean = mu.mean(axis=0)
        var = (sd**2).mean(axis=0) + mu.var(axis=0)
        return Prediction(mean, np.sqrt(np.maximum(var, 0.0)))

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"y_mean": self.y_mean_, "y_scale": self.y_scale_}

    def _load_extra(self, arrays: dict[str, np.ndarray]) -> None:
        self.y_mean_, self.y_scale_ = arrays["y_mean"], arrays["y_scale"]


class GNNEnsembleClassifier(_BaseGNNEnsemble):
    """A deep ensemble of D-MPNN classifiers for binary targets (one or several tasks).

    Parameters are those of :class:`GNNEnsemble` (without ``loss``: binary cross-entropy, also
    the early-stopping criterion). Targets are 0/1, NaN where a molecule was not tested.

    ``predict`` returns a :class:`~scientia.types.Prediction` whose ``mean`` is the ensemble's
    probability of class 1 and ``std`` the spread of the members' probabilities.
    """

    task = "classification"

    def _loss(self, out: Any, y: Any, mask: Any) -> Any:
        import torch

        bce = torch.nn.functional.binary_cross_entropy_with_logits(out, y, reduction="none")
        return (bce * mask).sum() / mask.sum().clamp(min=1)

    def _val_error(self, out: Any, y: Any, mask: Any) -> float:
        return float(self._loss(out, y, mask))

    def fit(self, X: Any, Y: np.ndarray, seed: Seed = None) -> GNNEnsembleClassifier:
        """Train the ensemble on graphs ``X`` (n,) and 0/1 targets ``Y`` of shape (n,) or (n, m)."""
        start = time.perf_counter()
        graphs, Y = self._prepare(X, Y)
        seen = Y[np.isfinite(Y)]
        if not np.all(np.isin(seen, (0.0, 1.0))):
            raise ValidationError("classification targets must be 0 or 1 (or empty where unknown)")
        if len(np.unique(seen)) < 2:
            raise ValidationError("classification needs both classes (0 and 1) in the training data")
        self._train(graphs, Y, seed)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_members(self, X: Any) -> np.ndarray:
        """Each member's probability of class 1, shape (M, n, m)."""
        out = self._outputs(X)
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The ensemble's probability of class 1, shape (n, m)."""
        return self.predict_members(X).mean(axis=0)

    def predict(self, X: Any) -> Prediction:
        """Probability of class 1 (mean) and the members' spread (std), each (n, m)."""
        p = self.predict_members(X)
        return Prediction(p.mean(axis=0), p.std(axis=0))
