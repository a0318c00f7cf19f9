"""The photo's grain on what an edit paints.

A photo's smooth skin is not smooth: sensor noise, film grain and JPEG's blocks give it a fine texture, which a
flat paint (the inside of a mouth that opens, teeth, an eyeball) lacks; laid on a grainy photo it reads as a patch
stuck on it. ``photo_grain`` measures how strong that texture is where the face is smoothest, at the photo's own
pixels; ``grain_noise`` makes a texture as strong, which ``fields.apply_field`` adds to the paint it lays on.
"""

from __future__ import annotations

import cv2
import numpy as np

GRAIN_SIGMA = 1.0  # photo pixels: the fine texture is what a Gaussian of this sigma smooths away (``fine_texture``)
GRAIN_WINDOW = 7  # photo pixels: the side of the windows its strength is read in
GRAIN_QUANTILE = 25  # percent: the face's smoothest windows show the grain alone (no pores, hair, beard or edges)
MIN_GRAIN_PIXELS = 64  # fewer face pixels than this: no grain read
GRAIN_SEED = 0
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601


def fine_texture(luma: np.ndarray) -> np.ndarray:
    """[h, w] what a Gaussian of ``GRAIN_SIGMA`` pixels smooths away of ``luma`` [h, w]."""
    luma = np.asarray(luma, np.float32)
    return luma - cv2.GaussianBlur(luma, (0, 0), GRAIN_SIGMA)


def photo_grain(image: np.ndarray, where: np.ndarray) -> float:
    """How strong the fine texture of ``image`` [h, w, 3] (uint8) is where it is smoothest among the pixels
    ``where`` (bool [h, w], the face): the ``GRAIN_QUANTILE``-th percentile of its std over ``GRAIN_WINDOW``-pixel
    windows, in uint8 units; 0 where fewer than ``MIN_GRAIN_PIXELS`` are given."""
    if int(where.sum()) < MIN_GRAIN_PIXELS:
        return 0.0
    return _strength(fine_texture(image.astype(np.float32) @ LUMA_WEIGHTS), where)


def grain_noise(shape: tuple[int, int], strength: float) -> np.ndarray:
    """[h, w] a fine texture that ``photo_grain`` reads as ``strength`` (uint8 units), the same for the same shape
    every time (edits are repeatable; a sequence's frames do not flicker)."""
    noise = fine_texture(np.random.default_rng(GRAIN_SEED).standard_normal(shape).astype(np.float32))
    read = _strength(fine_texture(noise), np.ones(shape, bool))
    return noise * (strength / max(read, 1e-6))


def _strength(fine: np.ndarray, where: np.ndarray) -> float:
    """The ``GRAIN_QUANTILE``-th percentile, over the pixels ``where``, of the std of ``fine`` [h, w] in
    ``GRAIN_WINDOW``-pixel windows."""
    # a box filter's running sums leave tiny negatives where the texture is flat
    local = np.sqrt(np.maximum(cv2.blur(fine * fine, (GRAIN_WINDOW, GRAIN_WINDOW)), 0.0))
    return float(np.percentile(local[where], GRAIN_QUANTILE))
