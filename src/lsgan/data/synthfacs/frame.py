"""Where each pixel is: the head pose (face frame -> image frame) and the per-pixel coordinate grids of a render."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lsgan.data.synthfacs.geometry import head_depth
from lsgan.data.synthfacs.raster import Canvas, fractal_noise

# Face frame -> image frame zoom and shift: frames the head like an aligned RaFD/DISFA crop.
FACE_SCALE = 1.12
FACE_SHIFT_Y = -0.03


@dataclass(frozen=True)
class Pose:
    """Small head rotation in degrees: yaw (positive turns the face towards image-right) and roll (clockwise)."""

    yaw: float = 0.0
    roll: float = 0.0

    def _trig(self) -> tuple[float, float, float, float]:
        yaw, roll = np.deg2rad(self.yaw), np.deg2rad(self.roll)
        return np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Face-frame points [N, 2] -> image-frame points."""
        cy, sy, cr, sr = self._trig()
        x, y = points[:, 0], points[:, 1]
        x = x * cy + head_depth(x, y) * sy
        image = np.stack([x * cr - y * sr, x * sr + y * cr], axis=1)
        return image * FACE_SCALE + [0.0, FACE_SHIFT_Y]

    def inverse(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image-frame pixel coordinates -> face-frame coordinates (one fixed-point step; yaw is small)."""
        cy, sy, cr, sr = self._trig()
        u, v = u / FACE_SCALE, (v - FACE_SHIFT_Y) / FACE_SCALE
        x_rot, y = u * cr + v * sr, -u * sr + v * cr
        x = x_rot / cy
        x = (x_rot - head_depth(x, y) * sy) / cy
        return x.astype(np.float32), y.astype(np.float32)


@dataclass
class Frame:
    """Everything per-pixel code needs: the canvas, the pose, and the image/face-frame coordinates of each pixel."""

    canvas: Canvas
    pose: Pose
    u: np.ndarray
    v: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def make(cls, canvas: Canvas, pose: Pose) -> Frame:
        u, v = canvas.grid()
        return cls(canvas, pose, u, v, *pose.inverse(u, v))

    def box(self, points: np.ndarray, margin: float) -> tuple[slice, slice]:
        """Pixel slices around face-frame points (after pose)."""
        return self.canvas.box(self.pose.forward(np.asarray(points, dtype=np.float64)), margin)

    def mask_box(self, mask: np.ndarray, margin_pixels: float) -> tuple[slice, slice] | None:
        """Pixel slices around the set pixels of a mask, grown by a margin in output pixels (None if empty)."""
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if len(rows) == 0:
            return None
        grow = int(np.ceil(margin_pixels * self.canvas.supersample))
        return slice(max(rows[0] - grow, 0), rows[-1] + grow + 1), slice(max(cols[0] - grow, 0), cols[-1] + grow + 1)

    def noise(self, seed: int, cells: int, octaves: int = 1, gain: float = 0.5) -> np.ndarray:
        return fractal_noise(seed, self.canvas.side, cells, octaves, gain)

    def soft(self, mask: np.ndarray, sigma: float) -> np.ndarray:
        """A mask blurred by ``sigma`` output pixels: [side, side, 1] alpha for soft edges."""
        return ndimage.gaussian_filter(mask.astype(np.float32), sigma * self.canvas.supersample, truncate=2.5)[
            ..., None
        ]
