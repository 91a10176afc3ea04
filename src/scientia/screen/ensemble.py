"""Deep ensembles of fingerprint MLPs (regression and binary classification).

A deep ensemble (Lakshminarayanan, Pritzel, Blundell, NeurIPS 2017) trains ``M`` networks from
different random initialisations (and, optionally, bootstrap resamples) and reads the spread of
their predictions as epistemic uncertainty. For regression each member has a Gaussian head that
also predicts a variance (the aleatoric part, trained with the Gaussian negative log-likelihood);
the ensemble is the equal-weight mixture of the members' Gaussians, summarised by

    mean = (1/M) Σ μ_m,    var = (1/M) Σ σ_m²  +  (1/M) Σ (μ_m − mean)²
                                  (aleatoric)       (epistemic: spread of members)

For classification each member outputs a logit; the prediction is the members' average
probability and its std the spread of the members' probabilities.

Why our own and not skorch or a Chemprop FFN: all ``M`` members are trained *at once* as one
batched network — the first layers of all members form one (d, M·h) matrix applied to the
fingerprint as an embedding bag over its set bits (a drug-like molecule sets 20–60 of 2,048), the
later layers are stacked (M, h_in, h_out) and applied with ``torch.baddbmm`` — which on one CPU
core costs per molecule in proportion to its set bits, not to the fingerprint length; and the state is a handful of plain tensors that
``torch.load(weights_only=True)`` reads. Members share minibatches and differ by initialisation,
dropout masks and per-molecule Poisson(1) bootstrap weights.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.seeding import Seed, child_seeds
from scientia.types import Prediction

__all__ = ["MLPEnsembleClassifier", "MLPEnsembleRegressor", "Standardizer"]


class Standardizer:
    """Column standardisation with training statistics, clipped to ``±clip`` standard units.

    Clipping keeps a library molecule whose descriptor lies far outside the training range from
    driving the networks into wild extrapolation (the ensemble's spread still shows it).
    """

    def __init__(self, clip: float = 6.0) -> None:
        self.clip = clip

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return np.clip(Z, -self.clip, self.clip).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"x_mean": self.mean_, "x_scale": self.scale_}

    def load(self, state: dict[str, np.ndarray]) -> Standardizer:
        self.mean_, self.scale_ = np.asarray(state["x_mean"]), np.asarray(state["x_scale"])
        return self


def _uniform(shape: tuple[int, ...], fan_in: int, gen: Any) -> Any:
    """LeCun-uniform initial weights (variance 1 / fan_in), drawn from ``gen``."""
    import torch

    bound = math.sqrt(3.0 / max(fan_in, 1))
    return torch.nn.Parameter((torch.rand(shape, generator=gen) * 2 - 1) * bound)


class _Batch:
    """A minibatch: sparse fingerprint rows (as an embedding bag) and dense columns."""

    def __init__(self, sparse: Any, dense: np.ndarray, rows: np.ndarray | None = None) -> None:
        import torch

        sub = sparse[rows] if rows is not None and sparse is not None else sparse
        self.n = len(dense) if rows is None else len(rows)
        if sub is not None:
            self.indices = torch.from_numpy(sub.indices.astype(np.int64))
            self.offsets = torch.from_numpy(sub.indptr[:-1].astype(np.int64))
            self.weights = torch.from_numpy(sub.data.astype(np.float32))
        self.dense = torch.from_numpy(dense if rows is None else dense[rows])


class _Net:
    """``M`` MLPs trained side by side.

    The first layer of all members is one matrix of shape (d, M·h1): the fingerprint part is
    applied as an embedding bag over the molecule's set bits (about 20–60 of 2,048 for a
    drug-like molecule), the dense part (descriptors) as a matrix product. Later layers are
    stacked per member, shape (M, h_in, h_out), applied with ``torch.baddbmm``.
    """

    def __init__(self, M: int, d_sparse: int, d_dense: int, sizes: list[int], gen: Any) -> None:
        import torch

        self.M, self.h1 = M, sizes[0]
        fan_in = max(d_sparse + d_dense, 1)
        params: dict[str, Any] = {}
        if d_sparse:
            params["w_sparse"] = _uniform((d_sparse, M * sizes[0]), 32, gen)  # ~32 set bits
        if d_dense:
            params["w_dense"] = _uniform((d_dense, M * sizes[0]), fan_in, gen)
        params["b0"] = torch.nn.Parameter(torch.zeros(M * sizes[0]))
        for k, (d_in, d_out) in enumerate(itertools.pairwise(sizes), start=1):
            params[f"w{k}"] = _uniform((M, d_in, d_out), d_in, gen)
            params[f"b{k}"] = torch.nn.Parameter(torch.zeros(M, 1, d_out))
        self.params = torch.nn.ParameterDict(params)
        self.n_layers = len(sizes)

    def forward(self, batch: _Batch, dropout: float = 0.0, gen: Any = None) -> Any:
        """Outputs of every member, shape (M, B, d_out)."""
        import torch

        p = self.params
        h = p["b0"].expand(batch.n, -1)
        if "w_sparse" in p:
            h = h + torch.nn.functional.embedding_bag(
                batch.indices, p["w_sparse"], batch.offsets, mode="sum", per_sample_weights=batch.weights
            )
        if "w_dense" in p:
            h = h + batch.dense @ p["w_dense"]
        h = h.view(batch.n, self.M, self.h1).transpose(0, 1)  # (M, B, h1)
        for k in range(1, self.n_layers):
            h = torch.relu(h)
            if dropout > 0 and gen is not None:
                h = h * (torch.rand(h.shape, generator=gen) >= dropout) / (1 - dropout)
            h = torch.baddbmm(p[f"b{k}"], h, p[f"w{k}"])
        return h


def _one_cycle(opt: Any, lr: float, total: int) -> Any:
    """One-cycle learning rate with 10% warm-up, at least 2 warm-up steps; constant below 3 steps.

    (PyTorch's ``OneCycleLR`` divides by zero when the warm-up is exactly one step, e.g. 10
    steps in all.)
    """
    import torch

    if total < 3:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    pct = 0.1 if 0.1 * total >= 2 else 2 / total
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=pct)


class _BaseEnsemble:
    """Shared training loop of the regression and classification ensembles."""

    _outputs_per_task = 1

    def __init__(
        self,
        n_members: int = 5,
        hidden: tuple[int, ...] = (256, 64),
        epochs: int = 40,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        dropout: float = 0.1,
        bootstrap: bool = True,
        n_sparse: int = 0,
        clip: float = 6.0,
    ) -> None:
        if n_members < 1 or epochs < 1 or batch_size < 1 or not hidden:
            raise ConfigError("n_members, epochs and batch_size must be >= 1, with at least one hidden layer")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must lie in [0, 1); got {dropout}")
        self.n_members = n_members
        self.hidden = tuple(int(h) for h in hidden)
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.bootstrap = bootstrap
        self.n_sparse = n_sparse
        self.clip = clip

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (stored with a saved model)."""
        return {
            "n_members": self.n_members,
            "hidden": list(self.hidden),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "dropout": self.dropout,
            "bootstrap": self.bootstrap,
            "n_sparse": self.n_sparse,
            "clip": self.clip,
        }

    def _loss(self, out: Any, y: Any, weight: Any) -> Any:
        """Per-member weighted mean loss, summed over members."""
        raise NotImplementedError

    # -- inputs -----------------------------------------------------------------------------------
    def _split(self, X: Any) -> tuple[Any, np.ndarray]:
        """Fingerprint block as CSR of log(1 + count), dense block standardised and clipped.

        ``X`` is a dense array or, when every column is a fingerprint column, a SciPy sparse
        matrix (what ``Featurizer.transform(..., sparse=True)`` gives).
        """
        import scipy.sparse

        k = self.n_sparse
        sparse = None
        if k:
            sparse = scipy.sparse.csr_matrix(X[:, :k], dtype=np.float32)
            sparse.data = np.log1p(np.maximum(sparse.data, 0))
        if X.shape[1] > k:
            dense = self.x_scaler_.transform(np.asarray(X[:, k:], dtype=np.float64))
        else:
            dense = np.zeros((X.shape[0], 0), np.float32)
        return sparse, dense

    def _check_X(self, X: Any) -> Any:
        import scipy.sparse

        if scipy.sparse.issparse(X):
            if X.shape[1] != self.n_sparse:
                raise ValidationError(
                    f"a sparse feature matrix must hold fingerprint columns only ({self.n_sparse}); "
                    f"got {X.shape[1]} columns"
                )
            values = X.data
        else:
            X = np.asarray(X)
            if X.dtype.kind != "f":
                X = X.astype(np.float64)
            values = X
        if X.ndim != 2:
            raise ValidationError(f"features must be a 2-D array (n, d); got shape {X.shape}")
        if hasattr(self, "n_features_") and X.shape[1] != self.n_features_:
            raise ValidationError(f"expected {self.n_features_} feature columns; got {X.shape[1]}")
        if not np.all(np.isfinite(values)):
            raise ValidationError("features contain NaN or infinite values")
        if self.n_sparse > X.shape[1]:
            raise ConfigError(f"n_sparse = {self.n_sparse} exceeds the {X.shape[1]} feature columns")
        return X

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise ValidationError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _prepare(self, X: np.ndarray, Y: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        X = self._check_X(X)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        n = X.shape[0]
        if Y.ndim != 2 or len(Y) != n:
            raise ValidationError(f"targets must have shape (n,) or (n, m) with n = {n}; got {Y.shape}")
        if n < 2:
            raise ValidationError("an ensemble needs at least 2 training molecules")
        self.n_features_ = X.shape[1]
        self.n_outputs_ = Y.shape[1]
        dense = X[:, self.n_sparse :] if X.shape[1] > self.n_sparse else np.zeros((n, 0))
        self.x_scaler_ = Standardizer(self.clip).fit(dense)
        sparse, dense = self._split(X)
        return sparse, dense, Y

    # -- training ---------------------------------------------------------------------------------
    def _train(self, sparse: Any, dense: np.ndarray, T: np.ndarray, seed: Seed) -> None:
        """Fit the members on prepared inputs and targets ``T`` (n, m); NaN targets are skipped.

        All members see the same minibatches; they differ by initialisation, dropout masks and
        (``bootstrap=True``) by Poisson(1) weights per molecule — the online form of a bootstrap
        resample (Oza and Russell, 2001).
        """
        import torch

        n, m, M = len(dense), T.shape[1], self.n_members
        sizes = [*self.hidden, m * self._outputs_per_task]
        s_init, s_data, s_drop = child_seeds(seed, 3)
        gen = torch.Generator().manual_seed(s_init % 2**31)
        self.net_ = _Net(M, self.n_sparse, dense.shape[1], sizes, gen)
        opt = torch.optim.AdamW(
            self.net_.params.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )
        data_rng = np.random.default_rng(s_data)
        drop_gen = torch.Generator().manual_seed(s_drop % 2**31)
        member_w = data_rng.poisson(1.0, (M, n)) if self.bootstrap else np.ones((M, n))
        mask = np.isfinite(T)
        tT = torch.from_numpy(np.nan_to_num(T, nan=0.0).astype(np.float32))
        weight = torch.from_numpy((member_w[:, :, None] * mask[None]).astype(np.float32))  # (M, n, m)
        steps = max(1, math.ceil(n / self.batch_size))
        sched = _one_cycle(opt, self.lr, steps * self.epochs)
        for _ in range(self.epochs):
            order = data_rng.permutation(n)
            for s in range(steps):
                rows = order[s * self.batch_size : (s + 1) * self.batch_size]
                out = self.net_.forward(_Batch(sparse, dense, rows), self.dropout, drop_gen)
                loss = self._loss(out, tT[rows], weight[:, rows])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()

    def _outputs(self, X: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Raw network outputs of every member, shape (M, n, outputs)."""
        import torch

        self._check_fitted()
        X = self._check_X(X)
        parts = []
        with torch.no_grad():
            for i in range(0, X.shape[0], chunk):
                sparse, dense = self._split(X[i : i + chunk])
                parts.append(self.net_.forward(_Batch(sparse, dense)).numpy().astype(np.float64))
        if not parts:
            return np.zeros((self.n_members, 0, self.n_outputs_ * self._outputs_per_task))
        return np.concatenate(parts, axis=1)

    # -- persistence ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Tensors that, with :meth:`get_params`, rebuild the fitted model."""
        import torch

        self._check_fitted()
        state: dict[str, Any] = {f"net.{k}": p.detach().clone() for k, p in self.net_.params.items()}
        extra = {**self.x_scaler_.state(), **self._extra_state()}
        extra["shape"] = np.array([self.n_features_, self.n_outputs_])
        for key, value in extra.items():
            state[key] = torch.as_tensor(np.asarray(value, dtype=np.float64))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> Any:
        """Restore a fitted model from :meth:`state_dict` (the constructor args must match)."""
        import torch

        arrays = {k: v.numpy() for k, v in state.items() if not k.startswith("net.")}
        self.n_features_, self.n_outputs_ = (int(v) for v in arrays["shape"])
        sizes = [*self.hidden, self.n_outputs_ * self._outputs_per_task]
        d_dense = self.n_features_ - self.n_sparse
        self.net_ = _Net(self.n_members, self.n_sparse, d_dense, sizes, torch.Generator())
        self.net_.params.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        self.x_scaler_ = Standardizer(self.clip).load(arrays)
        self._load_extra(arrays)
        return self

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_extra(self, arrays: dict[str, np.ndarray]) -> None:
        return None


class MLPEnsembleRegressor(_BaseEnsemble):
    """A deep ensemble of MLPs with Gaussian heads, for regression on fingerprints/descriptors.

    Parameters
    ----------
    n_members : int
        Ensemble size ``M`` (members differ by initialisation, minibatch order and dropout).
    hidden : tuple of int
        Hidden layer widths.
    epochs, batch_size, lr, weight_decay, dropout : training settings
        AdamW with a one-cycle learning-rate schedule.
    bootstrap : bool
        Train each member on a bootstrap resample (more spread, slightly worse members).
    loss : {"nll", "mse"}
        ``nll``: Gaussian negative log-likelihood with a learned variance per molecule (the
        β-NLL weighting of Seitzer et al., ICLR 2022, β = 0.5, keeps the mean from being
        neglected where the variance is large); ``mse``: squared error, uncertainty from the
        members' spread only.
    clip : float
        Standardised inputs are clipped to ``±clip``.

    n_sparse : int
        The first ``n_sparse`` feature columns are a fingerprint (non-negative counts or bits):
        fed as ``log(1 + x)`` through the embedding bag, not standardised. The rest (e.g.
        descriptors) are standardised with training statistics and clipped.

    Attributes
    ----------
    net_ : object
        The stacked member weights (``net_.params``, a ``torch.nn.ParameterDict``).
    fit_seconds_ : float
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

    def _loss(self, out: Any, y: Any, weight: Any) -> Any:
        import torch

        m = y.shape[-1]
        mu, raw = out[..., :m], out[..., m:]
        err2 = (mu - y) ** 2
        if self.loss == "mse":
            per = err2
        else:
            var = torch.nn.functional.softplus(raw) + 1e-4
            per = 0.5 * (torch.log(var) + err2 / var) * var.detach() ** 0.5  # β-NLL, β = 0.5
        return ((per * weight).sum(dim=(1, 2)) / weight.sum(dim=(1, 2)).clamp(min=1)).sum()

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> MLPEnsembleRegressor:
        """Train the ensemble.

        Parameters
        ----------
        X : ndarray, shape (n, d)
        Y : ndarray, shape (n,) or (n, m)
            Missing targets (NaN) are left out of the loss.
        seed : int, Generator or None
        """
        start = time.perf_counter()
        sparse, dense, Y = self._prepare(X, Y)
        self.y_mean_ = np.nanmean(Y, axis=0)
        std = np.nanstd(Y, axis=0)
        self.y_scale_ = np.where(std > 1e-12, std, 1.0)
        self._train(sparse, dense, (Y - self.y_mean_) / self.y_scale_, seed)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_members(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean and std, each of shape (M, n, m), in target units."""
        import torch

        out = self._outputs(X)
        m = self.n_outputs_
        mu = out[..., :m] * self.y_scale_ + self.y_mean_
        if self.loss == "mse":
            sd = np.zeros_like(mu)
        else:
            var = torch.nn.functional.softplus(torch.from_numpy(out[..., m:])).numpy() + 1e-4
            sd = np.sqrt(var) * self.y_scale_
        return mu, sd

    def predict(self, X: np.ndarray) -> Prediction:
        """The mixture's mean and std (see the module docstring), each of shape (n, m)."""
        mu, sd = self.predict_members(X)
        mean = mu.mean(axis=0)
        var = (sd**2).mean(axis=0) + mu.var(axis=0)
        return Prediction(mean, np.sqrt(np.maximum(var, 0.0)))

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"y_mean": self.y_mean_, "y_scale": self.y_scale_}

    def _load_extra(self, arrays: dict[str, np.ndarray]) -> None:
        self.y_mean_, self.y_scale_ = arrays["y_mean"], arrays["y_scale"]


class MLPEnsembleClassifier(_BaseEnsemble):
    """A deep ensemble of MLP classifiers for binary targets (one or several tasks).

    Parameters are those of :class:`MLPEnsembleRegressor` (without ``loss``: binary
    cross-entropy). Targets are 0/1, NaN where a molecule was not tested for a task.

    ``predict`` returns a :class:`~scientia.types.Prediction` whose ``mean`` is the ensemble's
    probability of class 1 and ``std`` the spread of the members' probabilities.
    """

    task = "classification"

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> MLPEnsembleClassifier:
        """Train the ensemble on 0/1 targets ``Y`` of shape (n,) or (n, m)."""
        start = time.perf_counter()
        sparse, dense, Y = self._prepare(X, Y)
        seen = Y[np.isfinite(Y)]
        if not np.all(np.isin(seen, (0.0, 1.0))):
            raise ValidationError("classification targets must be 0 or 1 (or empty where unknown)")
        if len(np.unique(seen)) < 2:
            raise ValidationError("classification needs both classes (0 and 1) in the training data")
        self._train(sparse, dense, Y, seed)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _loss(self, out: Any, y: Any, weight: Any) -> Any:
        import torch

        bce = torch.nn.functional.binary_cross_entropy_with_logits(out, y.expand_as(out), reduction="none")
        return ((bce * weight).sum(dim=(1, 2)) / weight.sum(dim=(1, 2)).clamp(min=1)).sum()

    def predict_members(self, X: np.ndarray) -> np.ndarray:
        """Each member's probability of class 1, shape (M, n, m)."""
        out = self._outputs(X)
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The ensemble's probability of class 1, shape (n, m)."""
        return self.predict_members(X).mean(axis=0)

    def predict(self, X: np.ndarray) -> Prediction:
        """Probability of class 1 (mean) and the members' spread (std), each (n, m)."""
        p = self.predict_members(X)
        return Prediction(p.mean(axis=0), p.std(axis=0))
