"""Black-and-white and toned photos stay so where an edit paints.

What an edit paints has colours of its own: the inside of a mouth that opens is a dark red (``paint.CAVITY_RGB``),
teeth a warm white. On a black-and-white photo they came out as a red mouth and cream teeth in a grey face; on a
sepia print, as colours the print cannot show. A photo is black-and-white or toned (sepia, selenium, cyanotype)
where its pixels' tint (RGB less luma) is the same at the same luma: ``photo_tone`` reads that tint, luma level by
luma level, in the face's box, and ``on_tone`` gives a pixel the tint of its luma (the luma kept). A colour photo
(skin, lips, hair and clothes of other tints at one luma) has no tone and is edited as it was.

The face boxes of the photo sets' colour portraits, group photos and training photos leave 6.5-39 uint8 levels
(RMS) of tint that luma does not explain; black-and-white photos 0, a sepia print saved as JPEG (quality 90) 2.5.
"""

from __future__ import annotations

import numpy as np

from lsgan.data.images import LUMA

TONE_BINS = 32  # luma levels the tint is read at (8 uint8 levels each)
MONOCHROME_RESIDUAL = 4.0  # uint8 levels (RMS): pixels whose tint luma explains this closely are black-and-white
MAX_TONE_PIXELS = 1 << 18  # at most this many of the box's pixels are read (evenly spaced)
TINT_STEPS = 1024  # per uint8 level: the tint read is rounded to this


def photo_tone(pixels: np.ndarray) -> np.ndarray | None:
    """``[TONE_BINS, 3]`` the tint (RGB less luma, uint8 units) at each luma level of a black-and-white or toned
    photo's ``pixels`` [..., 3] (uint8), or None where they are coloured: where the tint at one luma varies by more
    than ``MONOCHROME_RESIDUAL`` (RMS). Levels no pixel has take their neighbours' tint."""
    rgb = np.asarray(pixels).reshape(-1, 3)
    rgb = rgb[::max(1, len(rgb) // MAX_TONE_PIXELS)].astype(np.float32)
    if len(rgb) == 0:
        return None
    luma = rgb @ LUMA
    tint = rgb - luma[:, None]
    level = _level(luma)
    counts = np.bincount(level, minlength=TONE_BINS)
    sums = np.stack([np.bincount(level, tint[:, c], minlength=TONE_BINS) for c in range(3)], axis=1)
    means = sums / np.maximum(counts, 1)[:, None]
    residual = np.sqrt(np.mean(np.sum((tint - means[level]) ** 2, axis=1)))
    if residual > MONOCHROME_RESIDUAL:
        return None
    seen = np.flatnonzero(counts)
    tone = np.stack([np.interp(np.arange(TONE_BINS), seen, means[seen, c]) for c in range(3)], axis=1)
    return np.round(tone * TINT_STEPS) / TINT_STEPS  # a grey photo's tint is 0, not float rounding's 1e-5


def on_tone(rgb: np.ndarray, tone: np.ndarray) -> np.ndarray:
    """``rgb`` (float [..., 3], uint8 units) with each pixel's tint replaced by ``tone``'s (``photo_tone``) at its
    luma, interpolated between levels; the luma is kept."""
    luma = np.asarray(rgb, np.float32) @ LUMA
    position = np.clip(luma / 256.0 * TONE_BINS - 0.5, 0.0, TONE_BINS - 1)
    below = np.minimum(position.astype(np.int32), TONE_BINS - 2)
    above = position - below.astype(np.float32)
    tone = np.asarray(tone, np.float32)
    step = np.diff(tone, axis=0)
    return np.stack([luma + tone[below, c] + step[below, c] * above for c in range(3)], axis=-1)


def _level(luma: np.ndarray) -> np.ndarray:
    return np.minimum((luma / 256.0 * TONE_BINS).astype(np.int64), TONE_BINS - 1)
