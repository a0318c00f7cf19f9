"""Albedo: the colour of every pixel before shading, from the label map and procedural textures (skin blotches and
pores, hair strands, brow hairs, iris streaks, lip gradient, teeth, background, clothes)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lsgan.data.synthfacs.frame import Frame
from lsgan.data.synthfacs.geometry import Eye, FaceShape
from lsgan.data.synthfacs.identity import Colour, Identity
from lsgan.data.synthfacs.raster import fractal_noise, noise_1d, smoothstep
from lsgan.data.synthfacs.shading import Light
from lsgan.parsing import CLASS_INDEX as C

Masks = dict[str, np.ndarray]  # named boolean [side, side] masks from the label painting step


def _rgb(colour: Colour | tuple[float, ...]) -> np.ndarray:
    return np.asarray(colour, dtype=np.float32)


@lru_cache(maxsize=32)
def _background(seed: int, top: Colour, bottom: Colour, side: int) -> np.ndarray:
    axis = (np.arange(side, dtype=np.float32) + 0.5) * (2.0 / side) - 1.0
    u, v = np.meshgrid(axis, axis)
    t = smoothstep(-1.2, 1.2, v + 0.3 * u)[..., None]
    base = (1 - t) * _rgb(top) + t * _rgb(bottom)
    blotches = fractal_noise(seed, side, 3, 3)[..., None]
    vignette = 1.0 - 0.18 * (u * u + v * v)[..., None]
    image = base * (1 + 0.14 * blotches) * vignette
    image.setflags(write=False)
    return image


@lru_cache(maxsize=32)
def _fabric(seed: int, colour: Colour, side: int) -> np.ndarray:
    """Clothes: the colour with soft folds and a fine weave (cached like the background)."""
    fabric = 0.85 + 0.15 * fractal_noise(seed, side, 5, 2) + 0.04 * fractal_noise(seed + 1, side, 160, 1)
    image = fabric[..., None] * _rgb(colour)
    image.setflags(write=False)
    return image


def background(ident: Identity, frame: Frame) -> np.ndarray:
    """Backdrop: a two-colour gradient with soft blotches and a vignette (cached: it does not depend on the pose)."""
    return _background(ident.texture_seed + 1, ident.background_top, ident.background_bottom, frame.canvas.side)


def _set(colour: np.ndarray, where: np.ndarray, value: np.ndarray) -> None:
    """``colour[where] = value[where]`` for full-size arrays (faster than boolean indexing)."""
    np.copyto(colour, value, where=where[..., None])


def skin_albedo(ident: Identity, shape: FaceShape, frame: Frame, box: tuple[slice, slice]) -> np.ndarray:
    """Skin colour in a box of the canvas: blotches, pores, flushed cheeks and nose tip, and stubble."""
    x, y, seed = frame.x[box], frame.y[box], ident.texture_seed
    # blotches; mottling and pores at 1-2 output pixels (finer detail would vanish in the downsampling)
    pores = frame.canvas.size
    texture = (
        1
        + 0.06 * frame.noise(seed + 5, 12, 2)[box]
        + 0.03 * frame.noise(seed + 6, int(pores * 0.45))[box]
        + 0.02 * frame.noise(seed + 7, int(pores * 0.9))[box]
    )
    flush = sum(
        np.exp(-0.5 * (((x - cx) / 0.09) ** 2 + ((y - ident.nose_tip_y + 0.02) / 0.07) ** 2)) for cx in (-0.27, 0.27)
    )
    flush = flush + np.exp(-0.5 * ((x / 0.03) ** 2 + ((y - shape.nose.tip[1]) / 0.03) ** 2))
    # uneven colour: patches of redness (capillaries) and of sallow, yellower skin
    redness = np.clip(frame.noise(seed + 10, 7, 2)[box], 0, 1) * 0.06 + 0.07 * flush
    sallow = np.clip(-frame.noise(seed + 10, 7, 2)[box], 0, 1) * 0.04
    skin = texture[..., None] * _rgb(ident.skin_colour)
    skin = skin * (1 - redness[..., None] * _rgb((0.0, 1.0, 0.8)) - sallow[..., None] * _rgb((0.0, 0.0, 1.0)))
    if ident.stubble > 0:
        beard_zone = smoothstep(ident.nose_tip_y + 0.04, ident.mouth_y - 0.02, y) * (
            1 - smoothstep(0.5, 0.7, np.abs(x) / ident.face_half_width)
        )
        beard_zone = np.maximum(beard_zone, smoothstep(ident.mouth_y - 0.02, ident.mouth_y + 0.06, y))
        density = ident.stubble * 0.3 * beard_zone * (0.5 + 0.5 * frame.noise(seed + 8, 220)[box])
        skin = skin * (1 - density[..., None]) + density[..., None] * _rgb(ident.hair_colour) * 0.6
    return skin


def hair_albedo(ident: Identity, frame: Frame, where: np.ndarray) -> np.ndarray:
    """Hair colour at the pixels ``where`` [N, 3]: fine strands across the angle around the crown, long along it."""
    x, y, seed = frame.x[where], frame.y[where], ident.texture_seed
    crown_x, crown_y = ident.hair_parting * 0.12, ident.head_top_y + 0.15
    angle = np.arctan2(y - crown_y, x - crown_x) / (2 * np.pi)
    radius = np.hypot(x - crown_x, y - crown_y)
    if ident.hair_style == "curly":  # coils: fine isotropic grain over larger curls
        strands = 0.45 * frame.noise(seed + 3, 150, 1)[where] + 0.45 * frame.noise(seed + 4, 45, 1)[where]
    elif ident.hair_style == "buzz":  # stubble-like grain
        strands = 0.5 * frame.noise(seed + 3, 240, 1)[where]
    else:
        strands = 0.5 * noise_1d(seed + 3, angle, 700) + 0.5 * noise_1d(seed + 4, angle + 0.05 * radius, 240)
    clumps = frame.noise(seed + 2, 8, 2)[where]
    sheen = np.exp(-(((radius - 0.5 - 0.05 * clumps) / 0.07) ** 2))
    lift = 0.04 + 0.5 * _rgb(ident.hair_colour)  # highlights on dark hair stay visible
    hair = (0.75 + 0.4 * strands + 0.1 * clumps)[..., None] * _rgb(ident.hair_colour) + (0.35 * sheen)[..., None] * lift
    if ident.hair_style == "buzz":  # cropped hair: the scalp shows through
        hair = 0.7 * hair + 0.3 * _rgb(ident.skin_colour)
    return hair


def albedo(ident: Identity, shape: FaceShape, masks: Masks, labels: np.ndarray, frame: Frame) -> np.ndarray:
    """Colour of every canvas pixel before shading [side, side, 3]."""
    colour = background(ident, frame).copy()
    on_face = masks["face"] & (labels != C["hair"])  # brows, eyes, lips... are painted over skin
    neck, ears = labels == C["neck"], labels == C["ear"]
    box = frame.mask_box(on_face | neck | ears, 0)
    if box is not None:
        skin = skin_albedo(ident, shape, frame, box)
        chin_bottom = shape.face[:, 1].max()
        under_chin = 0.7 + 0.3 * smoothstep(chin_bottom - 0.02, chin_bottom + 0.15, frame.y[box])  # jaw shades the neck
        patch = colour[box]
        _set(patch, on_face[box], skin)
        _set(patch, neck[box], skin * (0.9 * under_chin[..., None]))
        _set(patch, ears[box], skin * 0.95)
    _paint_hair(ident, colour, labels, masks, frame)
    _paint_brows(ident, shape, colour, masks, frame)
    for eye in shape.eyes:
        _paint_eye(ident, eye, colour, masks, frame)
    colour[masks["lashes"]] = _rgb(ident.brow_colour) * 0.3
    _paint_mouth(ident, shape, colour, masks, labels, frame)
    _paint_nostrils_and_ears(ident, shape, colour, labels, frame)
    _set(colour, labels == C["clothes"], _fabric(ident.texture_seed + 9, ident.clothes_colour, frame.canvas.side))
    if shape.glasses is not None:
        lens = masks["lens"] & (labels != C["glasses"])
        colour[lens] = colour[lens] * 0.88 + 0.12 * _rgb((0.85, 0.9, 0.95))
        colour[labels == C["glasses"]] = _rgb(ident.glasses_colour)
    return colour


def _paint_hair(ident: Identity, colour: np.ndarray, labels: np.ndarray, masks: Masks, frame: Frame) -> None:
    hair = labels == C["hair"]
    box = frame.mask_box(masks["hair_front"], 2.5)
    alpha = np.zeros(hair.shape + (1,), np.float32)
    if box is not None:  # soft hairline: hair fades into the skin over ~2 pixels
        alpha[box] = 0.8 * frame.soft(masks["hair_front"][box], 1.0)
    near = masks["face"] & ~masks["hair_front"] & (alpha[..., 0] > 0.01)
    colour[hair] = hair_albedo(ident, frame, hair)
    a = alpha[near]
    colour[near] = colour[near] * (1 - a) + hair_albedo(ident, frame, near) * a


def _paint_brows(ident: Identity, shape: FaceShape, colour: np.ndarray, masks: Masks, frame: Frame) -> None:
    rows, cols = frame.box(np.concatenate(shape.brows), 0.03)
    box = (rows, cols)
    strands = 0.65 + 0.35 * noise_1d(ident.texture_seed + 11, frame.x[box] * 3 + frame.y[box] * 0.5, 200)
    alpha = np.clip(frame.soft(masks["brows"][box], 0.5)[..., 0] * 1.4 * strands, 0, 0.95)[..., None]
    colour[box] = colour[box] * (1 - alpha) + _rgb(ident.brow_colour) * alpha


def _paint_eye(ident: Identity, eye: Eye, colour: np.ndarray, masks: Masks, frame: Frame) -> None:
    """Sclera with the upper lid's shadow and pink corners; iris with streaks, limbal ring and pupil."""
    box = frame.box(np.array([eye.centre]), ident.eye_half_width * 1.5)
    x, y = frame.x[box], frame.y[box]
    cx, cy = eye.iris_centre
    lid_shadow = (0.5 + 0.5 * smoothstep(-ident.eye_opening * 1.3, ident.eye_opening * 0.5, y - cy))[..., None]
    inner_corner_x = eye.centre[0] - np.sign(eye.centre[0]) * ident.eye_half_width
    pink = np.exp(-(((x - inner_corner_x) / 0.03) ** 2))[..., None] * _rgb((0.0, 0.18, 0.15))
    sclera = (_rgb((0.93, 0.9, 0.87)) - pink) * lid_shadow
    r = np.hypot(x - cx, y - cy) / eye.iris_radius
    streaks = noise_1d(ident.texture_seed + 12, np.arctan2(y - cy, x - cx) / (2 * np.pi), 48)
    iris = _rgb(ident.iris_colour) * ((0.85 + 0.3 * streaks) * (1 - 0.5 * smoothstep(0.7, 1.0, r)))[..., None]
    iris = np.where((r < 0.42)[..., None], np.float32(0.02), iris) * lid_shadow
    eye_mask, iris_mask = masks["eyes"][box] & ~masks["iris"][box], masks["iris"][box]
    patch = colour[box]
    patch[eye_mask] = sclera[eye_mask]
    patch[iris_mask] = iris[iris_mask]


