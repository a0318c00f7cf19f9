"""Dark glasses stay as they are: an expression moves the lids and brows behind them, not the lenses.

The mesh motion moves a face's eye region with its lids and brows; over dark glasses it bent the lenses with them
(the Terminator portrait's sunglasses raised and enlarged by a surprise, bent in the middle by sadness's inner brows).
Where both eyes show no white (``dark_lenses``: the brightest quarter of each eye's opening darker than
``DARK_LENS`` times the face's median luma: an open eye's sclera is far brighter than that, in any light), the dark
region round each eye (``LENS_LUMA`` times the face's median at most, within ``LENS_REACH`` of the eye; at least
``MIN_LENS_AREA``, where closed eyes show only their lashes) is a lens and its frame. ``held_by_lenses`` scales the
edit's field down to 0 on them, from as far away as the motion reaches (so that no pixel beside a lens samples the
lens: a brow raised over it stretches the skin above the frame rather than drawing the frame taller), and
``mesh_motion`` paints no eyeball there.

Clear glasses are not found: their frames are thin lines that brows, lids and wrinkles also draw, and a detector
tried on the photo sets' 70 faces did not tell them apart reliably (docs/real_photos.md).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import binary_fill_holes, distance_transform_edt

from lsgan.data.faces import FaceTemplate
from lsgan.data.images import LUMA
from lsgan.editing.paint import eye_contour, hull_luma, polygon_coverage

DARK_LENS = 0.2  # an eye whose brightest quarter is darker than this times the face's median shows no white
LENS_LUMA = 0.35  # the lens and its frame: darker than this times the face's median ...
LENS_REACH = (0.6, 0.45)  # ... within this far of the eye's centre (inter-ocular distances, across and up/down)
LENS_MARGIN = 1.0  # crop pixels the lens is grown by (the frame's soft edge)
MIN_EYE_PIXELS = 16  # an eye opening with fewer paint pixels than this is not read
MIN_LENS_AREA = 0.12  # squared inter-ocular distances: a lens is at least this large (an eye opening: 0.02-0.08)
NEAR_LENS = 4.0  # crop pixels: the mesh points this near a lens (its lids, brows) ...
LENS_SLACK = 0.5  # ... and this much more: how far from a lens the field rises from 0 to all of it


def dark_lenses(view: np.ndarray, points: np.ndarray, scale: int) -> np.ndarray | None:
    """bool [P, P]: the dark glasses over the face of ``view`` (the crop at ``scale`` paint pixels per crop pixel,
    P×P×3 uint8) whose mesh is ``points`` (crop pixels), or None where the eyes show their white (or too little of
    themselves to tell)."""
    side = view.shape[0]
    luma = view.astype(np.float32) @ LUMA
    in_hull = hull_luma(view, points, scale)
    face = float(np.median(in_hull if in_hull.size else luma))
    openings = [polygon_coverage(eye_contour(points, eye), side, scale) > 0.5 for eye in range(2)]
    if any(opening.sum() < MIN_EYE_PIXELS for opening in openings):
        return None
    if any(np.percentile(luma[opening], 75) >= DARK_LENS * face for opening in openings):
        return None
    dark = (luma < LENS_LUMA * face).astype(np.uint8)
    eye_distance = FaceTemplate().eye_distance * side  # paint pixels
    reach = np.array(LENS_REACH) * eye_distance
    found = [_lens(dark, opening, reach) for opening in openings]
    if any(lens.sum() < MIN_LENS_AREA * eye_distance ** 2 for lens in found):  # closed eyes: their lashes
        return None
    lenses = found[0] | found[1]
    grow = np.ones((2 * round(LENS_MARGIN * scale) + 1,) * 2, np.uint8)
    return cv2.dilate(lenses.astype(np.uint8), grow) > 0


def held_by_lenses(flow: np.ndarray, lenses: np.ndarray, points: np.ndarray, targets: np.ndarray, size: int
                   ) -> np.ndarray:
    """``flow`` [2, F, F] (grid units over an S×S crop, ``size`` S, F a multiple of it) times 0 on ``lenses`` (bool
    [P, P] over the same crop, any resolution P), rising to 1 as far from them as the mesh ``points`` within
    ``NEAR_LENS`` of them move (to ``targets``, crop pixels), and ``LENS_SLACK`` further: no pixel beside a lens
    samples it."""
    side = flow.shape[-1]
    on_field = cv2.resize(lenses.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA) > 0.5
    distance = distance_transform_edt(~on_field) * size / side  # [F, F] crop pixels to the nearest lens
    at = np.clip(np.round((points + 0.5) * side / size - 0.5).astype(int), 0, side - 1)
    near = distance[at[:, 1], at[:, 0]] <= NEAR_LENS
    moved = np.linalg.norm(targets - points, axis=1)
    reach = (float(moved[near].max()) if near.any() else 0.0) + LENS_SLACK
    return (flow * np.clip(distance / reach, 0.0, 1.0)[None]).astype(np.float32)


def _lens(dark: np.ndarray, opening: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """bool [P, P]: the dark region (``dark``, uint8) connected to an eye's ``opening`` within ``reach`` (x, y paint
    pixels) of its centre, its holes (the lens's highlights) filled."""
    rows, cols = np.nonzero(opening)
    cy, cx = rows.mean(), cols.mean()
    near = np.zeros_like(dark)
    y0, y1 = int(max(cy - reach[1], 0)), int(min(cy + reach[1] + 1, dark.shape[0]))
    x0, x1 = int(max(cx - reach[0], 0)), int(min(cx + reach[0] + 1, dark.shape[1]))
    near[y0:y1, x0:x1] = dark[y0:y1, x0:x1]
    _, labels = cv2.connectedComponents(near, connectivity=8)
    touched = np.unique(labels[opening & (near > 0)])
    return binary_fill_holes(np.isin(labels, touched[touched > 0]))
