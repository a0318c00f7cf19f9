"""Applying an edit to a photo at the photo's own resolution, resampling the photo once.

The generator's edit of a face comes as a resolution-free field over its model-size crop
(``LSGANGenerator.edit_field``): a displacement ``flow`` [2, S, S] (grid units: fractions of the crop's half-side,
as ``F.grid_sample`` reads them) and a colour change ``colour`` [3, S, S] (image units: a [-1, 1] image spans 2).
Given the 2×3 similarity ``matrix`` that took the photo to the crop, every photo pixel ``p`` inside the face
becomes

    q  = matrix · p                       (where p lies in the crop)
    q' = q + flow(q) · S / 2              (where the edit samples the crop, in crop pixels)
    out(p) = photo(matrix⁻¹ · q') + colour(q) · 255 / 2

so skin, hair and eyes keep their own pixels and only move where the expression moves them, with one Lanczos
resampling of the photo (the alignment and the displacement composed into one sampling grid; by the photo's border,
a sample that would fall beyond it is drawn in, ``within_photo``, rather than the photo read mirrored); ``flow`` and
``colour`` are only interpolated (a warping TG's are smooth; an image-drawing generator's ``colour`` is its whole
change at the model's size). The photo's fine texture (``editing.grain.fine_texture``: hair, stubble, pores,
grain) is read at the nearest pixel rather than interpolated: a Lanczos kernel half a pixel off averages two
neighbours and loses a quarter of a beard's fine detail (the Laplacian's variance) even where the face hardly moves.
What the resampling still smooths (skin stretched by the warp) is given back as the photo's grain
(``editing.grain.lost_texture``). The result is blended in under ``mask`` (the feathered face hull, times a region
mask for region-only edits), the fine texture crossing over more steeply (``FINE_CROSSING``): pixels where the
mask is 0 are returned exactly as they were.

This is all an ONNX user needs besides the exported graph: ``apply_field(photo, matrix, flow, colour, mask)``
with the graph's ``flow`` and ``colour`` outputs for that face (numpy and OpenCV only).
"""

from __future__ import annotations

import cv2
import numpy as np

from lsgan.editing.grain import (
    LOST_TEXTURE_CAP,
    TEXTURE_SIGMA,
    fine_texture,
    grain_noise,
    lost_texture,
    photo_grain,
)
from lsgan.editing.tone import on_print, on_tone, photo_tone, print_black

HALF_RANGE = 127.5  # uint8 units per image unit of a [-1, 1] image
# photo pixels: the face's box is resampled this much wider, so that the texture it lost is read free of the edges
TEXTURE_MARGIN = int(4 * TEXTURE_SIGMA) + 4
# photo pixels across the face's crop: no texture is kept or given back on a face this small (its eyes and lips are a
# few pixels wide: its fine band is their edges, not the skin's grain, and would move in whole-pixel steps), all of
# it from the second on
TEXTURE_FACE_SIDES = (64, 128)
# where the mask feathers, the photo's fine texture and the edit's are not aligned: averaged half and half they keep
# half the texture's variance (a ring of soft skin and beard round the face), so the fine texture crosses from the
# photo's to the edit's this many times as steeply as the mask does, about its middle
FINE_CROSSING = 4.0
HELD, HELD_INSIDE = 1, 2  # ``apply_field``'s ``held`` labels: kept as the photo has it; inside that (moves with the
# face, but is not what fills the place of what is kept)
HELD_EDGE = 0.05  # where ``held`` read at a photo pixel is over this, the pixel is taken out and laid back ...
HELD_INPAINT_RADIUS = 3  # ... (photo pixels: the neighbourhood OpenCV's inpainting fills it from) ...
HELD_FEATHER = 0.7  # ... with a soft rim beyond it this wide (Gaussian sigma, photo pixels)
# Near the photo's border an edit that would show what lies beyond it (a tight crop's forehead pulled down from above
# its top edge) moves less: each pixel samples the photo no further towards the border than this share of its own
# distance from it, the band by the border stretched (at most 1 / BORDER_KEEP times) rather than the photo mirrored in
BORDER_KEEP = 0.5


def face_bounds(mask: np.ndarray) -> tuple[slice, slice] | None:
    """(rows, cols) slices of the smallest box holding every pixel where ``mask`` [H, W] > 0; None if none."""
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    cols = np.flatnonzero(mask.max(axis=0) > 0)
    if not len(rows):
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def crop_positions(matrix: np.ndarray, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
    """Where the photo pixels of the box (rows, cols) fall in the crop that ``matrix`` (photo -> crop) makes: x, y
    (float64 [h, w] each)."""
    ys, xs = np.mgrid[rows, cols].astype(np.float64)
    return matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2], matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]


