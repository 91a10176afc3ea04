"""Gaussian process with a Tanimoto (or MinMax) kernel on fingerprints, for small data sets.

Molecular similarity is usually measured by the Tanimoto coefficient of fingerprints, and the
Tanimoto kernel is a valid covariance on non-negative vectors (Ralaivola et al., Neural Networks
2005; Gower 1971), with no lengthscale to fit: a GP with it is a strong, well-calibrated model for
a few hundred to a few thousand molecules (Griffiths et al., GAUCHE, NeurIPS 2023).

* ``tanimoto``: ``k(x, x') = <x, x'> / (|x|² + |x'|² − <x, x'>)`` — on bit vectors the Jaccard
  similarity of the set bits; on count vectors its usual continuous extension;
* ``minmax``: ``k(x, x') = Σ min(x_i, x'_i) / Σ max(x_i, x'_i)``, the Tanimoto coefficient of
  count fingerprints seen as multisets, computed as ``(|x|₁ + |x'|₁ − |x − x'|₁) / (|x|₁ + |x'|₁
  + |x − x'|₁)`` so that only an (n, n') distance matrix is ever held.

The kernel is scaled by a learned output scale; the mean is a learned constant and the noise is
learned; outcomes are standardised by BoTorch (``Standardize``), and hyper-parameters are fitted by
maximising the marginal likelihood (``fit_gpytorch_mll``).

Why our own kernel and not GAUCHE's: GAUCHE pins old GPyTorch/BoTorch releases and pulls in
many optional dependencies; the kernel is a dozen lines over ``gpytorch.kernels.Kernel``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scientia.errors import ConfigError, ValidationError
from scientia.seeding import Seed, torch_seed
from scientia.types import Prediction

__all__ = ["KERNELS", "TanimotoGP", "tanimoto_similarity"]

KERNELS = ("tanimoto", "minmax")
_MAX_TRAIN = 10_000  # an exact GP holds an (n, n) matrix: beyond this use the ensemble


def tanimoto_similarity(A: Any, B: Any, kind: str = "tanimoto") -> Any:
    """Similarity matrix between the rows of two non-negative torch tensors.

    Parameters
    ----------
    A : torch.Tensor, shape (..., n, d)
    B : torch.Tensor, shape (..., n', d)
    kind : {"tanimoto", "minmax"}

    Returns
    -------
    torch.Tensor, shape (..., n, n')
        Values in [0, 1]; two all-zero rows count as identical (1).
    """
    import torch

    if kind == "tanimoto":
        dot = A @ B.transpose(-1, -2)
        na = (A * A).sum(-1, keepdim=True)
        nb = (B * B).sum(-1, keepdim=True).transpose(-1, -2)
        denom = na + nb - dot
    elif kind == "minmax":
        l1 = torch.cdist(A, B, p=1)
        sa = A.sum(-1, keepdim=True)
        sb = B.sum(-1, keepdim=True).transpose(-1, -2)
        dot = (sa + sb - l1) / 2  # Σ min
        denom = (sa + sb + l1) / 2  # Σ max
    else:
        raise ConfigError(f"unknown kernel {kind!r}; expected one of {', '.join(KERNELS)}")
    zero = denom <= 1e-12
    return torch.where(zero, torch.ones_like(dot), dot / torch.where(zero, torch.ones_like(denom), denom))


def _kernel_class() -> Any:
    """The GPyTorch kernel class (built lazily: gpytorch is imported only when needed)."""
    from gpytorch.kernels import Kernel

    class TanimotoKernel(Kernel):  # type: ignore[misc]
        """Tanimoto / MinMax similarity as a GPyTorch kernel (no hyper-parameters)."""

        has_lengthscale = False

        def __init__(self, kind: str = "tanimoto", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.kind = kind

        def forward(self, x1: Any, x2: Any, diag: bool = False, **params: Any) -> Any:
            if diag:
                return tanimoto_similarity(x1, x2, self.kind).diagonal(dim1=-2, dim2=-1)
            return tanimoto_similarity(x1, x2, self.kind)

    return TanimotoKernel


class TanimotoGP:
    """Exact GP regression on fingerprints with a Tanimoto or MinMax kernel.

    Parameters
    ----------
    kernel : {"tanimoto", "minmax"}
        ``tanimoto`` (default; fast: one matrix product) or ``minmax`` (the multiset form for
        counts; needs L1 distances, several times slower). On bits both are the same similarity.
    n_fingerprint : int, optional
        Use only the first ``n_fingerprint`` feature columns (the fingerprint, when descriptors
        follow it); default every column. Features must be non-negative.
    min_noise : float
        Lower bound on the noise variance (standardised units).

    Attributes
    ----------
    models_ : list of botorch SingleTaskGP
        One GP per outcome.
    fit_seconds_ : float
    """

    def __init__(
        self, kernel: str = "tanimoto", n_fingerprint: int | None = None, min_noise: float = 1e-4
    ) -> None:
        if kernel not in KERNELS:
            raise ConfigError(f"unknown kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
        self.kernel = kernel
        self.n_fingerprint = n_fingerprint
        self.min_noise = min_noise

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (stored with a saved model)."""
        return {"kernel": self.kernel, "n_fingerprint": self.n_fingerprint, "min_noise": self.min_noise}

    def _inputs(self, X: np.ndarray) -> Any:
        import torch

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValidationError(f"features must be a 2-D array (n, d); got shape {X.shape}")
        if self.n_fingerprint is not None:
            X = X[:, : self.n_fingerprint]
        if hasattr(self, "n_features_") and X.shape[1] != self.n_features_:
            raise ValidationError(f"expected {self.n_features_} fingerprint columns; got {X.shape[1]}")
        if not np.all(np.isfinite(X)) or np.any(X < 0):
            raise ValidationError("a Tanimoto kernel needs finite, non-negative features (fingerprints)")
        return torch.as_tensor(X, dtype=torch.float64)

    def _build(self, X: Any, y: Any) -> Any:
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.constraints import GreaterThan
        from gpytorch.kernels import ScaleKernel
        from gpytorch.likelihoods import GaussianLikelihood

        likelihood = GaussianLikelihood(noise_constraint=GreaterThan(self.min_noise))
        covar = ScaleKernel(_kernel_class()(kind=self.kernel))
        return SingleTaskGP(
            X, y, likelihood=likelihood, covar_module=covar, outcome_transform=Standardize(m=1)
        )

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> TanimotoGP:
        """Fit one GP per outcome by maximising its marginal likelihood.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Non-negative fingerprints (bits or counts).
        Y : ndarray, shape (n,) or (n, m)
            Rows with a missing target are left out of that outcome's GP.
        seed : int, Generator or None
            Seeds the optimiser's random restarts, if any.
        """
        import torch
        from botorch.fit import fit_gpytorch_mll
        from gpytorch.mlls import ExactMarginalLogLikelihood

        start = time.perf_counter()
        tX = self._inputs(X)
        Y = np.asarray(Y, dtype=np.float64)
        Y = Y[:, None] if Y.ndim == 1 else Y
        if Y.ndim != 2 or len(Y) != len(tX):
            raise ValidationError(f"targets must have shape (n,) or (n, m) with n = {len(tX)}; got {Y.shape}")
        if len(tX) > _MAX_TRAIN:
            raise ValidationError(
                f"{len(tX):,} training molecules is too many for an exact GP (at most {_MAX_TRAIN:,}); "
                "use the ensemble model"
            )
        self.n_features_ = int(tX.shape[1])
        self.models_ = []
        with torch.random.fork_rng():
            torch.manual_seed(torch_seed(seed))
            for j in range(Y.shape[1]):
                ok = np.isfinite(Y[:, j])
                if ok.sum() < 2:
                    raise ValidationError(f"outcome {j} has fewer than 2 known values")
                y = torch.as_tensor(Y[ok, j : j + 1], dtype=torch.float64)
                model = self._build(tX[torch.from_numpy(ok)], y)
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                model.eval()
                self.models_.append(model)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X: np.ndarray, observation_noise: bool = True, chunk: int = 2048) -> Prediction:
        """Posterior mean and std, each of shape (n, m).

        Parameters
        ----------
        X : ndarray, shape (n, d)
        observation_noise : bool
            Include the learned noise (the spread of a new measurement: what a screen compares
            with an assay), else the latent function's uncertainty only.
        chunk : int
            Rows per posterior call (bounds the (chunk, n_train) kernel matrix).
        """
        import torch

        if not hasattr(self, "models_"):
            raise ValidationError("this TanimotoGP is not fitted yet; call fit first")
        tX = self._inputs(X)
        means, stds = [], []
        with torch.no_grad():
            for model in self.models_:
                mu, sd = [], []
                for i in range(0, max(len(tX), 1), chunk):
                    post = model.posterior(tX[i : i + chunk], observation_noise=observation_noise)
                    mu.append(post.mean.squeeze(-1).numpy())
                    sd.append(post.variance.clamp_min(0).sqrt().squeeze(-1).numpy())
                means.append(np.concatenate(mu))
                stds.append(np.concatenate(sd))
        return Prediction(np.stack(means, axis=1), np.stack(stds, axis=1))

    # -- persistence ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Training data and hyper-parameters of every outcome's GP, as tensors."""
        if not hasattr(self, "models_"):
            raise ValidationError("this TanimotoGP is not fitted yet; call fit first")
        state: dict[str, Any] = {}
        for j, model in enumerate(self.models_):
            state[f"gp{j}.train_X"] = model.train_inputs[0].detach().clone()
            # the raw targets: the model stores them standardised
            y, _ = model.outcome_transform.untransform(model.train_targets.unsqueeze(-1))
            state[f"gp{j}.train_Y"] = y.detach().clone()
            for key, value in model.state_dict().items():
                state[f"gp{j}.param.{key}"] = value.detach().clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> TanimotoGP:
        """Rebuild the fitted GPs from :meth:`state_dict`."""
        n = len({k.split(".")[0] for k in state if k.startswith("gp")})
        self.models_ = []
        for j in range(n):
            X, y = state[f"gp{j}.train_X"], state[f"gp{j}.train_Y"]
            model = self._build(X, y)
            prefix = f"gp{j}.param."
            model.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
            model.eval()
            self.models_.append(model)
        self.n_features_ = int(state["gp0.train_X"].shape[1])
        return self
