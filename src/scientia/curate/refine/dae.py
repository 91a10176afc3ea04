"""A denoising autoencoder trained without clean images, by recorrupting the noisy image.

A classic denoising autoencoder (Vincent et al. 2008) learns to undo noise that we add to clean
data. Here there is no clean data, only the noisy image ``y = x + n`` with white Gaussian noise
of level σ. Two ways to still train one, both drawing fresh noise ``z ~ N(0, σ²)`` each step:

* ``scheme="r2r"`` (default) — Recorrupted-to-Recorrupted (Pang et al., CVPR 2021): the network
  sees ``y + α z`` and is scored against ``y - z / α``. The two copies have independent noise,
  so the expected loss equals the loss against the clean image (plus a constant): it is
  supervised training in disguise, for noise of level ``σ √(1 + α²)``. Prediction averages
  ``f(y + α z)`` over ``draws`` fresh ``z`` (one symmetry of the square per draw).
* ``scheme="noisier2noise"`` (Moran et al., CVPR 2020): the network maps ``y + α z`` to ``y``;
  then ``E[x | ·] = ((1 + α²) f - (y + α z)) / α²``. Also unbiased, but the correction
  multiplies the network's error by ``(1 + α²) / α²``, which makes it the weaker of the two
  here (see ``benchmarks/denoise.py``).

The noise level ``sigma`` (standard deviation in the image's units) is estimated from the image
(:func:`~scientia.curate.refine.classical.estimate_noise`) unless given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scientia.curate.refine._nets import predict_tiled
from scientia.curate.refine._train import SelfSupervisedDenoiser
from scientia.errors import ValidationError

__all__ = ["DenoisingAutoencoder"]


class DenoisingAutoencoder(SelfSupervisedDenoiser):
    """Convolutional denoising autoencoder (U-Net) trained on the noisy image with extra noise.

    Parameters
    ----------
    sigma : float, optional
        Noise standard deviation of the image, in its units; estimated if not given.
    alpha : float
        Added noise as a multiple of ``sigma``.
    scheme : {"r2r", "noisier2noise"}
        How the training pairs are made (see the module docstring).
    draws : int
        Noise draws averaged at prediction, each under one symmetry of the square.
    steps, patch, batch_size, lr, base, depth :
        As for :class:`~scientia.curate.refine.Noise2Void`.

    Attributes
    ----------
    sigma_ : ndarray, shape (C,)
        Noise level used, per channel, in the image's units.
    net_, mean_, std_, loss_curve_ :
        As for :class:`~scientia.curate.refine.Noise2Void`.
    """

    def __init__(
        self,
        sigma: float | None = None,
        alpha: float = 0.5,
        scheme: str = "r2r",
        draws: int = 8,
        steps: int = 400,
        patch: int = 64,
        batch_size: int = 16,
        lr: float = 1e-3,
        base: int = 16,
        depth: int = 2,
    ) -> None:
        super().__init__(steps, patch, batch_size, lr, base, depth, symmetries=1)
        self.sigma = sigma
        self.alpha = alpha
        self.scheme = scheme
        self.draws = draws

    def _prepare(self, x: np.ndarray) -> None:
        from scientia.curate.refine.classical import estimate_noise

        if float(self.alpha) <= 0:
            raise ValidationError(f"alpha must be positive; got {self.alpha}")
        if self.scheme not in ("r2r", "noisier2noise"):
            raise ValidationError(f"scheme must be 'r2r' or 'noisier2noise'; got {self.scheme!r}")
        if self.sigma is None:
            level = np.array([estimate_noise(c) for c in x])  # x is already standardised
        else:
            if float(self.sigma) < 0:
                raise ValidationError(f"sigma must be non-negative; got {self.sigma}")
            level = float(self.sigma) / self.std_
        self._level = np.broadcast_to(np.asarray(level, dtype=np.float64), (x.shape[0],)).copy()
        self.sigma_ = self._level * self.std_

    def _batch_loss(self, net: Any, batch: Any, gen: Any) -> Any:
        import torch

        alpha = float(self.alpha)
        level = torch.from_numpy(self._level.astype(np.float32)).view(1, -1, 1, 1)
        z = level * torch.randn(batch.shape, generator=gen)
        target = batch - z / alpha if self.scheme == "r2r" else batch
        return ((net(batch + alpha * z) - target) ** 2).mean()

    def _predict(self, x: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        multiple = 2 ** int(self.depth)
        a2 = float(self.alpha) ** 2
        level = (float(self.alpha) * self._level)[:, None, None]
        total = np.zeros_like(x)
        n = max(1, int(self.draws))
        for i in range(n):
            k = i % 8
            z = x + level * gen.standard_normal(x.shape)
            zk = np.rot90(np.flip(z, axis=1) if k >= 4 else z, k % 4, axes=(1, 2))
            fk = predict_tiled(self.net_, np.ascontiguousarray(zk), multiple)
            f = np.rot90(fk, -(k % 4), axes=(1, 2))
            f = np.flip(f, axis=1) if k >= 4 else f
            total += f if self.scheme == "r2r" else ((1 + a2) * f - z) / a2
        return total / n
