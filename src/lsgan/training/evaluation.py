"""Validation scores computed during training (the full benchmark metrics live in ``lsgan.metrics``, which sits
to the right of training in the layering, so the few needed here are written on the libraries directly)."""

from __future__ import annotations

from collections import defaultdict

import torch
from pytorch_msssim import ssim
from torch import Tensor


class RunningMean:
    """Sample-weighted means of named scalars over batches."""

    def __init__(self) -> None:
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)

    def add(self, name: str, per_sample: Tensor) -> None:
        self._sums[name] += float(per_sample.detach().double().sum())
        self._counts[name] += per_sample.numel()

    def result(self) -> dict[str, float]:
        return {name: self._sums[name] / self._counts[name] for name in self._sums if self._counts[name]}


class ConfusionMatrix:
    """Accumulates a K×K confusion matrix of label maps; gives per-class IoU and mIoU."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def add(self, predicted: Tensor, target: Tensor) -> None:
        """predicted, target: integer label maps [B,H,W]."""
        flat = target.reshape(-1).cpu() * self.num_classes + predicted.reshape(-1).cpu()
        self.matrix += torch.bincount(flat, minlength=self.num_classes**2).view(self.num_classes, self.num_classes)

    def iou(self) -> Tensor:
        """IoU per class [K]; NaN for classes absent from both prediction and ground truth."""
        true_pos = self.matrix.diag().double()
        union = self.matrix.sum(0).double() + self.matrix.sum(1).double() - true_pos
        return torch.where(union > 0, true_pos / union.clamp(min=1), torch.full_like(union, float("nan")))

    def mean_iou(self) -> float:
        return float(self.iou().nanmean())


def psnr(result: Tensor, reference: Tensor) -> Tensor:
    """Per-image PSNR (dB) of images in [-1,1], measured on the [0,1] scale → [B]."""
    mse = ((result.float() - reference.float()) / 2).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp(min=1e-10))


def ssim_per_image(result: Tensor, reference: Tensor) -> Tensor:
    """Per-image SSIM of images in [-1,1] (pytorch_msssim, on [0,1]; window shrunk for tiny images) → [B]."""
    window = min(11, result.shape[-1] // 2 * 2 - 1)
    to_unit = lambda t: (t.float().clamp(-1, 1) + 1) / 2  # noqa: E731
    return ssim(to_unit(result), to_unit(reference), data_range=1.0, size_average=False, win_size=window)


def masked_au_mse(predicted: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Per-image mean squared AU error over the labelled AUs → [B]."""
    weights = torch.ones_like(target) if mask is None else mask.float()
    return ((predicted.float() - target.float()).pow(2) * weights).sum(1) / weights.sum(1).clamp(min=1)
