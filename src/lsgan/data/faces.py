"""Face detection, landmarks, alignment to a fixed crop, paste-back, and label maps / region masks drawn from
landmarks, for real photos.

Backends: mediapipe 0.10.14 (full-range face detector, then the 478-point face mesh on each detected face,
static mode; both models ship in the wheel) with dlib as fallback (HOG detector + the 68-point predictor
shipped by the ``face_recognition_models`` package). Nothing is downloaded.

Alignment is a similarity transform (rotation, uniform scale, shift) taking the two eye centres and the
mouth centre to a template (``FaceTemplate``); ``paste_back`` inverts it and blends the edited crop into the
photo under a feathered mask of the face hull, leaving every pixel outside the face exactly as it was.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch
from skimage.transform import SimilarityTransform

from lsgan.data.images import DEFAULT_MAX_PIXELS, ImageSource, describe_source, read_image
from lsgan.errors import InputImageError, LsganError, NoFaceError
from lsgan.parsing import CLASS_INDEX, region_masks

# mediapipe logs through glog/absl to stderr and its protobuf glue warns on every call: keep the CLI readable.
os.environ.setdefault("GLOG_minloglevel", "2")
warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
# ... and its graphs' first run writes these lines straight to the process's stderr, past Python and glog's level
MEDIAPIPE_NOISE = ("XNNPACK delegate", "absl::InitializeLog", "inference_feedback_manager")


@contextmanager
def native_stderr_without(noise: tuple[str, ...]) -> Iterator[None]:
    """Hold what is written to file descriptor 2 (C++ libraries' logs as well as Python's) while inside, then
    pass on every line that contains none of ``noise``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not any(text in line for text in noise)))
            sys.stderr.flush()

# ---------------------------------------------------------------- landmark schemes


@dataclass(frozen=True)
class LandmarkScheme:
    """Which landmark indices outline each face part. "left"/"right" are image-left/right (as in parsing)."""

    name: str
    left_eye: tuple[int, ...]
    right_eye: tuple[int, ...]
    left_brow: tuple[int, ...]
    right_brow: tuple[int, ...]
    nose: tuple[int, ...]
    outer_lips: tuple[int, ...]
    inner_lips: tuple[int, ...]
    mouth_corners: tuple[int, int]
    left_iris: tuple[int, ...] = ()
    right_iris: tuple[int, ...] = ()
    nose_tip: int | None = None


def _mesh_indices(connections: frozenset[tuple[int, int]]) -> tuple[int, ...]:
    return tuple(sorted({i for edge in connections for i in edge}))


def _mediapipe_scheme() -> LandmarkScheme:
    from mediapipe.python.solutions import face_mesh_connections as mesh

    # Inner lip contour of the 478-point mesh; FACEMESH_LIPS holds both contours.
    inner = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
    lips = _mesh_indices(mesh.FACEMESH_LIPS)
    # mediapipe names sides from the subject's view: its LEFT_EYE is on the image right.
    return LandmarkScheme(
        name="mediapipe478",
        left_eye=_mesh_indices(mesh.FACEMESH_RIGHT_EYE),
        right_eye=_mesh_indices(mesh.FACEMESH_LEFT_EYE),
        left_brow=_mesh_indices(mesh.FACEMESH_RIGHT_EYEBROW),
        right_brow=_mesh_indices(mesh.FACEMESH_LEFT_EYEBROW),
        nose=_mesh_indices(mesh.FACEMESH_NOSE),
        outer_lips=tuple(i for i in lips if i not in inner),
        inner_lips=inner,
        mouth_corners=(61, 291),
        left_iris=_mesh_indices(mesh.FACEMESH_RIGHT_IRIS),
        right_iris=_mesh_indices(mesh.FACEMESH_LEFT_IRIS),
        nose_tip=1,
    )


DLIB68 = LandmarkScheme(
    name="dlib68",
    left_eye=tuple(range(36, 42)),
    right_eye=tuple(range(42, 48)),
    left_brow=tuple(range(17, 22)),
    right_brow=tuple(range(22, 27)),
    nose=tuple(range(27, 36)),
    outer_lips=tuple(range(48, 60)),
    inner_lips=tuple(range(60, 68)),
    mouth_corners=(48, 54),
    nose_tip=30,
)
MEDIAPIPE478 = _mediapipe_scheme()


@dataclass(frozen=True)
class Landmarks:
    """Landmark points ``[N, 2]`` (x, y in pixels) and the scheme that names them."""

    points: np.ndarray
    scheme: LandmarkScheme

    def part(self, indices: tuple[int, ...]) -> np.ndarray:
        return self.points[list(indices)]

    def anchors(self) -> np.ndarray:
        """``[3, 2]``: image-left eye centre, image-right eye centre, mouth centre (between the corners, so an
        open jaw does not move it)."""
        return np.stack([
            self.part(self.scheme.left_eye).mean(axis=0),
            self.part(self.scheme.right_eye).mean(axis=0),
            self.part(self.scheme.mouth_corners).mean(axis=0),
        ])

    def turn(self) -> float | None:
        """Where the nose tip lies along the line from the image-left to the image-right eye centre: about 0.5 for
        a face seen from the front, 0 or 1 with the tip in front of an eye, beyond in profile (None: no nose tip
        in this scheme). Unchanged by the photo's scale and rotation."""
        if self.scheme.nose_tip is None:
            return None
        left, right, _ = self.anchors()
        across = right - left
        return float(np.dot(self.points[self.scheme.nose_tip] - left, across) / max(float(np.dot(across, across)),
                                                                                     1e-9))

    def roll(self) -> float:
        """The angle (degrees) of the line from the image-left to the image-right eye centre, clockwise in the
        picture from level: 0 for an upright face."""
        left, right, _ = self.anchors()
        return float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))

    def transformed(self, matrix: np.ndarray) -> Landmarks:
        """The points under a 2×3 affine matrix."""
        return Landmarks(affine_points(self.points, matrix), self.scheme)

    def box(self) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self.points.min(axis=0), self.points.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


