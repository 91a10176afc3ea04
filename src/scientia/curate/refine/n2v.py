"""Noise2Void: a blind-spot network trained on the noisy image alone (Krull, Buchholz & Jug, CVPR 2019).

If the noise is independent from pixel to pixel and has zero mean, a network that predicts a
pixel from its *neighbours only* cannot predict the noise there, so trained to reproduce the noisy
image it learns the clean signal. Noise2Void enforces the blind spot by masking: in every training
patch a few pixels (spread over a grid, independently per channel) are replaced by a random
neighbour from a ``(2r+1)²`` window, and the loss is the squared error at those pixels only.

CAREamics (``careamics`` on PyPI) is the reference implementation, built on PyTorch Lightning
with its own configuration system; we need one small network trained on one image in a CPU
budget, with our seeding and progress conventions, so we wrote the ~100 lines here. Training
draws random 8-fold symmetric patches; prediction averages the 8 symmetries (``symmetries=8``).
"""

from __future__ import annotations

import math
from typing import Any

from scientia.curate.refine._train import SelfSupervisedDenoiser

__all__ = ["Noise2Void", "blind_spot_mask"]


def blind_spot_mask(batch: Any, fraction: float, radius: int, gen: Any) -> tuple[Any, Any]:
    """Mask pixels of a batch the Noise2Void way.

    Parameters
    ----------
    batch : torch.Tensor, shape (B, C, H, W)
    fraction : float
        Share of pixels masked: one per cell of a ``s × s`` grid, ``s = round(1/√fraction)``, at a
        random place in its cell, independently for each sample and channel.
    radius : int
        Replacement values come from a random other pixel within ``radius`` (clipped at borders).
    gen : torch.Generator

    Returns
    -------
    masked : torch.Tensor, shape (B, C, H, W)
        The batch with the masked pixels replaced.
    mask : torch.Tensor of bool, shape (B, C, H, W)
        Where pixels were replaced (the loss is taken there).
    """
    import torch

    B, C, H, W = batch.shape
    s = max(1, round(1.0 / math.sqrt(fraction)))
    gh, gw = -(-H // s), -(-W // s)
    ys = (torch.arange(gh) * s).view(1, 1, gh, 1) + torch.randint(0, s, (B, C, gh, gw), generator=gen)
    xs = (torch.arange(gw) * s).view(1, 1, 1, gw) + torch.randint(0, s, (B, C, gh, gw), generator=gen)
    ys, xs = ys.clamp(max=H - 1), xs.clamp(max=W - 1)
    r = int(radius)
    offsets = torch.tensor([(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dy or dx])
    pick = offsets[torch.randint(0, len(offsets), (B, C, gh, gw), generator=gen)]
    ny = (ys + pick[..., 0]).clamp(0, H - 1)
    nx = (xs + pick[..., 1]).clamp(0, W - 1)
    # a clipped neighbour may land on the pixel itself: step to the other side then
    same = (ny == ys) & (nx == xs)
    ny = torch.where(same, (ys + torch.where(ys > 0, -1, 1)), ny)
    flat = batch.reshape(B, C, H * W)
    idx = (ys * W + xs).reshape(B, C, -1)
    values = flat.gather(2, (ny * W + nx).reshape(B, C, -1))
    masked = flat.clone().scatter_(2, idx, values).reshape(B, C, H, W)
    mask = torch.zeros(B, C, H * W, dtype=torch.bool).scatter_(2, idx, True).reshape(B, C, H, W)
    return masked, mask


class Noise2Void(SelfSupervisedDenoiser):
    """Noise2Void blind-spot denoiser: a U-Net trained with masked pixels on the noisy image.

    Parameters
    ----------
    steps : int
        Training steps (mini-batches of patches).
    patch : int
        Side of the square training patches (a multiple of ``2 ** depth``).
    batch_size : int
        Patches per step.
    fraction : float
        Share of pixels masked per patch and channel.
    radius : int
        Neighbourhood radius the replacement values come from.
    lr : float
        Peak Adam learning rate (warm-up, then cosine decay).
    base, depth : int
        U-Net width of the first level and number of down-sampling levels.
    symmetries : {1, 4, 8}
        Test-time averaging over this many symmetries of the square.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained U-Net (on images standardised per channel).
    mean_, std_ : ndarray, shape (C,)
        Per-channel standardisation.
    loss_curve_ : list of float
        Training loss of every step.

    Examples
    --------
    >>> import numpy as np
    >>> from scientia.curate.refine import Noise2Void, add_gaussian_noise, psnr
    >>> yy, xx = np.mgrid[:64, :64] / 64
    >>> clean = 0.5 + 0.3 * np.sin(6 * xx) * np.cos(4 * yy)
    >>> noisy = add_gaussian_noise(clean, 0.1, seed=0)
    >>> denoised = Noise2Void(steps=30, patch=32, base=8).fit_denoise(noisy, seed=0)
    >>> denoised.shape
    (64, 64)
    """

    def __init__(
        self,
        steps: int = 800,
        patch: int = 64,
        batch_size: int = 16,
        fraction: float = 0.02,
        radius: int = 2,
        lr: float = 1e-3,
        base: int = 16,
        depth: int = 2,
        symmetries: int = 8,
    ) -> None:
        super().__init__(steps, patch, batch_size, lr, base, depth, symmetries)
        self.fraction = fraction
        self.radius = radius

    def _batch_loss(self, net: Any, batch: Any, gen: Any) -> Any:
        masked, mask = blind_spot_mask(batch, float(self.fraction), int(self.radius), gen)
        pred = net(masked)
        return ((pred - batch) ** 2)[mask].mean()
