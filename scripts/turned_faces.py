"""How well the mesh basis's motion foretells a turned face's: SynthFACS identities rendered neutral and with each of
a few emotions (``facs.EDIT_PROTOTYPES``), frontal and turned (yaw), meshed by mediapipe; the true motion of the mesh
(the emotion's mesh in the neutral face's aligned crop, minus the neutral's) against the basis's, turned into the
face's frame only (``MeshBasis.turned``) and foreshortened on the far side too (``mesh_motion.face_basis``, the
editor's). Printed per yaw: the mean distance between each and the truth at the points that move, all of it and its
part across the face, in pixels of a 64-pixel crop; and the smile's corners' motion across the face, image-left
and image-right, rendered and drawn. mediapipe reads a render's lips and brows as moving less than they are drawn
(``data.mesh_basis``), so neither comes to 0; what the turn adds to the frontal error is what a basis fitted on
frontal faces gets wrong on turned ones (about a minute):

    python scripts/turned_faces.py [--identities 12] [--yaws -24 -12 0 12 24]
"""

from __future__ import annotations

import argparse

import numpy as np

from lsgan.data.faces import FaceAligner, MediapipeDetector, affine_points
from lsgan.data.mesh_basis import MeshBasis
from lsgan.data.synthfacs import Pose, render, sample_identity
from lsgan.editing.mesh_motion import face_basis
from lsgan.facs import NUM_AUS, edit_vector
from lsgan.metrics.photo import eye_frame

EMOTIONS = ("happy", "surprised", "fearful", "angry")
SIZE = 64
CORNERS = (61, 291)  # the mouth's corners, image-left and image-right
MOVED = 0.3  # crop pixels: the points whose true motion is at least this far


def in_photo(face: np.ndarray) -> np.ndarray:
    """A 256-pixel render in the middle of a grey photo (the aligner needs room round the face)."""
    photo = np.full((400, 400, 3), 128, np.uint8)
    photo[72:328, 72:328] = face
    return photo


def measured(identity: int, yaw: float, basis: MeshBasis, aligner: FaceAligner, mesh: MediapipeDetector) -> list[dict]:
    """Per emotion of one identity turned by ``yaw``: the errors of both motions and the corners' motion across."""
    person, pose = sample_identity(identity), Pose(yaw=yaw)
    neutral = aligner.align(in_photo(render(person, np.zeros(NUM_AUS), 256, pose=pose).image))
    points = neutral.landmarks.points
    rotation = eye_frame(points)[2]
    bases = {"turned": basis.turned(rotation), "foreshortened": face_basis(basis, points)}
    rows = []
    for emotion in EMOTIONS:
        aus = edit_vector(emotion)
        found = mesh.detect(in_photo(render(person, aus, 256, pose=pose).image))
        if not found:
            continue
        truth = affine_points(found[0].landmarks.points, neutral.matrix) - points  # [478, 2] crop pixels
        moved = np.linalg.norm(truth, axis=1) >= MOVED
        row = {"emotion": emotion, "truth": truth[list(CORNERS)] @ rotation[0]}
        for name, moving in bases.items():
            drawn = moving.motion(np.zeros(NUM_AUS), aus) * SIZE
            row[name] = np.linalg.norm(drawn - truth, axis=1)[moved].mean()
            row[name + " across"] = np.abs((drawn - truth) @ rotation[0])[moved].mean()
            row[name + " corners"] = drawn[list(CORNERS)] @ rotation[0]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=12, help="SynthFACS test identities 200, 201, ...")
    parser.add_argument("--yaws", type=float, nargs="+", default=[-24.0, -12.0, 0.0, 12.0, 24.0])
    args = parser.parse_args()
    basis, mesh = MeshBasis.load(), MediapipeDetector()
    print("| yaw | edits | error, turned / foreshortened (px) | across | smile's corners across: rendered | turned "
          "| foreshortened |")
    print("|---|---|---|---|---|---|---|")
    with FaceAligner(SIZE) as aligner:
        for yaw in args.yaws:
            rows = [row for identity in range(200, 200 + args.identities)
                    for row in measured(identity, yaw, basis, aligner, mesh)]
            smiles = [row for row in rows if row["emotion"] == "happy"]

            def mean(key: str, of: list[dict] = rows) -> np.ndarray:
                return np.mean([row[key] for row in of], axis=0)

            def corners(key: str) -> str:
                return "{:+.2f} / {:+.2f}".format(*mean(key, smiles))

            print(f"| {yaw:+.0f} | {len(rows)} | {mean('turned'):.3f} / {mean('foreshortened'):.3f} | "
                  f"{mean('turned across'):.3f} / {mean('foreshortened across'):.3f} | {corners('truth')} | "
                  f"{corners('turned corners')} | {corners('foreshortened corners')} |")


if __name__ == "__main__":
    main()
