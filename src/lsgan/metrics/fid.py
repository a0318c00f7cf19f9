"""Fréchet Inception Distance (Heusel et al. 2017; the paper's Eq. 13, with the squared mean distance).

FID = ||mu_1 - mu_2||^2 + Tr(C_1 + C_2 - 2 (C_1 C_2)^(1/2)) between Gaussian fits of the 2048-d pool3 features
of TF's FID InceptionV3 (``lsgan.nets.inception``). Images are resized to 299x299 with TF1's bilinear resize, the
one inside the original FID graph, so values are comparable with published FIDs computed at the same sample
count (FID is biased upwards for small sample sets; compare only FIDs over equally many images, and see KID,
``lsgan.metrics.kid``, which is unbiased, on the same features).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

from lsgan.metrics.image import MetricInputError
from lsgan.metrics.kid import KIDResult, kid_of_features
from lsgan.nets import pretrained
from lsgan.nets.inception import FID_INPUT_SIZE, FIDInceptionV3


class FIDFeatures(nn.Module):
    """Image batches ``[B, 3, H, W]`` in ``[-1, 1]`` -> pool3 features ``[B, 2048]``."""

    def __init__(self, load_pretrained: bool = True) -> None:
        super().__init__()
        self.inception = FIDInceptionV3()
        if load_pretrained:
            pretrained.load_into(self.inception, pretrained.FID_INCEPTION)
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise MetricInputError(f"FID needs RGB batches [B, 3, H, W], got shape {tuple(images.shape)}")
        pixels = (images.float().clamp(-1, 1) + 1) * 127.5  # the 0-255 scale the TF graph starts from
        pixels = tf_bilinear_resize(pixels, FID_INPUT_SIZE)
        return self.inception((pixels - 128) / 128)


def tf_bilinear_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """TF1 ``resize_bilinear`` (align_corners=False, no half-pixel centres): output pixel i samples input
    i * in/out. ``F.interpolate`` samples at half-pixel centres instead, which shifts the image slightly."""
    batch, channels, height, width = x.shape
    if (height, width) == (size, size):
        return x
    theta = torch.zeros(batch, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    # affine_grid works in [-1, 1] coordinates; this shift moves sampling from half-pixel centres to corners.
    theta[:, 0, 2] = 1 / width - 1 / size
    theta[:, 1, 2] = 1 / height - 1 / size
    grid = F.affine_grid(theta, [batch, channels, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and covariance ``[D, D]`` (unbiased) of ``[N, D]`` features."""
    centred = _scaled_centred(features)
    return np.mean(features, axis=0), centred.T @ centred


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise MetricInputError(f"feature statistics differ in size: {mu1.shape} vs {mu2.shape}")
    mean_term = float(np.sum((mu1 - mu2) ** 2))
    return mean_term + float(np.trace(sigma1) + np.trace(sigma2)) - 2 * _trace_sqrt_product(sigma1, sigma2)


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((sigma1 sigma2)^(1/2)) as the sum of the square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2).

    sigma1 sigma2 is similar to that symmetric PSD matrix, so the two have the same (real, non-negative)
    eigenvalues. Symmetric eigensolvers give the same value as ``scipy.linalg.sqrtm`` (the usual route) without
    its complex round-off, and several times faster at 2048 dimensions.
    """
    values, vectors = scipy.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    product_values = scipy.linalg.eigvalsh(root1 @ sigma2 @ root1)
    return float(np.sum(np.sqrt(np.clip(product_values, 0, None))))


def frechet_distance_of_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ``[N, D]``.

    With fewer samples than dimensions (the usual case for small evaluation sets) the covariances have low rank,
    and the trace term is the nuclear norm of ``a bᵀ`` for the scaled, centred features (S1 = aᵀa, S2 = bᵀb):
    an [N1, N2] problem instead of a [D, D] one, with the same result.
    """
    (n1, dims), n2 = np.shape(real), np.shape(fake)[0]
    if n1 * n2 >= dims * dims:
        return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
    a, b = _scaled_centred(real), _scaled_centred(fake)
    mean_term = float(np.sum((np.mean(real, axis=0) - np.mean(fake, axis=0)) ** 2))
    trace_sqrt = float(np.sum(scipy.linalg.svdvals(a @ b.T)))
    return mean_term + float(np.sum(a**2) + np.sum(b**2)) - 2 * trace_sqrt


def _scaled_centred(features: np.ndarray) -> np.ndarray:
    """``(X - mean) / sqrt(N - 1)``, so that its Gram matrix ``aᵀa`` is the unbiased covariance."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise MetricInputError(f"FID needs features [N >= 2, D], got shape {features.shape}")
    return (features - features.mean(axis=0)) / np.sqrt(features.shape[0] - 1)


class FID:
    """Accumulates FID features of two image sets batch by batch, then gives their distance (and their KID).

    ``fid = FID(); fid.add_real(batch); fid.add_fake(batch); ...; fid.compute(); fid.compute_kid()``
    """

    def __init__(self, features: FIDFeatures | None = None, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.features = (features or FIDFeatures()).to(self.device)
        self.real: list[np.ndarray] = []
        self.fake: list[np.ndarray] = []

    def _extract(self, images: torch.Tensor) -> np.ndarray:
        return self.features(images.to(self.device)).double().cpu().numpy()

    def add_real(self, images: torch.Tensor) -> None:
        self.real.append(self._extract(images))

    def add_fake(self, images: torch.Tensor) -> None:
        self.fake.append(self._extract(images))

    def compute(self) -> float:
        return frechet_distance_of_features(*self._sets())

    def compute_kid(self, **options: int) -> KIDResult:
        """KID of the same two feature sets (``options``: ``kid_of_features``'s subsets, subset_size, seed)."""
        return kid_of_features(*self._sets(), **options)

    def _sets(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.real or not self.fake:
            raise MetricInputError("FID and KID need images in both sets; add some with add_real and add_fake")
        return np.concatenate(self.real), np.concatenate(self.fake)


def fid(
    real: torch.Tensor | Iterable[torch.Tensor],
    fake: torch.Tensor | Iterable[torch.Tensor],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> float:
    """FID between two image sets in ``[-1, 1]``: tensors ``[N, 3, H, W]`` or iterables of such batches."""
    metric = FID(device=device)
    for batch in _batches(real, batch_size):
        metric.add_real(batch)
    for batch in _batches(fake, batch_size):
        metric.add_fake(batch)
    return metric.compute()


def _batches(images: torch.Tensor | Iterable[torch.Tensor], batch_size: int) -> Iterable[torch.Tensor]:
    return images.split(batch_size) if isinstance(images, torch.Tensor) else images
