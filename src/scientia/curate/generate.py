"""Generative models of tabular data: learn where the rows of a table lie, then draw new rows.

Two models, one contract — ``fit(X, seed)``, ``sample(n, seed)`` and ``score_samples(X)``, a
per-row log-density (exact for the flow, the evidence lower bound for the VAE) in the units of
``X``:

* :class:`VAEGenerator` — a variational autoencoder (Kingma & Welling 2014) with MLP encoder and
  decoder, a Gaussian likelihood with a learned noise level per feature, in PyTorch;
* :class:`FlowGenerator` — a normalizing flow, neural spline (NSF, Durkan et al. 2019) or masked
  autoregressive (MAF, Papamakarios et al. 2017), built with zuko, the flow library we depend on
  (the ``sciml`` extra) rather than reimplement.

Both standardise the columns inside (the log-density is corrected by the Jacobian, so it is in
the units of ``X``), keep a validation share of the rows to stop training when it stops improving,
and leave torch's global random state as it was. :class:`ClassConditional` fits one generator
per class, so that labelled synthetic rows can be drawn; for a regression target, fit the
generator on ``numpy.column_stack([X, y])`` and split the samples.

The models are for continuous features. Binary or integer columns are modelled as continuous
values (round the samples if needed); constant columns are reproduced exactly.

Whether synthetic rows help a downstream model is an empirical question; ``benchmarks/synthetic.py``
measures it on real data (small real training set with and without synthetic rows, scored on
held-out real rows), and the result is often "no".
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from scientia.errors import ValidationError
from scientia.registry import Registry
from scientia.seeding import Seed, rng, torch_seed

__all__ = [
    "ClassConditional",
    "FlowGenerator",
    "TabularGenerator",
    "VAEGenerator",
    "generators",
]

Callback = Callable[[int, float, float], None]


@runtime_checkable
class TabularGenerator(Protocol):
    """What every generator offers: fit, sample, and a per-row log-density."""

    def fit(self, X: np.ndarray, seed: Seed = None) -> TabularGenerator: ...

    def sample(self, n: int, seed: Seed = None) -> np.ndarray: ...

    def score_samples(self, X: np.ndarray) -> np.ndarray: ...


class _TorchGenerator:
    """Shared parts: validation, standardisation, the training loop with early stopping."""

    def __init__(
        self,
        epochs: int,
        batch_size: int,
        lr: float,
        weight_decay: float,
        validation: float,
        patience: int,
        max_steps: int,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation = validation
        self.patience = patience
        self.max_steps = max_steps

    # -- to be provided by the model -----------------------------------------------------------
    def _build(self, d: int) -> Any:
        raise NotImplementedError

    def _loss(self, module: Any, z: Any) -> Any:
        """Mean negative log-likelihood (or negative ELBO) of standardised rows ``z`` (torch)."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def _check(self, X: np.ndarray, min_rows: int = 2) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] < min_rows or X.shape[1] < 1:
            raise ValidationError(
                f"X must be a table of shape (n >= {min_rows}, d >= 1); got shape {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ValidationError("X contains NaN or infinite values; impute or drop them first")
        return X

    def fit(self, X: np.ndarray, seed: Seed = None, callback: Callback | None = None) -> Any:
        """Learn the distribution of the rows of ``X``.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Continuous features.
        seed : int, Generator or None
            Random seed (split, initialisation, mini-batches).
        callback : callable, optional
            Called after every epoch as ``callback(epoch, train_loss, validation_loss)``.

        Returns
        -------
        self
        """
        import torch

        X = self._check(X)
        gen = rng(seed)
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(self.mean_)), scale, 0.0)
        self._varying = self.scale_ > 0
        if not self._varying.any():
            raise ValidationError("every column of X is constant; there is no distribution to learn")
        Z = self._standardise(X)
        n = len(Z)
        n_val = round(float(self.validation) * n) if self.validation else 0
        order = gen.permutation(n)
        if 0 < n_val < n - 1:
            val_t = torch.from_numpy(Z[order[:n_val]].astype(np.float32))
            train_t = torch.from_numpy(Z[order[n_val:]].astype(np.float32))
        else:
            val_t, train_t = None, torch.from_numpy(Z.astype(np.float32))
        with torch.random.fork_rng(devices=[]):  # leave torch's global RNG as it was
            torch.manual_seed(torch_seed(gen))
            module = self._build(int(self._varying.sum()))
            opt = torch.optim.Adam(
                module.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
            )
            bs = max(1, min(int(self.batch_size), len(train_t)))
            best, best_state, stale, steps = math.inf, None, 0, 0
            self.loss_curve_: list[float] = []
            self.validation_curve_: list[float] = []
            for epoch in range(int(self.epochs)):
                module.train()
                perm = torch.from_numpy(gen.permutation(len(train_t)))
                total = 0.0
                for start in range(0, len(train_t), bs):
                    batch = train_t[perm[start : start + bs]]
                    loss = self._loss(module, batch)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.item()) * len(batch)
                    steps += 1
                    if steps >= self.max_steps:
                        break
                self.loss_curve_.append(total / len(train_t))
                module.eval()
                if val_t is not None:
                    with torch.no_grad():
                        v = float(self._loss(module, val_t).item())
                    self.validation_curve_.append(v)
                else:
                    v = self.loss_curve_[-1]
                if callback is not None:
                    callback(epoch, self.loss_curve_[-1], v)
                if v < best - 1e-4:
                    best, best_state, stale = v, copy.deepcopy(module.state_dict()), 0
                else:
                    stale += 1
                if stale >= self.patience or steps >= self.max_steps:
                    break
            if best_state is not None:
                module.load_state_dict(best_state)
            module.eval()
        self.module_ = module
        self.n_epochs_ = len(self.loss_curve_)
        return self

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        return (X[:, self._varying] - self.mean_[self._varying]) / self.scale_[self._varying]

    def _unstandardise(self, Z: np.ndarray) -> np.ndarray:
        X = np.tile(self.mean_, (len(Z), 1))
        X[:, self._varying] = Z * self.scale_[self._varying] + self.mean_[self._varying]
        return X

    def _log_jacobian(self) -> float:
        """log |dz/dx| of the standardisation, added to densities of z to get densities of x."""
        return float(-np.log(self.scale_[self._varying]).sum())

    def _fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise ValidationError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")

    def _rows(self, X: np.ndarray) -> np.ndarray:
        """``X`` checked against the fitted generator (any number of rows)."""
        self._fitted()
        X = self._check(X, min_rows=0)
        if X.shape[1] != self.n_features_in_:
            raise ValidationError(
                f"X has {X.shape[1]} columns; the generator was fitted on {self.n_features_in_}"
            )
        return X

    def _constant_rows_ok(self, X: np.ndarray) -> np.ndarray:
        """Rows whose constant columns hold the fitted constants (others have density 0)."""
        const = ~self._varying
        return np.all(np.isclose(X[:, const], self.mean_[const]), axis=1)


