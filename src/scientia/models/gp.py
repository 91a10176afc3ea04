"""Gaussian-process surrogate (BoTorch / GPyTorch) over encoded inputs in [0, 1].

Mixed spaces arrive already encoded by the space (scaled reals, ranks for ordinals, one-hot or
PCA-compressed descriptors for categoricals), so one ARD kernel serves them all. Each outcome gets
its own GP (``ModelListGP``); outcomes are standardised inside BoTorch.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from scientia.errors import ValidationError
from scientia.seeding import Seed, torch_seed
from scientia.types import Prediction

__all__ = ["GPSurrogate"]


class GPSurrogate:
    """Exact GP with an ARD kernel and learned noise, one per outcome.

    Parameters
    ----------
    kernel : {"rbf", "matern", "additive"}
        ``rbf`` uses BoTorch's default (dimension-scaled log-normal lengthscale prior);
        ``matern`` a Matérn-5/2 with the same prior; ``additive`` adds to the joint RBF kernel one
        RBF kernel per parameter (its encoded columns, see ``groups``), so that the main effect of
        each factor is learned from every experiment that shares its level — what a factorial
        screen is made of. This structure is ours; BoTorch offers the pieces, not the model.
    groups : list of list of int, optional
        Encoded column indices of each parameter; the BO proposer fills it from the space.
    min_noise : float
        Lower bound on the noise variance (in standardised units), for numerical stability.

    Attributes
    ----------
    model_ : botorch Model
        The fitted BoTorch model (consumed by the acquisition functions).
    fit_seconds_ : float
    """

    def __init__(
        self,
        kernel: Literal["rbf", "matern", "additive"] = "rbf",
        min_noise: float = 1e-4,
        groups: list[list[int]] | None = None,
    ) -> None:
        if kernel not in ("rbf", "matern", "additive"):
            raise ValidationError(f"GP kernel must be rbf, matern or additive; got {kernel!r}")
        self.kernel = kernel
        self.min_noise = min_noise
        self.groups = groups

    def _one(self, X: Any, y: Any) -> Any:
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.constraints import GreaterThan
        from gpytorch.likelihoods import GaussianLikelihood

        likelihood = GaussianLikelihood(noise_constraint=GreaterThan(self.min_noise))
        kwargs: dict[str, Any] = {}
        if self.kernel == "matern":
            from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior

            kwargs["covar_module"] = get_covar_module_with_dim_scaled_prior(
                ard_num_dims=X.shape[-1], use_rbf_kernel=False
            )
        elif self.kernel == "additive":
            kwargs["covar_module"] = _additive_kernel(X.shape[-1], self.groups)
        return SingleTaskGP(
            X, y, likelihood=likelihood, outcome_transform=Standardize(m=1), **kwargs
        )

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: Seed = None) -> GPSurrogate:
        """Fit by maximising the marginal likelihood.

        Parameters
        ----------
        X : ndarray, shape (n, d)
        Y : ndarray, shape (n, m)
        """
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import ModelListGP
        from gpytorch.mlls import ExactMarginalLogLikelihood, SumMarginalLogLikelihood

        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=float)
        if Y.ndim == 1:
            Y = Y[:, None]
        if X.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
            raise ValidationError(f"GP needs X (n, d) and Y (n, m) with n >= 2; got {X.shape}, {Y.shape}")
        start = time.perf_counter()
        torch.manual_seed(torch_seed(seed))  # fitting restarts draw from torch's RNG
        tX = torch.as_tensor(X, dtype=torch.float64)
        models = [self._one(tX, torch.as_tensor(Y[:, [j]], dtype=torch.float64)) for j in range(Y.shape[1])]
        if len(models) == 1:
            model = models[0]
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
        else:
            model = ModelListGP(*models)
            mll = SumMarginalLogLikelihood(model.likelihood, model)
        fit_gpytorch_mll(mll)
        model.eval()
        self.model_ = model
        self.n_outputs_ = Y.shape[1]
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X: np.ndarray) -> Prediction:
        """Posterior mean and std of the latent function, shape (n, m) each."""
        import torch

        tX = torch.as_tensor(np.asarray(X, dtype=float), dtype=torch.float64)
        with torch.no_grad():
            post = self.model_.posterior(tX)
            mean = post.mean.numpy()
            std = post.variance.clamp_min(0).sqrt().numpy()
        return Prediction(mean.reshape(len(X), -1), std.reshape(len(X), -1))

    def summary(self) -> dict[str, Any]:
        """Hyperparameters worth logging (lengthscales, noise) for the ledger."""
        out: dict[str, Any] = {"kind": "gp", "kernel": self.kernel, "seconds": self.fit_seconds_}
        models = getattr(self.model_, "models", [self.model_])
        out["noise"] = [float(m.likelihood.noise.detach().mean()) for m in models]
        out["lengthscales"] = [
            [
                k.lengthscale.detach().reshape(-1).tolist()
                for k in m.covar_module.modules()
                if getattr(k, "has_lengthscale", False)
            ]
            for m in models
        ]
        return out


def _additive_kernel(d: int, groups: list[list[int]] | None) -> Any:
    """Scaled joint RBF kernel plus one scaled RBF kernel per group of columns."""
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
    from gpytorch.kernels import AdditiveKernel, ScaleKernel
    from gpytorch.priors import GammaPrior

    groups = groups or [[i] for i in range(d)]
    parts = [ScaleKernel(get_covar_module_with_dim_scaled_prior(ard_num_dims=d), outputscale_prior=GammaPrior(2.0, 0.15))]
    for g in groups:
        base = get_covar_module_with_dim_scaled_prior(ard_num_dims=len(g), active_dims=tuple(g))
        parts.append(ScaleKernel(base, outputscale_prior=GammaPrior(2.0, 0.15)))
    return AdditiveKernel(*parts)
