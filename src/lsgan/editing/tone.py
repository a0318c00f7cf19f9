"""Black-and-white and toned photos stay so where an edit paints.

What an edit paints has colours of its own: the inside of a mouth that opens is a dark red (``paint.CAVITY_RGB``),
teeth a warm white. On a black-and-white photo they came out as a red mouth and cream teeth in a grey face; on a
sepia print, as colours the print cannot show. A photo is black-and-white or toned (sepia, selenium, cyanotype)
where its pixels' tint (RGB less luma) is the same at the same luma: ``photo_tone`` reads that tint, luma level by
luma level, in the face's box, and ``on_tone`` gives a pixel the tint of its luma (the luma kept). A colour photo
(skin, lips, hair and clothes of other tints at one luma) has no tone and is edited as it was.

The face boxes of the photo sets' colour portraits, group photos and training photos leave 6.5-39 uint8 levels
(RMS) of tint that luma does not explain; black-and-white photos 0, a sepia print saved as JPEG (quality 90) 2.5.

A faded print's blacks are grey: the paint's dark mouth came out as a black hole in it. Where such a photo's darkest
(``print_black``: the 0.5th percentile of the face box's luma) is lighter than ``FADED_BLACK``, the paint's levels
are laid between it and white (``on_print``), as the print's own are.
"""

from __future__ import annotations

import numpy as np

from lsgan.data.images import LUMA

TONE_BINS = 32  # luma levels the tint is read at (8 uint8 levels each)
MONOCHROME_RESIDUAL = 4.0  # uint8 levels (RMS): pixels whose tint luma explains this closely are black-and-white
MAX_TONE_PIXELS = 1 << 18  # at most this many of the box's pixels are read (evenly spaced)
TINT_STEPS = 1024  # per uint8 level: the tint read is rounded to this
# uint8 luma: a black-and-white or toned photo whose face box's darkest is lighter than this is a faded print (the
# portraits made grey: 2-30; Audrey Hepburn's as a sepia print faded to 0.55 x + 95: 96)
FADED_BLACK = 48.0
BLACK_PERCENTILE = 0.5


def photo_tone(pixels: np.ndarray) -> np.ndarray | None:
    """``[TONE_BINS, 3]`` the tint (RGB less luma, uint8 units) at each luma level of a black-and-white or toned
    photo's ``pixels`` [..., 3] (uint8), or None where they are coloured: where the tint at one luma varies by more
    than ``MONOCHROME_RESIDUAL`` (RMS). Levels no pixel has take their neighbours' tint."""
    rgb = _read(pixels)
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


def _read(pixels: np.ndarray) -> np.ndarray:
    """float32 [N, 3]: ``pixels`` [..., 3], at most ``MAX_TONE_PIXELS`` of them (evenly spaced)."""
    rgb = np.asarray(pixels).reshape(-1, 3)
    return rgb[::max(1, len(rgb) // MAX_TONE_PIXELS)].astype(np.float32)


def _level(luma: np.ndarray) -> np.ndarray:
    return np.minimum((luma / 256.0 * TONE_BINS).astype(np.int64), TONE_BINS - 1)


def print_black(pixels: np.ndarray) -> float:
    """The black of a faded print: the ``BLACK_PERCENTILE``-th percentile of the luma of ``pixels`` [..., 3] (uint8,
    a black-and-white or toned photo's face box) where that is lighter than ``FADED_BLACK``, else 0."""
    rgb = _read(pixels)
    black = float(np.percentile(rgb @ LUMA, BLACK_PERCENTILE)) if len(rgb) else 0.0
    return black if black > FADED_BLACK else 0.0


def on_print(paint: np.ndarray, black: float) -> np.ndarray:
    """``paint`` [4, P, P] (RGB in [-1, 1], then alpha) with its levels laid between ``black`` (uint8 units) and
    white, as a faded print's are; the same paint where ``black`` is 0."""
    if black <= 0:
        return paint
    rgb = (paint[:3] + 1.0) * 127.5
    lifted = black + rgb * (255.0 - black) / 255.0
    return np.concatenate([lifted / 127.5 - 1.0, paint[3:]]).astype(np.float32)
