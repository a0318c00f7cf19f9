"""The photo's grain on what an edit paints.

A photo's smooth skin is not smooth: sensor noise, film grain and JPEG's blocks give it a fine texture, which a
flat paint (the inside of a mouth that opens, teeth, an eyeball) lacks; laid on a grainy photo it reads as a patch
stuck on it. ``photo_grain`` measures how strong that texture is where the face is smoothest, at the photo's own
pixels; ``grain_noise`` makes a texture as strong, which ``fields.apply_field`` adds to the paint it lays on.

Resampling loses fine texture too: where the warp stretches the skin (a brow raised, a jaw dropped) the photo's
grain and pores come out magnified, smoothed, and a sub-pixel shift anywhere softens what lies near the pixel
scale. ``lost_texture`` measures, pixel by pixel, how much of the fine texture the photo had where each pixel was
sampled the resampled face lacks, up to ``LOST_TEXTURE_CAP`` times the photo's grain in all (more is an edge
blurred, not a texture lost: a pixel that keeps that much of a stretched edge's texture gets nothing more);
``fields.apply_field`` gives that much back as grain.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from lsgan.data.images import LUMA

GRAIN_SIGMA = 1.0  # photo pixels: the fine texture is what a Gaussian of this sigma smooths away (``fine_texture``)
GRAIN_WINDOW = 7  # photo pixels: the side of the windows its strength is read in
GRAIN_QUANTILE = 25  # percent: the face's smoothest windows show the grain alone (no pores, hair, beard or edges)
MIN_GRAIN_PIXELS = 64  # fewer face pixels than this: no grain read
GRAIN_READ_SIDE = 384  # photo pixels: the grain is read in the middle of a larger face, this many pixels square
GRAIN_TILE = 256  # photo pixels: the side of the one pattern of grain, repeated over the photo
GRAIN_SEED = 0
# photo pixels: the grain made is white noise softened by a Gaussian this wide: a photo's grain is softer than a
# pixel's own noise (demosaicing, JPEG, resizing). In the smoothest quarter of the middles of the portraits and the
# training faces, the Laplacian's variance is 11.5-12.4 times the fine texture's (quartiles); white noise's is 28,
# softened so 12
GRAIN_SOFTNESS = 0.85
TEXTURE_SIGMA = 2.0  # photo pixels: the Gaussian window over which the fine texture's strength is compared
LOST_TEXTURE_CAP = 1.5  # times the photo's grain: the most fine texture a resampled pixel is brought up to


def fine_texture(luma: np.ndarray) -> np.ndarray:
    """[h, w] what a Gaussian of ``GRAIN_SIGMA`` pixels smooths away of ``luma`` [h, w] (or of each channel of an
    image [h, w, C], float32)."""
    luma = np.asarray(luma, np.float32)
    return luma - cv2.GaussianBlur(luma, (0, 0), GRAIN_SIGMA)


def photo_grain(image: np.ndarray, where: np.ndarray) -> float:
    """How strong the fine texture of ``image`` [h, w, 3] (uint8) is where it is smoothest among the pixels
    ``where`` (bool [h, w], the face; read in its middle ``GRAIN_READ_SIDE`` pixels square): the
    ``GRAIN_QUANTILE``-th percentile of its std over ``GRAIN_WINDOW``-pixel windows, in uint8 units; 0 where fewer
    than ``MIN_GRAIN_PIXELS`` are given."""
    middle = tuple(_middle(side) for side in where.shape)
    image, where = image[middle], where[middle]
    if int(where.sum()) < MIN_GRAIN_PIXELS:
        return 0.0
    return _strength(fine_texture(image.astype(np.float32) @ LUMA), where)


def grain_noise(origin: tuple[int, int], shape: tuple[int, int], strength: float) -> np.ndarray:
    """[h, w] a fine texture that ``photo_grain`` reads as ``strength`` (uint8 units) for the photo pixels of the box
    at ``origin`` (row, column) of that ``shape``: one seeded pattern repeated over the photo, so each photo pixel
    has the same grain every time (edits repeat; a sequence's frames do not flicker) at the cost of an index."""
    rows = (origin[0] + np.arange(shape[0])) % GRAIN_TILE
    cols = (origin[1] + np.arange(shape[1])) % GRAIN_TILE
    return _grain_tile()[np.ix_(rows, cols)] * np.float32(strength)


@lru_cache(maxsize=1)
def _grain_tile() -> np.ndarray:
    """[GRAIN_TILE, GRAIN_TILE] the repeated pattern: the fine texture of seeded noise softened by
    ``GRAIN_SOFTNESS``, made and read as a repeating pattern (no seams where the tiles meet), scaled so that
    ``photo_grain`` reads it as 1."""
    side = GRAIN_TILE
    noise = np.random.default_rng(GRAIN_SEED).standard_normal((side, side)).astype(np.float32)
    soft = cv2.GaussianBlur(np.tile(noise, (3, 3)), (0, 0), GRAIN_SOFTNESS)
    fine = fine_texture(np.tile(soft[side:2 * side, side:2 * side], (3, 3)))[side:2 * side, side:2 * side]
    read = _strength(fine_texture(np.tile(fine, (3, 3)))[side:2 * side, side:2 * side], np.ones((side, side), bool))
    return fine / max(read, 1e-6)


def lost_texture(photo: np.ndarray, moved: np.ndarray, photo_x: np.ndarray, photo_y: np.ndarray,
                 most: float = np.inf) -> np.ndarray:
    """[h, w] the std of fine texture (uint8 units) that ``moved`` [h, w, 3], ``photo`` [H, W, 3] resampled at
    (``photo_x``, ``photo_y``) [h, w], lacks against the photo where each of its pixels was sampled, counting no more
    of that as had than ``most`` (a std; 0 where ``moved`` has as much). A pixel sampled from an edge (teeth, a lip's
    border) had far more than skin's grain: what it lacks of the edge is not texture, and what it keeps of it counts
    against the ``most`` it is brought up to (a smile closed to neutral stretches the upper lip's border over the
    skin above it: given the cap on top of that, the skin came out speckled like stubble)."""
    had = cv2.remap(_texture_energy(photo), photo_x, photo_y, interpolation=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT_101)
    return np.sqrt(np.maximum(np.minimum(had, np.float32(most) ** 2) - _texture_energy(moved), 0.0))


def _texture_energy(image: np.ndarray) -> np.ndarray:
    """[h, w] float32: the fine texture's variance around each pixel of ``image`` [h, w, 3] (uint8 or float)."""
    fine = fine_texture(np.asarray(image, np.float32) @ LUMA)
    return cv2.GaussianBlur(fine * fine, (0, 0), TEXTURE_SIGMA)


def _middle(side: int) -> slice:
    """The middle ``GRAIN_READ_SIDE`` of ``side`` pixels (all of them if fewer)."""
    start = max((side - GRAIN_READ_SIDE) // 2, 0)
    return slice(start, start + GRAIN_READ_SIDE)


def _strength(fine: np.ndarray, where: np.ndarray) -> float:
    """The ``GRAIN_QUANTILE``-th percentile, over the pixels ``where``, of the std of ``fine`` [h, w] in
    ``GRAIN_WINDOW``-pixel windows."""
    # a box filter's running sums leave tiny negatives where the texture is flat
    local = np.sqrt(np.maximum(cv2.blur(fine * fine, (GRAIN_WINDOW, GRAIN_WINDOW)), 0.0))
    return float(np.percentile(local[where], GRAIN_QUANTILE))
