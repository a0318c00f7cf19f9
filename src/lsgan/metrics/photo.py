"""Measures of an expression edit of a real photo, where there is no true target to compare with.

- ``FaceDescriber``: dlib's 128-d face descriptor (ResNet, ``face_recognition_models``) on dlib's 68-point shape;
  the Euclidean distance between source and edit says whether the edit is still the same person (dlib's own
  threshold for "different person" is ``SAME_PERSON_THRESHOLD`` = 0.6; photos of one person are usually 0.3-0.5
  apart, an untouched copy 0). ``describe_crop`` describes an aligned face crop that fills its image (SynthFACS
  renders, model edits): small crops are upsampled and described in the whole-image box, since dlib's detector
  misses faces in small images.
- ``FaceResDescriber``: a second identity judge, HSE FaceRes (``lsgan.nets.faceres``: a MobileNet trained on
  VGGFace2's people, from npm ``@vladmandic/human``), the cosine distance of its 1024-d descriptors of a square
  crop around the face box. Its training, architecture and input differ from dlib's, so an identity claim need not
  rest on one model. ``FACERES_SAME_PERSON_THRESHOLD`` was measured on this project's real faces
  (``scripts/identity_judges.py``, docs/real_photos.md).
- ``detail_kept``: variance of the Laplacian inside the face box, edit / source: under 1 the edit is blurrier
  (an edit drawn at a lower resolution than the photo loses detail), over 1 it added texture or noise.
- ``outside_change``: how much the edit changed pixels outside the source's face hull (dilated a little); an
  editor that blends only inside the face leaves 0.
- ``geometry_readings``: expression geometry from mediapipe's 478-point mesh, in units of the inter-ocular
  distance, in a frame whose x axis runs along the eye line (so head roll does not count): brows, lids, nose wings,
  lips, mouth corners and jaw, each a FACS appearance change defined by hand on the mesh's points. ``READING_AUS``
  says which AUs move each reading and which way, ``AU_READING`` the one reading that stands for each of the 16
  AUs (``scripts/synthfacs_au_readings.py`` correlates it with SynthFACS's rendered intensities);
  ``expected_sign`` turns ``READING_AUS`` into the direction FACS expects for an edit to one of the eight emotions
  (``facs.EDIT_PROTOTYPES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from lsgan.data.faces import Box, dlib_predictor_path
from lsgan.data.images import resize_image
from lsgan.facs import EDIT_PROTOTYPES, UNILATERAL_EMOTIONS, UNILATERAL_SIDE
from lsgan.nets.faceres import INPUT_SIZE as FACERES_INPUT_SIZE

SAME_PERSON_THRESHOLD = 0.6
# FaceRes's cosine distance between photos of the same person is under 0.31 for 95 % of the pairs, between
# different people over 0.48 for 95 % (72 real faces of 32 people: `python scripts/identity_judges.py`); the
# threshold lies between them.
FACERES_SAME_PERSON_THRESHOLD = 0.4
FACERES_BOX_SCALE = 1.2  # the crop's side, in face-box sides (the best of 1.0-1.7 at telling those people apart)
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


class FaceResDescriber:
    """HSE FaceRes's 1024-d descriptor of the square around a face box (``box_scale``, by default
    ``FACERES_BOX_SCALE``, times its larger side, centred on it, resampled to 224×224 with area averaging; the photo
    reflected where the square leaves it); ``distance`` is the cosine distance (0 the same descriptor,
    ``FACERES_SAME_PERSON_THRESHOLD`` and above: another person)."""

    threshold = FACERES_SAME_PERSON_THRESHOLD

    def __init__(self, device: str = "cpu", box_scale: float = FACERES_BOX_SCALE) -> None:
        from lsgan.nets.pretrained import load_faceres

        self._device = torch.device(device)
        self._net = load_faceres().to(self._device)
        self.box_scale = box_scale

    @torch.inference_mode()
    def describe(self, photo: np.ndarray, box: Box) -> np.ndarray:
        """``[1024]`` float64 descriptor of the face in ``box`` of an RGB uint8 ``H×W×3`` photo."""
        face = torch.from_numpy(faceres_crop(photo, box, self.box_scale).astype(np.float32)).permute(2, 0, 1)[None]
        return self._net(face.to(self._device))[0].cpu().double().numpy()

    def distance(self, source: np.ndarray, edit: np.ndarray, box: Box) -> float:
        """Identity distance between the faces in ``box`` of two photos of the same size."""
        return cosine_distance(self.describe(source, box), self.describe(edit, box))


def faceres_crop(photo: np.ndarray, box: Box, box_scale: float = FACERES_BOX_SCALE) -> np.ndarray:
    """``[224, 224, 3]`` uint8: the square ``FaceResDescriber`` reads around ``box`` (``box_scale`` times its larger
    side)."""
    x0, y0, x1, y1 = box  # pixel edges: pixel i spans [i, i + 1), its centre (OpenCV's i) at i + 0.5
    scale = FACERES_INPUT_SIZE / (max(x1 - x0, y1 - y0) * box_scale)
    centre = (FACERES_INPUT_SIZE - 1) / 2
    matrix = np.array([[scale, 0.0, centre - scale * ((x0 + x1) / 2 - 0.5)],
                       [0.0, scale, centre - scale * ((y0 + y1) / 2 - 0.5)]])
    return cv2.warpAffine(np.ascontiguousarray(photo), matrix, (FACERES_INPUT_SIZE, FACERES_INPUT_SIZE),
                          flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT_101)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 − the cosine of two descriptors (0 for the same direction; 1 for an all-zero one)."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 - float(np.dot(a, b)) / norms if norms > 0 else 1.0


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

# Indices into mediapipe's face mesh (from ``face_mesh_connections.FACEMESH_*``; checked by drawing them on
# SynthFACS renders); "R"/"L" are the subject's right/left (image left/right).
EYE_CORNERS_R = (33, 133)  # outer, inner
EYE_CORNERS_L = (263, 362)
UPPER_LID_R = (160, 159, 158)  # middle three points of the upper lid's edge (FACEMESH_RIGHT_EYE)
UPPER_LID_L = (387, 386, 385)
LOWER_LID_R = (144, 145, 153)  # middle three of the lower lid's edge
LOWER_LID_L = (373, 374, 380)
BROW_R = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)  # upper contour outer->inner, then lower contour
BROW_L = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
INNER_BROW_R = (107, 55)  # upper and lower contour at the inner end
INNER_BROW_L = (336, 285)
MEDIAL_BROW_R = (66, 107, 65, 55)  # the inner two points of each contour (AU1's part of the brow)
MEDIAL_BROW_L = (296, 336, 295, 285)
LATERAL_BROW_R = (70, 63, 46, 53)  # the outer two of each contour (AU2's part)
LATERAL_BROW_L = (300, 293, 276, 283)
NOSE_WINGS = (64, 98, 294, 327)  # each ala's outer point and its base at the cheek (FACEMESH_NOSE)
NOSE_BASE = 2  # subnasale, where the columella meets the upper lip
MOUTH_CORNERS = (61, 291)
UPPER_LIP_OUTER = 0  # the upper lip's vermilion border in the middle (cupid's bow)
UPPER_LIP_INNER = 13  # middle of the upper lip's inner edge: moves with AU10, not with the jaw
LOWER_LIP_INNER = 14
LOWER_LIP_OUTER = 17  # the lower lip's vermilion border in the middle
NOSE_TIP = 1
CHIN = 152
MESH_POINTS = 478

# Each reading is a FACS appearance change measured on the mesh (by hand from FACS's descriptions of the AUs, not
# fitted to any data), top of the face to the bottom.
READING_DOCS: dict[str, str] = {
    "brow_height": "brows above the eye centres (mean of both brows' 10 points)",
    "inner_brow_height": "inner halves of the brows (4 points each) above the eye centres",
    "outer_brow_height": "outer halves of the brows (4 points each) above the eye centres",
    "brow_asymmetry": "the picture's left brow's height (as brow_height) less the right one's: one-sided",
    "brow_gap": "distance between the inner brow ends",
    "upper_lid_height": "upper lids' middle above their eye's corner line",
    "lower_lid_height": "lower lids' middle below their eye's corner line",
    "eye_aperture": "upper to lower lid, in the lids' middle",
    "nose_wing_height": "nose wings (alae and their bases) below the eye centres",
    "nose_to_upper_lip": "nose base (subnasale) down to the upper lip's middle (outer and inner edge)",
    "corner_lift": "mouth corners above the middle of the upper lip's inner edge",
    "corner_asymmetry": "the picture's left mouth corner's lift (as corner_lift) less the right one's: one-sided",
    "mouth_width": "corner-to-corner distance",
    "lip_thickness": "height of the red of both lips in the middle (outer to inner edge, upper + lower)",
    "lip_gap": "inner-lip gap (point 13 to 14)",
    "nose_to_lower_lip": "nose base (subnasale) down to the lower lip's outer edge",
    "jaw_drop": "nose tip (1) to chin (152)",
}
READINGS: tuple[str, ...] = tuple(READING_DOCS)
# Which AUs move each reading, and which way (+1: the reading grows), from FACS's descriptions of each AU.
READING_AUS: dict[str, dict[int, int]] = {
    "brow_height": {1: +1, 2: +1, 4: -1},
    "inner_brow_height": {1: +1, 4: -1},
    "outer_brow_height": {2: +1, 4: -1},
    "brow_asymmetry": {},  # as corner_asymmetry: only a one-sided change moves it
    "brow_gap": {4: -1},
    "upper_lid_height": {5: +1},
    "lower_lid_height": {6: -1, 7: -1},
    "eye_aperture": {5: +1, 6: -1, 7: -1},
    "nose_wing_height": {9: -1, 10: -1},
    "nose_to_upper_lip": {9: -1, 10: -1},
    "corner_lift": {12: +1, 15: -1},
    "corner_asymmetry": {},  # an AU acting on both sides alike leaves it; a one-sided edit moves it (expected_sign)
    "mouth_width": {12: +1, 14: -1, 20: +1},
    "lip_thickness": {23: -1},
    "lip_gap": {25: +1, 26: +1},
    "nose_to_lower_lip": {17: -1, 25: +1, 26: +1},
    "jaw_drop": {26: +1},
}
# The readings of one side of the face against the other, and the AUs that move them when they act on one side
# (+: on the picture's left)
ONE_SIDED_AUS: dict[str, tuple[int, ...]] = {"corner_asymmetry": (12,), "brow_asymmetry": (1, 2)}
# The one reading that stands for each AU (with its sign from ``READING_AUS``), chosen from FACS before any AU was
# measured on it: the AU's first-named appearance change (AU4 lowers the brows, AU7 narrows the eye aperture, AU6
# pushes the lower lid up, AU17 pushes the lower lip up).
AU_READING: dict[int, str] = {
    1: "inner_brow_height",
    2: "outer_brow_height",
    4: "brow_height",
    5: "upper_lid_height",
    6: "lower_lid_height",
    7: "eye_aperture",
    9: "nose_wing_height",
    10: "nose_to_upper_lip",
    12: "corner_lift",
    14: "mouth_width",
    15: "corner_lift",
    17: "nose_to_lower_lip",
    20: "mouth_width",
    23: "lip_thickness",
    25: "lip_gap",
    26: "jaw_drop",
}


def eye_frame(points: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(the eye centres' midpoint [2], their distance, the rotation [2, 2] whose rows are the eye line's direction
    and its normal, image "down") of a mediapipe mesh ``[478, 2]``: the frame the readings are taken in."""
    eye_r, eye_l = points[list(EYE_CORNERS_R)].mean(axis=0), points[list(EYE_CORNERS_L)].mean(axis=0)
    axis = eye_l - eye_r
    ocular = float(np.linalg.norm(axis))
    if ocular == 0:
        raise ValueError("degenerate mesh: both eye centres at one point")
    x_axis = axis / ocular
    return (eye_r + eye_l) / 2, ocular, np.stack([x_axis, [-x_axis[1], x_axis[0]]])


