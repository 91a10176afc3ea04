"""Image-quality measures: peak signal-to-noise ratio and structural similarity.

SSIM follows Wang, Bovik, Sheikh & Simoncelli (2004), IEEE TIP 13(4):600–612, with their Gaussian
window (σ = 1.5) and constants (K1 = 0.01, K2 = 0.03), population (not sample) variances, and the
mean over the image after cropping the half-window border — the settings of scikit-image's
``structural_similarity(..., gaussian_weights=True, use_sample_covariance=False)``, against which
the tests check it. It is a dozen lines over ``scipy.ndimage``; writing it here keeps
scikit-image an optional dependency.
"""

from __future__ import annotations

import numpy as np

from scientia.errors import ValidationError

__all__ = ["psnr", "ssim"]


def _pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(estimate, dtype=np.float64)
    if a.shape != b.shape:
        raise ValidationError(f"the images differ in shape: {a.shape} vs {b.shape}")
    return a, b


def psnr(reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range² / MSE)``.

    Parameters
    ----------
    reference, estimate : ndarray, same shape
        The clean image and the one to score.
    data_range : float
        Difference between the largest and smallest possible value (1 for images in [0, 1]).

    Returns
    -------
    float
        ``inf`` if the images are equal.
    """
    a, b = _pair(reference, estimate)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(data_range**2 / mse))


def ssim(
    reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0, channel_axis: int | None = None
) -> float:
    """Mean structural similarity (Wang et al. 2004), 1 for identical images.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W) or with a channel axis
        The clean image and the one to score.
    data_range : float
        Difference between the largest and smallest possible value.
    channel_axis : int, optional
        Axis of colour channels (SSIM is averaged over them); default: the last axis of a 3-D
        array with at most 4 entries, else none.

    Returns
    -------
    float
    """
    from scipy import ndimage

    a, b = _pair(reference, estimate)
    if channel_axis is None and a.ndim == 3 and a.shape[-1] <= 4:
        channel_axis = -1
    if channel_axis is not None:
        return float(
            np.mean(
                [
                    ssim(np.take(a, i, channel_axis), np.take(b, i, channel_axis), data_range)
                    for i in range(a.shape[channel_axis])
                ]
            )
        )
    if a.ndim != 2 or min(a.shape) < 7:
        raise ValidationError(f"SSIM needs 2-D images of at least 7×7; got shape {a.shape}")
    sigma, truncate = 1.5, 3.5
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(x, sigma=sigma, truncate=truncate, mode="reflect")

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    pad = int(truncate * sigma + 0.5)
    return float(s[pad:-pad, pad:-pad].mean())
