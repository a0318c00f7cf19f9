"""How face-like SynthFACS renders are to real detectors: dlib's HOG detector, mediapipe face detection and
face-mesh landmark hits.

Renders N random faces (random identity, emotion or spontaneous AUs, pose, light) at --size, gives them to dlib's
HOG detector at --size as rendered (no upsampling), upscales them to --detect-size for mediapipe, and prints:
  HOG rate:       fraction where dlib.get_frontal_face_detector() finds a face (upsample 0, threshold 0), and the
                  mean of its best detection score (higher: more face-like to HOG; misses count as 0)
  detection rate: fraction with a face from mp.solutions.face_detection (model_selection=0)
  mesh rate:      fraction where mp.solutions.face_mesh (static mode) finds a face
  landmark hits:  among meshed faces, fraction whose eye-centre landmarks (mean of the lid/corner points of each
                  eye) fall on that eye's labels and whose inner-lip landmarks (13, 14) fall on lip/mouth labels
                  (a label map dilated by --tolerance pixels counts as a hit).
Usage: python scripts/synthfacs_detection.py [--count 200] [--size 128] [--detect-size 256] [--seed 0]
"""

from __future__ import annotations

import argparse

import dlib
import mediapipe as mp
import numpy as np
from PIL import Image
from scipy import ndimage

from lsgan.data.synthfacs import (
    render,
    sample_expression,
    sample_identity,
    sample_pose_light,
)
from lsgan.parsing import CLASS_INDEX

# face-mesh indices: (corners, upper lid, lower lid) of the eye on image-left and image-right, and the inner lips
IMAGE_LEFT_EYE = (33, 133, 159, 145)
IMAGE_RIGHT_EYE = (362, 263, 386, 374)
INNER_LIPS = (13, 14)


def region(labels: np.ndarray, names: tuple[str, ...], tolerance: int) -> np.ndarray:
    mask = np.isin(labels, [CLASS_INDEX[n] for n in names])
    return ndimage.binary_dilation(mask, iterations=tolerance) if tolerance else mask


def landmark_hits(mesh, labels: np.ndarray, tolerance: int) -> bool:
    size = labels.shape[0]
    points = np.array([[p.x, p.y] for p in mesh.landmark]) * size

    def on(indices, names) -> bool:
        col, row = np.clip(np.round(points[list(indices)].mean(axis=0)).astype(int), 0, size - 1)
        return bool(region(labels, names, tolerance)[row, col])

    left = on(IMAGE_LEFT_EYE, ("left_eye", "left_iris"))
    right = on(IMAGE_RIGHT_EYE, ("right_eye", "right_iris"))
    mouth = all(on((i,), ("upper_lip", "lower_lip", "mouth_interior", "teeth")) for i in INNER_LIPS)
    return left and right and mouth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--detect-size", type=int, default=256, help="upscale renders to this size for mediapipe")
    parser.add_argument("--identities", type=int, default=67)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=int, default=1, help="label dilation (pixels at --size) for a landmark hit")
    args = parser.parse_args()

    detector = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)
    mesher = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
    hog = dlib.get_frontal_face_detector()
    detected = meshed = hits = hog_found = 0
    hog_score = 0.0
    rng = np.random.default_rng(args.seed)
    for index in range(args.count):
        identity = sample_identity(int(rng.integers(args.identities)), args.seed)
        expression = sample_expression(rng)
        pose, light = sample_pose_light(rng)
        out = render(identity, expression.aus, args.size, pose, light, expression.unilateral)
        _, scores, _ = hog.run(out.image, 0, 0.0)
        hog_found += len(scores) > 0
        hog_score += max(scores, default=0.0)
        big = np.asarray(Image.fromarray(out.image).resize((args.detect_size,) * 2, Image.BICUBIC))
        detected += bool(detector.process(big).detections)
        result = mesher.process(big)
        if result.multi_face_landmarks:
            meshed += 1
            hits += landmark_hits(result.multi_face_landmarks[0], out.labels, args.tolerance)
    print(f"renders: {args.count} at {args.size}px, upscaled to {args.detect_size}px for mediapipe")
    print(f"HOG rate (dlib frontal face detector at {args.size}px, upsample 0): {hog_found / args.count:.1%}")
    print(f"HOG mean best score (misses as 0): {hog_score / args.count:.2f}")
    print(f"detection rate (face_detection, model_selection=0): {detected / args.count:.1%}")
    print(f"mesh rate (face_mesh, static): {meshed / args.count:.1%}")
    print(f"landmark hit rate (eyes and inner lips on their labels, of meshed faces): {hits / max(meshed, 1):.1%}")


if __name__ == "__main__":
    main()
