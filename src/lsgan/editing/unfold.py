"""The folds an expression leaves behind, lightened where the edit undoes what made them (not in the paper; issue 11).

A smile deepens the nasolabial folds (AU12, and AU6, AU9, AU10, AU14, AU20 with it). An edit that takes the smile
away moves the mesh but keeps the fold's shading: the photo's dark line from the nose wing to beside the mouth
corner stays, and real-face classifiers read it as a smile (on the astronaut's edit to neutral, fer's p(happy)
falls 0.85 -> 0.67 with her folds covered). ``editing.creases`` never lightens: a fold the source's reading says
is there may not be in the photo. Here the photo itself says where its fold is and how dark:

    valley_c = open_along(close(s_c) - s_c),   s_c = log(photo_c) smoothed past its texture   (each channel c)
    light_c  = exp(share · zone · valley_c)

``close`` is a grey closing with a disc ``VALLEY_WIDTH`` across: it fills a dark line narrower than the disc and
leaves broad shading, a cheek's roundness or a beard, as they are; ``open_along`` keeps of that what runs on for
``FOLD_LENGTH`` along the fold (a mole or a freckle on it stays); a channel at a time, so a fold's redder shadow
takes the skin's colour beside it. ``zone`` is a band ``FOLD_BAND`` either side of the fold's line through the
face mesh (``FOLD_LINES``), clear of the lips; ``share`` is how much of the fold the renderer of SynthFACS digs for
the source's AUs the target's do not (``data.synthfacs.geometry.mouth_folds``' nasolabial depth, its rest depth
kept: a face's fold at rest stays). The light is made over the source face (at most ``WORK_SCALE`` pixels per
crop pixel: the valley is smooth) and carried where the edit's field moves the fold.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from lsgan.data.faces import MEDIAPIPE478, FaceTemplate
from lsgan.data.mesh_basis import MeshBasisSettings
from lsgan.data.synthfacs import Identity
from lsgan.data.synthfacs.geometry import face_shape
from lsgan.editing.creases import mean_identity
from lsgan.editing.fields import on_crop
from lsgan.editing.paint import SUBPIXEL_BITS, paint_grid, paint_vertices, polygon_coverage

# the mesh's points along each nasolabial fold, nose wing to beside the mouth corner: the picture's left, its right
FOLD_LINES = ((203, 206, 216, 212), (423, 426, 436, 432))
FOLD_BAND = 0.08  # IODs either side of a fold's line where its valley is lightened (feathered over half of it)
VALLEY_WIDTH = 0.29  # IODs: the closing's disc; a dark line narrower than this is a valley
TEXTURE_SMOOTHING = 0.035  # IODs: the photo smoothed past its pores and stubble before the closing
VALLEY_SMOOTHING = 0.03  # IODs: the valley smoothed after it
FOLD_LENGTH = 0.15  # IODs: a valley that runs on this far along its fold is the fold; a shorter one a dot on it
FOLD_TURNS = (-20.0, 0.0, 20.0)  # degrees off the fold's chord (nose wing to mouth corner) its line may run
LIP_MARGIN = 0.06  # IODs round the lips' hull kept out of the band (their edge and corners are dark by nature)
WORK_SCALE = 4  # at most this many pixels per crop pixel for the light
LOG_OFFSET = 8.0  # uint8 units added before the log: a black pixel's noise is no valley


def unfolded_share(source_aus: np.ndarray, target_aus: np.ndarray, settings: MeshBasisSettings) -> float:
    """How much of the source's nasolabial fold the target takes away, 0 to 1: 1 − depth(target) / depth(source)
    (the renderer's depth, rest included; 0 where the target's fold is as deep or deeper)."""
    return float(np.clip(1.0 - fold_depth(target_aus, settings) / fold_depth(source_aus, settings), 0.0, 1.0))


def fold_depth(aus: np.ndarray, settings: MeshBasisSettings) -> float:
    """The depth the SynthFACS renderer digs the nasolabial folds to (mean of the two sides) for ``aus`` [16] on the
    mean face of the mesh basis made with ``settings``."""
    return _fold_depth(settings, tuple(np.round(np.asarray(aus, np.float64), 4)))


@lru_cache(maxsize=64)  # a sequence's frames ask for a few hundred AU vectors at most
def _fold_depth(settings: MeshBasisSettings, aus: tuple[float, ...]) -> float:
    values = np.asarray(aus, np.float64)
    shape = face_shape(_mean_face(settings), values, values)
    return float(np.mean([groove.depth for groove in shape.grooves if groove.kind == "nasolabial"]))


@lru_cache(maxsize=2)
def _mean_face(settings: MeshBasisSettings) -> Identity:
    return mean_identity(settings)


def fold_band(points: np.ndarray, line: tuple[int, ...], crop_size: int, scale: int) -> np.ndarray:
    """``[W, W]`` (W = ``scale`` × ``crop_size``) in [0, 1]: the band round a fold's ``line`` (mesh indices) through
    the mesh ``points`` [478, 2] (crop pixels), ``FOLD_BAND`` either side, feathered."""
    side = crop_size * scale
    iod = FaceTemplate().eye_distance * side  # work pixels
    band = np.zeros((side, side), np.float32)
    cv2.polylines(band, [paint_vertices(points[list(line)], scale)], False, 1.0,
                  thickness=max(round(2 * FOLD_BAND * iod), 1), lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    return cv2.GaussianBlur(band, (0, 0), FOLD_BAND * iod / 2)


def off_the_lips(points: np.ndarray, crop_size: int, scale: int) -> np.ndarray:
    """``[W, W]`` in [0, 1]: 0 on the lips' hull of the mesh ``points`` and ``LIP_MARGIN`` round it, feathered, 1
    beyond."""
    side = crop_size * scale
    iod = FaceTemplate().eye_distance * side  # work pixels
    lips = cv2.convexHull(points[list(MEDIAPIPE478.outer_lips)].astype(np.float32))[:, 0]
    lipped = cv2.dilate(polygon_coverage(lips, side, scale), _disc(LIP_MARGIN * iod))
    return 1.0 - cv2.GaussianBlur(lipped, (0, 0), LIP_MARGIN * iod / 2)


def along_fold(valleys: np.ndarray, direction: np.ndarray, length: float) -> np.ndarray:
    """``valleys`` [C, W, W] where they run on for ``length`` pixels along ``direction`` (a vector), within
    ``FOLD_TURNS`` of it (the most of grey openings with a line that long): a fold's valley stays, a dot's (a mole,
    a freckle, a pore on the fold) goes."""
    angle = np.arctan2(direction[1], direction[0])
    lines = [_line(length, angle + np.deg2rad(turn)) for turn in FOLD_TURNS]
    return np.stack([np.max([cv2.morphologyEx(channel, cv2.MORPH_OPEN, line) for line in lines], axis=0)
                     for channel in valleys])


def fold_valleys(view: np.ndarray, crop_size: int) -> np.ndarray:
    """``[3, W, W]``: how far each channel of ``view`` (uint8 [W, W, 3], the crop at W / ``crop_size`` pixels per
    crop pixel) lies below its closing, in log units (see the module docstring)."""
    iod = FaceTemplate().eye_distance * view.shape[0]  # view pixels
    closing = _disc(VALLEY_WIDTH * iod / 2)
    valleys = []
    for channel in np.moveaxis(view, -1, 0):
        smooth = cv2.GaussianBlur(np.log(channel.astype(np.float32) + LOG_OFFSET), (0, 0), TEXTURE_SMOOTHING * iod)
        valley = np.maximum(cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, closing) - smooth, 0.0)
        valleys.append(cv2.GaussianBlur(valley, (0, 0), VALLEY_SMOOTHING * iod))
    return np.stack(valleys)


def unfold_light(view: np.ndarray, points: np.ndarray, flow: np.ndarray, crop_size: int, shares: tuple[float, float],
                 paint_side: int) -> np.ndarray | None:
    """``[3, P, P]`` (P = ``paint_side``) multiplier (>= 1) of the edited crop's pixels that lightens the folds of
    the source face (``view``: uint8 [V, V, 3], the crop at any resolution; ``points`` [478, 2]: its mesh in crop
    pixels) by ``shares`` (the picture's left fold, its right: ``unfolded_share``), carried by the edit's ``flow``
    ([2, F, F] grid units over the crop, as ``fields.apply_field`` reads it). None where no fold is lightened."""
    if max(shares) <= 0:
        return None
    scale = min(view.shape[0] // crop_size, WORK_SCALE)
    work = crop_size * scale
    view = cv2.resize(view, (work, work), interpolation=cv2.INTER_AREA) if view.shape[0] != work else view
    valleys = fold_valleys(view, crop_size)
    length = FOLD_LENGTH * FaceTemplate().eye_distance * work
    lift = np.zeros_like(valleys)
    clear = off_the_lips(points, crop_size, scale)
    for line, share in zip(FOLD_LINES, shares):
        if share > 0:
            ends = points[list(line)]
            band = fold_band(points, line, crop_size, scale) * clear
            lift += np.float32(share) * band[None] * along_fold(valleys, ends[-1] - ends[0], length)
    light = np.exp(lift)
    grid = paint_grid(paint_side, paint_side // crop_size)
    xs, ys = (np.ascontiguousarray(values) for values in np.meshgrid(grid, grid))
    from_x = xs + on_crop(flow[0], xs, ys, crop_size) * (crop_size / 2)  # where each edited pixel comes from
    from_y = ys + on_crop(flow[1], xs, ys, crop_size) * (crop_size / 2)
    return np.stack([on_crop(channel, from_x, from_y, crop_size) for channel in light]).astype(np.float32)


def _line(length: float, angle: float) -> np.ndarray:
    """A line ``length`` pixels long at ``angle`` (radians) through the middle of an odd square (morphology element)."""
    half = max(round(length / 2), 1)
    element = np.zeros((2 * half + 1, 2 * half + 1), np.uint8)
    offset = np.array([np.cos(angle), np.sin(angle)]) * length / 2
    ends = np.round(np.array([half - offset, half + offset])).astype(int)
    cv2.line(element, tuple(ends[0]), tuple(ends[1]), 1)
    return element


def _disc(radius: float) -> np.ndarray:
    """A filled disc ``2 round(radius) + 1`` pixels across (OpenCV's morphology element)."""
    size = 2 * max(round(radius), 1) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
