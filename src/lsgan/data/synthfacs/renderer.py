"""``render``: one SynthFACS image and its label map from (identity, AU vector, pose, light).

Pipeline: geometry (outlines in the face frame) -> pose -> label map painted back-to-front on a supersampled
canvas -> albedo per class with procedural textures -> height field shading -> box-filter / majority downsample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from lsgan.data.synthfacs.frame import Frame, Pose
from lsgan.data.synthfacs.geometry import FaceShape, ellipse, face_shape
from lsgan.data.synthfacs.identity import Identity
from lsgan.data.synthfacs.raster import (
    Canvas,
    downsample_image,
    downsample_labels,
    fill_mask,
)
from lsgan.data.synthfacs.shading import CREASE_DARKENING, SKIN_SHADOW_TINT, Light, height_field, shade
from lsgan.data.synthfacs.texture import albedo, eye_highlights
from lsgan.errors import LsganError
from lsgan.facs import NUM_AUS, check_au_vector
from lsgan.parsing import CLASS_INDEX, NUM_PARSING_CLASSES

Side = Literal["left", "right"]
C = CLASS_INDEX
SKIN_CLASSES = [C[name] for name in ("skin", "nose", "ear", "neck", "upper_lip", "lower_lip")]


class RenderError(LsganError, ValueError):
    """Render arguments that cannot be used (size, side, supersampling)."""


@dataclass(frozen=True)
class Render:
    image: np.ndarray  # uint8 [H, W, 3]
    labels: np.ndarray  # uint8 [H, W], values index lsgan.parsing.PARSING_CLASSES


def side_vectors(aus: np.ndarray, unilateral: Side | None) -> tuple[np.ndarray, np.ndarray]:
    """AU vectors acting on the image-left and image-right halves of the face."""
    if unilateral is None:
        return aus, aus
    zeros = np.zeros(NUM_AUS, dtype=aus.dtype)
    if unilateral == "left":
        return aus, zeros
    if unilateral == "right":
        return zeros, aus
    raise RenderError(f"unilateral must be 'left', 'right' or None, got {unilateral!r}")


def default_supersample(size: int) -> int:
    return 2 if size >= 128 else 3


class _Painter:
    """Paints classes back to front and keeps the masks the texturing step needs."""

    def __init__(self, canvas: Canvas, pose: Pose):
        self.canvas, self.pose = canvas, pose
        self.labels = np.zeros((canvas.side, canvas.side), dtype=np.uint8)

    def mask(self, outline: np.ndarray) -> np.ndarray:
        return fill_mask(self.canvas, self.pose.forward(outline))

    def paint(self, mask: np.ndarray, cls: int, inside: np.ndarray | None = None) -> np.ndarray:
        if inside is not None:
            mask = mask & inside
        self.labels[mask] = cls
        return mask


def paint_labels(shape: FaceShape, painter: _Painter) -> dict[str, np.ndarray]:
    """Label map of ``shape`` (in ``painter.labels``) and the masks used later for texturing."""
    m: dict[str, np.ndarray] = {}
    painter.paint(painter.mask(shape.hair_back), C["hair"])
    painter.paint(painter.mask(shape.neck), C["neck"])
    painter.paint(painter.mask(shape.clothes), C["clothes"])
    for ear in shape.ears:
        painter.paint(painter.mask(ear), C["ear"])
    m["face"] = painter.paint(painter.mask(shape.face), C["skin"])
    m["hair_front"] = np.zeros_like(m["face"])
    for part in shape.hair_front:
        m["hair_front"] |= painter.paint(painter.mask(part), C["hair"])
    m["nose"] = painter.paint(painter.mask(shape.nose.outline), C["nose"])
    m["brows"] = np.zeros_like(m["face"])
    for brow, cls in zip(shape.brows, (C["left_brow"], C["right_brow"])):
        m["brows"] |= painter.paint(painter.mask(brow), cls)
    m["eyes"], m["lashes"], m["iris"] = (np.zeros_like(m["face"]) for _ in range(3))
    for eye, eye_cls, iris_cls in zip(shape.eyes, (C["left_eye"], C["right_eye"]), (C["left_iris"], C["right_iris"])):
        opening = painter.mask(eye.opening)
        m["lashes"] |= painter.paint(painter.mask(eye.lashes) & ~opening, eye_cls)
        m["eyes"] |= painter.paint(opening, eye_cls)
        iris = _disc(painter, eye.iris_centre, eye.iris_radius)
        m["iris"] |= painter.paint(iris, iris_cls, inside=opening)
    mouth = shape.mouth
    # the interior first: the lips then cover its outline, which is a line even when the mouth is closed
    interior = painter.paint(painter.mask(mouth.interior), C["mouth_interior"])
    teeth = painter.paint(
        painter.mask(mouth.upper_teeth) | painter.mask(mouth.lower_teeth), C["teeth"], inside=interior
    )
    m["lips"] = painter.paint(painter.mask(mouth.upper_lip), C["upper_lip"])
    m["lips"] |= painter.paint(painter.mask(mouth.lower_lip), C["lower_lip"])
    m["mouth"], m["teeth"] = interior & ~m["lips"], teeth & ~m["lips"]
    m["hair"] = painter.labels == C["hair"]
    m["lens"] = np.zeros_like(m["face"])
    if shape.glasses is not None:
        rims = np.zeros_like(m["face"])
        for outer, inner in zip(shape.glasses.rims_outer, shape.glasses.rims_inner):
            inner_mask = painter.mask(inner)
            m["lens"] |= inner_mask
            rims |= painter.mask(outer) & ~inner_mask
        for bar in shape.glasses.bars:
            rims |= painter.mask(bar) & ~m["lens"]
        m["glasses"] = painter.paint(rims, C["glasses"])
    return m


def _disc(painter: _Painter, centre: tuple[float, float], radius: float) -> np.ndarray:
    return painter.mask(ellipse(centre, (radius, radius), 32))


def lighten(
    colour: np.ndarray,
    labels: np.ndarray,
    masks: dict[str, np.ndarray],
    diffuse: np.ndarray,
    specular: np.ndarray,
    oily: np.ndarray | None = None,
) -> np.ndarray:
    """Apply shading to everything but the background, with warm (sub-surface) shadows on skin and shine
    (``oily``: 0-1 map of where skin shines more, the forehead and nose)."""
    table = np.zeros((NUM_PARSING_CLASSES, 2), np.float32)  # per class: is skin, shininess
    table[:, 1] = 0.08
    table[C["background"], 1] = table[C["clothes"], 1] = 0.0
    table[C["hair"], 1] = 0.1
    table[SKIN_CLASSES, 0] = 1.0
    per_pixel = table[labels]
    shine = per_pixel[..., 1]
    if oily is not None:
        shine = shine * (1 + 1.5 * oily * per_pixel[..., 0])
    shine = np.where(masks["lips"], np.float32(0.2), shine)
    warm = per_pixel[..., 0:1] * (diffuse * (1 - diffuse))[..., None] * SKIN_SHADOW_TINT  # lifts red in the penumbra
    shading = np.where((labels == C["background"])[..., None], np.float32(1.0), diffuse[..., None] + warm)
    return colour * shading + (specular * shine)[..., None]


def t_zone(identity: Identity, frame: Frame) -> np.ndarray:
    """Where skin is oilier and shines more: the forehead and the nose (0-1)."""
    x, y = frame.x, frame.y
    forehead = np.exp(-0.5 * ((x / 0.16) ** 2 + ((y - identity.eye_y + 0.24) / 0.08) ** 2))
    nose = np.exp(-0.5 * ((x / 0.04) ** 2 + ((y - (identity.eye_y + identity.nose_tip_y) / 2) / 0.09) ** 2))
    return np.maximum(forehead, nose).astype(np.float32)


# ------------------------------------------------------------------------------------------------------------ render
def render(
    identity: Identity,
    aus: np.ndarray | list[float],
    size: int = 128,
    pose: Pose | None = None,
    light: Light | None = None,
    unilateral: Side | None = None,
    supersample: int | None = None,
) -> Render:
    """Render ``identity`` showing AU vector ``aus`` (16 values, 0-1; ``unilateral`` limits them to one image side).

    ``pose`` defaults to frontal, ``light`` to a frontal light from 30 degrees above; ``supersample`` to 2 for
    sizes >= 128, else 3."""
    pose, light = pose or Pose(), light or Light()
    if not 16 <= int(size) <= 1024:
        raise RenderError(f"render size must be between 16 and 1024 pixels, got {size}")
    factor = supersample or default_supersample(size)
    if not 1 <= factor <= 8:
        raise RenderError(f"supersample must be 1-8, got {factor}")
    vector = np.round(check_au_vector(aus).astype(np.float64), 4)
    canvas = Canvas(int(size), factor)
    shape = face_shape(identity, *side_vectors(vector, unilateral))
    painter = _Painter(canvas, pose)
    masks = paint_labels(shape, painter)
    labels = painter.labels
    frame = Frame.make(canvas, pose)
    colour = albedo(identity, shape, masks, labels, frame)
    height, crease = height_field(shape, frame, masks, identity.texture_seed)
    diffuse, specular = shade(height, canvas, light)
    lit = diffuse * (1 - CREASE_DARKENING * crease)
    colour = lighten(colour, labels, masks, lit, specular, t_zone(identity, frame))
    colour += 0.9 * eye_highlights(shape, masks, frame, light)[..., None]
    image = downsample_image(np.clip(colour, 0.0, 1.0), factor)
    return Render(
        image=np.round(image * 255.0).astype(np.uint8),
        labels=downsample_labels(labels, factor, NUM_PARSING_CLASSES),
    )