def sampling_maps(matrix: np.ndarray, flow: np.ndarray, rows: slice, cols: slice, crop_size: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the photo pixels of the box (rows, cols): where to sample the photo (x, y, float32 [h, w] each) and
    where they fall in the crop (x, y), for ``matrix`` photo -> crop and ``flow`` [2, F, F] over the crop of side
    ``crop_size`` (default F: a field at the crop's own resolution)."""
    crop_x, crop_y = crop_positions(matrix, rows, cols)
    crop_xy = (crop_x.astype(np.float32), crop_y.astype(np.float32))
    crop_size = flow.shape[-1] if crop_size is None else crop_size
    half_side = crop_size / 2  # grid units -> crop pixels
    moved_x = crop_x + on_crop(flow[0], *crop_xy, crop_size) * half_side
    moved_y = crop_y + on_crop(flow[1], *crop_xy, crop_size) * half_side
    inverse = cv2.invertAffineTransform(matrix)
    photo_x = inverse[0, 0] * moved_x + inverse[0, 1] * moved_y + inverse[0, 2]
    photo_y = inverse[1, 0] * moved_x + inverse[1, 1] * moved_y + inverse[1, 2]
    return photo_x.astype(np.float32), photo_y.astype(np.float32), *crop_xy


def within_photo(photo_x: np.ndarray, photo_y: np.ndarray, box: tuple[slice, slice], shape: tuple[int, ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Where the photo pixels of ``box`` (rows, cols) sample a photo of ``shape`` (``photo_x``, ``photo_y`` [h, w])
    kept off what lies beyond its borders (``BORDER_KEEP``); samples further from them than their shifts reach are
    kept as they are, to the bit; pixels beyond the photo (the texture's margin) sample no further out than they lie."""
    rows, cols = box
    xs = np.arange(cols.start, cols.stop, dtype=np.float32)
    ys = np.arange(rows.start, rows.stop, dtype=np.float32)
    return _kept_within(photo_x, xs, shape[1] - 1, axis=1), _kept_within(photo_y, ys, shape[0] - 1, axis=0)


def _kept_within(sample: np.ndarray, positions: np.ndarray, last: int, axis: int) -> np.ndarray:
    """One axis of ``within_photo``: ``sample`` [h, w] of the pixels at ``positions`` along ``axis`` (the other
    axis's lines alike), the photo spanning 0-``last``. A shift s towards a border d away becomes s·h(r),
    r = (1 − BORDER_KEEP)·d / |s|, h(r) = r − r²/4 up to r = 2 and 1 beyond: |s·h(r)| ≤ (1 − BORDER_KEEP)·d, and for
    a shift that is the same across the band the sample still moves the same way as the pixel (h' ≤ 1), so the band
    is stretched, not folded. Only the lines that the largest shift can carry past a border are worked on."""
    shape = [1, 1]
    shape[axis] = -1
    position = positions.reshape(shape)
    band = 2.0 * float(np.abs(sample - position).max(initial=0.0)) / (1.0 - BORDER_KEEP)
    near = np.flatnonzero((positions < band) | (positions > last - band))
    if near.size == 0:
        return sample
    lines, position = np.take(sample, near, axis=axis), np.take(position, near, axis=axis)
    shift = lines - position
    room = np.maximum(np.where(shift < 0, position, last - position), 0.0)  # to the border the shift points at
    reach = (1.0 - BORDER_KEEP) * room / np.maximum(np.abs(shift), np.float32(1e-6))
    kept = np.minimum(reach, 2.0)
    out = sample.copy()
    index = [slice(None), slice(None)]
    index[axis] = near
    out[tuple(index)] = np.where(reach >= 2.0, lines, position + shift * (kept - kept * kept / 4))
    return out


def sample_map(values: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear reading of a smooth crop-space map [S, S] at crop positions (xs, ys); edge values beyond it."""
    return cv2.remap(np.ascontiguousarray(values, np.float32), xs, ys, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def apply_field(photo: np.ndarray, matrix: np.ndarray, flow: np.ndarray, colour: np.ndarray, mask: np.ndarray,
                into: np.ndarray | None = None, paint: np.ndarray | None = None, shade: np.ndarray | None = None,
                held: np.ndarray | None = None) -> np.ndarray:
    """The edited photo (uint8 H×W×3): ``photo`` resampled through ``flow`` plus ``colour`` (see the module
    docstring), blended in under ``mask`` (float [H, W] in [0, 1]). The photo is always sampled from ``photo``;
    the blend goes into ``into`` (default: a copy of ``photo``), so several faces edit one picture without
    resampling each other's edits. ``paint`` [4, P, P] (RGB in [-1, 1] and alpha, over the same crop at any
    resolution P) covers what the photo does not have, e.g. the inside of a mouth that opens: it replaces the
    resampled pixels by its RGB, with the grain of the photo's face in it (``editing.grain``), in proportion to its
    alpha. ``shade`` [P, P] or [3, P, P] (any resolution too; one multiplier for every channel, or one each)
    multiplies the resampled pixels before the paint: the light the expression's folds take (1: unchanged). On a
    black-and-white or toned photo, what the edit changed takes the photo's tone, and on a faded one the paint its
    levels (``editing.tone``). ``flow`` may be finer than the crop too ([2, F, F], F a multiple of S, e.g. the mesh
    motion's): the crop's side S is ``colour``'s. ``held`` [P, P]
    (labels, over the crop at any resolution): what stays where the photo has it, over everything (``HELD``: clear
    glasses' frames, ``editing.glasses.clear_frames``): inpainted out of the photo before it is resampled, from round
    it but not from what is ``HELD_INSIDE`` it (the lenses), so that the face moves behind it, and laid back over the
    edit (``_held_out``)."""
    out = photo.copy() if into is None else into
    bounds = face_bounds(mask)
    if bounds is None:
        return out
    rows, cols = bounds
    crop_size = colour.shape[-1]
    source, weight = photo[rows, cols], mask[rows, cols, None]
    share = _texture_share(matrix, crop_size)
    grain = photo_grain(source, weight[..., 0] > 0.5) if share > 0 or paint is not None else 0.0
    sampled, kept = (photo, None) if held is None else _held_out(photo, held, matrix, (rows, cols), crop_size)
    moved, crop_x, crop_y = _resampled(sampled, matrix, flow, (rows, cols), crop_size, grain, share)
    change = _maps_on_crop(colour, crop_x, crop_y, crop_size) * HALF_RANGE
    edited = np.clip(moved + change, 0, 255)
    if shade is not None:
        edited = np.clip(edited * _shade_on_crop(shade, crop_x, crop_y, crop_size), 0, 255)
    tone = photo_tone(source)
    if paint is not None:
        paint = on_print(paint, print_black(source)) if tone is not None else paint  # a faded print's blacks
        edited = _painted(edited, paint, crop_x, crop_y, crop_size, grain, (rows.start, cols.start))
    if tone is not None:
        edited = _kept_on_tone(edited, source, tone)
    if kept is not None:
        edited = edited * (1.0 - kept[..., None]) + source * kept[..., None]
    blended = np.round(np.clip(_blended(out[rows, cols], edited, weight, share), 0, 255)).astype(np.uint8)
    out[rows, cols] = np.where(weight > 0, blended, out[rows, cols])
    return out


def _blended(base: np.ndarray, edited: np.ndarray, weight: np.ndarray, share: float) -> np.ndarray:
    """``base`` [h, w, 3] (uint8) and ``edited`` (float) mixed by ``weight`` [h, w, 1], their fine textures
    (``grain.fine_texture``) by a weight ``FINE_CROSSING`` times as steep, for ``share`` of the difference
    (``_texture_share``): where ``weight`` is 0 or 1 it is ``base`` or ``edited``."""
    base = base.astype(np.float32)
    if share <= 0:
        return base * (1.0 - weight) + edited * weight
    steep = np.clip((weight - 0.5) * FINE_CROSSING + 0.5, 0.0, 1.0)
    fine_change = fine_texture(edited) - fine_texture(base)
    return base * (1.0 - weight) + edited * weight + fine_change * (np.float32(share) * (steep - weight))


def _held_out(photo: np.ndarray, held: np.ndarray, matrix: np.ndarray, box: tuple[slice, slice], crop_size: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(the photo with what ``held`` [P, P] labels ``HELD`` inpainted from round it, not from what it labels
    ``HELD_INSIDE``; alpha [h, w] over ``box``: 1 on every pixel taken out, falling to 0 just beyond, to lay the
    photo's own pixels back with). The photo is inpainted over the box grown by ``TEXTURE_MARGIN``, all that the
    resampling reads of it."""
    rows, cols = box
    height, width = photo.shape[:2]
    top, left = max(rows.start - TEXTURE_MARGIN, 0), max(cols.start - TEXTURE_MARGIN, 0)
    around = (slice(top, min(rows.stop + TEXTURE_MARGIN, height)), slice(left, min(cols.stop + TEXTURE_MARGIN, width)))
    crop_x, crop_y = (values.astype(np.float32) for values in crop_positions(matrix, *around))
    covered = on_crop((held == HELD).astype(np.float32), crop_x, crop_y, crop_size) > HELD_EDGE
    covered = cv2.dilate(covered.astype(np.uint8), np.ones((3, 3), np.uint8))
    inside = (on_crop((held == HELD_INSIDE).astype(np.float32), crop_x, crop_y, crop_size) > 0.5) & (covered == 0)
    filled = cv2.inpaint(np.ascontiguousarray(photo[around]), covered | inside.astype(np.uint8), HELD_INPAINT_RADIUS,
                         cv2.INPAINT_TELEA)
    without = photo.copy()
    without[around] = np.where(covered[..., None] > 0, filled, photo[around])
    alpha = np.maximum(covered, cv2.GaussianBlur(covered.astype(np.float32), (0, 0), HELD_FEATHER))
    inner = np.s_[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]
    return without, alpha[inner]


def _kept_on_tone(edited: np.ndarray, source: np.ndarray, tone: np.ndarray) -> np.ndarray:
    """``edited`` (float [h, w, 3]) with the pixels it changed of ``source`` (uint8, the same box of the photo) on
    the source's ``tone`` (``editing.tone.photo_tone``: it is black-and-white or toned)."""
    changed = np.any(np.abs(edited - source) > 0.5, axis=-1)  # what rounds to another pixel
    edited[changed] = np.clip(on_tone(edited[changed], tone), 0, 255)
    return edited


def _texture_share(matrix: np.ndarray, crop_size: int) -> float:
    """How much of the texture resampling loses is kept and given back on a face whose ``crop_size`` crop
    ``matrix`` (photo -> crop) takes: 0 to 1 as the crop spans ``TEXTURE_FACE_SIDES`` photo pixels."""
    side = crop_size / np.sqrt(abs(np.linalg.det(matrix[:, :2])))  # photo pixels across the crop
    low, high = TEXTURE_FACE_SIDES
    return float(np.clip((side - low) / (high - low), 0.0, 1.0))


def _resampled(photo: np.ndarray, matrix: np.ndarray, flow: np.ndarray, box: tuple[slice, slice], crop_size: int,
               grain: float, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo's ``box`` (rows, cols) resampled through ``flow`` (float32 [h, w, 3], unclipped), ``share`` of
    its fine texture read at the nearest pixel (``_unsmoothed``) and ``share`` of what it still lost given back as
    the photo's ``grain`` (``editing.grain.lost_texture``: a pixel brought up to at most ``LOST_TEXTURE_CAP`` times
    it; the share for the face's size: ``_texture_share``), and the box's crop positions (x, y) [h, w]. The
    texture is compared over the box grown by ``TEXTURE_MARGIN`` on every side, the photo reflected beyond its
    borders as the resampling reads it, so that the box's own edges are no loss."""
    rows, cols = box
    outer = slice(rows.start - TEXTURE_MARGIN, rows.stop + TEXTURE_MARGIN)
    outer_cols = slice(cols.start - TEXTURE_MARGIN, cols.stop + TEXTURE_MARGIN)
    photo_x, photo_y, crop_x, crop_y = sampling_maps(matrix, flow, outer, outer_cols, crop_size)
    photo_x, photo_y = within_photo(photo_x, photo_y, (outer, outer_cols), photo.shape)
    moved = cv2.remap(photo, photo_x, photo_y, interpolation=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT_101)
    moved = moved.astype(np.float32)
    if share > 0:
        region, (x0, y0) = _photo_around(photo, photo_x, photo_y)
        region_x, region_y = photo_x - np.float32(x0), photo_y - np.float32(y0)
        moved += _unsmoothed(region, region_x, region_y) * np.float32(share)
        if grain > 0:
            lost = lost_texture(region, moved, region_x, region_y, LOST_TEXTURE_CAP * grain) * np.float32(share)
            moved += (grain_noise((outer.start, outer_cols.start), lost.shape, 1.0) * lost)[..., None]
    inner = np.s_[TEXTURE_MARGIN:-TEXTURE_MARGIN, TEXTURE_MARGIN:-TEXTURE_MARGIN]
    return moved[inner], crop_x[inner], crop_y[inner]


def _unsmoothed(photo: np.ndarray, photo_x: np.ndarray, photo_y: np.ndarray) -> np.ndarray:
    """[h, w, 3] what turns ``photo`` [H, W, 3] Lanczos-resampled at (``photo_x``, ``photo_y``) [h, w] into the
    same with its fine texture (``grain.fine_texture``) read at the nearest pixel: the texture keeps its strength,
    displaced by at most half a pixel."""
    fine = fine_texture(photo)
    nearest, smoothed = (cv2.remap(fine, photo_x, photo_y, interpolation=mode, borderMode=cv2.BORDER_REFLECT_101)
                         for mode in (cv2.INTER_NEAREST, cv2.INTER_LANCZOS4))
    return nearest - smoothed


def _photo_around(photo: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo's pixels around the positions (``xs``, ``ys``) [h, w], ``TEXTURE_MARGIN`` beyond the furthest,
    reflected where that reaches past the photo's borders (as ``cv2.BORDER_REFLECT_101`` reads them), and the
    region's top-left corner (x, y) in the photo. Positions more than a photo's side beyond it count as at that."""
    height, width = photo.shape[:2]
    x0, x1 = (int(np.clip(edge, -width, 2 * width)) for edge in (np.floor(xs.min()), np.ceil(xs.max())))
    y0, y1 = (int(np.clip(edge, -height, 2 * height)) for edge in (np.floor(ys.min()), np.ceil(ys.max())))
    x0, y0 = min(x0 - TEXTURE_MARGIN, width - 1), min(y0 - TEXTURE_MARGIN, height - 1)
    x1, y1 = max(x1 + TEXTURE_MARGIN + 1, 1), max(y1 + TEXTURE_MARGIN + 1, 1)
    region = photo[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    pads = (max(-y0, 0), max(y1 - height, 0), max(-x0, 0), max(x1 - width, 0))
    if any(pads):
        region = cv2.copyMakeBorder(region, *pads, cv2.BORDER_REFLECT_101)
    return region, (x0, y0)


def _painted(edited: np.ndarray, paint: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, crop_size: int,
             grain: float = 0.0, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``edited`` [h, w, 3] (the photo's box at ``origin``) with ``paint`` [4, P, P] laid over it (crop positions
    scaled to P's pixel centres), with the photo's ``grain`` in it (``editing.grain``: a flat paint reads as a patch
    stuck on the photo)."""
    alpha = on_crop(paint[3], crop_x, crop_y, crop_size)[..., None]
    rgb = _maps_on_crop(paint[:3], crop_x, crop_y, crop_size)
    painted = (rgb + 1.0) * HALF_RANGE
    box = face_bounds(alpha[..., 0])
    if grain > 0 and box is not None:
        rows, cols = box
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        noise = grain_noise((origin[0] + rows.start, origin[1] + cols.start), shape, grain)
        painted[rows, cols] = np.clip(painted[rows, cols] + noise[..., None], 0, 255)
    return edited * (1.0 - alpha) + painted * alpha


def _shade_on_crop(shade: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, crop_size: int) -> np.ndarray:
    """``[h, w, 1]`` or ``[h, w, 3]``: a shade [P, P] (one multiplier for every channel) or [3, P, P] read at crop
    positions."""
    return _maps_on_crop(shade.reshape(-1, *shade.shape[-2:]), crop_x, crop_y, crop_size)


def _maps_on_crop(maps: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, crop_size: int) -> np.ndarray:
    """``[h, w, C]``: maps [C, P, P] over the crop each read at crop positions (``on_crop``)."""
    return np.stack([on_crop(values, crop_x, crop_y, crop_size) for values in maps], axis=-1)


def on_crop(values: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, crop_size: int) -> np.ndarray:
    """A map [P, P] over the crop at any resolution P read at crop positions (scaled to P's pixel centres)."""
    if values.shape[-1] == crop_size:
        return sample_map(values, crop_x, crop_y)
    scale = values.shape[-1] / crop_size
    return sample_map(values, (crop_x + 0.5) * scale - 0.5, (crop_y + 0.5) * scale - 0.5)


def resample_field(values: np.ndarray, side: int) -> np.ndarray:
    """``values`` [C, S, S] over a crop, bilinearly at ``side`` × ``side`` over the same crop (as ``apply_field``
    reads it)."""
    if values.shape[-1] == side:
        return values
    return np.stack([cv2.resize(np.ascontiguousarray(channel, np.float32), (side, side),
                                interpolation=cv2.INTER_LINEAR) for channel in values])


def resize_matrix(photo_shape: tuple[int, ...], size: int) -> np.ndarray:
    """The 2×3 photo -> crop matrix of a whole photo resized (not aligned) to ``size``×``size``, with the pixel
    centres of ``cv2.resize``."""
    height, width = photo_shape[:2]
    sx, sy = size / width, size / height
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])
