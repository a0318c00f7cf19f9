"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §4): the squared maximum mean
discrepancy between two sets of InceptionV3 pool3 features (the FID's, ``lsgan.metrics.fid.FIDFeatures``) under the
cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, d the feature dimension.

Unlike FID, its estimator is unbiased: on a few hundred images FID is biased upwards (more so the fewer images),
while KID's expected value does not depend on the sample size, so KIDs over small sets can be compared. As in the
paper, the estimate is averaged over random subsets of both sets (drawn without replacement); the standard
deviation over the subsets says how much one subset's estimate varies. Every subset estimate is unbiased, so the
subset size changes only that spread, not what the mean estimates. (Unbiased for two independent samples: a set
compared with itself comes out slightly below 0, since subsets of it share points.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lsgan.metrics.image import MetricInputError

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000  # the paper's, for sets of 10k images; smaller sets use half their size (see kid_of_features)


@dataclass(frozen=True)
class KIDResult:
    """Mean and standard deviation of the unbiased MMD² over ``subsets`` subsets of ``subset_size`` features each."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (xᵀy / d + 1)³ for feature rows ``x`` [N, d] and ``y`` [M, d] -> [N, M]."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD² estimate between feature sets [m, d] and [n, d] (each at least 2 rows):
    mean of k(x_i, x_j) over i≠j + the same for y − 2 · mean of k(x_i, y_j) over all pairs."""
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def kid_of_features(real: np.ndarray, fake: np.ndarray, subsets: int = KID_SUBSETS,
                    subset_size: int | None = None, seed: int = 0) -> KIDResult:
    """KID between feature sets ``real`` [N1, d] and ``fake`` [N2, d] (pool3 features for the standard KID).

    ``subset_size`` defaults to ``KID_SUBSET_SIZE`` capped at half the smaller set, so that the subsets differ
    (a subset as large as both sets would be the same every time, with a spread of 0); it must be at least 2 and
    at most the smaller set's size."""
    real, fake = _features(real, "real"), _features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise MetricInputError(f"KID feature sets differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    smaller = min(len(real), len(fake))
    size = subset_size if subset_size is not None else max(2, min(KID_SUBSET_SIZE, smaller // 2))
    if not 2 <= size <= smaller:
        raise MetricInputError(f"KID subset size must be between 2 and the smaller set's {smaller}, got {size}")
    if subsets < 1:
        raise MetricInputError(f"KID needs at least one subset, got {subsets}")
    rng = np.random.default_rng(seed)
    estimates = [mmd2_unbiased(real[rng.choice(len(real), size, replace=False)],
                               fake[rng.choice(len(fake), size, replace=False)]) for _ in range(subsets)]
    return KIDResult(float(np.mean(estimates)), float(np.std(estimates)), subsets, size)


def _features(features: np.ndarray, which: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise MetricInputError(f"KID needs {which} features [N >= 2, D], got shape {features.shape}")
    return features
