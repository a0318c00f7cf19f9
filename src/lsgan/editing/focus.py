"""The paint in the photo's focus: a face out of focus (a group photo's back row, a webcam frame, a small face
enlarged) has soft edges, and a mouth painted with the paint's own crisp edges on it looked pasted on.

``face_softness`` measures how soft the face's edges are, as the sigma of a Gaussian blur in paint pixels, by
blurring again (the re-blur ratio): a step edge blurred by sigma keeps ``s / sqrt(s² + r²)`` of its steepest gradient
when blurred again by r, whatever its contrast, so the ratio at the face's strongest edges (inside its mesh's hull:
eyes, brows, nostrils, lips) gives its sigma. ``softened`` blurs a paint [4, P, P] (alpha premultiplied) by what the
face has beyond the paint's own ``PAINT_SOFTNESS``.
"""

from __future__ import annotations

import cv2
import numpy as np

from lsgan.data.images import LUMA

REBLUR = 2.5  # paint pixels: the known blur the face's edges are blurred again by
EDGE_SHARE = 0.05  # the face's strongest edges measured: this share of its pixels' gradients
MIN_EDGES = 20  # fewer edge pixels than this (a flat or tiny face): no measure, no blur
PAINT_SOFTNESS = 1.0  # paint pixels: the paint's own edges (``paint.SOFT_EDGE``, anti-aliased contours)


def face_softness(view: np.ndarray, points: np.ndarray, scale: int) -> float:
    """The Gaussian sigma (paint pixels) of the blur on the face's edges in ``view`` (uint8 P×P×3, the photo at the
    paint's resolution, ``scale`` paint pixels per crop pixel) inside the hull of its mesh ``points`` [N, 2] (crop
    pixels); 0 where too few edges show."""
    luma = view.astype(np.float32) @ LUMA
    steepness = _gradient(luma)
    inside = np.zeros(luma.shape, np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(np.round((points + 0.5) * scale - 0.5).astype(np.int32)), 1)
    inside = inside.astype(bool)
    if int(inside.sum()) < MIN_EDGES:
        return 0.0
    strong = steepness > np.quantile(steepness[inside], 1.0 - EDGE_SHARE)
    peaks = inside & strong & (steepness >= cv2.dilate(steepness, np.ones((3, 3), np.uint8)))
    if int(peaks.sum()) < MIN_EDGES:
        return 0.0
    again = cv2.dilate(_gradient(cv2.GaussianBlur(luma, (0, 0), REBLUR)), np.ones((3, 3), np.uint8))
    kept = float(np.median(np.clip(again[peaks] / steepness[peaks], 0.0, 0.99)))
    return REBLUR * kept / float(np.sqrt(1.0 - kept * kept))


def softened(paint: np.ndarray, face_sigma: float) -> np.ndarray:
    """``paint`` [4, P, P] (RGB in [-1, 1], alpha) blurred as far as a face whose edges are ``face_sigma`` soft is
    beyond the paint's own ``PAINT_SOFTNESS`` (alpha-weighted: its colours do not take in what is unpainted); as
    it is for a face no softer."""
    sigma = float(np.sqrt(max(face_sigma * face_sigma - PAINT_SOFTNESS * PAINT_SOFTNESS, 0.0)))
    if sigma < 0.25 or not paint[3].any():
        return paint
    alpha = cv2.GaussianBlur(paint[3], (0, 0), sigma)
    colour = np.stack([cv2.GaussianBlur(channel * paint[3], (0, 0), sigma) for channel in paint[:3]])
    colour = np.where(alpha > 1e-4, colour / np.maximum(alpha, 1e-4), paint[:3])
    return np.concatenate([colour, alpha[None]]).astype(np.float32)


def _gradient(luma: np.ndarray) -> np.ndarray:
    """|∇luma| [H, W] (per pixel, Sobel)."""
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return np.hypot(gx, gy)
