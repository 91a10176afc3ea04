"""Refinement: metrics, classical filters with Noise2Self calibration, blind-spot masking, the
self-supervised denoisers, super-resolution and image files."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from scientia.curate.refine import (
    DenoisingAutoencoder,
    GaussianDenoiser,
    MedianDenoiser,
    Noise2Void,
    SuperResolver,
    add_gaussian_noise,
    blind_spot_mask,
    denoisers,
    downsample,
    estimate_noise,
    psnr,
    read_image,
    ssim,
    upsample_cubic,
    write_image,
)
from scientia.errors import ValidationError

TINY = {"steps": 120, "patch": 32, "batch_size": 8, "base": 8, "depth": 2}


def _pattern(n: int = 64, colour: bool = False) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n] / n
    img = (
        0.5
        + 0.3 * np.sin(6 * xx + 2 * yy) * np.cos(5 * yy)
        + 0.15 * (((yy - 0.5) ** 2 + (xx - 0.4) ** 2) < 0.04)
    )
    if colour:
        img = np.stack([img, img**2, 1 - img], axis=-1)
    return img


# -- metrics -----------------------------------------------------------------------------------
def test_psnr_of_known_error():
    # an error of 0.1 everywhere is 20 dB at data range 1 and 40 dB at data range 10; equal is inf
    a = np.zeros((8, 8))
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    assert psnr(a, a + 0.1, data_range=10) == pytest.approx(40.0)
    assert psnr(a, a) == float("inf")
    with pytest.raises(ValidationError, match="shape"):
        psnr(a, np.zeros((8, 9)))


def test_ssim_identity_and_noise():
    # identical images score 1; more noise scores lower
    img = _pattern()
    assert ssim(img, img) == pytest.approx(1.0)
    assert ssim(img, add_gaussian_noise(img, 0.05, 0)) > ssim(img, add_gaussian_noise(img, 0.2, 0))


@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="needs scikit-image")
@pytest.mark.parametrize("colour", [False, True])
def test_ssim_matches_scikit_image(colour):
    # our SSIM equals scikit-image's with Gaussian weights and population statistics
    from skimage.metrics import structural_similarity

    a = _pattern(40, colour)
    b = add_gaussian_noise(a, 0.1, 1)
    ref = structural_similarity(
        a,
        b,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        channel_axis=-1 if colour else None,
    )
    assert ssim(a, b) == pytest.approx(ref, abs=1e-10)


# -- classical ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0.02, 0.1, 0.3])
def test_estimate_noise_recovers_sigma(sigma):
    # the Haar/MAD estimate is within 10 % of the true noise level on a smooth image
    noisy = add_gaussian_noise(_pattern(256), sigma, seed=2)
    assert estimate_noise(noisy) == pytest.approx(sigma, rel=0.1)


def test_add_gaussian_noise_reproducible():
    # the same seed gives the same noise
    img = _pattern()
    assert np.array_equal(add_gaussian_noise(img, 0.1, 3), add_gaussian_noise(img, 0.1, 3))


@pytest.mark.parametrize("cls", [MedianDenoiser, GaussianDenoiser])
def test_blind_filters_ignore_the_centre_pixel(cls):
    # the calibration filter is J-invariant: changing a pixel does not change its own output
    x = add_gaussian_noise(_pattern(32), 0.1, 0)
    f = cls()
    before = f._apply_blind(x, f.sizes[1])
    x2 = x.copy()
    x2[10, 12] += 5.0
    after = f._apply_blind(x2, f.sizes[1])
    assert after[10, 12] == pytest.approx(before[10, 12])
    x3 = x.copy()
    x3[9:12, 11:14] += 5.0  # ...while its neighbours do change it
    x3[10, 12] = x[10, 12]
    assert f._apply_blind(x3, f.sizes[1])[10, 12] != pytest.approx(before[10, 12])


@pytest.mark.parametrize("cls", [MedianDenoiser, GaussianDenoiser])
def test_calibration_picks_larger_filters_for_more_noise(cls):
    # Noise2Self calibration chooses a wider filter at higher noise, and the result beats the noisy image
    img = _pattern(96)
    low = cls().fit(add_gaussian_noise(img, 0.03, 0))
    high_noisy = add_gaussian_noise(img, 0.3, 0)
    high = cls().fit(high_noisy)
    assert high.size_ > low.size_
    assert psnr(img, high.denoise(high_noisy)) > psnr(img, high_noisy) + 5
    assert set(high.calibration_) == set(high.sizes)
    assert cls(3).fit(high_noisy).size_ == 3


def test_colour_filters_work_per_channel():
    # on an RGB image the median filter keeps the shape and does not mix channels
    img = _pattern(32, colour=True)
    out = MedianDenoiser(3).fit_denoise(img)
    assert out.shape == img.shape
    assert np.allclose(out[..., 1], MedianDenoiser(3).fit_denoise(img[..., 1]))


def test_downsample_and_cubic_upsample():
    # block means are exact; cubic upsampling keeps constants and nearly inverts block means of smooth fields
    x = np.arange(16.0).reshape(4, 4)
    assert np.array_equal(downsample(x), [[2.5, 4.5], [10.5, 12.5]])
    assert np.allclose(upsample_cubic(np.full((3, 5, 5), 2.0)), 2.0, atol=1e-3)
    yy, xx = np.mgrid[:32, :32] / 32
    smooth = np.sin(2 * np.pi * xx) * np.cos(2 * np.pi * yy)
    up = upsample_cubic(downsample(smooth))
    assert up.shape == (32, 32) and np.abs(up - smooth)[2:-2, 2:-2].max() < 0.03


# -- blind-spot masking ------------------------------------------------------------------------
def test_blind_spot_mask_replaces_a_share_of_pixels_with_neighbours():
    # about `fraction` of the pixels per channel are masked, each replaced by a value from its 5×5
    # neighbourhood (not itself); the rest are unchanged
    import torch

    batch = torch.arange(2 * 3 * 40 * 40, dtype=torch.float32).reshape(2, 3, 40, 40)
    masked, mask = blind_spot_mask(batch, fraction=0.04, radius=2, gen=torch.Generator().manual_seed(0))
    share = mask.float().mean(dim=(2, 3))
    assert torch.allclose(share, torch.full_like(share, 0.04), atol=0.005)
    assert torch.equal(masked[~mask], batch[~mask])
    assert (masked[mask] != batch[mask]).all()
    b, c, i, j = (t[0].item() for t in torch.nonzero(mask, as_tuple=True))
    window = batch[b, c, max(0, i - 2) : i + 3, max(0, j - 2) : j + 3]
    assert (window == masked[b, c, i, j]).any()
    assert not torch.equal(mask[:, 0], mask[:, 1])  # channels are masked independently


# -- self-supervised denoisers -----------------------------------------------------------------
def test_n2v_denoises_without_clean_data():
    # trained on the noisy image alone, Noise2Void clearly improves on it
    clean = _pattern()
    noisy = add_gaussian_noise(clean, 0.1, seed=0)
    out = Noise2Void(**TINY, symmetries=4).fit_denoise(noisy, seed=0)
    assert out.shape == clean.shape
    assert psnr(clean, out) > psnr(clean, noisy) + 6.0


def test_dae_denoises_without_clean_data():
    # the recorrupted autoencoder improves on the noisy image and estimates the noise level
    clean = _pattern()
    noisy = add_gaussian_noise(clean, 0.1, seed=1)
    model = DenoisingAutoencoder(**TINY, draws=4).fit(noisy, seed=0)
    assert model.sigma_[0] == pytest.approx(0.1, rel=0.2)
    assert psnr(clean, model.denoise(noisy)) > psnr(clean, noisy) + 6.0
    given = DenoisingAutoencoder(sigma=0.1, **{**TINY, "steps": 2}, scheme="noisier2noise").fit(noisy, seed=0)
    assert given.sigma_[0] == pytest.approx(0.1)


def test_self_supervised_reproducible_and_colour():
    # the same seed gives the same result; colour images keep their channels
    noisy = add_gaussian_noise(_pattern(40, colour=True), 0.1, seed=2)
    settings = {**TINY, "steps": 5, "symmetries": 1}
    a = Noise2Void(**settings).fit_denoise(noisy, seed=7)
    b = Noise2Void(**settings).fit_denoise(noisy, seed=7)
    assert a.shape == noisy.shape and np.array_equal(a, b)
    calls = []
    Noise2Void(**settings).fit(noisy, seed=0, callback=lambda s, t, loss: calls.append((s, t)))
    assert calls[-1] == (5, 5) and len(calls) == 5


def test_images_smaller_than_the_patch_are_padded():
    # a 20×20 image trains with 32×32 patches and comes back 20×20
    noisy = add_gaussian_noise(_pattern(20), 0.1, 0)
    assert Noise2Void(**{**TINY, "steps": 3}).fit_denoise(noisy, seed=0).shape == (20, 20)


def test_tiled_prediction_matches_whole_image():
    # tiles with enough margin give the same prediction as the whole image at once
    import torch

    from scientia.curate.refine._nets import build_unet, predict_tiled

    torch.manual_seed(0)
    net = build_unet(1, 1, base=4, depth=2).eval()
    x = np.random.default_rng(0).normal(size=(1, 100, 92))
    whole = predict_tiled(net, x, 4, tile=512, margin=0)
    tiled = predict_tiled(net, x, 4, tile=32, margin=48)
    assert np.abs(whole - tiled).max() < 1e-4


def test_denoiser_errors():
    # bad settings, use before fit, wrong channels, a 1-D image
    with pytest.raises(ValidationError, match="symmetries"):
        Noise2Void(symmetries=3).fit(np.zeros((16, 16)))
    with pytest.raises(ValidationError, match="patch"):
        Noise2Void(patch=30).fit(np.zeros((16, 16)))
    with pytest.raises(ValidationError, match="scheme"):
        DenoisingAutoencoder(scheme="n2n").fit(np.zeros((16, 16)))
    with pytest.raises(ValidationError, match="not fitted"):
        Noise2Void().denoise(np.zeros((16, 16)))
    with pytest.raises(ValidationError, match="not fitted"):
        MedianDenoiser().denoise(np.zeros((16, 16)))
    model = Noise2Void(**{**TINY, "steps": 1}).fit(np.random.default_rng(0).random((16, 16)), seed=0)
    with pytest.raises(ValidationError, match="channels"):
        model.denoise(np.zeros((16, 16, 3)))
    with pytest.raises(ValidationError, match="shape"):
        MedianDenoiser().fit(np.zeros(30))
    assert denoisers.names() == ["dae", "gaussian", "median", "n2v"]


# -- super-resolution --------------------------------------------------------------------------
def test_superresolver_beats_cubic_interpolation():
    # trained on downsampled pairs of sharp-edged fields, the CNN beats cubic interpolation on new fields
    gen = np.random.default_rng(0)
    yy, xx = np.mgrid[:16, :16] / 16

    def fields(n: int) -> np.ndarray:
        c = gen.uniform(0.2, 0.8, size=(n, 2, 1, 1))
        r = gen.uniform(0.15, 0.35, size=(n, 1, 1))
        return (np.hypot(yy - c[:, 0], xx - c[:, 1]) < r).astype(float) + 0.3 * np.sin(4 * xx)

    train, test = fields(300), fields(60)
    sr = SuperResolver(steps=250, base=16, layers=5, lr=2e-3).fit(train, seed=0)
    coarse = downsample(test)
    assert sr.predict(coarse).shape == test.shape
    assert psnr(test, sr.predict(coarse), 1.3) > psnr(test, upsample_cubic(coarse), 1.3) + 3.0
    assert sr.predict(coarse[0]).shape == (16, 16)


def test_superresolver_errors():
    # sides not divisible by the factor, non-finite fields, use before fit
    with pytest.raises(ValidationError, match="multiples"):
        SuperResolver(steps=1).fit(np.zeros((4, 15, 16)))
    with pytest.raises(ValidationError, match="NaN"):
        SuperResolver(steps=1).fit(np.full((4, 16, 16), np.nan))
    with pytest.raises(ValidationError, match="not fitted"):
        SuperResolver().predict(np.zeros((8, 8)))


# -- files -------------------------------------------------------------------------------------
def test_image_files_round_trip(tmp_path):
    # 8-bit PNG, 16-bit PNG and .npy come back as written (image files in [0, 1])
    gen = np.random.default_rng(0)
    grey = gen.integers(0, 256, (20, 24)) / 255.0
    write_image(tmp_path / "g.png", grey)
    back, info = read_image(tmp_path / "g.png")
    assert info.bits == 8 and np.array_equal(back, grey)
    rgb = gen.integers(0, 256, (20, 24, 3)) / 255.0
    write_image(tmp_path / "c.png", rgb)
    assert np.array_equal(read_image(tmp_path / "c.png")[0], rgb)
    field = gen.normal(size=(12, 10))
    write_image(tmp_path / "f.npy", field)
    assert np.array_equal(read_image(tmp_path / "f.npy")[0], field)
    from PIL import Image

    Image.fromarray((grey * 65535).astype(np.uint16)).save(tmp_path / "d.png")
    deep, info16 = read_image(tmp_path / "d.png")
    assert info16.bits == 16 and np.allclose(deep, grey, atol=1e-4)
    write_image(tmp_path / "d2.png", deep, like=info16)
    assert np.allclose(read_image(tmp_path / "d2.png")[0], deep, atol=1e-5)


def test_image_file_errors(tmp_path):
    # unknown suffix, missing file, unreadable file, wrong shape and tiny images are refused
    with pytest.raises(ValidationError, match="unsupported image format"):
        read_image(tmp_path / "x.gif")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(ValidationError, match="cannot read"):
        read_image(tmp_path / "bad.png")
    np.save(tmp_path / "line.npy", np.zeros(50))
    with pytest.raises(ValidationError, match="2-D image"):
        read_image(tmp_path / "line.npy")
    np.save(tmp_path / "tiny.npy", np.zeros((4, 4)))
    with pytest.raises(ValidationError, match="too small"):
        read_image(tmp_path / "tiny.npy")