# ---------------------------------------------------------------- detection backends

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    landmarks: Landmarks
    upright: bool = True  # False: a mesh found in another detector's box that mediapipe's does not see upright

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    def shifted(self, offset: float) -> DetectedFace:
        """The same face with its box and landmarks moved by ``offset`` pixels right and down."""
        x0, y0, x1, y1 = self.box
        moved = Landmarks(self.landmarks.points + offset, self.landmarks.scheme)
        return DetectedFace((x0 + offset, y0 + offset, x1 + offset, y1 + offset), moved, self.upright)

    def turned_back(self, turns: int, shape: tuple[int, ...]) -> DetectedFace:
        """The face found in a photo of ``shape`` (H, W, ...) turned ``turns`` quarters anticlockwise
        (``np.rot90``), in the photo's own pixels."""
        return self._mapped(unturn_matrix(turns, shape))

    def enlarged(self, factor: float) -> DetectedFace:
        """The face found in a copy of a photo ``1 / factor`` times as large, in the photo's own pixels."""
        return self._mapped(np.array([[factor, 0.0, 0.5 * (factor - 1)], [0.0, factor, 0.5 * (factor - 1)]]))

    def _mapped(self, matrix: np.ndarray) -> DetectedFace:
        """The face under a 2×3 matrix that keeps boxes upright (a quarter turn, a scale): its box the corners'."""
        x0, y0, x1, y1 = self.box
        corners = affine_points(np.array([[x0, y0], [x1, y1]], np.float64), matrix)
        (bx0, by0), (bx1, by1) = corners.min(axis=0), corners.max(axis=0)
        return DetectedFace((float(bx0), float(by0), float(bx1), float(by1)), self.landmarks.transformed(matrix),
                            self.upright)


def unturn_matrix(turns: int, shape: tuple[int, ...]) -> np.ndarray:
    """2×3: from the pixels of a photo of ``shape`` (H, W, ...) turned ``turns`` quarters anticlockwise
    (``np.rot90(photo, turns)``) back to the photo's own."""
    height, width = shape[:2]
    return {
        0: np.array([[1.0, 0, 0], [0, 1, 0]]),
        1: np.array([[0.0, -1, width - 1], [1, 0, 0]]),
        2: np.array([[-1.0, 0, width - 1], [0, -1, height - 1]]),
        3: np.array([[0.0, 1, 0], [-1, 0, height - 1]]),
    }[turns % 4]


FRAME_SHARE = 0.2  # of a photo's longer side: the grey frame put round it where no face is found in it as it is
FRAME_GREY = 128
# Quarter turns anticlockwise a photo is looked at in where no face is found upright: the detectors find faces
# within about 45 degrees of upright, and a photo from a phone whose orientation was lost, or a face lying down, is
# a quarter turn off ...
SEARCH_TURNS = (1, 3, 2)
# ... in a copy at most this large (no tiles): such a photo's face is large, and a 12-megapixel photo without a face
# took 10.4 s to be told so when it was searched turned at full size (3.4 s upright alone; 5.5 s in the copy)
TURNED_SEARCH_SIDE = 640
UPRIGHT_CHECK_SIDE = 256  # pixels: the canvas a mesh found in another detector's box is checked upright on


def frame(photo: np.ndarray) -> tuple[np.ndarray, int]:
    """``photo`` (H×W×3) in a grey frame ``FRAME_SHARE`` of its longer side wide on every side, and that width."""
    margin = max(1, round(FRAME_SHARE * max(photo.shape[:2])))
    framed = cv2.copyMakeBorder(photo, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(FRAME_GREY,) * 3)
    return framed, margin


