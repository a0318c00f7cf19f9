"""How far mediapipe's mesh of a tilted face strays: the measurement behind ``MediapipeDetector.UPRIGHT_ROLL``.

Each photo's largest face is meshed as it is (the photo framed in grey, so that a turn keeps it whole), then the photo
is turned by each angle and the face meshed again, once in the crop round its box and once more in a crop turned
upright round that first mesh (what ``_mesh_points`` does past ``UPRIGHT_ROLL``). Printed per angle: the mean
distance of the lips' mesh points from where the upright photo's mesh puts them, in inter-ocular distances (the
faces' mean; the upright face meshed in another crop gives the floor, at 0 degrees):

    python scripts/mesh_roll.py PHOTO... [--angles 0 10 20 30 45]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from lsgan.data.faces import FRAME_GREY, FaceAligner, Landmarks, affine_points
from lsgan.data.images import read_image
from lsgan.data.mesh_basis import LIP_CONTOURS

LIPS = sorted({point for contour in LIP_CONTOURS for point in contour})


def strays(points: np.ndarray, upright: Landmarks) -> float:
    """Mean distance of the lips' points [478, 2] from ``upright``'s, in its inter-ocular distances."""
    eye_distance = float(np.linalg.norm(np.subtract(*upright.anchors()[:2])))
    return float(np.linalg.norm(points[LIPS] - upright.points[LIPS], axis=1).mean() / eye_distance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path, nargs="+")
    parser.add_argument("--angles", type=float, nargs="+", default=[0, 10, 20, 30, 45])
    args = parser.parse_args()
    rows: dict[float, list[tuple[float, float]]] = {angle: [] for angle in args.angles}
    with FaceAligner(64) as aligner:
        mesher = aligner._mesher
        for path in args.photos:
            photo = read_image(path)
            pad = max(photo.shape[:2]) // 2
            photo = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(FRAME_GREY,) * 3)
            mesher.UPRIGHT_ROLL = np.inf  # the upright face meshed once, as every upright face is
            faces = aligner.detect(photo)
            if not faces:
                print(f"{path.name}: no face")
                continue
            upright = max(faces, key=lambda face: face.area).landmarks
            height, width = photo.shape[:2]
            for angle in args.angles:
                turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
                turned = cv2.warpAffine(photo, turn, (width, height), borderValue=(FRAME_GREY,) * 3)
                found = aligner.detect(turned)
                if not found:
                    print(f"{path.name} at {angle:g} degrees: no face")
                    continue
                face = max(found, key=lambda f: f.area)
                back = cv2.invertAffineTransform(turn)
                meshes = []
                for upright_roll in (np.inf, -1.0):  # never turned upright; always
                    mesher.UPRIGHT_ROLL = upright_roll
                    meshes.append(mesher.mesh_in_box(turned, face.box))
                if any(mesh is None for mesh in meshes):
                    continue
                pair = tuple(strays(affine_points(mesh.points, back), upright) for mesh in meshes)
                rows[angle].append(pair)
                print(f"{path.name} at {angle:g} degrees: one pass {pair[0]:.4f}, turned upright {pair[1]:.4f}")
    for angle, pairs in rows.items():
        if pairs:
            one, two = np.mean(pairs, axis=0)
            print(f"{angle:g} degrees, {len(pairs)} faces: one pass {one:.4f}, turned upright {two:.4f}")


if __name__ == "__main__":
    main()