def eye_highlights(shape: FaceShape, masks: Masks, frame: Frame, light: Light) -> np.ndarray:
    """Specular glint on each cornea, placed towards the light; a 0-1 map."""
    glint = np.zeros(frame.x.shape, np.float32)
    lx, ly, _ = light.direction()
    for eye in shape.eyes:
        box = frame.box(np.array([eye.iris_centre]), eye.iris_radius * 1.5)
        gx = eye.iris_centre[0] + 0.35 * eye.iris_radius * lx
        gy = eye.iris_centre[1] + 0.45 * eye.iris_radius * ly - 0.15 * eye.iris_radius
        d2 = ((frame.x[box] - gx) ** 2 + (frame.y[box] - gy) ** 2) / (0.24 * eye.iris_radius) ** 2
        glint[box] += np.exp(-(d2**2))
    return np.clip(glint, 0, 1) * (masks["eyes"] | masks["iris"])


def _paint_mouth(
    ident: Identity, shape: FaceShape, colour: np.ndarray, masks: Masks, labels: np.ndarray, frame: Frame
) -> None:
    mouth = shape.mouth
    box = frame.box(np.concatenate([mouth.upper_lip, mouth.lower_lip]), 0.03)
    x, y, patch, lab = frame.x[box], frame.y[box], colour[box], labels[box]
    (lx, ly), (rx, ry) = mouth.corners
    mid_x, mid_y = (lx + rx) / 2, (ly + ry) / 2
    # darker towards the lip line and the corners, fuller and lighter in the middle of each lip
    across = np.clip(np.abs(y - mid_y) / (ident.lower_lip + 1e-3), 0, 1)
    along = 1 - np.clip(np.abs(x - mid_x) / (abs(rx - lx) / 2 + 1e-3), 0, 1)
    lip = _rgb(ident.lip_colour) * (0.75 + 0.25 * (across * along**0.5))[..., None]
    lips = masks["lips"][box]
    patch[lips] = lip[lips] * np.where((lab[lips] == C["upper_lip"])[:, None], 0.9, 1.0)
    alpha = 0.5 * frame.soft(lips, 0.5)
    near = masks["face"][box] & ~lips & (lab != C["mouth_interior"]) & (alpha[..., 0] > 0.01)
    patch[near] = (patch * (1 - alpha) + lip * alpha)[near]
    depth = smoothstep(-0.01, 0.1, y - mid_y)[..., None]
    inside = _rgb((0.45, 0.16, 0.16)) * depth + _rgb((0.12, 0.04, 0.04))
    interior = lab == C["mouth_interior"]
    patch[interior] = inside[interior]
    gaps = np.abs(np.cos(np.pi * (x - mid_x) / 0.03)) ** 0.12
    side_shadow = 1 - 0.55 * smoothstep(0.03, 0.13, np.abs(x - mid_x))
    teeth = _rgb((0.93, 0.9, 0.8)) * (gaps * side_shadow)[..., None]
    tooth = lab == C["teeth"]
    patch[tooth] = teeth[tooth]


def _paint_nostrils_and_ears(
    ident: Identity, shape: FaceShape, colour: np.ndarray, labels: np.ndarray, frame: Frame
) -> None:
    for nostril in shape.nose.nostrils:
        box = frame.box(np.array([nostril]), 0.04)
        x, y = frame.x[box], frame.y[box]
        dark = np.exp(-((((x - nostril[0]) / 0.018) ** 2 + ((y - nostril[1]) / 0.009) ** 2) ** 1.5))
        colour[box] *= (1 - 0.8 * dark * (labels[box] == C["nose"]))[..., None]
    for ear in shape.ears:
        cx, cy = ear.mean(axis=0)
        box = frame.box(ear, 0.01)
        x, y, ears = frame.x[box], frame.y[box], labels[box] == C["ear"]
        inner = np.exp(-(((x - cx) / 0.025) ** 2 + ((y - cy) / 0.07) ** 2))
        colour[box] *= (1 - 0.35 * inner * ears)[..., None]
        if ident.earrings:
            stud = ears & (np.hypot(x - cx, y - (cy + 0.095)) < 0.014)
            colour[box][stud] = _rgb((0.85, 0.7, 0.3))
