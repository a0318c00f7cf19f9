"""The folds an AU change makes, shaded as the SynthFACS renderer shades them, carried to a photo by its mesh.

A warp moves what a face has; it cannot make the folds an expression makes (a deepened nasolabial fold, glabellar
furrows, a wrinkled nose, crow's feet, forehead lines). SynthFACS draws them: each AU deepens "grooves" of the
renderer's height model (``data.synthfacs.geometry``), which its light shades (``data.synthfacs.shading``).
``crease_shade`` renders that light on the folds alone (each groove less its neutral depth: the eyelid crease and
the nose's sides cancel; no bumps, no part masks; not the nasolabial folds and the nose's wrinkles, which the
renderer draws in ways that look painted on a photo, ``LEFT_OUT_FOLDS``) for a reference SynthFACS face, the mean of the mesh basis's
identities, at the edit's source and target AUs, and carries the ratio to the photo through the face mesh both
share:

    shade(q) = F_target(t(q)) / F_source(s(q))

where ``q`` is a pixel of the edited crop, lying in some triangle of the photo's moved mesh, and ``t(q)``/``s(q)``
are the same place in the reference face's mesh at the target/source AUs (moved by the mesh basis). The photo's
own light and skin stay; the folds the change makes darken it. It never lightens: a fold to undo may not be there
(``editing.unfold`` lightens those the photo itself shows).

Opt-in (``EditorConfig.creases``, ``--creases``): on the photo benchmark it raises what the classifiers read
(docs/real_photos.md), but the folds come out as drawn lines, and softened until they do not, they no longer help.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

from lsgan.data.faces import FaceTemplate, MediapipeDetector, affine_points, similarity_matrix
from lsgan.data.mesh_basis import MeshBasis, MeshBasisSettings
from lsgan.data.synthfacs import Identity, Pose, render, sample_identity
from lsgan.data.synthfacs.frame import Frame
from lsgan.data.synthfacs.geometry import FaceShape, face_shape, head_depth
from lsgan.data.synthfacs.raster import Canvas
from lsgan.data.synthfacs.shading import AMBIENT, CREASE_DARKENING, DIRECT, Light, height_field, lambert
from lsgan.editing.paint import paint_grid
from lsgan.facs import NUM_AUS

REFERENCE_SIZE = 256  # render side of the reference face's shading
# A fold darkens the photo, down to 0.6 of its light; nothing lightens it: a fold the source's reading says is there
# and the target undoes may not be in the photo (G_exp reads AU9 on resting faces), and undoing it drew light stripes
SHADE_LIMITS = (0.6, 1.0)
SKIN_MASKS = ("lips", "mouth", "eyes", "hair")  # height_field's part masks: none is used (skin only)
# Folds not carried to photos: the renderer draws the nasolabial fold close around the mouth corner and the wrinkles of
# the nose as a ladder of even stripes; on photos they read as a thin moustache and painted lines (docs/real_photos.md)
LEFT_OUT_FOLDS = ("nasolabial", "nose_wrinkle")


@dataclass(frozen=True)
class CreaseReference:
    """The reference face: its identity and its neutral mesh in crop fractions, with the crop -> render matrix."""

    identity: Identity
    points: np.ndarray  # [478, 2] crop fractions, neutral
    crop_to_render: np.ndarray  # [2, 3] crop fractions -> render pixels


def mean_identity(settings: MeshBasisSettings) -> Identity:
    """The mesh basis's identities averaged, field by field (numbers only; no glasses)."""
    ids = range(settings.first_identity, settings.first_identity + settings.identities)
    people = [sample_identity(i, settings.seed) for i in ids]
    means = {f.name: float(np.mean([getattr(p, f.name) for p in people]))
             for f in fields(Identity) if isinstance(getattr(people[0], f.name), float)}
    return replace(people[0], glasses=False, **means)