def geometry_readings(points: np.ndarray) -> dict[str, float]:
    """``READINGS`` of one face from its mediapipe mesh ``[478, 2]`` (photo pixels), in inter-ocular distances."""
    if points.shape != (MESH_POINTS, 2):
        raise ValueError(f"expected mediapipe's {MESH_POINTS}-point mesh, got points of shape {points.shape}")
    middle, ocular, rotation = eye_frame(points)
    face = (points - middle) @ rotation.T / ocular  # [478, 2], eye midpoint at 0, y down
    y = face[:, 1]

    def mean_y(*indices: int) -> float:
        return float(y[list(indices)].mean())

    def distance(a: int | tuple[int, ...], b: int | tuple[int, ...]) -> float:
        pa = face[list(a) if isinstance(a, tuple) else a].reshape(-1, 2).mean(axis=0)
        pb = face[list(b) if isinstance(b, tuple) else b].reshape(-1, 2).mean(axis=0)
        return float(np.linalg.norm(pa - pb))

    def both_eyes(right: tuple[int, ...], left: tuple[int, ...]) -> float:
        """Mean height of the lid points below their own eye's corner line, over both eyes."""
        return (mean_y(*right) - mean_y(*EYE_CORNERS_R) + mean_y(*left) - mean_y(*EYE_CORNERS_L)) / 2

    eyes = mean_y(*EYE_CORNERS_R, *EYE_CORNERS_L)  # 0 up to rounding: the frame's origin is the eye midpoint
    upper_lid, lower_lid = both_eyes(UPPER_LID_R, UPPER_LID_L), both_eyes(LOWER_LID_R, LOWER_LID_L)
    return {
        "brow_height": eyes - mean_y(*BROW_R, *BROW_L),
        "inner_brow_height": eyes - mean_y(*MEDIAL_BROW_R, *MEDIAL_BROW_L),
        "outer_brow_height": eyes - mean_y(*LATERAL_BROW_R, *LATERAL_BROW_L),
        "brow_asymmetry": mean_y(*EYE_CORNERS_R) - mean_y(*BROW_R) - mean_y(*EYE_CORNERS_L) + mean_y(*BROW_L),
        "brow_gap": distance(INNER_BROW_R, INNER_BROW_L),
        "upper_lid_height": -upper_lid,
        "lower_lid_height": lower_lid,
        "eye_aperture": lower_lid - upper_lid,
        "nose_wing_height": mean_y(*NOSE_WINGS) - eyes,
        "nose_to_upper_lip": mean_y(UPPER_LIP_OUTER, UPPER_LIP_INNER) - mean_y(NOSE_BASE),
        "corner_lift": mean_y(UPPER_LIP_INNER) - mean_y(*MOUTH_CORNERS),
        "corner_asymmetry": mean_y(MOUTH_CORNERS[1]) - mean_y(MOUTH_CORNERS[0]),  # y down: left's lift less right's
        "mouth_width": distance(MOUTH_CORNERS[0], MOUTH_CORNERS[1]),
        "lip_thickness": mean_y(UPPER_LIP_INNER) - mean_y(UPPER_LIP_OUTER)
        + mean_y(LOWER_LIP_OUTER) - mean_y(LOWER_LIP_INNER),
        "lip_gap": distance(UPPER_LIP_INNER, LOWER_LIP_INNER),
        "nose_to_lower_lip": mean_y(LOWER_LIP_OUTER) - mean_y(NOSE_BASE),
        "jaw_drop": distance(NOSE_TIP, CHIN),
    }


