"""A small U-Net (Ronneberger et al. 2015) for images and fields, and tiled, symmetry-averaged inference.

Fully convolutional: any input size works; inputs are mirror-padded to a multiple of
``2 ** depth`` and cropped back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["build_unet", "predict_tiled"]


def build_unet(channels_in: int, channels_out: int, base: int = 32, depth: int = 2) -> Any:
    """A U-Net ``(B, channels_in, H, W) → (B, channels_out, H, W)``.

    Each level has two 3×3 convolutions with LeakyReLU; ``depth`` max-pool halvings, nearest
    upsampling with a 3×3 convolution on the way up, skip connections by concatenation, and a
    final 1×1 convolution. Channel widths double per level from ``base``.
    """
    import torch
    from torch import nn

    def block(a: int, b: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(a, b, 3, padding=1, padding_mode="reflect"),
            nn.LeakyReLU(0.1),
            nn.Conv2d(b, b, 3, padding=1, padding_mode="reflect"),
            nn.LeakyReLU(0.1),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            widths = [int(base) * 2**i for i in range(int(depth) + 1)]
            self.depth = int(depth)
            self.down = nn.ModuleList([block(channels_in, widths[0])])
            self.down.extend(block(widths[i], widths[i + 1]) for i in range(self.depth))
            self.up = nn.ModuleList(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(widths[i + 1], widths[i], 3, padding=1, padding_mode="reflect"),
                )
                for i in reversed(range(self.depth))
            )
            self.merge = nn.ModuleList(block(2 * widths[i], widths[i]) for i in reversed(range(self.depth)))
            self.head = nn.Conv2d(widths[0], channels_out, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            h = x
            for i, layer in enumerate(self.down):
                if i > 0:
                    h = nn.functional.max_pool2d(h, 2)
                h = layer(h)
                skips.append(h)
            for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1]), strict=True):
                h = merge(torch.cat([up(h), skip], dim=1))
            return self.head(h)

    return UNet()


def _pad_to(x: Any, multiple: int) -> tuple[Any, int, int]:
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, h, w


def predict_tiled(
    net: Any, x: np.ndarray, multiple: int, tile: int = 512, margin: int = 32, symmetries: int = 1
) -> np.ndarray:
    """Apply ``net`` to an image ``x`` of shape ``(C, H, W)`` in overlapping tiles.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(1, C, h, w)`` to ``(1, C', h, w)``.
    x : ndarray, shape (C, H, W)
    multiple : int
        Tile sides are padded to a multiple of this (``2 ** depth`` for a U-Net).
    tile, margin : int
        Core tile size and the context added on each side (discarded after prediction).
    symmetries : int
        1 (none), 4 (flips) or 8 (all symmetries of the square): predictions on transformed
        copies, transformed back and averaged.

    Returns
    -------
    ndarray, shape (C', H, W)
    """
    import torch

    ks = {1: [0], 4: [0, 4, 6, 2], 8: list(range(8))}[int(symmetries)]
    _, H, W = x.shape
    out: np.ndarray | None = None
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]
    with torch.no_grad():
        for r0 in range(0, H, tile):
            for c0 in range(0, W, tile):
                r1, c1 = min(r0 + tile, H), min(c0 + tile, W)
                a0, b0 = max(r0 - margin, 0), max(c0 - margin, 0)
                a1, b1 = min(r1 + margin, H), min(c1 + margin, W)
                patch = t[..., a0:a1, b0:b1]
                acc = None
                for k in ks:
                    p = torch.flip(patch, dims=(-2,)) if k >= 4 else patch
                    p = torch.rot90(p, k % 4, dims=(-2, -1))
                    padded, h, w = _pad_to(p, multiple)
                    y = net(padded)[..., :h, :w]
                    y = torch.rot90(y, -(k % 4), dims=(-2, -1))
                    y = torch.flip(y, dims=(-2,)) if k >= 4 else y
                    acc = y if acc is None else acc + y
                assert acc is not None
                res = (acc / len(ks))[0].numpy()
                if out is None:
                    out = np.empty((res.shape[0], H, W), dtype=np.float64)
                out[:, r0:r1, c0:c1] = res[:, r0 - a0 : r0 - a0 + (r1 - r0), c0 - b0 : c0 - b0 + (c1 - c0)]
    assert out is not None
    return out
