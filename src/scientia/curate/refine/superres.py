"""Super-resolution of 2-D fields: a small CNN learns what cubic interpolation misses.

Training pairs are made from high-resolution fields alone: each field is block-averaged by
``factor`` (:func:`~scientia.curate.refine.classical.downsample`, as a sensor integrates over its
cells), interpolated back with cubic splines (:func:`~scientia.curate.refine.classical.upsample_cubic`),
and the network — a residual CNN in the manner of VDSR (Kim, Lee & Lee, CVPR 2016) — learns the
correction from the interpolated field to the true one. The baseline to beat is the
interpolation itself.

A :class:`~scientia.curate.augment.SymmetryAugmenter` can be given to train on symmetric copies of
the fields, e.g. rotations and flips for a Darcy solution on a square, or periodic shifts along
space (not time) for a Burgers space–time field.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from scientia.curate.refine._train import Progress
from scientia.curate.refine.classical import downsample, upsample_cubic
from scientia.errors import ValidationError
from scientia.seeding import Seed, rng, torch_seed

__all__ = ["FieldTransform", "SuperResolver"]


class FieldTransform(Protocol):
    """A random symmetry of a field, such as :class:`~scientia.curate.augment.SymmetryAugmenter`."""

    def transform(self, x: np.ndarray, seed: Seed = None) -> np.ndarray: ...


def _build(base: int, layers: int) -> Any:
    from torch import nn

    mods: list[nn.Module] = [nn.Conv2d(1, base, 3, padding=1, padding_mode="replicate"), nn.LeakyReLU(0.1)]
    for _ in range(int(layers) - 2):
        mods += [nn.Conv2d(base, base, 3, padding=1, padding_mode="replicate"), nn.LeakyReLU(0.1)]
    mods.append(nn.Conv2d(base, 1, 3, padding=1, padding_mode="replicate"))
    return nn.Sequential(*mods)


class SuperResolver:
    """Learned ``factor``× super-resolution of single-channel 2-D fields.

    Parameters
    ----------
    factor : int
        Upsampling factor (the fields' sides must be multiples of it for training).
    base : int
        Convolution channels.
    layers : int
        Convolution layers (3×3), at least 3.
    steps : int
        Training steps (mini-batches).
    batch_size : int
        Fields per step.
    lr : float
        Peak Adam learning rate (cosine decay).
    augment : SymmetryAugmenter or FieldTransform, optional
        Symmetries the fields are known to have; each training field is transformed at random
        (any object with ``transform(field, gen)`` returning a field of the same shape).

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained correction network (on standardised fields).
    mean_, std_ : float
        Standardisation of the training fields.
    loss_curve_ : list of float
        Training loss of every step.

    Examples
    --------
    >>> import numpy as np
    >>> from scientia.curate.refine import SuperResolver, downsample
    >>> gen = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:16, :16] / 16
    >>> fields = np.stack([np.sin(2 * np.pi * (a * xx + b * yy)) for a, b in gen.uniform(0, 1.5, (64, 2))])
    >>> sr = SuperResolver(steps=20).fit(fields, seed=0)
    >>> sr.predict(downsample(fields[:3])).shape
    (3, 16, 16)
    """

    def __init__(
        self,
        factor: int = 2,
        base: int = 32,
        layers: int = 6,
        steps: int = 1500,
        batch_size: int = 32,
        lr: float = 1e-3,
        augment: FieldTransform | None = None,
    ) -> None:
        self.factor = factor
        self.base = base
        self.layers = layers
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.augment = augment

    def _fields(self, fields: np.ndarray, name: str) -> np.ndarray:
        X = np.asarray(fields, dtype=np.float64)
        if X.ndim == 2:
            X = X[None]
        if X.ndim != 3 or min(X.shape[1:]) < 2:
            raise ValidationError(f"{name} must have shape (n, H, W) or (H, W); got {np.shape(fields)}")
        if not np.isfinite(X).all():
            raise ValidationError(f"{name} hold NaN or infinite values")
        return X

    def fit(self, fields: np.ndarray, seed: Seed = None, callback: Progress | None = None) -> SuperResolver:
        """Learn super-resolution from high-resolution ``fields`` of shape ``(n, H, W)``."""
        import math

        import torch

        f = int(self.factor)
        if f < 2 or int(self.layers) < 3:
            raise ValidationError(f"factor must be >= 2 and layers >= 3; got {self.factor}, {self.layers}")
        hr = self._fields(fields, "fields")
        if hr.shape[1] % f or hr.shape[2] % f:
            raise ValidationError(f"the field sides {hr.shape[1:]} must be multiples of factor={f}")
        gen = rng(seed)
        self.mean_, self.std_ = float(hr.mean()), float(hr.std()) or 1.0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed(gen))
            net = _build(int(self.base), int(self.layers))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.lr))
        total = int(self.steps)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * s / max(1, total)))
        )
        self.loss_curve_: list[float] = []
        bs = max(1, min(int(self.batch_size), len(hr)))
        net.train()
        for step in range(total):
            batch = hr[gen.integers(0, len(hr), size=bs)]
            if self.augment is not None:
                batch = np.stack([self.augment.transform(b, gen) for b in batch])
            target = (batch - self.mean_) / self.std_
            coarse = upsample_cubic(downsample(target, f), f)
            xt = torch.from_numpy(coarse[:, None].astype(np.float32))
            yt = torch.from_numpy(target[:, None].astype(np.float32))
            loss = ((xt + net(xt) - yt) ** 2).mean()
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

    def predict(self, coarse: np.ndarray) -> np.ndarray:
        """Super-resolve low-resolution fields ``(n, h, w)`` (or one ``(h, w)``) to ``factor`` × size."""
        import torch

        if not hasattr(self, "net_"):
            raise ValidationError("this SuperResolver is not fitted yet; call fit(fields) first")
        lr = self._fields(coarse, "coarse fields")
        up = upsample_cubic((lr - self.mean_) / self.std_, int(self.factor))
        with torch.no_grad():
            xt = torch.from_numpy(up[:, None].astype(np.float32))
            out = (xt + self.net_(xt))[:, 0].double().numpy()
        out = out * self.std_ + self.mean_
        return out[0] if np.ndim(coarse) == 2 else out
