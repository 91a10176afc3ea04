"""Shared machinery of the self-supervised denoisers: normalisation, patches, training loop, inference."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from scientia.curate.refine._nets import build_unet, predict_tiled
from scientia.curate.refine.classical import check_image
from scientia.errors import ValidationError
from scientia.seeding import Seed, rng, torch_seed

__all__ = ["Progress", "SelfSupervisedDenoiser"]

Progress = Callable[[int, int, float], None]
"""``callback(step, total_steps, loss)``, called after every training step."""


class SelfSupervisedDenoiser:
    """Base class: a U-Net trained on random patches of the noisy image itself.

    Subclasses implement :meth:`_batch_loss` (what the network sees and is scored on) and may
    override :meth:`_predict` (how the trained network is applied).
    """

    def __init__(
        self,
        steps: int,
        patch: int,
        batch_size: int,
        lr: float,
        base: int,
        depth: int,
        symmetries: int,
    ) -> None:
        self.steps = steps
        self.patch = patch
        self.batch_size = batch_size
        self.lr = lr
        self.base = base
        self.depth = depth
        self.symmetries = symmetries

    # -- hooks -----------------------------------------------------------------------------------
    def _prepare(self, x: np.ndarray) -> None:
        """Called by fit with the normalised image ``(C, H, W)`` before training."""

    def _batch_loss(self, net: Any, batch: Any, gen: Any) -> Any:
        raise NotImplementedError

    def _predict(self, x: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        return predict_tiled(self.net_, x, 2 ** int(self.depth), symmetries=int(self.symmetries))

    # -- shared ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        if int(self.symmetries) not in (1, 4, 8):
            raise ValidationError(f"symmetries must be 1, 4 or 8; got {self.symmetries}")
        if int(self.patch) < 2 ** (int(self.depth) + 2) or int(self.patch) % 2 ** int(self.depth):
            raise ValidationError(
                f"patch must be a multiple of {2 ** int(self.depth)} and at least {2 ** (int(self.depth) + 2)}; got {self.patch}"
            )
        if int(self.steps) < 1 or int(self.batch_size) < 1:
            raise ValidationError(
                f"steps and batch_size must be positive; got {self.steps}, {self.batch_size}"
            )

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        x = check_image(image)
        if x.ndim == 2:
            x = x[..., None]
        if hasattr(self, "n_channels_") and x.shape[-1] != self.n_channels_:
            raise ValidationError(
                f"the image has {x.shape[-1]} channels; the denoiser was fitted on {self.n_channels_}"
            )
        return np.moveaxis((x - self.mean_) / self.std_, -1, 0)

    def fit(self, image: np.ndarray, seed: Seed = None, callback: Progress | None = None) -> Any:
        """Train on the noisy ``image`` itself (no clean target).

        Parameters
        ----------
        image : ndarray, shape (H, W) or (H, W, C)
            The noisy image.
        seed : int, Generator or None
            Random seed (initialisation, patches, masks).
        callback : callable, optional
            ``callback(step, total_steps, loss)`` after every step (for a progress bar).

        Returns
        -------
        self
        """
        import torch

        self._check_settings()
        x = check_image(image)
        gen = rng(seed)
        self.ndim_ = x.ndim
        chans = x if x.ndim == 3 else x[..., None]
        self.n_channels_ = chans.shape[-1]
        self.mean_ = chans.mean(axis=(0, 1))
        std = chans.std(axis=(0, 1))
        self.std_ = np.where(std > 0, std, 1.0)
        arr = self._normalise(x)
        self._prepare(arr)
        P = int(self.patch)
        pad_h, pad_w = max(0, P - arr.shape[1]), max(0, P - arr.shape[2])
        if pad_h or pad_w:
            arr = np.pad(arr, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")
        data = np.ascontiguousarray(arr, dtype=np.float32)
        C, H, W = data.shape
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed(gen))
            net = build_unet(C, C, base=int(self.base), depth=int(self.depth))
        tgen = torch.Generator().manual_seed(torch_seed(gen))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.lr))
        total = int(self.steps)
        warm = max(1, total // 20)

        def schedule(step: int) -> float:  # linear warm-up, then cosine decay to 2 % of lr
            if step < warm:
                return (step + 1) / warm
            return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        self.loss_curve_: list[float] = []
        offs = np.arange(P)
        net.train()
        for step in range(total):
            r = gen.integers(0, H - P + 1, size=int(self.batch_size))
            c = gen.integers(0, W - P + 1, size=int(self.batch_size))
            patches = data[:, (r[:, None] + offs)[:, :, None], (c[:, None] + offs)[:, None, :]]
            batch = torch.from_numpy(np.ascontiguousarray(np.moveaxis(patches, 0, 1)))
            k = int(gen.integers(8))
            batch = torch.rot90(torch.flip(batch, dims=(-2,)) if k >= 4 else batch, k % 4, dims=(-2, -1))
            loss = self._batch_loss(net, batch, tgen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            self.loss_curve_.append(float(loss.item()))
            if callback is not None:
                callback(step + 1, total, self.loss_curve_[-1])
        net.eval()
        self.net_ = net
        return self

    def denoise(self, image: np.ndarray, seed: Seed = 0) -> np.ndarray:
        """The denoised image, same shape as ``image`` (any size; the network is convolutional)."""
        if not hasattr(self, "net_"):
            raise ValidationError(f"this {type(self).__name__} is not fitted yet; call fit(image) first")
        x = self._normalise(image)
        y = np.moveaxis(self._predict(x, rng(seed)), 0, -1) * self.std_ + self.mean_
        return y[..., 0] if np.ndim(image) == 2 else y

    def fit_denoise(
        self, image: np.ndarray, seed: Seed = None, callback: Progress | None = None
    ) -> np.ndarray:
        """:meth:`fit` on ``image`` and return its :meth:`denoise`-d version."""
        return self.fit(image, seed, callback).denoise(image)