class MediapipeDetector:
    """Full-range face detector for boxes, then the face mesh (static mode, irises refined) on an enlarged,
    upscaled crop of each box: the mesh's own detector only finds faces that fill much of the frame. A face tilted
    more than ``UPRIGHT_ROLL`` is meshed again in a crop turned upright round it (``_mesh_points``).

    The detector sees its input at 192×192, so a face under about a tenth of a photo's side is lost: a group photo
    of 4000×3000 with faces of 100 px showed one face of five. It also reads overlapping tiles of the photo
    (``TILE_SIDES``, at the photo's resolution: faces down to some 40 px), each face kept once (``_new_faces``)."""

    MESH_INPUT = 256
    CONTEXT = 1.8  # crop side / box side
    TILE_SIDES = (1024, 512)  # photo pixels: tiles of each side where the photo is over 1.25 times as large
    TILE_STRIDE = 0.75  # of the tile's side: neighbours overlap by a quarter, so a face under that is whole in one
    # degrees: a face tilted more is meshed again upright (``_mesh_points``). Thirteen faces turned 10 / 20 / 30 /
    # 45 degrees strayed 0.009 / 0.010 / 0.013 / 0.017 inter-ocular distances (mean round the lips) from their
    # upright mesh, 0.007 / 0.006 / 0.008 / 0.008 meshed again turned upright; the upright faces meshed again so,
    # 0.006 (python scripts/mesh_roll.py)
    UPRIGHT_ROLL = 15.0

    def __init__(self, min_confidence: float = 0.5) -> None:
        from mediapipe.python.solutions import face_detection, face_mesh

        with native_stderr_without(MEDIAPIPE_NOISE):  # their models log from the graphs' threads as they start
            self._detector = face_detection.FaceDetection(model_selection=1,
                                                          min_detection_confidence=min_confidence)
            self._mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                            min_detection_confidence=min_confidence)
            blank = np.full((self.MESH_INPUT, self.MESH_INPUT, 3), FRAME_GREY, np.uint8)
            self._detector.process(blank)  # returns once every model of the graph has started
            self._mesh.process(blank)

    def detect(self, photo: np.ndarray) -> list[DetectedFace]:
        search, scale = search_copy(photo)  # the whole photo is searched on a small copy
        faces = self._meshed(photo, [tuple(v / scale for v in box) for box in self._boxes(search, 0, 0)])
        for x0, y0, tile in tiles(photo, self.TILE_SIDES, self.TILE_STRIDE):  # tiles at the photo's resolution
            whole = [box for box in self._boxes(tile, x0, y0)
                     if not _cut_by_tile(box, (x0, y0, x0 + tile.shape[1], y0 + tile.shape[0]), photo.shape)]
            faces += self._meshed(photo, _new_faces(whole, [face.box for face in faces]))
        return faces

    def _meshed(self, photo: np.ndarray, boxes: list[Box]) -> list[DetectedFace]:
        """The faces of ``boxes`` in which the mesh finds a face."""
        faces = []
        for box in boxes:
            points = self._mesh_points(photo, box)
            if points is not None:
                faces.append(DetectedFace(box, Landmarks(points, MEDIAPIPE478)))
        return faces

    def _boxes(self, tile: np.ndarray, x0: int, y0: int) -> list[Box]:
        """The detector's boxes in ``tile``, most confident first, in the pixels of the image the tile is cut from
        at (``x0``, ``y0``)."""
        height, width = tile.shape[:2]
        boxes = []
        for detection in sorted(self._detector.process(tile).detections or [], key=lambda d: -d.score[0]):
            rel = detection.location_data.relative_bounding_box
            boxes.append((x0 + rel.xmin * width, y0 + rel.ymin * height, x0 + (rel.xmin + rel.width) * width,
                          y0 + (rel.ymin + rel.height) * height))
        return boxes

    def shows_face(self, photo: np.ndarray, mesh: Landmarks) -> bool:
        """Whether the detector finds a face in ``photo`` turned and scaled upright as ``mesh`` [478] says, the face
        half a ``UPRIGHT_CHECK_SIDE`` canvas's template size in its middle: a mesh run on an upright box over a face
        lying askew is an upright face the photo does not show there."""
        half = UPRIGHT_CHECK_SIDE / 2
        matrix = similarity_matrix(mesh.anchors(), FaceTemplate().points(half) + half / 2)
        canvas = cv2.warpAffine(photo, matrix, (UPRIGHT_CHECK_SIDE,) * 2, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=(FRAME_GREY,) * 3)
        return bool(self._boxes(canvas, 0, 0))

    def mesh_in_box(self, photo: np.ndarray, box: Box) -> Landmarks | None:
        """The mesh of the face in a known ``box`` (from any detector), without detecting: e.g. the same face
        after an edit, measured in the same crop as before it. ``None`` when the mesh finds no face there."""
        points = self._mesh_points(photo, box)
        return None if points is None else Landmarks(points, MEDIAPIPE478)

    def _mesh_points(self, photo: np.ndarray, box: Box) -> np.ndarray | None:
        """The mesh in a crop round ``box``; for a face tilted more than ``UPRIGHT_ROLL``, found again in a crop
        turned upright round it: mediapipe's mesh of a tilted face strays, most round an open mouth (a laughing face
        tilted 44 degrees had its lower lip's outer edge put on its lower teeth, 17 px off in a 172 px face)."""
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0) * self.CONTEXT
        scale = self.MESH_INPUT / side
        to_crop = np.array([[scale, 0, -((x0 + x1) / 2 - side / 2) * scale],
                            [0, scale, -((y0 + y1) / 2 - side / 2) * scale]])
        points = self._mesh_in(photo, to_crop)
        roll = None if points is None else Landmarks(points, MEDIAPIPE478).roll()
        if roll is None or abs(roll) <= self.UPRIGHT_ROLL:
            return points
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        upright = cv2.getRotationMatrix2D(centre, roll, scale)  # the same crop, turned about its middle
        upright[:, 2] += self.MESH_INPUT / 2 - np.array(centre)
        again = self._mesh_in(photo, upright)
        return points if again is None else again

    def _mesh_in(self, photo: np.ndarray, to_crop: np.ndarray) -> np.ndarray | None:
        """``[478, 2]`` photo pixels: the mesh of the face in the ``MESH_INPUT`` crop that the 2×3 ``to_crop``
        takes ``photo`` to (None: no face found there)."""
        crop = warp_antialiased(photo, to_crop, self.MESH_INPUT)
        result = self._mesh.process(crop).multi_face_landmarks
        if not result:
            return None
        normalised = np.array([(p.x, p.y) for p in result[0].landmark], dtype=np.float64)
        return Landmarks(normalised * self.MESH_INPUT, MEDIAPIPE478).transformed(
            cv2.invertAffineTransform(to_crop)).points

    def close(self) -> None:
        self._detector.close()
        self._mesh.close()


SEARCH_MAX_SIDE = 2048  # face search runs on a copy at most this large: detection needs no more, and is bounded
SAME_FACE_OVERLAP = 0.3  # intersection over the smaller box: two boxes this much on one another are one face
SMALL_FACE = 0.25  # of the photo's longer side: a photo whose faces are all smaller may hold more (no portrait)


