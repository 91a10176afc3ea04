"""Reading and writing images and fields for refinement: ``.npy`` arrays and common image files.

Images are returned as float64 arrays of shape ``(H, W)`` or ``(H, W, C)``: 8-bit files are scaled
to [0, 1] by 255, 16-bit files by 65,535; ``.npy`` arrays keep their values (a field has units).
Writing goes back the same way, clipping to [0, 1] for integer image formats. Pillow (already a
dependency of Matplotlib) reads and writes the image files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scientia.errors import ValidationError

__all__ = ["IMAGE_SUFFIXES", "ImageInfo", "image_format", "read_image", "write_image"]

IMAGE_SUFFIXES = (".npy", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")


@dataclass(frozen=True)
class ImageInfo:
    """Where an image came from: its file format and the integer scale its values were divided by."""

    suffix: str
    scale: float  # 255, 65535, or 1 for arrays and float images
    bits: int  # 8 or 16 for integer image files, 0 otherwise


def image_format(path: str | Path) -> str:
    """The lower-case suffix of ``path`` if it is a supported image format, else a ValidationError."""
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValidationError(
            f"{path}: unsupported image format {suffix or '(none)'!r}; use one of {', '.join(IMAGE_SUFFIXES)}"
        )
    return suffix


def read_image(path: str | Path) -> tuple[np.ndarray, ImageInfo]:
    """Read an image or a 2-D field.

    Parameters
    ----------
    path : str or Path
        ``.npy`` (a 2-D array, or 3-D channels-last with at most 4 channels) or an image file
        (PNG, TIFF, JPEG, BMP; palette and alpha images are converted to grey or RGB).

    Returns
    -------
    image : ndarray of float64, shape (H, W) or (H, W, C)
    info : ImageInfo
        What :func:`write_image` needs to write a result in the same form.

    Raises
    ------
    ValidationError
        Unknown format, an unreadable file, a wrong shape or non-finite values.
    FileNotFoundError
        If ``path`` does not exist.
    """
    suffix = image_format(path)
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    if suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise ValidationError(f"{path}: not a NumPy array file ({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise ValidationError(f"{path}: the array must hold numbers; got dtype {arr.dtype}")
        info = ImageInfo(suffix, 1.0, 0)
        image = arr.astype(np.float64)
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(p) as opened:
                opened.load()
                mode = opened.mode
                im: Image.Image = opened
                if mode in ("P", "PA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV"):
                    im = opened.convert("RGB")
                elif mode in ("LA", "1"):
                    im = opened.convert("L")
                arr = np.asarray(im)
        except (UnidentifiedImageError, OSError) as exc:
            raise ValidationError(f"{path}: cannot read the image ({exc})") from None
        if arr.dtype == np.uint8:
            info = ImageInfo(suffix, 255.0, 8)
        elif arr.dtype in (np.uint16, np.int32) and mode.startswith("I"):
            info = ImageInfo(suffix, 65535.0, 16)
        else:
            info = ImageInfo(suffix, 1.0, 0)
        image = arr.astype(np.float64) / info.scale
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] > 4):
        raise ValidationError(
            f"{path}: expected a 2-D image (H, W) or (H, W, C) with at most 4 channels; got shape {image.shape}"
        )
    if min(image.shape[:2]) < 8:
        raise ValidationError(
            f"{path}: the image is too small ({image.shape[0]}×{image.shape[1]}; at least 8×8)"
        )
    if not np.isfinite(image).all():
        raise ValidationError(f"{path}: the image holds NaN or infinite values")
    return image, info


def write_image(path: str | Path, image: np.ndarray, like: ImageInfo | None = None) -> None:
    """Write ``image`` to ``path`` (format from the suffix).

    ``.npy`` gets the float values as they are. An image file gets them clipped to [0, 1] and
    scaled to 8 bits, or to 16 bits when ``like`` says the source was a 16-bit image and the
    format can hold it (PNG, TIFF).
    """
    suffix = image_format(path)
    image = np.asarray(image, dtype=np.float64)
    if suffix == ".npy":
        np.save(Path(path), image)
        return
    from PIL import Image

    sixteen = like is not None and like.bits == 16 and image.ndim == 2 and suffix in (".png", ".tif", ".tiff")
    top = 65535.0 if sixteen else 255.0
    data = np.round(np.clip(image, 0.0, 1.0) * top).astype(np.uint16 if sixteen else np.uint8)
    if suffix in (".jpg", ".jpeg") and data.ndim == 3 and data.shape[-1] == 4:
        data = data[..., :3]
    Image.fromarray(data).save(Path(path))
