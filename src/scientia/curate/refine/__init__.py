"""Refinement: denoise images and super-resolve fields, without clean targets where possible.

* :class:`Noise2Void` — blind-spot network trained on the noisy image itself (masked pixels);
* :class:`DenoisingAutoencoder` — a convolutional denoising autoencoder trained on the noisy image
  with extra noise added, corrected the Noisier2Noise way;
* :class:`MedianDenoiser`, :class:`GaussianDenoiser` — classical filters whose size is chosen
  from the noisy image by Noise2Self calibration;
* :class:`SuperResolver` — a small CNN that learns 2× super-resolution of fields from pairs made
  by downsampling, against :func:`upsample_cubic`;
* :func:`psnr`, :func:`ssim` — quality measures; :func:`read_image`, :func:`write_image`.

Every denoiser offers ``fit(image, seed, callback)``, ``denoise(image)`` and ``fit_denoise`` and is
registered by name in :data:`denoisers` (``n2v``, ``dae``, ``median``, ``gaussian``).
"""

from scientia.curate.refine.classical import (
    GaussianDenoiser,
    MedianDenoiser,
    add_gaussian_noise,
    downsample,
    estimate_noise,
    upsample_cubic,
)
from scientia.curate.refine.dae import DenoisingAutoencoder
from scientia.curate.refine.io import ImageInfo, read_image, write_image
from scientia.curate.refine.metrics import psnr, ssim
from scientia.curate.refine.n2v import Noise2Void, blind_spot_mask
from scientia.curate.refine.superres import SuperResolver
from scientia.registry import Registry

denoisers = Registry("denoisers")
denoisers.register("n2v", "scientia.curate.refine.n2v:Noise2Void")
denoisers.register("dae", "scientia.curate.refine.dae:DenoisingAutoencoder")
denoisers.register("median", "scientia.curate.refine.classical:MedianDenoiser")
denoisers.register("gaussian", "scientia.curate.refine.classical:GaussianDenoiser")

__all__ = [
    "DenoisingAutoencoder",
    "GaussianDenoiser",
    "ImageInfo",
    "MedianDenoiser",
    "Noise2Void",
    "SuperResolver",
    "add_gaussian_noise",
    "blind_spot_mask",
    "denoisers",
    "downsample",
    "estimate_noise",
    "psnr",
    "read_image",
    "ssim",
    "upsample_cubic",
    "write_image",
]
