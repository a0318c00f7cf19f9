"""Evaluation metrics of the paper's experiments: PSNR/SSIM (Eq. 11-12), FID (Eq. 13), LPIPS (Eq. 14), AU MSE/ICC,
KID (Bińkowski et al. 2018) beside FID, and the parsing mIoU. They sit beside the losses, below training: training's
validation, the evaluation and the scripts all score with these (one implementation each); nothing here imports
training, editing or evaluation.

Image metrics take batches ``[B, 3, H, W]`` in ``[-1, 1]``; AU metrics take ``[N, 16]`` arrays on the 0-1 scale.
LPIPS and FID use pretrained weights from ``lsgan.nets.pretrained`` (made once by ``lsgan weights fetch``).
"""

from dataclasses import dataclass
from typing import Literal

from lsgan.metrics.au import AUAgreement, au_agreement, au_icc, au_mse, icc_3_1, masked_au_mse
from lsgan.metrics.fid import (
    FID,
    FIDFeatures,
    feature_statistics,
    fid,
    frechet_distance,
    frechet_distance_of_features,
)
from lsgan.metrics.image import MetricInputError, change_along_truth, ms_ssim, psnr, ssim
from lsgan.metrics.kid import KIDResult, kid_of_features, mmd2_unbiased, polynomial_kernel
from lsgan.metrics.lpips import LPIPS
from lsgan.metrics.running import RunningMean
from lsgan.metrics.segmentation import ConfusionMatrix


@dataclass
class MetricsConfig:
    """Evaluation settings (YAML section ``metrics``)."""

    lpips_net: Literal["alex", "vgg"] = "alex"  # the LPIPS authors' recommended forward metric is AlexNet
    fid_batch_size: int = 32
    ms_ssim_window: int = 11


__all__ = [
    "AUAgreement", "ConfusionMatrix", "FID", "FIDFeatures", "KIDResult", "LPIPS", "MetricInputError",
    "MetricsConfig", "RunningMean", "au_agreement", "au_icc", "au_mse", "change_along_truth", "feature_statistics",
    "fid", "frechet_distance", "frechet_distance_of_features", "icc_3_1", "kid_of_features", "masked_au_mse",
    "mmd2_unbiased", "ms_ssim", "polynomial_kernel", "psnr", "ssim",
]
