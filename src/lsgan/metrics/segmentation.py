"""Face-parsing quality (the SMG's validation score): a confusion matrix of label maps, per-class IoU and mIoU."""

from __future__ import annotations

import torch
from torch import Tensor


class ConfusionMatrix:
    """Accumulates a K×K confusion matrix of label maps (rows: ground truth, columns: prediction); gives per-class
    IoU = TP / (TP + FP + FN) and mIoU, their mean over the classes present in either."""

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
