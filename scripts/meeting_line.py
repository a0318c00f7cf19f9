"""The line where closed lips meet, on real faces at rest and on smiles edited to neutral: the measurements behind
``editing.paint``'s ``MEETING_LINE_SHADE``, ``MEETING_LINE_ALPHA`` and ``MEETING_LINE_CHROMA``.

The faces are ``rest_geometry.py``'s (the training-only crops and the video frames that `lsgan data fetch photos`
fetches, read by face-api in the face's own box and meshed): those read neutral with p >= 0.9 whose lips are closed
(``lip_gap`` under 0.02 inter-ocular distances) are at rest; every N-th face read smiling (happy, p >= 0.6) is
edited to neutral by the shipped model and meshed again in its box, kept where its lips are closed. On each, the
line is sampled across (``OFFSETS``, inter-ocular distances) at ``PLACES`` along the mouth, from corner to corner
through the middle of the mesh's inner-lip contours, and measured (``line_measures``): its depth (the darkest luma
within 0.04 of the line over the mean luma 0.07-0.1 off it), its width (how far it is darker than halfway to that,
within 0.06), and, over the middle third of the mouth at the line's darkest offset, its colour against the lips'
0.02-0.05 off it (CIELAB lightness ratio, a* difference). Printed: medians over the faces, the middle third of the
mouth and its corners apart (a few minutes):

    python scripts/meeting_line.py [--photos ~/.cache/lsgan/data/photos] [--every 3]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lsgan.data.faces import MediapipeDetector
from lsgan.data.images import read_image
from lsgan.data.mesh_basis import LIP_CONTOURS
from lsgan.data.photos import default_photos_dir
from lsgan.metrics.photo import MOUTH_CORNERS, eye_frame, geometry_readings
from rest_geometry import AT_REST, SMILING, edited_meshes, print_summary, read_as, read_faces

PLACES = np.linspace(0.04, 0.96, 24)  # along the mouth, from the image-left corner (0) to the right one (1)
OFFSETS = np.round(np.arange(-0.1, 0.1001, 0.005), 3)  # across the line, inter-ocular distances, image-down positive
MIDDLE = (PLACES >= 1 / 3) & (PLACES <= 2 / 3)
CORNERS = (PLACES < 0.16) | (PLACES > 0.84)
CLOSED_GAP = 0.02  # inter-ocular distances: lips this close are closed


@dataclass(frozen=True)
class LineSamples:
    luma: np.ndarray  # [places, offsets] grey levels
    lab: np.ndarray  # [places, offsets, 3] CIELAB (L* 0-100)


def line_samples(photo: np.ndarray, points: np.ndarray) -> LineSamples:
    """The photo (uint8 H×W×3) sampled across the line where the lips of its mesh ``points`` [478, 2] (photo
    pixels) meet, at ``PLACES`` along it and ``OFFSETS`` across (perpendicular to the eyes' line)."""
    _, ocular, rotation = eye_frame(points)
    down = rotation[1]
    middle = (points[list(LIP_CONTOURS[1])] + points[list(LIP_CONTOURS[2])]) / 2
    line = np.vstack([points[MOUTH_CORNERS[0]], middle, points[MOUTH_CORNERS[1]]])
    length = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))]
    at = np.stack([np.interp(PLACES, length / length[-1], line[:, k]) for k in (0, 1)], axis=1)  # [places, 2]
    grid = (at[:, None, :] + OFFSETS[None, :, None] * ocular * down).astype(np.float32)  # [places, offsets, 2]

    def sampled(image: np.ndarray) -> np.ndarray:
        return cv2.remap(image, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lab = cv2.cvtColor(photo.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return LineSamples(sampled(grey), sampled(lab))


def line_measures(samples: LineSamples) -> dict[str, np.ndarray | float]:
    """``depth`` and ``width`` [places] of the line (see the module docstring), and over the middle third its
    ``lightness`` (L* at the darkest offset over the lips') and ``redness`` (a* there minus the lips')."""
    near, off, half_reach = np.abs(OFFSETS) <= 0.04, np.abs(OFFSETS) >= 0.07, np.abs(OFFSETS) <= 0.06
    darkest, around = samples.luma[:, near].min(axis=1), samples.luma[:, off].mean(axis=1)
    halfway = (darkest + around) / 2
    step = float(OFFSETS[1] - OFFSETS[0])
    lab = samples.lab[MIDDLE]  # [middle places, offsets, 3]
    row = np.flatnonzero(near)[np.argmin(lab[:, near, 0].mean(axis=0))]
    lips = (np.abs(OFFSETS) >= 0.02) & (np.abs(OFFSETS) <= 0.05)
    line, lip = lab[:, row].mean(axis=0), lab[:, lips].mean(axis=(0, 1))
    return {"depth": darkest / np.maximum(around, 1.0),
            "width": (samples.luma[:, half_reach] < halfway[:, None]).sum(axis=1) * step,
            "lightness": float(line[0] / max(lip[0], 1e-6)), "redness": float(line[1] - lip[1])}


def summary(measures: list[dict]) -> dict[str, float | int]:
    """Medians over faces of ``line_measures``' records: depth and width over the middle third and the corners."""
    if not measures:
        raise SystemExit("no closed mouth measured")
    stacked = {name: np.array([m[name] for m in measures]) for name in ("depth", "width")}
    out: dict[str, float | int] = {"faces": len(measures)}
    for part, where in (("middle", MIDDLE), ("corners", CORNERS)):
        for name, values in stacked.items():
            out[f"{name}, {part}"] = float(np.median(values[:, where]))
    for name in ("lightness", "redness"):
        out[f"{name} against the lips, middle"] = float(np.median([m[name] for m in measures]))
    return out


def closed(readings: dict[str, float]) -> bool:
    """Whether a face's mesh readings (``geometry_readings``) have its lips closed."""
    return readings["lip_gap"] < CLOSED_GAP


def smiles_closed(smiles: list[dict], mesh: MediapipeDetector) -> list[dict]:
    """``line_measures`` of each smiling face (``read_frames`` records) edited to neutral by the shipped model,
    where the edit's mesh, found again in the face's box, has its lips closed."""
    return [line_measures(line_samples(edited, points)) for _, edited, points in edited_meshes(smiles, "neutral", mesh)
            if closed(geometry_readings(points))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--every", type=int, default=3, metavar="N", help="edit every N-th smiling face")
    args = parser.parse_args()
    frames, mesh, _ = read_faces(args.photos)
    rest = [frame for frame in read_as(frames, *AT_REST) if closed(frame["readings"])]
    at_rest = [line_measures(line_samples(read_image(frame["path"]), frame["points"])) for frame in rest]
    edits = smiles_closed(read_as(frames, *SMILING)[::max(1, args.every)], mesh)
    for name, measures in (("at rest", at_rest), ("smiles edited to neutral", edits)):
        print(f"{name}:")
        print_summary(summary(measures))


if __name__ == "__main__":
    main()