def geometry_change(source_points: np.ndarray, edit_points: np.ndarray) -> dict[str, float]:
    """Each reading of the edit minus that of the source (meshes ``[478, 2]``)."""
    before, after = geometry_readings(source_points), geometry_readings(edit_points)
    return {name: after[name] - before[name] for name in READINGS}


def expected_sign(emotion: str, reading: str) -> int:
    """+1 / -1: the direction FACS expects ``reading`` to move towards ``emotion`` (from the AUs an edit asks for);
    0 when none of its AUs moves the reading, or they pull both ways (sad: AU1 raises the brows, AU4 lowers). A
    reading of one side against the other (``ONE_SIDED_AUS``) moves with a one-sided emotion's AUs that move it,
    towards the side it acts on."""
    if reading in ONE_SIDED_AUS:
        acts = emotion in UNILATERAL_EMOTIONS and any(au in EDIT_PROTOTYPES[emotion] for au in ONE_SIDED_AUS[reading])
        return (1 if UNILATERAL_SIDE == "left" else -1) if acts else 0
    signs = {READING_AUS[reading][au] for au in EDIT_PROTOTYPES[emotion] if au in READING_AUS[reading]}
    return signs.pop() if len(signs) == 1 else 0


def _clip_box(box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Integer ``x0, y0, x1, y1`` inside an ``H×W`` image, at least one pixel wide and tall."""
    height, width = shape[:2]
    x0, y0 = min(max(0, int(np.floor(box[0]))), width - 1), min(max(0, int(np.floor(box[1]))), height - 1)
    x1, y1 = max(x0 + 1, min(width, int(np.ceil(box[2])))), max(y0 + 1, min(height, int(np.ceil(box[3]))))
    return x0, y0, x1, y1
