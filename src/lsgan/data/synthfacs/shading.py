"""The 2.5D height model of the head and its shading: Lambert diffuse + Blinn specular + ambient occlusion.

Heights are in image units; all fields are [side, side] arrays on the supersampled canvas, evaluated at the
face-frame coordinates (X, Y) of each pixel so that they follow the head pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lsgan.data.synthfacs.frame import Frame
from lsgan.data.synthfacs.geometry import (
    HEAD_CENTRE_Y,
    HEAD_DEPTH,
    HEAD_RADII,
    FaceShape,
    Groove,
    head_depth,
)
from lsgan.data.synthfacs.raster import Canvas, polyline_distance


@dataclass(frozen=True)
class Light:
    """A directional light. Azimuth: degrees from the camera axis, positive from image-right; elevation: from above."""

    azimuth: float = 0.0
    elevation: float = 30.0

    def direction(self) -> np.ndarray:
        az, el = np.deg2rad(self.azimuth), np.deg2rad(self.elevation)
        return np.array([np.sin(az) * np.cos(el), -np.sin(el), np.cos(az) * np.cos(el)])


# The diffuse light: AMBIENT + DIRECT × Lambert (times shadows and occlusion); a crease map of 1 (height_field) takes
# CREASE_DARKENING of it (renderer.render)
AMBIENT, DIRECT, CREASE_DARKENING = 0.3, 0.78, 0.45

# Skin scatters red light into its shadows: per channel, shading s becomes s + tint * s * (1 - s) (warm penumbra).
SKIN_SHADOW_TINT = np.array([0.25, 0.0, -0.12], dtype=np.float32)


def _groove_profile(x: np.ndarray, y: np.ndarray, groove: Groove) -> np.ndarray:
    dist, along = polyline_distance(x, y, groove.line)
    taper = np.clip(np.sin(np.pi * along), 0.0, 1.0) ** 0.6
    return taper * np.exp(-((dist / groove.width) ** 2))


def height_field(
    shape: FaceShape, frame: Frame, masks: dict[str, np.ndarray], texture_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Height of the head at every pixel, and a "crease" map (0-1) of how deep each pixel sits in a fold."""
    x, y = frame.x, frame.y
    height = head_depth(x, y)
    crease = np.zeros_like(height)
    for bump in shape.bumps:
        box = frame.box(np.array([bump.centre]), 3.5 * max(bump.sigma))
        gx = (x[box] - bump.centre[0]) / bump.sigma[0]
        gy = (y[box] - bump.centre[1]) / bump.sigma[1]
        height[box] += bump.amplitude * np.exp(-0.5 * (gx * gx + gy * gy))
    for groove in shape.grooves:
        box = frame.box(groove.line, 3 * groove.width)
        profile = _groove_profile(x[box], y[box], groove)
        height[box] -= groove.depth * profile
        if groove.depth > 0:
            crease[box] += groove.darken * groove.depth * 22 * profile
    for mask, amount, blur in ((masks["lips"], 0.018, 1.5), (masks["mouth"], -0.05, 1.0), (masks["eyes"], 0.01, 1.5)):
        box = frame.mask_box(mask, 3 * blur)
        if box is not None:
            height[box] += amount * frame.soft(mask[box], blur)[..., 0]
    rx, ry = (r + 2.5 * shape.hair_volume for r in HEAD_RADII)
    hair_dome = (HEAD_DEPTH + shape.hair_volume) * np.sqrt(
        np.clip(1.0 - (x / rx) ** 2 - ((y - HEAD_CENTRE_Y) / ry) ** 2, 0.0, 1.0)
    )
    np.copyto(height, np.maximum(height, hair_dome), where=masks["hair"])  # hair sits on a dome over the skull
    if shape.chin_dimpling > 0:
        cx, cy = shape.chin_centre
        window = np.exp(-0.5 * (((x - cx) / 0.06) ** 2 + ((y - cy) / 0.04) ** 2))
        dimples = frame.noise(texture_seed + 17, 140) * window  # orange-peel skin of the pushed-up chin
        height += shape.chin_dimpling * dimples
        crease += 16 * shape.chin_dimpling * np.clip(-dimples, 0, 1)
    return height, np.clip(crease, 0.0, 1.0)


def _blur_coarse(field: np.ndarray, sigma: float, step: int = 4) -> np.ndarray:
    """A wide Gaussian blur computed on a ``step``-times coarser grid (the result is smooth anyway)."""
    small = ndimage.gaussian_filter(field[step // 2 :: step, step // 2 :: step], sigma / step, mode="nearest")
    return ndimage.zoom(small, step, order=1, mode="nearest", grid_mode=True)[: field.shape[0], : field.shape[1]]


def cast_shadow(height: np.ndarray, canvas: Canvas, light: Light, steps: int = 8) -> np.ndarray:
    """Soft cast shadows (the nose on the cheek, brows into the sockets): a pixel is shadowed when the height
    field a little way towards the light rises above the light ray through it. 0 = lit, 1 = in shadow."""
    direction = light.direction()
    planar = np.hypot(direction[0], direction[1])
    if planar < 1e-3:
        return np.zeros_like(height)
    rise = direction[2] / planar  # height gained by the ray per unit of image distance
    step = 0.012  # image units between samples
    shadow = np.zeros_like(height)
    for k in range(1, steps + 1):
        dx, dy = (round(k * step * direction[i] / planar / canvas.pixel) for i in (0, 1))
        ahead = np.roll(height, (-dy, -dx), axis=(0, 1))
        shadow = np.maximum(shadow, (ahead - height - k * step * rise) / 0.01)
    return np.clip(shadow, 0.0, 1.0)


def _normals(height: np.ndarray, canvas: Canvas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The height's slopes (gx, gy) and 1 / |(-gx, -gy, 1)|, the length of each pixel's normal."""
    gy, gx = np.gradient(height, canvas.pixel)
    return gx, gy, 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)


def _facing(normals: tuple[np.ndarray, np.ndarray, np.ndarray], d: np.ndarray) -> np.ndarray:
    """Cosine between each pixel's normal and the unit direction ``d`` (0 where it faces away)."""
    gx, gy, inverse_length = normals
    return np.clip((d[2] - gx * d[0] - gy * d[1]) * inverse_length, 0.0, 1.0)


def lambert(height: np.ndarray, canvas: Canvas, light: Light) -> np.ndarray:
    """``[side, side]`` Lambert's cosine of the height field under ``light`` (no shadows, no occlusion)."""
    return _facing(_normals(height, canvas), light.direction())


def shade(height: np.ndarray, canvas: Canvas, light: Light, shininess: float = 18.0) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse factor (with ambient and occlusion) and a specular term, both [side, side]."""
    normals = _normals(height, canvas)
    direction = light.direction()
    halfway = direction + np.array([0.0, 0.0, 1.0])
    facing = _facing(normals, direction)
    specular = _facing(normals, halfway / np.linalg.norm(halfway)) ** shininess
    cavity = _blur_coarse(height, 4.0 * canvas.supersample) - height
    occlusion = np.clip(1.0 - 5.0 * cavity, 0.55, 1.0)
    lit = 1.0 - 0.7 * cast_shadow(height, canvas, light)
    diffuse = (AMBIENT + DIRECT * facing * lit) * occlusion
    return diffuse.astype(np.float32), specular.astype(np.float32)
