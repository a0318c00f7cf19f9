"""Glasses stay as they are: an expression moves the lids and brows behind them, not the lenses or the frame.

The mesh motion moves a face's eye region with its lids and brows; over dark glasses it bent the lenses with them
(the Terminator portrait's sunglasses raised and enlarged by a surprise, bent in the middle by sadness's inner brows).
Where both eyes show no white (``dark_lenses``: the brightest quarter of each eye's opening darker than
``DARK_LENS`` times the face's median luma: an open eye's sclera is far brighter than that, in any light), the dark
region round each eye (``LENS_LUMA`` times the face's median at most, within ``LENS_REACH`` of the eye; at least
``MIN_LENS_AREA``, where closed eyes show only their lashes) is a lens and its frame. ``held_by_lenses`` scales the
edit's field down to 0 on them, from as far away as the motion reaches (so that no pixel beside a lens samples the
lens: a brow raised over it stretches the skin above the frame rather than drawing the frame taller), and
``mesh_motion`` paints no eyeball there.

Clear glasses' frames are thin lines that brows, lids and wrinkles also draw. ``looks_like_glasses`` takes a face
to wear them only where both lower rims run well clear of the eyes (by default ``Editor.prepare`` holds the frames
of those faces; it misses narrow frames close under the eyes: docs/real_photos.md). Found or told that a face wears
them (``lsgan edit --glasses``), ``clear_frames`` finds their frame: round each eye, the closed path of strongest
thin-line response (a dark line, at ``FRAME_SIGMAS``; a light one where no dark one runs round: a white frame) in
polar coordinates, no nearer the eye than ``RIM_CLEARANCE`` beyond its opening and bending at most ``RIM_BEND``
radius bins per ``RIM_STEP`` degrees (dynamic programming over one and a half turns, the last full turn kept), as
wide as the line is (where its profile crosses halfway to the skin on either side), and the bridge between the two
rims. ``editing.fields.apply_field`` takes the frame out of the photo (inpainted from round it, not from the
lenses) before the face moves and lays it back after: the lids and brows move behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import binary_fill_holes, distance_transform_edt

from lsgan.data.faces import FaceTemplate
from lsgan.data.images import LUMA
from lsgan.editing.fields import HELD, HELD_INSIDE
from lsgan.editing.paint import eye_contour, hull_luma, polygon_coverage

DARK_LENS = 0.2  # an eye whose brightest quarter is darker than this times the face's median shows no white
LENS_LUMA = 0.35  # the lens and its frame: darker than this times the face's median ...
LENS_REACH = (0.6, 0.45)  # ... within this far of the eye's centre (inter-ocular distances, across and up/down)
LENS_MARGIN = 1.0  # crop pixels the lens is grown by (the frame's soft edge)
MIN_EYE_PIXELS = 16  # an eye opening with fewer paint pixels than this is not read
MIN_LENS_AREA = 0.12  # squared inter-ocular distances: a lens is at least this large (an eye opening: 0.02-0.08)
NEAR_LENS = 4.0  # crop pixels: the mesh points this near a lens (its lids, brows) ...
LENS_SLACK = 0.5  # ... and this much more: how far from a lens the field rises from 0 to all of it
RIM_RADII = (0.08, 0.8)  # inter-ocular distances from an eye's centre: where its rim is looked for ...
RIM_BINS = 96  # ... in this many radius bins
RIM_STEP = 3  # degrees between the rim's samples round the eye
RIM_BEND = 2  # radius bins the rim may move between neighbouring samples
RIM_STEADINESS = 20  # percent: how steadily a line runs round an eye is read at this percentile of its strength
LIGHT_FRAME_BELOW = 0.005  # a rim is a light line only where no dark one runs round an eye this steadily
RIM_CLEARANCE = 0.06  # inter-ocular distances: the rim passes at least this far outside the eye's opening
FRAME_SIGMAS = (0.012, 0.02, 0.035, 0.05)  # inter-ocular distances: lines of thin metal to thick plastic
FRAME_REACH = 3.0  # sigmas: a line's width is read within this far of its middle
STEADY_SAMPLES = 5  # a rim's width is the median of this many neighbouring samples' ...
STEADY_SPREAD = 1.5  # ... and at most this many times its median over the rim (a frame is about as wide all round)
HINT_BELOW = (45, 135)  # degrees (0: away from the nose, 90: straight down): the lower rim, where no brow is ...
HINT_STRENGTH = 0.015  # ... a clear frame's dark line there at least this strong (``line_response``) ...
HINT_DEPTH = 0.15  # ... and this far (inter-ocular distances) beyond the clearance: a rim, not the lower lid's fold
HINT_MIN_EYES = 24  # photo pixels between the eyes: smaller faces are not asked (a 25-px face's lines are noise)
BRIDGE_COLUMNS = 7  # the bridge is looked for in this many columns across the gap between the rims ...
BRIDGE_INSET = 0.2  # ... this share of the gap in from either rim
BAR_WIDTH = 3.5  # sigmas: the width of a bar whose line response peaks at that sigma (the bridge's)


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


def clear_frames(view: np.ndarray, points: np.ndarray, scale: int) -> np.ndarray:
    """uint8 [P, P]: the frame of the clear glasses over the face of ``view`` (the crop at ``scale`` paint pixels per
    crop pixel, P×P×3 uint8) whose mesh is ``points`` (crop pixels), both rims and the bridge between them, labelled
    ``fields.HELD``, and the lenses inside the rims ``fields.HELD_INSIDE`` (they move with the face, but do not fill
    the frame's place: a dark lens would fill it dark where a raised brow uncovers it); 0 elsewhere."""
    luma, rims, dark = _rims(view, points, scale)
    frame = np.zeros(luma.shape, np.uint8)
    lenses = np.zeros_like(frame)
    for rim in rims:
        inner, outer = (np.round(edge).astype(np.int32) for edge in _rim_edges(rim))
        inside = cv2.fillPoly(np.zeros_like(frame), [inner], 1)
        frame |= cv2.fillPoly(np.zeros_like(frame), [outer], 1) & (1 - inside)
        lenses |= inside
    frame |= _bridge(luma, [rim.at(rim.middle) for rim in rims], rims[0].distance, dark)
    frame = cv2.dilate(frame, np.ones((3, 3), np.uint8))
    return np.where(frame > 0, HELD, np.where(lenses > 0, HELD_INSIDE, 0)).astype(np.uint8)


def looks_like_glasses(view: np.ndarray, points: np.ndarray, scale: int) -> bool:
    """Whether the face of ``view`` (as ``clear_frames`` takes it) seems to wear clear glasses: under each eye the
    rim found (a dark line: white frames are not looked for) runs at least ``HINT_DEPTH`` beyond the clearance kept
    round the eye, a line at least ``HINT_STRENGTH`` strong along most of it (its ``RIM_STEADINESS``-th percentile
    over the ``HINT_BELOW`` angles). Chosen not to take lid folds for rims, so it misses narrow frames
    (docs/real_photos.md); faces under ``HINT_MIN_EYES`` photo pixels between the eyes are not asked."""
    _, rims, _ = _rims(view, points, scale, allow_light=False)
    for rim in rims:
        below = (rim.angles >= np.deg2rad(HINT_BELOW[0])) & (rim.angles <= np.deg2rad(HINT_BELOW[1]))
        rows = np.flatnonzero(below)
        strength = np.percentile(rim.response[rows, rim.middle[rows]], RIM_STEADINESS)
        nearest = np.minimum(rim.nearest[rows], RIM_BINS - 1)
        depth = np.mean(rim.radii[rim.middle[rows]] - rim.radii[nearest]) / rim.distance
        if strength < HINT_STRENGTH or depth < HINT_DEPTH:
            return False
    return True


@dataclass(frozen=True)
class _Rim:
    """The search for one eye's rim in polar coordinates round the eye's ``centre`` (paint pixels)."""

    centre: np.ndarray  # [2]
    distance: float  # the eyes' distance, paint pixels
    angles: np.ndarray  # [n] radians, from the nose outwards
    directions: np.ndarray  # [n, 2] unit vectors in the view
    radii: np.ndarray  # [M] paint pixels
    polar: np.ndarray  # [n, M] the luma along each direction
    response: np.ndarray  # [n, M] line strength (``line_response``) ...
    sigma: np.ndarray  # [n, M] ... at its best width
    nearest: np.ndarray  # [n] the first radius bin the rim may take (beyond the opening and its clearance)
    middle: np.ndarray  # [n] the rim's radius bin at each angle (``closed_path``)

    @property
    def steadiness(self) -> float:
        """The ``RIM_STEADINESS``-th percentile of the line's strength along the rim: high only where a line runs
        all the way round."""
        return float(np.percentile(self.response[np.arange(len(self.angles)), self.middle], RIM_STEADINESS))

    def at(self, bins: np.ndarray) -> np.ndarray:
        """[n, 2] view points at (fractional) radius ``bins`` [n] along each direction."""
        return self.centre + self.directions * np.interp(bins, np.arange(RIM_BINS), self.radii)[:, None]


def _rims(view: np.ndarray, points: np.ndarray, scale: int, allow_light: bool = True
          ) -> tuple[np.ndarray, list[_Rim], bool]:
    """(luma [P, P] in [0, 1], the rim search round each eye, whether the rims are dark lines) of ``view`` whose
    mesh is ``points`` (crop pixels): dark lines (black, brown, metal frames), unless no dark line runs round both
    eyes (``steadiness`` under ``LIGHT_FRAME_BELOW``) and a light one runs more steadily (a white frame). Not both
    at once: through a lens, the skin between the dark eye and a thick dark frame is a light line, and steadier.
    Without ``allow_light``, dark lines only."""
    luma = view.astype(np.float32) @ LUMA / 255.0
    on_view = points * scale + (scale - 1) / 2
    openings = [eye_contour(on_view, eye) for eye in range(2)]
    centres = [opening.mean(axis=0) for opening in openings]
    distance = float(np.linalg.norm(centres[1] - centres[0]))
    outwards = [1.0 if centre[0] > on_view[:, 0].mean() else -1.0 for centre in centres]  # from the nose outwards

    def search(dark: bool) -> list[_Rim]:
        return [_search_rim(luma, opening, centre, outward, distance, dark)
                for opening, centre, outward in zip(openings, centres, outwards)]

    dark_rims = search(True)
    dark_steadiness = min(rim.steadiness for rim in dark_rims)
    if not allow_light or dark_steadiness >= LIGHT_FRAME_BELOW:
        return luma, dark_rims, True
    light_rims = search(False)
    if min(rim.steadiness for rim in light_rims) > dark_steadiness:
        return luma, light_rims, False
    return luma, dark_rims, True


def _search_rim(luma: np.ndarray, opening: np.ndarray, centre: np.ndarray, outward: float, distance: float,
                dark: bool = True) -> _Rim:
    """The rim round one eye (its ``opening`` [16, 2] and ``centre``, paint pixels), a ``dark`` line or a light
    one, one sample every ``RIM_STEP`` degrees."""
    angles = np.deg2rad(np.arange(0, 360, RIM_STEP))
    radii = np.linspace(*RIM_RADII, RIM_BINS) * distance
    directions = np.stack([outward * np.cos(angles), np.sin(angles)], axis=1)  # [n, 2]
    grid = (centre + directions[:, None, :] * radii[None, :, None]).astype(np.float32)  # [n, M, 2]
    polar = cv2.remap(luma, np.ascontiguousarray(grid[..., 0]), np.ascontiguousarray(grid[..., 1]),
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)  # [n, M]
    response, sigma = line_response(polar, radii[1] - radii[0], np.array(FRAME_SIGMAS) * distance, dark)
    relative = (opening - centre) * [outward, 1.0]
    order = np.argsort(np.arctan2(relative[:, 1], relative[:, 0]))
    reach = np.interp(np.where(angles > np.pi, angles - 2 * np.pi, angles),
                      np.arctan2(relative[order, 1], relative[order, 0]), np.hypot(*relative[order].T),
                      period=2 * np.pi)  # [n] the opening's radius at each angle
    nearest = np.searchsorted(radii, reach + RIM_CLEARANCE * distance)
    middle = closed_path(response, nearest, RIM_BEND)
    return _Rim(centre, distance, angles, directions, radii, polar, response, sigma, nearest, middle)


def _rim_edges(rim: _Rim) -> tuple[np.ndarray, np.ndarray]:
    """The rim's inner and outer edges, [n, 2] view points each: as wide as its line (``line_edges``, steadied)."""
    rows = np.arange(len(rim.angles))
    step = rim.radii[1] - rim.radii[0]
    edges = line_edges(rim.polar, rim.middle, rim.sigma[rows, rim.middle] / step)
    inner, outer = (_steady(edge - rim.middle) for edge in edges)
    return rim.at(np.maximum(rim.middle + inner, rim.nearest - 1)), rim.at(rim.middle + outer)


def line_response(profiles: np.ndarray, step: float, sigmas: np.ndarray, dark: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(strength, sigma) [n, M] each: how strongly each of ``profiles`` [n, M] (samples ``step`` apart) shows a
    thin line across it at each sample (a ``dark`` one, darker than either side; else a light one), at the best of
    ``sigmas`` (the same units as ``step``): the scale-normalised second derivative less the first (an edge between
    two levels is no line)."""
    best = np.zeros_like(profiles)
    chosen = np.full_like(profiles, sigmas[0])
    sign = 1.0 if dark else -1.0
    for sigma in sigmas:
        smooth = cv2.GaussianBlur(profiles, (0, 0), sigmaX=sigma / step, sigmaY=0.6)
        slope = np.gradient(smooth, axis=1) / step
        curvature = np.gradient(slope, axis=1) / step
        strength = sigma * sigma * np.maximum(sign * curvature, 0.0) - sigma * np.abs(slope)
        better = strength > best
        best[better], chosen[better] = strength[better], sigma
    return best, chosen


def closed_path(response: np.ndarray, nearest: np.ndarray, bend: int) -> np.ndarray:
    """[n] the column of each row of ``response`` [n, M] (rows round a closed loop) on the path of greatest total
    response that moves at most ``bend`` columns between neighbouring rows and keeps to columns from ``nearest``
    [n] on: dynamic programming over one and a half turns, the last full turn kept (its start is free)."""
    rows, columns = response.shape
    allowed = np.arange(columns)[None, :] >= nearest[:, None]
    gain = np.where(allowed, response, -1e3)
    order = np.concatenate([np.arange(rows), np.arange(rows // 2)])
    total = gain[order[0]].copy()
    came_from = []
    for row in order[1:]:
        shifted = np.stack([np.roll(total, shift) for shift in range(-bend, bend + 1)])  # [2b+1, M]
        for k, shift in enumerate(range(-bend, bend + 1)):  # no wrapping round the radius
            if shift > 0:
                shifted[k, :shift] = -np.inf
            elif shift < 0:
                shifted[k, shift:] = -np.inf
        best = np.argmax(shifted, axis=0)
        came_from.append(np.arange(columns) - (best - bend))
        total = shifted[best, np.arange(columns)] + gain[row]
    path = np.zeros(len(order), int)
    path[-1] = int(np.argmax(total))
    for k in range(len(order) - 1, 0, -1):
        path[k - 1] = came_from[k - 1][path[k]]
    kept = np.zeros(rows, int)
    kept[order[-rows:]] = path[-rows:]
    return kept


def line_edges(profiles: np.ndarray, middle: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(before, after) [n]: where each of ``profiles`` [n, M] crosses halfway from its line's value at ``middle``
    [n] to its value ``FRAME_REACH`` × ``sigma`` [n] samples away, on either side (at most that far)."""
    smooth = cv2.GaussianBlur(profiles, (0, 0), sigmaX=0.7, sigmaY=0.6)
    last = profiles.shape[1] - 1
    edges = np.zeros((2, len(middle)))
    for row, (at, width) in enumerate(zip(middle, sigma)):
        reach = max(2, int(round(FRAME_REACH * width)))
        for side, sign in enumerate((-1, 1)):
            far = int(np.clip(at + sign * reach, 0, last))
            half = (smooth[row, at] + smooth[row, far]) / 2
            step = at
            while 0 < step < last and abs(step - at) < reach and (smooth[row, step] - half) * (
                    smooth[row, at] - half) > 0:
                step += sign
            edges[side, row] = step
    return edges[0], edges[1]


def _steady(offsets: np.ndarray) -> np.ndarray:
    """A rim edge's offsets from its middle [n] (round a loop), its outliers taken out: the median of each
    ``STEADY_SAMPLES`` neighbours, at most ``STEADY_SPREAD`` times the rim's median offset."""
    half = STEADY_SAMPLES // 2
    looped = np.concatenate([offsets[-half:], offsets, offsets[:half]])
    local = np.median(np.lib.stride_tricks.sliding_window_view(looped, STEADY_SAMPLES), axis=1)
    typical = float(np.median(np.abs(offsets)))
    return np.sign(local) * np.minimum(np.abs(local), STEADY_SPREAD * max(typical, 1.0))


def _bridge(luma: np.ndarray, rims: list[np.ndarray], distance: float, dark: bool) -> np.ndarray:
    """uint8 [P, P]: the bridge between the rims (their middles [n, 2], paint pixels): the height between the eyes
    where a level line is strongest (the median over ``BRIDGE_COLUMNS`` columns across the gap), drawn from rim to
    rim as wide as it is."""
    left, right = sorted(rims, key=lambda rim: rim[:, 0].mean())
    x0, x1 = left[:, 0].max(), right[:, 0].min()
    top = int(min(left[:, 1].min(), right[:, 1].min()))
    bottom = int(max(left[:, 1].mean(), right[:, 1].mean()))  # a bridge is no lower than the rims' middle
    ys = np.arange(top, max(bottom, top + 2), dtype=np.float32)
    inset = BRIDGE_INSET * (x1 - x0)
    xs = np.linspace(x0 + inset, x1 - inset, BRIDGE_COLUMNS, dtype=np.float32)
    columns = cv2.remap(luma, np.tile(xs, (len(ys), 1)), np.tile(ys[:, None], (1, len(xs))), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT).T  # [C, h]: each a column across the gap, top down
    response, sigma = line_response(np.ascontiguousarray(columns), 1.0, np.array(FRAME_SIGMAS) * distance, dark)
    row = int(np.argmax(np.median(response, axis=0)))
    height, width = ys[row], float(np.median(sigma[:, row])) * BAR_WIDTH
    ends = [rim[np.argmin(np.abs(rim[:, 1] - height) + np.abs(rim[:, 0] - x))] for rim, x in ((left, x0), (right, x1))]
    bridge = np.zeros(luma.shape, np.uint8)
    cv2.line(bridge, *(tuple(int(v) for v in np.round(end)) for end in ends), 1, max(2, int(round(width))))
    return bridge
