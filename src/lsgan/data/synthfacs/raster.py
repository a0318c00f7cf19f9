"""Low-level drawing on the supersampled grid: smooth curves, polygon fill, distance to polylines,
seeded value noise and the box/majority downsampling that makes the final anti-aliased image and label map.

Coordinates: the "image frame" spans [-1, 1] on both axes (x right, y down); ``Canvas`` maps it to pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage


@dataclass(frozen=True)
class Canvas:
    """The supersampled pixel grid of one render: ``size * supersample`` pixels a side."""

    size: int
    supersample: int

    @property
    def side(self) -> int:
        return self.size * self.supersample

    @property
    def pixel(self) -> float:
        """Width of one supersampled pixel in image-frame units."""
        return 2.0 / self.side

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """Image-frame points [N, 2] -> pixel coordinates [N, 2] (col, row), pixel centres at integers."""
        return (points + 1.0) * 0.5 * self.side - 0.5

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Image-frame coordinates of every pixel centre: (U, V), each [side, side]."""
        axis = (np.arange(self.side, dtype=np.float32) + 0.5) * self.pixel - 1.0
        return np.meshgrid(axis, axis)

    def box(self, points: np.ndarray, margin: float) -> tuple[slice, slice]:
        """Row/col slices of the pixels within ``margin`` (image units) of the points' bounding box."""
        lo = np.floor(self.to_pixels(points.min(axis=0) - margin)).astype(int)
        hi = np.ceil(self.to_pixels(points.max(axis=0) + margin)).astype(int) + 1
        lo = np.clip(lo, 0, self.side)
        hi = np.clip(hi, 0, self.side)
        return slice(lo[1], hi[1]), slice(lo[0], hi[0])


def catmull_rom(points: np.ndarray, samples: int = 8, closed: bool = False) -> np.ndarray:
    """A smooth curve through control points [N, 2] (uniform Catmull-Rom), ``samples`` points per segment."""
    pts = np.asarray(points, dtype=np.float64)
    if closed:
        padded = np.concatenate([pts[-1:], pts, pts[:2]])
    else:
        padded = np.concatenate([2 * pts[:1] - pts[1:2], pts, 2 * pts[-1:] - pts[-2:-1]])
    p0, p1, p2, p3 = (padded[i : len(padded) - 3 + i, None, :] for i in range(4))  # [segments, 1, 2]
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[None, :, None]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
    curve = curve.reshape(-1, 2)
    return curve if closed else np.concatenate([curve, pts[-1:]])


def fill_mask(canvas: Canvas, outline: np.ndarray) -> np.ndarray:
    """Boolean [side, side] mask of the inside of a closed polygon given in image-frame units."""
    image = Image.new("1", (canvas.side, canvas.side), 0)
    ImageDraw.Draw(image).polygon([tuple(p) for p in canvas.to_pixels(np.asarray(outline)).tolist()], fill=1)
    return np.array(image, dtype=bool)


def polyline_distance(x: np.ndarray, y: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points (x, y) to a polyline [N, 2], and the position along it (0 at start, 1 at end)."""
    start, seg = line[:-1], np.diff(line, axis=0)  # [S, 2]
    px, py = x[..., None] - start[:, 0], y[..., None] - start[:, 1]  # [..., S]
    t = np.clip((px * seg[:, 0] + py * seg[:, 1]) / np.maximum((seg**2).sum(axis=1), 1e-12), 0.0, 1.0)
    dist = np.hypot(px - t * seg[:, 0], py - t * seg[:, 1])
    nearest = dist.argmin(axis=-1)[..., None]
    along = (nearest[..., 0] + np.take_along_axis(t, nearest, axis=-1)[..., 0]) / len(seg)
    return np.take_along_axis(dist, nearest, axis=-1)[..., 0].astype(np.float32), along.astype(np.float32)


@lru_cache(maxsize=96)
def noise_image(seed: int, side: int, cells_x: int, cells_y: int, order: int = 1) -> np.ndarray:
    """A [side, side] image of lattice noise in [-1, 1] with ``cells_x`` x ``cells_y`` random cells, upsampled.

    Textures are made as images of the canvas (not per-point lookups): zooming a small lattice is ~50x faster.
    Cached because every image of an identity reuses the same textures. Treat the result as read-only.
    """
    lattice = np.random.default_rng(seed).uniform(-1.0, 1.0, (cells_y + 1, cells_x + 1)).astype(np.float32)
    image = ndimage.zoom(
        lattice, (side / (cells_y + 1), side / (cells_x + 1)), order=order, mode="nearest", grid_mode=True
    )
    image.setflags(write=False)
    return image


@lru_cache(maxsize=128)
def fractal_noise(seed: int, side: int, cells: int, octaves: int, gain: float = 0.5) -> np.ndarray:
    """Sum of ``octaves`` noise images, each twice as fine and ``gain`` times as strong, normalised to ~[-1, 1].
    Cached like ``noise_image``; read-only."""
    total = np.zeros((side, side), dtype=np.float32)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        n = min(cells * 2**octave, side)
        total += amplitude * noise_image(seed + 7919 * octave, side, n, n, 3 if octave == 0 else 1)
        norm += amplitude
        amplitude *= gain
    total /= norm
    total.setflags(write=False)
    return total


def noise_1d(seed: int, t: np.ndarray, cells: int) -> np.ndarray:
    """Smooth periodic 1D noise in [-1, 1] of a coordinate t in [0, 1) (e.g. an angle / 2 pi)."""
    knots = np.random.default_rng(seed).uniform(-1.0, 1.0, cells + 1)
    knots[-1] = knots[0]
    return np.interp(np.mod(t, 1.0) * cells, np.arange(cells + 1), knots).astype(np.float32)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def downsample_image(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter a [S, S, 3] float image by ``factor`` (the anti-aliasing step)."""
    total = sum(image[i::factor, j::factor] for i in range(factor) for j in range(factor))
    return total / (factor * factor)


def downsample_labels(labels: np.ndarray, factor: int, num_classes: int) -> np.ndarray:
    """Majority class of each ``factor`` x ``factor`` block of a [S, S] label map (ties: the lower class id)."""
    s = labels.shape[0] // factor
    blocks = labels.reshape(s, factor, s, factor).transpose(0, 2, 1, 3).reshape(s * s, factor * factor)
    result = blocks[:, 0].copy()
    mixed = np.nonzero(blocks.min(axis=1) != blocks.max(axis=1))[0]  # only edge blocks need a vote
    counts = (blocks[mixed, :, None] == np.arange(num_classes, dtype=labels.dtype)).sum(axis=1)
    result[mixed] = counts.argmax(axis=1)
    return result.reshape(s, s).astype(np.uint8)
