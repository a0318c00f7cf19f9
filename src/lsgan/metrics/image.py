"""Full-reference image quality: PSNR (the paper's Eq. 11), SSIM (Eq. 12) and MS-SSIM, the one implementation that
training's validation scores, the benchmarks and L_rec's SSIM term (``losses.structural_similarity``) all use.

Inputs are image batches ``[B, 3, H, W]`` in ``[-1, 1]`` (the nets' range); every function returns one value per
image, ``[B]``, and passes gradients. SSIM and MS-SSIM are pytorch_msssim's (Gaussian window 11, sigma 1.5,
K = (0.01, 0.03)), computed on the 0-1 scale, which gives the same values as on 0-255; values outside [-1, 1] are
not clipped. Edge cases: identical images have PSNR ``MAX_PSNR_DB`` (not inf, so means over images stay finite)
and SSIM 1; images smaller than the window get the largest odd window that fits (``ssim_window``).
"""

from __future__ import annotations

import pytorch_msssim
import torch

from lsgan.errors import LsganError

NET_RANGE = 2.0  # peak-to-peak of [-1, 1]; PSNR's MAX (255 for 8-bit pixels, the same ratio)
MAX_PSNR_DB = 100.0  # PSNR of identical images (MSE 0); distinct 8-bit 128-px images reach at most 95 dB
SSIM_WINDOW = 11  # the standard Gaussian window of SSIM and MS-SSIM
MS_SSIM_DOWNSAMPLINGS = 4


class MetricInputError(LsganError, ValueError):
    """Image or feature batches that cannot be compared (shapes differ, too small, too few)."""


def check_same_shape(a: torch.Tensor, b: torch.Tensor, what: str = "images") -> None:
    if a.shape != b.shape:
        raise MetricInputError(f"{what} to compare have different shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim != 4:
        raise MetricInputError(f"{what} must be batches [B, C, H, W], got shape {tuple(a.shape)}")


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = NET_RANGE) -> torch.Tensor:
    """``10 log10(MAX^2 / MSE)`` per image (computed in float64); ``MAX_PSNR_DB`` for identical images."""
    check_same_shape(a, b)
    mse = (a.double() - b.double()).pow(2).mean(dim=(1, 2, 3)) / data_range**2
    return (-10 * torch.log10(mse.clamp(min=10 ** (-MAX_PSNR_DB / 10)))).float()


def ssim_window(side: int) -> int:
    """SSIM's window for images whose smaller side is ``side``: 11, or the largest odd window that fits a smaller
    image (7 at 7 or 8 px)."""
    return min(SSIM_WINDOW, side if side % 2 else side - 1)


def ms_ssim_window(side: int, largest: int = SSIM_WINDOW) -> int:
    """The largest odd window (at most ``largest``) whose MS-SSIM fits images whose smaller side is ``side``:
    the 4 halvings need ``side > (window - 1) * 16`` (11 from 161 px, 7 at 128, 3 at 64)."""
    window = min(largest, (side - 1) // 2**MS_SSIM_DOWNSAMPLINGS + 1)
    return window if window % 2 else window - 1


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Single-scale SSIM per image, window ``ssim_window`` of the smaller side."""
    check_same_shape(a, b)
    window = ssim_window(min(a.shape[-2:]))
    return pytorch_msssim.ssim(_unit(a), _unit(b), data_range=1.0, size_average=False, win_size=window)


def ms_ssim(a: torch.Tensor, b: torch.Tensor, win_size: int = SSIM_WINDOW) -> torch.Tensor:
    """Five-scale MS-SSIM; the smaller image side must exceed ``(win_size - 1) * 16`` (160 for the default)."""
    check_same_shape(a, b)
    side = min(a.shape[-2:])
    if ms_ssim_window(side, win_size) < win_size:
        raise MetricInputError(
            f"MS-SSIM with window {win_size} needs images larger than {(win_size - 1) * 2**MS_SSIM_DOWNSAMPLINGS} px,"
            f" got {tuple(a.shape[-2:])}; use a window of at most {ms_ssim_window(side)} or SSIM"
        )
    return pytorch_msssim.ms_ssim(_unit(a), _unit(b), data_range=1.0, size_average=False, win_size=win_size)


def change_along_truth(edited: torch.Tensor, source: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per image [B], how much of the true change (truth - source) the edit makes, in its direction:
    <edited - source, truth - source> / |truth - source|^2. 1: the whole change; 0: none of it (the unchanged
    source). It reads pixels only, so it does not depend on the AU regressor a generator was trained against."""
    check_same_shape(edited, truth)
    made, true = edited - source, truth - source
    return (made * true).flatten(1).sum(1) / true.pow(2).flatten(1).sum(1).clamp(min=1e-12)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return (x.float() + 1) / 2