class VAEGenerator(_TorchGenerator):
    """Variational autoencoder for tabular rows.

    Encoder ``d → hidden… → (μ, log σ²)`` of a ``latent``-dimensional Gaussian, decoder
    ``latent → reversed(hidden)… → d`` giving the mean of a Gaussian likelihood whose standard
    deviation per feature is learned. Trained on the negative ELBO (``beta`` weights the KL term).

    Parameters
    ----------
    latent : int, optional
        Latent dimension; default ``max(2, d // 2)``.
    hidden : sequence of int
        Hidden layer widths of the encoder (the decoder mirrors them).
    beta : float
        Weight of the KL term (1 is the ELBO).
    epochs, batch_size, lr, weight_decay, max_steps : training settings (Adam).
    validation : float
        Share of the rows held out to stop training (0: train on all, stop at ``epochs``).
    patience : int
        Epochs without improvement of the validation loss before stopping.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained encoder and decoder.
    mean_, scale_ : ndarray, shape (d,)
        Standardisation (``scale_ == 0`` for constant columns).
    loss_curve_, validation_curve_ : list of float
        Per-epoch negative ELBO per row (standardised units).
    """

    def __init__(
        self,
        latent: int | None = None,
        hidden: Sequence[int] = (64, 64),
        beta: float = 1.0,
        epochs: int = 500,
        batch_size: int = 128,
        lr: float = 2e-3,
        weight_decay: float = 1e-5,
        validation: float = 0.1,
        patience: int = 40,
        max_steps: int = 20_000,
    ) -> None:
        super().__init__(epochs, batch_size, lr, weight_decay, validation, patience, max_steps)
        self.latent = latent
        self.hidden = hidden
        self.beta = beta

    def _build(self, d: int) -> Any:
        import torch
        from torch import nn

        latent = int(self.latent) if self.latent is not None else max(2, d // 2)
        hidden = [int(h) for h in self.hidden]

        def mlp(sizes: list[int]) -> nn.Sequential:
            layers: list[nn.Module] = []
            for i in range(len(sizes) - 1):
                layers.append(nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    layers.append(nn.SiLU())
            return nn.Sequential(*layers)

        module = nn.Module()
        module.encoder = mlp([d, *hidden, 2 * latent])
        module.decoder = mlp([latent, *hidden[::-1], d])
        module.log_sigma = nn.Parameter(torch.full((d,), math.log(0.5)))
        self.latent_ = latent
        return module

    def _terms(self, module: Any, z: Any, gen: Any = None) -> tuple[Any, Any]:
        """Per-row expected log-likelihood (one latent draw) and KL divergence."""
        import torch

        mu, logvar = module.encoder(z).chunk(2, dim=-1)
        logvar = logvar.clamp(-12.0, 8.0)
        eps = torch.randn(mu.shape, generator=gen) if gen is not None else torch.randn_like(mu)
        h = mu + eps * torch.exp(0.5 * logvar)
        recon = module.decoder(h)
        log_sigma = module.log_sigma.clamp(-7.0, 3.0)
        loglik = (
            -0.5 * ((z - recon) / torch.exp(log_sigma)) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)
        ).sum(-1)
        kl = 0.5 * (mu**2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)
        return loglik, kl

    def _loss(self, module: Any, z: Any) -> Any:
        loglik, kl = self._terms(module, z)
        return (-loglik + float(self.beta) * kl).mean()

    def elbo(self, X: np.ndarray, n_samples: int = 16, seed: Seed = 0) -> np.ndarray:
        """Evidence lower bound of each row's log-density, in the units of ``X``.

        Parameters
        ----------
        X : ndarray, shape (n, d)
        n_samples : int
            Latent draws averaged per row.
        seed : int, Generator or None
            Seed of the latent draws (fixed by default, so scores are repeatable).

        Returns
        -------
        ndarray, shape (n,)
        """
        import torch

        X = self._rows(X)
        gen = torch.Generator().manual_seed(torch_seed(seed))
        z = torch.from_numpy(self._standardise(X).astype(np.float32))
        total = torch.zeros(len(z), dtype=torch.float64)
        with torch.no_grad():
            for _ in range(max(1, int(n_samples))):
                loglik, kl = self._terms(self.module_, z, gen)
                total += (loglik - kl).double()
        out = total.numpy() / max(1, int(n_samples)) + self._log_jacobian()
        return np.where(self._constant_rows_ok(X), out, -np.inf)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Per-row log-density estimate: the :meth:`elbo` (a lower bound), shape ``(n,)``."""
        return self.elbo(X)

    def sample(self, n: int, seed: Seed = None, noise: bool = True) -> np.ndarray:
        """Draw ``n`` new rows, shape ``(n, d)``.

        Latent points are drawn from the prior and decoded; with ``noise`` (default) the
        decoder's Gaussian noise is added too, so the samples follow the model's density rather
        than its smoother mean.
        """
        import torch

        self._fitted()
        gen = torch.Generator().manual_seed(torch_seed(seed))
        with torch.no_grad():
            h = torch.randn((int(n), self.latent_), generator=gen)
            z = self.module_.decoder(h)
            if noise:
                z = z + torch.randn(z.shape, generator=gen) * torch.exp(
                    self.module_.log_sigma.clamp(-7.0, 3.0)
                )
        return self._unstandardise(z.double().numpy())


class FlowGenerator(_TorchGenerator):
    """Normalizing flow for tabular rows (zuko's NSF or MAF), trained by maximum likelihood.

    Parameters
    ----------
    kind : {"nsf", "maf"}
        Neural spline flow (rational-quadratic splines; flexible, the default) or masked
        autoregressive flow (affine).
    transforms : int
        Number of autoregressive transforms.
    hidden : sequence of int
        Hidden widths of each transform's masked MLP.
    bins : int
        Spline bins (NSF only).
    epochs, batch_size, lr, weight_decay, max_steps : training settings (Adam).
    validation : float
        Share of the rows held out to stop training (0: train on all, stop at ``epochs``).
    patience : int
        Epochs without improvement of the validation loss before stopping.

    Attributes
    ----------
    module_ : zuko.flows.Flow
        The trained flow (on standardised columns).
    mean_, scale_ : ndarray, shape (d,)
        Standardisation (``scale_ == 0`` for constant columns).
    loss_curve_, validation_curve_ : list of float
        Per-epoch negative log-likelihood per row (standardised units).
    """

    def __init__(
        self,
        kind: str = "nsf",
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
        bins: int = 8,
        epochs: int = 500,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        validation: float = 0.1,
        patience: int = 40,
        max_steps: int = 20_000,
    ) -> None:
        super().__init__(epochs, batch_size, lr, weight_decay, validation, patience, max_steps)
        self.kind = kind
        self.transforms = transforms
        self.hidden = hidden
        self.bins = bins

    def _build(self, d: int) -> Any:
        try:
            import zuko
        except ImportError:  # pragma: no cover - depends on the environment
            raise ValidationError(
                "FlowGenerator needs zuko; install the sciml extra: pip install 'scientia[sciml]'"
            ) from None
        hidden = tuple(int(h) for h in self.hidden)
        if self.kind == "nsf":
            return zuko.flows.NSF(
                features=d, transforms=int(self.transforms), bins=int(self.bins), hidden_features=hidden
            )
        if self.kind == "maf":
            return zuko.flows.MAF(features=d, transforms=int(self.transforms), hidden_features=hidden)
        raise ValidationError(f"kind must be 'nsf' or 'maf'; got {self.kind!r}")

    def fit(self, X: np.ndarray, seed: Seed = None, callback: Callback | None = None) -> FlowGenerator:
        if self.kind not in ("nsf", "maf"):
            raise ValidationError(f"kind must be 'nsf' or 'maf'; got {self.kind!r}")
        return super().fit(X, seed, callback)  # type: ignore[no-any-return]

    def _loss(self, module: Any, z: Any) -> Any:
        return -module().log_prob(z).mean()

    def log_prob(self, X: np.ndarray) -> np.ndarray:
        """Exact log-density of each row in the units of ``X``, shape ``(n,)``."""
        import torch

        X = self._rows(X)
        with torch.no_grad():
            lp = self.module_().log_prob(torch.from_numpy(self._standardise(X).astype(np.float32)))
        out = lp.double().numpy() + self._log_jacobian()
        return np.where(self._constant_rows_ok(X), out, -np.inf)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Per-row log-density: the exact :meth:`log_prob`, shape ``(n,)``."""
        return self.log_prob(X)

    def sample(self, n: int, seed: Seed = None) -> np.ndarray:
        """Draw ``n`` new rows, shape ``(n, d)``."""
        import torch

        self._fitted()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(torch_seed(seed))
            z = self.module_().sample((int(n),))
        return self._unstandardise(z.double().numpy())


class ClassConditional:
    """One generator per class: labelled synthetic rows for a classification table.

    Parameters
    ----------
    make : callable
        Returns a fresh unfitted generator, e.g. ``lambda: FlowGenerator(transforms=2)``.
    min_rows : int
        Fewest rows a class needs to get a generator of its own.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted.
    priors_ : ndarray
        Share of each class in the training rows.
    generators_ : dict
        Fitted generator of each class.
    """

    def __init__(self, make: Callable[[], Any], min_rows: int = 5) -> None:
        self.make = make
        self.min_rows = min_rows

    def fit(self, X: np.ndarray, y: np.ndarray, seed: Seed = None) -> ClassConditional:
        """Fit one generator on the rows of each class of ``y``."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValidationError(f"X has {len(X)} rows but y has {len(y)}")
        self.classes_, counts = np.unique(y, return_counts=True)
        small = [(c, k) for c, k in zip(self.classes_, counts, strict=True) if k < self.min_rows]
        if small:
            c, k = small[0]
            name = c.item() if isinstance(c, np.generic) else c
            raise ValidationError(f"class {name!r} has {k} rows; each class needs at least {self.min_rows}")
        self.priors_ = counts / counts.sum()
        seeds = np.random.SeedSequence(int(rng(seed).integers(2**63))).spawn(len(self.classes_))
        self.generators_ = {
            c: self.make().fit(X[y == c], seed=np.random.default_rng(s))
            for c, s in zip(self.classes_, seeds, strict=True)
        }
        return self

    def sample(
        self, n: int, seed: Seed = None, proportions: str | Sequence[float] = "prior"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` labelled rows.

        Parameters
        ----------
        n : int
            Rows in total.
        seed : int, Generator or None
            Random seed.
        proportions : "prior", "balanced" or sequence of float
            Share of each class (in ``classes_`` order): as in the training rows, equal, or given.

        Returns
        -------
        X : ndarray, shape (n, d)
        y : ndarray, shape (n,)
        """
        if not hasattr(self, "generators_"):
            raise ValidationError("this ClassConditional is not fitted yet; call fit(X, y) first")
        if isinstance(proportions, str):
            if proportions not in ("prior", "balanced"):
                raise ValidationError(
                    f"proportions must be 'prior', 'balanced' or numbers; got {proportions!r}"
                )
            p = (
                self.priors_
                if proportions == "prior"
                else np.full(len(self.classes_), 1 / len(self.classes_))
            )
        else:
            p = np.asarray(proportions, dtype=float)
            if p.shape != (len(self.classes_),) or (p < 0).any() or p.sum() <= 0:
                raise ValidationError(
                    f"proportions needs {len(self.classes_)} non-negative numbers; got {proportions!r}"
                )
            p = p / p.sum()
        gen = rng(seed)
        counts = gen.multinomial(int(n), p)
        Xs, ys = [], []
        for c, k in zip(self.classes_, counts, strict=True):
            if k:
                Xs.append(self.generators_[c].sample(int(k), seed=gen))
                ys.append(np.full(int(k), c))
        X = np.concatenate(Xs) if Xs else np.empty((0, 0))
        y = np.concatenate(ys) if ys else np.empty(0, dtype=self.classes_.dtype)
        order = gen.permutation(len(y))
        return X[order], y[order]


generators = Registry("generators")
generators.register("vae", VAEGenerator)
generators.register("flow", FlowGenerator)