def tiles(image: np.ndarray, sides: tuple[int, ...], stride: float) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(x0, y0, tile)``: square tiles of ``image`` of each side in ``sides`` (larger first) where the image is over
    1.25 times as large, ``stride`` × side apart, the last of each row and column flush with the image's edge."""
    height, width = image.shape[:2]
    for side in sides:
        if not _tiled(image.shape, side):
            continue
        step = max(1, int(side * stride))
        for y0 in _starts(height, side, step):
            for x0 in _starts(width, side, step):
                yield x0, y0, np.ascontiguousarray(image[y0:y0 + side, x0:x0 + side])


def _starts(length: int, side: int, step: int) -> list[int]:
    if length <= side:
        return [0]
    starts = list(range(0, length - side + 1, step))
    return starts if starts[-1] == length - side else [*starts, length - side]


def _may_miss_faces(photo: np.ndarray, faces: list[DetectedFace]) -> bool:
    """Whether mediapipe, having found ``faces``, may have missed others: it read the photo whole (too small for
    tiles) and every face it found is small in it (``SMALL_FACE``), so the photo is no portrait; there it misses
    faces of a tenth of the photo's side (five faces of 60 px in a 632×474 photo: two found)."""
    if _tiled(photo.shape, min(MediapipeDetector.TILE_SIDES)) or faces[0].landmarks.scheme is not MEDIAPIPE478:
        return False
    return max(max(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in faces) < SMALL_FACE * max(photo.shape[:2])


def _tiled(shape: tuple[int, ...], side: int) -> bool:
    """Whether a photo of ``shape`` is read in tiles of ``side`` too: where it is over 1.25 times as large."""
    return max(shape[:2]) > 1.25 * side


def _cut_by_tile(box: Box, tile: Box, shape: tuple[int, ...]) -> bool:
    """Whether ``box`` reaches an edge of ``tile`` that lies inside the image (of ``shape``): a face cut in two
    there, whole in a neighbouring tile or a larger one."""
    margin = 0.01 * (tile[2] - tile[0])
    height, width = shape[:2]
    return ((tile[0] > 0 and box[0] <= tile[0] + margin) or (tile[1] > 0 and box[1] <= tile[1] + margin)
            or (tile[2] < width and box[2] >= tile[2] - margin) or (tile[3] < height and box[3] >= tile[3] - margin))


def _new_faces(boxes: list[Box], known: list[Box]) -> list[Box]:
    """Those of ``boxes`` (most confident first) that are not a face already in ``known`` or earlier in ``boxes``
    (``SAME_FACE_OVERLAP``): a face seen whole in one tile and cut in its neighbour is kept once, as first seen."""
    kept: list[Box] = []
    for box in boxes:
        if all(_overlap(box, other) < SAME_FACE_OVERLAP for other in [*known, *kept]):
            kept.append(box)
    return kept


def _overlap(a: Box, b: Box) -> float:
    """Intersection of two boxes over the smaller one's area."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1e-9)


def search_copy(photo: np.ndarray, max_side: int = SEARCH_MAX_SIDE) -> tuple[np.ndarray, float]:
    """The photo shrunk (area-averaged) so its longer side is at most ``max_side``, and the scale used."""
    height, width = photo.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return photo, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA), scale


def dlib_predictor_path() -> Path:
    """The 68-point model file inside the ``face_recognition_models`` package (located, not imported: its
    ``__init__`` needs ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise LsganError("the dlib fallback needs the face-recognition-models package (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise LsganError(f"{path}: dlib's 68-point landmark model is missing")
    return path


class DlibDetector:
    """HOG face detector + 68-point shape predictor, each loaded when first asked: the predictor is a 100 MB file
    (1 s to read), and with mediapipe meshing the faces dlib finds (``FaceAligner``), only a face the mesh misses
    asks for it; the model file is looked for at once."""

    def __init__(self) -> None:
        self._predictor_path = dlib_predictor_path()

    @cached_property
    def _detector(self):  # dlib's HOG face detector
        import dlib

        return dlib.get_frontal_face_detector()

    @cached_property
    def _predictor(self):  # its 68-point shape predictor
        import dlib

        return dlib.shape_predictor(str(self._predictor_path))

    def detect(self, photo: np.ndarray) -> list[DetectedFace]:
        return [DetectedFace(box, self.landmarks(photo, box)) for box in self.boxes(photo)]

    def boxes(self, photo: np.ndarray) -> list[Box]:
        """The HOG detector's boxes in ``photo`` (whole photo pixels), searched on a copy at most
        ``SEARCH_MAX_SIDE`` large."""
        search, scale = search_copy(photo)
        upsample = 1 if max(search.shape[:2]) < 1000 else 0  # small photos: find small faces too
        return [tuple(float(round(v / scale)) for v in (found.left(), found.top(), found.right(), found.bottom()))
                for found in self._detector(search, upsample)]

    def landmarks(self, photo: np.ndarray, box: Box) -> Landmarks:
        """The 68 points of the face in ``box``, on the photo itself."""
        import dlib

        shape = self._predictor(photo, dlib.rectangle(*(int(v) for v in box)))
        return Landmarks(np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64), DLIB68)

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------- alignment


@dataclass
class FaceTemplate:
    """Where the anchors land in the crop, as fractions of its side. The defaults (eyes 27 % of the side apart
    at 40 % height, mouth at 67 %) give brow-to-chin about 60 % and forehead-to-chin about 73 % of the crop
    height, with the chin inside the crop: close to RaFD/CelebA-style expression-editing crops, and the framing of
    the real faces the shipped model trained on. SynthFACS's own renders sit a little smaller and lower (mediapipe
    puts their eyes 24.4 % apart at 42.8 %, mouth at 67.9 %): aligning photos that way helped G_exp on re-aligned
    renders but not the shipped model on photos (docs/real_photos.md)."""

    eye_y: float = 0.40
    eye_distance: float = 0.27
    mouth_y: float = 0.67

    def points(self, size: int) -> np.ndarray:
        half = self.eye_distance / 2
        return np.array([(0.5 - half, self.eye_y), (0.5 + half, self.eye_y), (0.5, self.mouth_y)]) * size


MOVED_EDGE_FEATHER = 0.008  # feather of an edit's moved face edge beyond the face's own hull (crop-side fraction)
# pixels: a mask's Gaussian wider than this many times it is made on blocks of that many pixels (``blurred_mask``)
COARSE_BLUR_SIGMA = 8


@dataclass
class AlignConfig:
    size: int = 256
    backend: Literal["auto", "mediapipe", "dlib"] = "auto"  # auto: mediapipe, dlib where it finds nothing
    template: FaceTemplate = field(default_factory=FaceTemplate)
    min_confidence: float = 0.5
    feather: float = 0.04  # paste-back mask: erosion and blur radius as a fraction of the crop side


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """``crop`` uint8 S×S×3; ``matrix`` 2×3 photo->crop similarity; ``landmarks`` in crop pixels; ``box`` the
    detector's box in photo pixels."""

    crop: np.ndarray
    matrix: np.ndarray
    landmarks: Landmarks
    box: Box


class FaceAligner:
    """Find faces, align them to ``size``×``size`` crops, and paste edited crops back.

    Holds detector resources: use as a context manager or call ``close()``.
    """

    def __init__(self, size: int = 256, **options: object) -> None:
        self.config = AlignConfig(size=size, **options)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, config: AlignConfig) -> FaceAligner:
        return cls(**{f.name: getattr(config, f.name) for f in fields(config)})

    @cached_property
    def _backends(self) -> list[MediapipeDetector | DlibDetector]:
        backend = self.config.backend
        chosen: list[MediapipeDetector | DlibDetector] = []
        if backend in ("auto", "mediapipe"):
            chosen.append(MediapipeDetector(self.config.min_confidence))
        if backend in ("auto", "dlib"):
            chosen.append(DlibDetector())
        return chosen

    @cached_property
    def _mesher(self) -> MediapipeDetector | None:
        """The backend that meshes faces (mediapipe's), where there is one."""
        return next((backend for backend in self._backends if isinstance(backend, MediapipeDetector)), None)

    def detect(self, photo: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 photo, largest first: those of the first backend that finds any, and where that
        may have missed some (``_may_miss_faces``), the later backends' too. Where none finds a face, they look
        again in the photo framed in grey (``frame``): detectors miss a face that fills the whole picture (a tight
        crop, or one whose edit dropped the jaw to the bottom edge); and where none is found still with a mesh that
        mediapipe's detector sees upright (``MediapipeDetector.shows_face``: dlib takes a face lying askew for an
        upright one now and then, and the mesh run in its box makes an upright face of it), in the photo turned a
        quarter either way, then upside down (``SEARCH_TURNS``, in a copy at most ``TURNED_SEARCH_SIDE`` large):
        the first turn whose faces have such a mesh gives them, their landmarks in the photo's own pixels, so that
        their crops come out upright and the edits go back where the faces are; else the faces found upright."""
        faces = self._detect_framed(photo)
        if self._found(faces) or not SEARCH_TURNS:
            return faces
        small, scale = search_copy(photo, TURNED_SEARCH_SIDE)
        for turns in SEARCH_TURNS:
            turned = np.ascontiguousarray(np.rot90(small, turns))
            found = [face.turned_back(turns, small.shape).enlarged(1 / scale) for face in self._detect_framed(turned)]
            if self._found(found):
                return found
            faces = faces or found
        return faces

    def _found(self, faces: list[DetectedFace]) -> bool:
        """Whether ``faces`` hold a face with a mesh that mediapipe's detector sees upright (any face, where no
        backend meshes)."""
        if self._mesher is None:
            return bool(faces)
        return any(face.landmarks.scheme is MEDIAPIPE478 and face.upright for face in faces)

    def _detect_framed(self, photo: np.ndarray) -> list[DetectedFace]:
        """``_detect``, then in the photo framed in grey where it finds no face."""
        faces = self._detect(photo)
        if faces:
            return faces
        framed, margin = frame(photo)
        return [face.shifted(-margin) for face in self._detect(framed)]

    def _detect(self, photo: np.ndarray) -> list[DetectedFace]:
        for index, backend in enumerate(self._backends):
            faces = self._found_by(backend, photo)
            if faces:
                faces += self._more_faces(photo, faces, self._backends[index + 1:])
                return sorted(faces, key=lambda f: f.area, reverse=True)
        return []

    def _found_by(self, backend: MediapipeDetector | DlibDetector, photo: np.ndarray) -> list[DetectedFace]:
        """``backend``'s faces in ``photo``: dlib's with mediapipe's mesh found in their boxes (mediapipe's detector
        misses faces that fill the photo, which dlib finds; the edit's geometry needs the mesh), its 68 points read
        only where the mesh finds no face there."""
        if isinstance(backend, MediapipeDetector):
            return backend.detect(photo)
        faces = []
        for box in backend.boxes(photo):
            meshed = self._meshed(photo, box)
            faces.append(meshed or DetectedFace(box, backend.landmarks(photo, box)))
        return faces

    def _more_faces(self, photo: np.ndarray, faces: list[DetectedFace],
                    others: list[MediapipeDetector | DlibDetector]) -> list[DetectedFace]:
        """The faces dlib (of ``others``) finds beside ``faces`` where ``_may_miss_faces``: not on a face found,
        and only where the mesh finds a face in their box (dlib takes a mission patch for a face now and then)."""
        if not _may_miss_faces(photo, faces):
            return []
        boxes = [box for backend in others if isinstance(backend, DlibDetector) for box in backend.boxes(photo)]
        meshed = [self._meshed(photo, box) for box in _new_faces(boxes, [face.box for face in faces])]
        return [face for face in meshed if face is not None]

    def _meshed(self, photo: np.ndarray, box: Box) -> DetectedFace | None:
        """The face of ``box`` (another detector's) with the 478-point mesh found in it; None where there is no
        mesher or it finds no face there."""
        mesh = None if self._mesher is None else self._mesher.mesh_in_box(photo, box)
        return None if mesh is None else DetectedFace(box, mesh, self._mesher.shows_face(photo, mesh))

    def align(self, photo: ImageSource, *, name: str | None = None) -> AlignedFace:
        """The largest face of ``photo``; ``NoFaceError`` naming the file if there is none."""
        return self.align_all(photo, name=name)[0]

    def align_all(self, photo: ImageSource, *, name: str | None = None,
                  max_pixels: int | None = DEFAULT_MAX_PIXELS) -> list[AlignedFace]:
        """Every face of ``photo``, largest first (``max_pixels`` as in ``read_image``)."""
        rgb = read_image(photo, name=name, max_pixels=max_pixels)
        faces = self.detect(rgb)
        if not faces:
            raise NoFaceError(f"{describe_source(photo, name)}: no face found")
        return [self._align_face(rgb, face) for face in faces]

    def _align_face(self, photo: np.ndarray, face: DetectedFace) -> AlignedFace:
        size = self.config.size
        matrix = similarity_matrix(face.landmarks.anchors(), self.config.template.points(size))
        crop = warp_antialiased(photo, matrix, size)
        return AlignedFace(crop, matrix, face.landmarks.transformed(matrix), face.box)

    def face_mask(self, aligned: AlignedFace) -> np.ndarray:
        """Feathered float32 S×S mask of the face hull in crop space: 0 outside the hull, 1 well inside."""
        return feathered_hull(aligned.landmarks.points, aligned.crop.shape[0], self.config.feather)

    def photo_face_mask(self, aligned: AlignedFace, photo_shape: tuple[int, ...],
                        points: np.ndarray | None = None) -> np.ndarray:
        """The same mask drawn on the photo (float32 H×W) at the photo's resolution: 0 outside the hull of the
        face's landmarks exactly (or of ``points``, crop pixels, e.g. where an edit moves them), with a feather
        of ``feather`` × the crop's side measured in photo pixels."""
        feather = self.config.feather
        return feathered_hull(self._photo_points(aligned, points), photo_shape[:2], feather,
                              radius=self._photo_radius(aligned, feather))

    def photo_moved_face_mask(self, aligned: AlignedFace, photo_shape: tuple[int, ...], moved: np.ndarray
                              ) -> np.ndarray:
        """The photo mask (to be combined with the face's own, ``photo_face_mask``, by maximum) of where an edit
        moves the face's landmarks to ``moved`` (crop pixels) beyond their hull, e.g. a dropped chin: the feathered
        moved hull, and near where it leaves the face's own hull a thin feather (``MOVED_EDGE_FEATHER``), so that
        the moved edge stays as crisp over what lies below it as the face's edge was (a wide feather there blends
        the chin into the collar as a pale glow)."""
        moved = self._photo_points(aligned, moved)
        radius = self._photo_radius(aligned, self.config.feather)
        out = np.zeros(photo_shape[:2], np.float32)
        # all three are 0 beyond the moved hull's box grown by _near_region's reach: made there, not on the photo
        bounds = _points_box(moved, int(np.ceil(2 * radius)) + 2, photo_shape)
        if bounds is None:
            return out
        x0, y0, x1, y1 = bounds
        box, origin = (y1 - y0, x1 - x0), np.array([x0, y0], np.float64)
        mask = feathered_hull(moved - origin, box, self.config.feather, radius=radius)
        crisp = feathered_hull(moved - origin, box, MOVED_EDGE_FEATHER,
                               radius=self._photo_radius(aligned, MOVED_EDGE_FEATHER))
        near = _near_region(moved - origin, self._photo_points(aligned) - origin, box, radius)
        out[y0:y1, x0:x1] = np.maximum(mask, crisp * near)
        return out

    @staticmethod
    def _photo_radius(aligned: AlignedFace, feather: float) -> float:
        """``feather`` × the crop's side, in photo pixels."""
        return feather * aligned.crop.shape[0] / crop_per_photo(aligned.matrix)

    @staticmethod
    def _photo_points(aligned: AlignedFace, points: np.ndarray | None = None) -> np.ndarray:
        """``points`` (crop pixels; default the face's landmarks) in photo pixels."""
        crop_points = aligned.landmarks.points if points is None else points
        return affine_points(crop_points, cv2.invertAffineTransform(aligned.matrix))

    def paste_back(self, photo: ImageSource, edited_crop: np.ndarray, aligned: AlignedFace) -> np.ndarray:
        """Blend ``edited_crop`` (same size as ``aligned.crop``) back into ``photo``; same size as ``photo``,
        and pixels outside the feathered face mask are returned unchanged."""
        rgb = read_image(photo)
        if edited_crop.shape != aligned.crop.shape or edited_crop.dtype != np.uint8:
            raise InputImageError(f"edited crop must be uint8 {aligned.crop.shape}, got {edited_crop.dtype} "
                                  f"{edited_crop.shape}")
        face = crop_to_photo(edited_crop, aligned, rgb.shape, border=cv2.BORDER_REPLICATE)
        mask = self.photo_face_mask(aligned, rgb.shape)[:, :, None]
        blended = np.round(rgb * (1.0 - mask) + face * mask).astype(np.uint8)
        return np.where(mask > 0, blended, rgb)

    def close(self) -> None:
        for backend in self.__dict__.pop("_backends", []):
            backend.close()

    def __enter__(self) -> FaceAligner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def crop_to_photo(array: np.ndarray, aligned: AlignedFace, photo_shape: tuple[int, ...],
                  border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Warp an array in crop space (S×S or S×S×C) back onto the photo (H×W[×C]); with the default border,
    photo pixels outside the crop get 0 (and only the crop's footprint is warped: ``crop_on_photo``)."""
    height, width = photo_shape[:2]
    if border != cv2.BORDER_CONSTANT:
        return cv2.warpAffine(array, cv2.invertAffineTransform(aligned.matrix), (width, height),
                              flags=cv2.INTER_LINEAR, borderMode=border)
    out = np.zeros((height, width, *array.shape[2:]), array.dtype)
    box, warped = crop_on_photo(array, aligned, photo_shape)
    out[box] = warped
    return out


def crop_on_photo(array: np.ndarray, aligned: AlignedFace, photo_shape: tuple[int, ...]
                  ) -> tuple[tuple[slice, slice], np.ndarray]:
    """(the photo's box (rows, cols) that the crop covers, an array in crop space (S×S[×C]) warped onto that box,
    0 where the crop does not reach): what ``crop_to_photo`` gives there, at the cost of the crop's footprint
    rather than of the whole photo (five faces' masks on a 48-megapixel photo took 4 s)."""
    to_photo = cv2.invertAffineTransform(aligned.matrix)
    reach = array.shape[0]  # bilinear reading against a 0 border: the crop's values reach (-1, S)
    corners = affine_points(np.array([[-1.0, -1.0], [reach, -1.0], [-1.0, reach], [reach, reach]]), to_photo)
    bounds = _points_box(corners, 1, photo_shape)
    if bounds is None:  # the crop lies wholly off the photo
        return (slice(0, 0), slice(0, 0)), np.zeros((0, 0, *array.shape[2:]), array.dtype)
    x0, y0, x1, y1 = bounds
    shifted = to_photo - np.array([[0.0, 0.0, x0], [0.0, 0.0, y0]])
    warped = cv2.warpAffine(array, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return (slice(y0, y1), slice(x0, x1)), warped


def crop_per_photo(matrix: np.ndarray) -> float:
    """Crop pixels per photo pixel of a similarity ``matrix`` (2×3, photo -> crop): its scale."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def affine_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``points`` [N, 2] under a 2×3 affine ``matrix``."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def similarity_matrix(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares 2×3 similarity transform taking ``source`` points ``[N,2]`` to ``target``."""
    transform = SimilarityTransform.from_estimate(source, target)
    if not isinstance(transform, SimilarityTransform):
        raise NoFaceError(f"degenerate face landmarks, cannot align: {source.tolist()}")
    return transform.params[:2].copy()


def warp_antialiased(photo: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """``cv2.warpAffine`` to ``size``×``size``; a strong reduction first shrinks the photo with area averaging
    so the crop is not aliased (a bilinear warp alone samples only 4 pixels per output pixel)."""
    return warp_affine(*reduced_for_warp(photo, matrix), size)


def warp_affine(photo: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The bilinear ``size``×``size`` warp of ``photo`` by ``matrix`` (2×3) that crops are made with, borders
    reflected."""
    return cv2.warpAffine(photo, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def reduced_for_warp(photo: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``photo`` shrunk with area averaging to the scale of ``matrix`` (2×3) where that is under 0.75, and the
    matrix that warps the shrunk photo as ``matrix`` warps ``photo``; both unchanged otherwise."""
    scale = crop_per_photo(matrix)
    if scale >= 0.75:
        return photo, matrix
    height, width = photo.shape[:2]
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    photo = cv2.resize(photo, (new_w, new_h), interpolation=cv2.INTER_AREA)
    # Shrunk pixel q and photo pixel p share centres: p = (q + 0.5) / f - 0.5, per axis.
    factors = np.array([new_w / width, new_h / height])
    return photo, np.column_stack([matrix[:, :2] / factors, matrix[:, 2] + matrix[:, :2] @ (0.5 / factors - 0.5)])


def _points_box(points: np.ndarray, pad: int, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the pixels of an ``shape`` (H×W[×C]) image round ``points`` [N, 2] (x, y), ``pad`` beyond
    them, within the image (end exclusive); None where that is empty."""
    height, width = shape[:2]
    x0, y0 = np.maximum(np.floor(points.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0)).astype(int) + pad + 1, (width, height))
    return None if x1 <= x0 or y1 <= y0 else (int(x0), int(y0), int(x1), int(y1))


def _near_region(moved: np.ndarray, own: np.ndarray, shape: tuple[int, ...], radius: float) -> np.ndarray:
    """Float32 H×W in [0, 1]: 1 within ``radius`` pixels of where the hull of ``moved`` leaves the hull of ``own``
    (both [N, 2] photo pixels), fading over half the radius; computed in the moved hull's box only."""
    near = np.zeros(shape[:2], np.float32)
    bounds = _points_box(moved, int(np.ceil(2 * radius)) + 1, shape)
    if bounds is None:
        return near
    x0, y0, x1, y1 = bounds
    hulls = [np.zeros((y1 - y0, x1 - x0), np.uint8) for _ in range(2)]
    for hull, points in zip(hulls, (moved, own)):
        cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points - (x0, y0)).astype(np.int32)), 1)
    outside_own = hulls[0] * (1 - hulls[1])
    distance = cv2.distanceTransform((1 - outside_own).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    near[y0:y1, x0:x1] = blurred_mask((distance <= radius).astype(np.float32), max(radius / 2, 0.5))
    return near


def feathered_hull(points: np.ndarray, size: int | tuple[int, int], feather: float, radius: float | None = None
                   ) -> np.ndarray:
    """Float32 mask (``size``×``size``, or ``(height, width)``) of the convex hull of ``points`` (x, y pixels):
    eroded and blurred by ``radius`` pixels (default ``feather`` × the side), so it is 0 outside the hull exactly
    and 1 well inside. Only the hull's box (plus the radius) is computed, so large photos cost little."""
    height, width = (size, size) if isinstance(size, int) else size
    radius = max(1, round(radius if radius is not None else feather * max(height, width)))
    mask = np.zeros((height, width), np.float32)
    bounds = _points_box(points, radius, (height, width))
    if bounds is None:
        return mask
    x0, y0, x1, y1 = bounds
    hull = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points - (x0, y0)).astype(np.int32)), 1)
    # erosion by a disc of the radius, as a distance threshold: its cost does not grow with the radius
    eroded = (cv2.distanceTransform(hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > radius).astype(np.float32)
    soft = blurred_mask(eroded, radius / 2)
    mask[y0:y1, x0:x1] = soft * hull  # the blur must not leak past the hull
    return mask


def blurred_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Float32 [h, w]: ``mask`` (float32 [h, w]) under a Gaussian of ``sigma`` pixels, borders reflected as
    ``cv2.GaussianBlur`` reads them. A Gaussian at least ``COARSE_BLUR_SIGMA`` times wider than its step is made on
    blocks of ``step`` pixels (averaged onto them, blurred, read back bilinearly; the blocks and the bilinear read add
    step² / 4 to its variance, taken off the blur; the mask reflected at full resolution as far as the blur reaches),
    so a large face's feather costs about what a small one's does: at full resolution a blur's cost grows with its
    width (2 s of a 3.5-megapixel portrait's 5 s edit)."""
    step = int(sigma // COARSE_BLUR_SIGMA)
    if step < 2:
        return cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma)
    height, width = mask.shape
    margin = step * int(np.ceil(4 * sigma / step))  # OpenCV's float Gaussian reaches 4 sigma
    padded = cv2.copyMakeBorder(mask, margin, margin + -height % step, margin, margin + -width % step,
                                cv2.BORDER_REFLECT_101)
    blocks = cv2.resize(padded, (padded.shape[1] // step, padded.shape[0] // step), interpolation=cv2.INTER_AREA)
    blocks = cv2.GaussianBlur(blocks, (0, 0), sigmaX=np.sqrt(sigma ** 2 - step ** 2 / 4) / step)
    full = cv2.resize(blocks, (padded.shape[1], padded.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(full[margin:margin + height, margin:margin + width])


# ---------------------------------------------------------------- label maps and region masks


def _fill_hull(labels: np.ndarray, points: np.ndarray, class_name: str) -> None:
    if len(points) >= 3:
        cv2.fillConvexPoly(labels, cv2.convexHull(np.round(points).astype(np.int32)), CLASS_INDEX[class_name])


def landmarks_to_parsing(landmarks: Landmarks, size: int) -> np.ndarray:
    """A coarse uint8 ``size``×``size`` label map (``parsing.PARSING_CLASSES``) drawn from landmarks in crop
    pixels: skin (hull of all points), nose, brows, eyes, irises, upper/lower lip (outer lip hull split by the
    line through the mouth corners) and mouth interior (inner lip hull). Parts are convex hulls, so it is a
    coarse map: good enough for SMG region masks, not a parser."""
    labels = np.zeros((size, size), np.uint8)
    scheme = landmarks.scheme
    _fill_hull(labels, landmarks.points, "skin")
    _fill_hull(labels, landmarks.part(scheme.nose), "nose")
    for side in ("left", "right"):
        _fill_hull(labels, landmarks.part(getattr(scheme, f"{side}_brow")), f"{side}_brow")
        _fill_hull(labels, landmarks.part(getattr(scheme, f"{side}_eye")), f"{side}_eye")
        _fill_hull(labels, landmarks.part(getattr(scheme, f"{side}_iris")), f"{side}_iris")
    _draw_lips(labels, landmarks)
    _fill_hull(labels, landmarks.part(scheme.inner_lips), "mouth_interior")
    return labels


def _draw_lips(labels: np.ndarray, landmarks: Landmarks) -> None:
    lips = np.zeros_like(labels)
    _fill_hull(lips, landmarks.part(landmarks.scheme.outer_lips), "upper_lip")
    (x0, y0), (x1, y1) = landmarks.part(landmarks.scheme.mouth_corners)
    ys, xs = np.mgrid[:labels.shape[0], :labels.shape[1]]
    below = (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0) > 0  # below the corner-to-corner line
    inside = lips > 0
    labels[inside & ~below] = CLASS_INDEX["upper_lip"]
    labels[inside & below] = CLASS_INDEX["lower_lip"]


def landmark_region_masks(landmarks: Landmarks, size: int, *, dilation: float = 0.06,
                          blur: float = 0.02) -> np.ndarray:
    """Float32 ``[3, size, size]`` (eye, mouth, part) masks summing to 1, from landmarks in crop pixels: the
    eye+brow and lip+mouth classes of ``landmarks_to_parsing`` dilated by ``dilation``×side (the paper's
    enlarged SMG regions) and box-blurred by ``blur``×side, by the same ``parsing.region_masks`` SMG uses."""
    labels = torch.from_numpy(landmarks_to_parsing(landmarks, size).astype(np.int64))
    return region_masks(labels[None], dilation, blur)[0].numpy()