@lru_cache(maxsize=1)
def crease_reference(settings: MeshBasisSettings = MeshBasisSettings()) -> CreaseReference:
    """The reference face of a mesh basis made with ``settings``: rendered neutral once and meshed."""
    identity = mean_identity(settings)
    detector = MediapipeDetector()
    try:
        faces = detector.detect(render(identity, np.zeros(NUM_AUS), REFERENCE_SIZE).image)
    finally:
        detector.close()
    landmarks = faces[0].landmarks
    to_crop = similarity_matrix(landmarks.anchors(), FaceTemplate().points(1.0))
    points = landmarks.transformed(to_crop).points
    return CreaseReference(identity, points.astype(np.float32), cv2.invertAffineTransform(to_crop))


def expression_folds(shape: FaceShape, left_out: tuple[str, ...] = LEFT_OUT_FOLDS) -> FaceShape:
    """``shape`` with only what its AUs add to its height: each groove less its neutral depth (but the kinds
    ``left_out``), no bumps."""
    grooves = [replace(g, depth=g.depth - g.rest, rest=0.0) for g in shape.grooves
               if g.depth != g.rest and g.kind not in left_out]
    return replace(shape, grooves=grooves, bumps=[], chin_dimpling=0.0)


@lru_cache(maxsize=32)  # one photo's edits share its source's shading
def _fold_shading(identity: Identity, aus: tuple[float, ...]) -> np.ndarray:
    return fold_shading(identity, np.asarray(aus, np.float64))


def fold_shading(identity: Identity, aus: np.ndarray, size: int = REFERENCE_SIZE) -> np.ndarray:
    """``[size, size]`` the renderer's light on the folds a frontal ``identity`` showing ``aus`` [16] has, on an
    otherwise flat face (1 where there are none): Lambert shading of the folds' height times the darkening of
    their creases (``data.synthfacs.shading``)."""
    canvas = Canvas(size, 1)
    frame = Frame.make(canvas, Pose())
    empty = np.zeros((canvas.side, canvas.side), bool)
    folds = expression_folds(face_shape(identity, aus, aus))
    height, crease = height_field(folds, frame, dict.fromkeys(SKIN_MASKS, empty), identity.texture_seed)
    light = Light()
    facing = lambert(height - head_depth(frame.x, frame.y), canvas, light)
    diffuse = (AMBIENT + DIRECT * facing) / (AMBIENT + DIRECT * light.direction()[2])  # 1 on a flat face
    return (diffuse * (1 - CREASE_DARKENING * crease)).astype(np.float32)


def crease_shade(target_points: np.ndarray, crop_size: int, source_aus: np.ndarray, target_aus: np.ndarray,
                 basis: MeshBasis, scale: int, reference: CreaseReference | None = None) -> np.ndarray:
    """``[P, P]`` (P = ``scale`` × ``crop_size``) multiplier of the edited crop's pixels (1: unchanged), for the
    photo's moved mesh ``target_points`` [478, 2] (crop pixels); see the module docstring."""
    reference = reference or crease_reference(basis.settings)
    side = crop_size * scale
    moved_source = reference.points + basis.shape_of(source_aus)
    moved_target = reference.points + basis.shape_of(target_aus)
    grid = paint_grid(side, scale)
    xs, ys = np.meshgrid(grid, grid)
    where = LinearNDInterpolator(target_points, np.concatenate([moved_source, moved_target], axis=1))(xs, ys)
    inside = np.isfinite(where[..., 0])
    where = np.nan_to_num(where, nan=0.0)
    shades = [_sampled(_fold_shading(reference.identity, tuple(np.round(np.asarray(aus, np.float64), 4))), place,
                       reference)
              for aus, place in ((source_aus, where[..., 0:2]), (target_aus, where[..., 2:4]))]
    ratio = shades[1] / np.maximum(shades[0], 1e-3)
    ratio = np.where(inside, np.clip(ratio, *SHADE_LIMITS), 1.0)
    return ratio.astype(np.float32)


def _sampled(shading: np.ndarray, place: np.ndarray, reference: CreaseReference) -> np.ndarray:
    """``shading`` [R, R] (reference render pixels) read at ``place`` [P, P, 2] (reference crop fractions)."""
    at = affine_points(place.reshape(-1, 2), reference.crop_to_render).reshape(place.shape).astype(np.float32)
    return cv2.remap(shading, at[..., 0], at[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
