"""AU intensity agreement between generated and target images (the paper's Tables 1, 6, 7): per-AU MSE and ICC,
and the per-image AU error over labelled AUs that training's validation logs (``masked_au_mse``).

AU arrays are ``[N, 16]`` on the 0-1 scale in ``facs.AU_IDS`` order, one row per image, e.g. the AU estimates of
the generated images against the target AU vectors they were asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from lsgan.facs import AU_IDS, NUM_AUS
from lsgan.metrics.image import MetricInputError

NO_VARIANCE = 1e-12  # below this the ratings are constant up to rounding and ICC is undefined


@dataclass(frozen=True)
class AUAgreement:
    """Per-AU MSE and ICC(3,1) (``[16]`` each, ``facs.AU_IDS`` order) and their means over the AUs."""

    mse: np.ndarray
    icc: np.ndarray

    @property
    def mean_mse(self) -> float:
        """Mean over the AUs whose MSE is defined (with a ``labelled`` mask, an AU no image labels has none)."""
        return _defined_mean(self.mse)

    @property
    def mean_icc(self) -> float:
        """Mean over the AUs whose ICC is defined (an AU constant in both sets, or labelled in fewer than 2
        images, has none)."""
        return _defined_mean(self.icc)

    def as_rows(self) -> list[dict[str, float | int]]:
        rows = zip(AU_IDS, self.mse, self.icc, strict=True)
        return [{"au": au, "mse": float(mse), "icc": float(icc)} for au, mse, icc in rows]


def icc_3_1(ratings: np.ndarray) -> float:
    """ICC(3,1) of Shrout & Fleiss (1979): two-way mixed, consistency, single rater.

    ``ratings`` is ``[n targets, k raters]``; ICC(3,1) = (BMS - EMS) / (BMS + (k - 1) EMS), where BMS is the
    between-targets mean square and EMS the residual mean square of the two-way ANOVA. NaN when the ratings
    are constant.
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    n, k = ratings.shape
    if n < 2 or k < 2:
        raise MetricInputError(f"ICC needs at least 2 targets and 2 raters, got ratings of shape {ratings.shape}")
    grand_mean = ratings.mean()
    row_effects = ratings.mean(axis=1, keepdims=True) - grand_mean  # [n, 1]
    col_effects = ratings.mean(axis=0, keepdims=True) - grand_mean  # [1, k]
    residuals = ratings - grand_mean - row_effects - col_effects
    between_targets = k * np.sum(row_effects**2) / (n - 1)
    residual = np.sum(residuals**2) / ((n - 1) * (k - 1))
    denominator = between_targets + (k - 1) * residual
    if denominator < NO_VARIANCE:
        return float("nan")
    return float((between_targets - residual) / denominator)


def au_mse(generated: np.ndarray, target: np.ndarray, labelled: np.ndarray | None = None) -> np.ndarray:
    """Mean squared error per AU over the images, ``[16]``; with ``labelled`` (bool ``[N, 16]``) each AU over the
    images that label it (NaN for an AU no image labels)."""
    generated, target = _check_au_pair(generated, target)
    if labelled is None:
        return ((generated - target) ** 2).mean(axis=0)
    rows = _check_labelled(labelled, generated.shape)
    return np.array([((generated[rows[:, i], i] - target[rows[:, i], i]) ** 2).mean() if rows[:, i].any()
                     else np.nan for i in range(NUM_AUS)])


def au_icc(generated: np.ndarray, target: np.ndarray, labelled: np.ndarray | None = None) -> np.ndarray:
    """ICC(3,1) per AU with the two "raters" being target and generated, ``[16]``; with ``labelled`` (bool
    ``[N, 16]``) each AU over the images that label it (NaN for an AU fewer than 2 images label)."""
    generated, target = _check_au_pair(generated, target)
    rows = np.ones(generated.shape, bool) if labelled is None else _check_labelled(labelled, generated.shape)
    return np.array([icc_3_1(np.stack([target[rows[:, i], i], generated[rows[:, i], i]], axis=1))
                     if rows[:, i].sum() >= 2 else np.nan for i in range(NUM_AUS)])


def masked_au_mse(predicted: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Per-image mean squared AU error over the labelled AUs (``mask`` [B, 16], 1 = labelled; all when None)
    -> [B]; 0 for an image with no labelled AU."""
    weights = torch.ones_like(target, dtype=torch.float32) if mask is None else mask.float()
    return ((predicted.float() - target.float()).pow(2) * weights).sum(1) / weights.sum(1).clamp(min=1)


def au_agreement(generated: np.ndarray, target: np.ndarray, labelled: np.ndarray | None = None) -> AUAgreement:
    """Per-AU MSE and ICC(3,1) of ``generated`` against ``target`` (``[N, 16]`` each); with ``labelled`` (bool
    ``[N, 16]``) each AU over the images that label it."""
    return AUAgreement(mse=au_mse(generated, target, labelled), icc=au_icc(generated, target, labelled))


def _defined_mean(values: np.ndarray) -> float:
    defined = values[np.isfinite(values)]
    return float(defined.mean()) if defined.size else float("nan")


def _check_labelled(labelled: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    labelled = np.asarray(labelled)
    if labelled.shape != shape:
        raise MetricInputError(f"the labelled-AU mask must be {list(shape)} like the AU arrays, got {labelled.shape}")
    return labelled.astype(bool)


def _check_au_pair(generated: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    generated = np.asarray(generated, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if generated.shape != target.shape or generated.ndim != 2 or generated.shape[1] != NUM_AUS:
        raise MetricInputError(
            f"AU arrays must both be [N, {NUM_AUS}], got {generated.shape} (generated) and {target.shape} (target)"
        )
    if not (np.all(np.isfinite(generated)) and np.all(np.isfinite(target))):
        raise MetricInputError("AU arrays contain NaN or infinite values")
    return generated, target
