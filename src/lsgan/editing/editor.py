"""The user-facing editor: load a model bundle, find and align faces, edit their expression at the photo's own
resolution.

    editor = Editor.from_pretrained()                   # the shipped model (or a bundle folder)
    result = editor.edit("me.jpg", aus={12: 0.8, 6: 0.6})
    result.image                                        # uint8 H×W×3, the size of me.jpg
    editor.edit("group.jpg", emotion="happy", face=1)   # only the second face from the left
    editor.edit("me.jpg", aus="12=+0.3", region="mouth")  # relative AUs; pixels outside the mouth untouched
    editor.estimate(["a.png", b_array])                 # [faces, 16] AU intensities in [0, 1]

Inputs may be file paths, PIL images or numpy arrays, alone or in a list. Every face found is edited (or the
one chosen with ``face=N``, numbered left to right). The model sees each face aligned to its crop size; its edit
comes back as a displacement field and a smooth colour change (``LSGANGenerator.edit_field``), which
``editing.fields.apply_field`` applies to the photo itself, so the face keeps the photo's detail and every pixel
outside the face is returned exactly. With ``align=False`` each image is taken as an already-cropped face.

``motion`` (``MOTIONS``) says where the geometry comes from: ``"mesh"`` (default) is the mesh motion of the AU
change (``editing.mesh_motion``: SynthFACS's AU geometry read by mediapipe's real-face mesh, with the inside of an
opening mouth painted; the brows and lids moved ``upper_face_gain`` times as far as the renderer moves them),
``"both"`` adds the model's field and colour change to it, ``"model"`` is the model's field
alone (the paper's generator; what the ONNX graph holds). Faces without a 478-point mesh (``align=False``, or
dlib's 68 points) get the model's field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
import torch

from lsgan.data.faces import (
    AlignedFace, FaceAligner, crop_on_photo, crop_per_photo, crop_to_photo, landmark_region_masks,
)
from lsgan.data.mesh_basis import MeshBasis
from lsgan.data.images import (
    DEFAULT_MAX_PIXELS, ImageSource, describe_source, read_image_and_alpha, resize_image, to_tensor, to_uint8,
)
from lsgan.editing.creases import crease_shade
from lsgan.editing.fields import apply_field, resample_field, resize_matrix
from lsgan.editing.mesh_motion import (
    MAX_UPPER_FACE_GAIN, UPPER_FACE_GAIN, far_side_narrowing, has_mesh, mesh_motion, photo_basis, side_weights,
)
from lsgan.editing.glasses import HINT_MIN_EYES, clear_frames, looks_like_glasses
from lsgan.editing.lopsided import copied_differences, frowns, side_differences, split_sides
from lsgan.editing.paint import brightest, detail_view, eye_contour, paint_grid, paint_scale, paint_view
from lsgan.editing.reading import VIEWS, View, exposed, view_crops
from lsgan.editing.targets import (
    AUInput,
    TargetRequest,
    check_region,
    check_side,
    interpolate_targets,
    other_side_targets,
    region_channel,
    request_side,
    resolve_targets,
    with_bilateral_aus,
)
from lsgan.editing.unfold import unfold_light, unfolded_share
from lsgan.errors import CheckpointError, InputImageError, LsganError
from lsgan.facs import NUM_AUS, AUError
from lsgan.nets.lsgan import ModelBundle, load_bundle

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
MOTIONS = ("mesh", "both", "model")
DEFAULT_MOTION = "mesh"  # on real portraits: twice the model's held-out reads, without its smudges (docs/real_photos.md)


class DeviceError(LsganError, ValueError):
    """A device that is not available here (e.g. cuda on a machine without a GPU)."""


class FaceChoiceError(LsganError, ValueError):
    """A face number that the photo does not have, or a face too small to edit."""


class EditorConfigError(LsganError, ValueError):
    """An editor setting that does not exist."""


def describe_motion(motion: str, creases: bool, upper_face_gain: float = UPPER_FACE_GAIN) -> str:
    """How an edit's geometry is made, for reports: ``motion model``, ``motion mesh, upper face ×1.3`` or
    ``motion mesh, upper face ×1.3, creases``."""
    gain = "" if motion == "model" else f", upper face ×{upper_face_gain:g}"
    return f"motion {motion}{gain}{', creases' if creases else ''}"


def check_glasses(glasses: bool | None, align: bool) -> None:
    """Clear glasses' frames are found round the eyes of an aligned face's landmarks: ``glasses=True`` needs
    ``align`` (None, found where a face seems to wear them, finds none without it)."""
    if glasses is True and not align:
        raise EditorConfigError("--glasses (glasses=True) finds the frame round the face's landmarks: "
                                "not with --no-align (align=False)")


def check_motion(motion: str) -> str:
    """``motion`` if it is one of ``MOTIONS``; ``EditorConfigError`` naming them otherwise."""
    if motion not in MOTIONS:
        raise EditorConfigError(f"motion must be one of {', '.join(MOTIONS)}, got {motion!r}")
    return motion


@dataclass(frozen=True)
class FaceField:
    """What is applied to one face's photo pixels (``editing.fields.apply_field``)."""

    flow: np.ndarray  # [2, F, F] grid units, F a multiple of S (the mesh motion's is finer than the crop)
    colour: np.ndarray  # [3, S, S]
    paint: np.ndarray | None = None  # [4, P, P] the inside of an opening mouth (mesh motion)
    moved_points: np.ndarray | None = None  # [478, 2] crop pixels: where the mesh motion takes the face
    shade: np.ndarray | None = None  # [P, P] or [3, P, P] multiplier: the light of the folds the expression makes
    # (creases) and of those it undoes (unfold)
    held: np.ndarray | None = None  # uint8 [P, P] labels: what stays as the photo has it (clear glasses' frames)


MOST_BEYOND_BORDER = 0.5  # more of an eye's or the mouth's mesh points beyond the photo than this: left as it is


@dataclass
class EditorConfig:
    device: str = "cpu"
    batch_size: int = 16
    align: bool = True  # False: inputs are already-cropped faces, resized to the model size and back
    min_face: int = 24  # faces whose detector box is smaller (photo pixels, shorter side) are not edited
    # ... nor faces in profile, whose nose tip (``Landmarks.turn``) lies beyond an eye's centre by more than this
    # share of the eyes' distance (the edit moves a face seen from the front; a profile's mouth and eyes are hidden)
    max_turn: float = 0.0
    max_pixels: int | None = DEFAULT_MAX_PIXELS  # larger inputs are refused from their header (None: no limit)
    motion: str = DEFAULT_MOTION  # MOTIONS: where an edit's geometry comes from (module docstring)
    creases: bool = False  # shade the folds the expression makes with the mesh motion (editing.creases)
    steady_reading: bool = True  # G_exp reads each face as the median over editing.reading.VIEWS, not one crop
    upper_face_gain: float = UPPER_FACE_GAIN  # the mesh motion's brows and lids, times the renderer's (1: as rendered)

    def __post_init__(self) -> None:
        check_motion(self.motion)
        if not 0 < self.upper_face_gain <= MAX_UPPER_FACE_GAIN:
            raise EditorConfigError(
                f"upper_face_gain must be in (0, {MAX_UPPER_FACE_GAIN}], got {self.upper_face_gain}")


@dataclass
class PreparedFace:
    """One face of a photo, made ready for the model."""

    crop: np.ndarray  # S×S×3 uint8, what the model sees
    matrix: np.ndarray  # 2×3 photo -> crop
    aligned: AlignedFace | None  # landmarks and box; None when the whole photo was resized
    number: int = 0  # position among the photo's faces, left to right
    blend_mask: np.ndarray | None = field(default=None, repr=False)  # the photo-size face mask, made once (_apply)
    detail: np.ndarray | None = field(default=None, repr=False)  # the photo at the paint's resolution (_face_field)
    glasses: bool = False  # wears clear glasses: their frames stay still (editing.glasses.clear_frames)
    seems_to_wear_glasses: bool = False  # Editor.prepare found clear glasses on it (looks_like_glasses)
    frames: np.ndarray | None = field(default=None, repr=False)  # uint8 [P, P]: those frames, found once
    narrowing: np.ndarray | None = field(default=None, repr=False)  # [478] far_side_narrowing, read once (_narrowing)

    def holds_glasses(self, choice: bool | None) -> bool:
        """Whether this face's clear glasses stay still under ``choice`` (``Editor.prepare``'s ``glasses``): where
        they were found (None), on every face (True), on none (False)."""
        return self.seems_to_wear_glasses if choice is None else choice

    @property
    def area(self) -> float:
        if self.aligned is None:
            return float("inf")
        x0, y0, x1, y1 = self.aligned.box
        return (x1 - x0) * (y1 - y0)


@dataclass(frozen=True)
class LeftFace:
    """A face found but left as it is, and why (``why``: e.g. ``too small to edit (20 px, under 24 px)``)."""

    name: str  # the input's name
    number: int  # the face's number in it (left to right)
    why: str

    @property
    def told(self) -> str:
        """``photo.jpg: face 1 is too small to edit (...)``: the face and why (the error when only it was asked
        for)."""
        return f"{self.name}: face {self.number} is {self.why}"

    @property
    def note(self) -> str:
        """One line for the user: ``photo.jpg: face 1 is too small to edit (...); left as it is``."""
        return f"{self.told}; left as it is"


@dataclass
class PreparedPhoto:
    """One input: the photo and the faces of it to edit (numbered left to right; edited largest first)."""

    photo: np.ndarray  # H×W×3 uint8, the input as given
    faces: list[PreparedFace]
    name: str = "image"
    left: list[LeftFace] = field(default_factory=list)  # faces found but left as they are, and why
    rgba: np.ndarray | None = field(default=None, repr=False)  # H×W×4: an input with alpha before it met white
    hints: list[str] = field(default_factory=list)  # e.g. a face that seems to wear clear glasses (Editor.prepare)

    @property
    def notes(self) -> list[str]:
        """The faces left as they are, then the hints, one line each."""
        return [face.note for face in self.left] + self.hints


@dataclass
class FaceReport:
    """Which face of which input a row of an ``EditResult``'s per-face arrays belongs to."""

    photo: int  # index of the input
    number: int  # the face's number in that input (left to right)
    box: tuple[float, float, float, float] | None  # detector box in photo pixels; None when not aligned


@dataclass
class EditResult:
    images: list[np.ndarray]  # edited inputs, uint8 H×W×3, each the size of its input
    masks: np.ndarray  # [F, S, S, 3] float in [0, 1]: (eye, mouth, part) masks of each face's crop (_region_masks)
    target_aus: np.ndarray  # [F, 16] the AUs asked for, per face
    source_aus: np.ndarray  # [F, 16] G_exp's estimate of each face's own AUs
    crops: list[np.ndarray] = field(default_factory=list)  # each face's edited model crop, uint8 S×S×3
    faces: list[FaceReport] = field(default_factory=list)  # per face: which input and face number
    left: list[LeftFace] = field(default_factory=list)  # faces not edited (too small, in profile, cut), and why
    hints: list[str] = field(default_factory=list)  # e.g. a face that seems to wear clear glasses
    # per input: the photo and its faces with their crop masks (rows of ``masks``), which ``photo_masks`` draws
    mask_sources: list[tuple[PreparedPhoto, list[tuple[PreparedFace, np.ndarray]]]] = field(
        default_factory=list, repr=False)

    @cached_property
    def photo_masks(self) -> list[np.ndarray]:
        """Per input, its faces' masks on the photo (float H×W×3, the largest where faces meet; 0 where no crop
        reaches), drawn when first asked for: they are full-resolution arrays (a 48-megapixel photo's take 576 MB),
        which most edits and every frame of a sequence but the one saved never need."""
        return [_masks_on_photo(photo, pairs) for photo, pairs in self.mask_sources]

    @property
    def notes(self) -> list[str]:
        """The faces left as they are, then the hints, one line each."""
        return [face.note for face in self.left] + self.hints

    @property
    def image(self) -> np.ndarray:
        """The first (or only) edited image."""
        return self.images[0]


class Editor:
    def __init__(self, bundle: ModelBundle, config: EditorConfig | None = None) -> None:
        self.config = config or EditorConfig()
        self.device = torch_device(self.config.device)
        self.image_size = bundle.config.image_size
        self.generator = bundle.generator.to(self.device).eval()
        self.au_regressor = bundle.au_regressor.to(self.device).eval()
        self._aligner: FaceAligner | None = None
        self._mesh_basis: MeshBasis | None = None  # loaded by the first edit that needs it
        # what estimate_faces reads each face through (steady_reading); none: the aligned crop alone
        self.reading_views: tuple[View, ...] = VIEWS if self.config.steady_reading else ()

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, *, device: str = "cpu", align: bool = True,
                        batch_size: int = 16, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                        motion: str = DEFAULT_MOTION, creases: bool = False,
                        upper_face_gain: float = UPPER_FACE_GAIN) -> Editor:
        """Load a model bundle folder; ``None`` loads the model shipped with lsgan."""
        config = EditorConfig(device=device, batch_size=batch_size, align=align, max_pixels=max_pixels,
                              motion=motion, creases=creases, upper_face_gain=upper_face_gain)
        torch_device(device)  # fail on an unavailable device before the (slower) load
        return cls(load_bundle(resolve_model_dir(path), device), config)

    # --- public API -------------------------------------------------------------------------------------------

    def estimate(self, images: ImageSource | Sequence[ImageSource], *, face: int | None = None) -> np.ndarray:
        """G_exp's AU intensities ``[F, 16]`` (0-1, order ``facs.AU_IDS``) for each face of each input, inputs
        in order and each input's faces largest first (``prepare`` gives their numbers; or only face ``face``)."""
        return self.estimate_faces(self.prepare(images, face=face, glasses=False))

    def edit(self, images: ImageSource | Sequence[ImageSource], aus: AUInput | None = None, *,
             emotion: str | None = None, intensity: float | None = None, like: ImageSource | None = None,
             face: int | None = None, region: str | None = None, glasses: bool | None = None,
             side: str | None = None) -> EditResult:
        """Edit the expression of every face of each input (``face=N``: only face N, numbered left to right);
        ``region="eyes"|"mouth"`` edits only that region's AUs and pixels; clear glasses' frames stay still on the
        faces that seem to wear them (``glasses=None``), on every face (True) or on none (False); ``side="left"|
        "right"`` acts on that side of the picture only ("both"; None: contempt on the left, others on both). See
        ``editing.targets`` for how aus / emotion / like / side combine (``aus`` values with a sign, e.g. "12=+0.3",
        move the face's own AUs)."""
        request = self.request(aus, emotion=emotion, intensity=intensity, like=like, region=region, side=side)
        return self.edit_faces(self.prepare(images, face=face, glasses=glasses), request)

    def edit_sequence(self, image: ImageSource, steps: int, aus: AUInput | None = None, *,
                      emotion: str | None = None, intensity: float | None = None,
                      like: ImageSource | None = None, face: int | None = None,
                      region: str | None = None, glasses: bool | None = None, side: str | None = None
                      ) -> EditResult:
        """``steps`` frames of one input going continuously from its own expression to the target one."""
        request = self.request(aus, emotion=emotion, intensity=intensity, like=like, region=region, side=side)
        return self.sequence_face(self.prepare(image, face=face, glasses=glasses)[0], request, steps)

    # --- steps, for callers that reuse prepared photos (CLI folders, the web page) -----------------------------

    def request(self, aus: AUInput | None = None, *, emotion: str | None = None, intensity: float | None = None,
                like: ImageSource | None = None, region: str | None = None, side: str | None = None
                ) -> TargetRequest:
        """What to edit towards; ``like`` is read and the AUs of its largest face estimated here, once."""
        check_region(region)
        check_side(side)
        like_aus, like_points = self._largest_face_reading(like) if like is not None else (None, None)
        return TargetRequest(aus=aus, emotion=emotion, intensity=intensity, like_aus=like_aus,
                             like_points=like_points, region=region, side=side)

    def edit_faces(self, photos: Sequence[PreparedPhoto], request: TargetRequest) -> EditResult:
        source_aus = self.estimate_faces(photos)
        side, targets, other = self.sides(photos, request, source_aus)
        return self.render(photos, targets, source_aus, region=request.region, side=side, other_aus=other)

    def sides(self, photos: Sequence[PreparedPhoto], request: TargetRequest, source_aus: np.ndarray
              ) -> tuple[str | None, np.ndarray, np.ndarray | None]:
        """(side, targets [F, 16], other side's targets [F, 16] or None): what ``render`` is to draw for ``request``
        on the faces of ``photos`` whose own AUs are ``source_aus``: one-sided as ``request_side`` says; a lopsided
        face to copy on the two sides apart (``editing.lopsided``: the picture's left as ``side``, its right as
        the other); otherwise on both sides alike."""
        targets = resolve_targets(request, source_aus)
        side = request_side(request)
        if side is not None:
            return side, targets, other_side_targets(request, source_aus)
        if request.like_points is None or request.side is not None:  # "both" was asked for
            return None, targets, None
        faces = [face for photo in photos for face in photo.faces]
        frowning = frowns(request.like_aus)
        differences = copied_differences(request, np.stack([
            side_differences(_mesh_points(face), request.like_points, self.mesh_basis, self.image_size, frowning,
                             self._narrowing(face))
            for face in faces]))
        if not differences.any():
            return None, targets, None
        return "left", *split_sides(targets, differences)

    def sequence_face(self, photo: PreparedPhoto, request: TargetRequest, steps: int) -> EditResult:
        """Frames of ``photo`` (all its chosen faces at once) going from their own AUs to the target ones."""
        return next(self._sequence_render(photo, request, steps, steps))

    def sequence_chunks(self, photo: PreparedPhoto, request: TargetRequest, steps: int) -> Iterator[EditResult]:
        """``sequence_face``'s frames, rendered ``batch_size`` frames at a time so that only one chunk is held."""
        yield from self._sequence_render(photo, request, steps, self.config.batch_size)

    def _sequence_render(self, photo: PreparedPhoto, request: TargetRequest, steps: int, frames_per_chunk: int
                         ) -> Iterator[EditResult]:
        source_aus = self.estimate_faces([photo])  # [F, 16]
        side, final, other = self.sides([photo], request, source_aus)
        targets = interpolate_targets(source_aus, final, steps)  # [steps, F, 16]
        others = interpolate_targets(source_aus, other, steps) if side else None
        for start in range(0, steps, frames_per_chunk):
            chunk = targets[start:start + frames_per_chunk]
            other = None if others is None else others[start:start + frames_per_chunk].reshape(-1, NUM_AUS)
            yield self.render([photo] * len(chunk), chunk.reshape(-1, source_aus.shape[1]),
                              np.tile(source_aus, (len(chunk), 1)), region=request.region, side=side,
                              other_aus=other)

    def prepare(self, images: ImageSource | Sequence[ImageSource], *, face: int | None = None,
                glasses: bool | None = None) -> list[PreparedPhoto]:
        """Read, check and find the faces of each input (aligned, or resized when ``align`` is off). ``glasses``:
        which faces wear clear glasses, whose frames then stay still (``PreparedFace.glasses``): None, those that
        seem to (``editing.glasses.looks_like_glasses``; each named in ``PreparedPhoto.hints``), True every face,
        False none."""
        check_glasses(glasses, self.config.align)
        photos = [self._prepare_one(image, face) for image in _as_list(images)]
        for photo in photos:
            for prepared in photo.faces:
                prepared.seems_to_wear_glasses = glasses is None and self._seems_to_wear_glasses(photo, prepared)
                prepared.glasses = prepared.holds_glasses(glasses)
                if prepared.seems_to_wear_glasses:
                    photo.hints.append(f"{photo.name}: face {prepared.number} seems to wear glasses: their frame is "
                                       "kept still (--no-glasses, glasses=False or the web page's none: it moves with "
                                       "the brows)")
        return photos

    @staticmethod
    def _seems_to_wear_glasses(photo: PreparedPhoto, face: PreparedFace) -> bool:
        if face.aligned is None or not has_mesh(face.aligned.landmarks.points):
            return False
        points = face.aligned.landmarks.points
        left, right = (eye_contour(points, eye).mean(axis=0) for eye in range(2))
        if np.linalg.norm(right - left) / crop_per_photo(face.matrix) < HINT_MIN_EYES:  # photo pixels
            return False
        scale = paint_scale(face.matrix)
        if face.detail is None:
            face.detail = detail_view(photo.photo, face.matrix, face.crop.shape[0], scale)
        return looks_like_glasses(face.detail, points, scale)

    def estimate_faces(self, photos: Sequence[PreparedPhoto]) -> np.ndarray:
        """``[F, 16]`` for the faces of ``photos``, in order: G_exp's median over ``reading_views`` of each face
        (``editing.reading``), or its reading of the aligned crop alone when there are none; a face in a dark photo
        read brightened (``reading.exposed``)."""
        faces = [(photo, face) for photo in photos for face in photo.faces]
        if not self.reading_views:
            crops = np.stack([exposed(face.crop, _brightest(face)) for _, face in faces])
            return self._regress_aus(crops).numpy().astype(np.float32)
        views = np.concatenate([exposed(view_crops(photo.photo, face.matrix, self.image_size, self.reading_views),
                                        _brightest(face)) for photo, face in faces])  # [F*V, S, S, 3]
        readings = self._regress_aus(views).numpy().reshape(-1, len(self.reading_views), NUM_AUS)
        return np.median(readings, axis=1).astype(np.float32)

    def render(self, photos: Sequence[PreparedPhoto], target_aus: np.ndarray, source_aus: np.ndarray, *,
               region: str | None = None, motion: str | None = None,
               creases: bool | None = None, side: str | None = None, other_aus: np.ndarray | None = None
               ) -> EditResult:
        """Run the generator on the faces of ``photos`` (target and source AUs ``[F, 16]``, faces in order) and
        apply each edit to its photo at full resolution (only inside ``region``'s mask when one is given), its
        geometry as ``motion`` says (default ``config.motion``), its folds shaded when ``creases`` says (default
        ``config.creases``). ``side`` ("left" / "right" of the picture): the targets act on that side of each face
        and ``other_aus`` ``[F, 16]`` on the other (``targets.other_side_targets``), but for the AUs of the midline,
        which act on both (``targets.with_bilateral_aus``)."""
        motion = self.config.motion if motion is None else check_motion(motion)
        creases = self.config.creases if creases is None else creases
        check_side(side)
        side = None if side == "both" else side
        if side is not None and (other_aus is None or np.shape(other_aus) != np.shape(target_aus)):
            raise AUError("a one-sided edit needs the other side's AUs, one row per face (other_aus)")
        faces = [(index, face) for index, photo in enumerate(photos) for face in photo.faces]
        crops = np.stack([face.crop for _, face in faces])
        edited, masks, flows, colours = self._generate(crops, _au_tensor(target_aus), _au_tensor(source_aus))
        if side is not None:
            other_aus = with_bilateral_aus(other_aus, target_aus)  # the mouth opens on both sides alike
            other_edited, _, other_flows, other_colours = self._generate(crops, _au_tensor(other_aus),
                                                                         _au_tensor(source_aus))
            edited, flows, colours = _one_sided(side, (edited, flows, colours),
                                                (other_edited, other_flows, other_colours))
        crop_masks = np.stack([_region_masks(face, generated) for (_, face), generated
                               in zip(faces, masks.movedim(1, -1).numpy())])  # [F, S, S, 3]
        targets, sources = np.asarray(target_aus, np.float32), np.asarray(source_aus, np.float32)
        others = targets if side is None else np.asarray(other_aus, np.float32)
        fields = [self._face_field(face, flows[row], colours[row], sources[row], targets[row], motion, creases,
                                   photos[index].photo, side, others[row]) for row, (index, face) in enumerate(faces)]
        images, mask_sources = [], []
        for index, photo in enumerate(photos):
            rows = [row for row, (owner, _) in enumerate(faces) if owner == index]
            images.append(self._apply(photo, rows, fields, crop_masks, region))
            mask_sources.append((photo, [(photo.faces[k], crop_masks[row]) for k, row in enumerate(rows)]))
        reports = [FaceReport(index, face.number, face.aligned.box if face.aligned else None) for index, face in faces]
        left = [face for photo in photos for face in photo.left]
        hints = list(dict.fromkeys(hint for photo in photos for hint in photo.hints))  # a sequence's photo is one
        return EditResult(images, crop_masks, np.asarray(target_aus), np.asarray(source_aus),
                          list(to_uint8(edited)), reports, left, hints, mask_sources)

    def close(self) -> None:
        """Free the face detectors (if any were loaded)."""
        if self._aligner is not None:
            self._aligner.close()
            self._aligner = None

    def __enter__(self) -> Editor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------------------------

    def _prepare_one(self, image: ImageSource, face: int | None) -> PreparedPhoto:
        photo, rgba = read_image_and_alpha(image, max_pixels=self.config.max_pixels)
        name = describe_source(image)
        if not self.config.align:  # the whole image is face 0
            crop = resize_image(photo, self.image_size)
            whole = PreparedFace(crop, resize_matrix(photo.shape, self.image_size), None)
            return self._choose_faces(PreparedPhoto(photo, [whole], name, rgba=rgba), face)
        found = self._face_aligner().align_all(photo, name=name, max_pixels=None)  # read above; largest first
        ordered = sorted(found, key=lambda aligned: (aligned.box[0] + aligned.box[2]) / 2)  # numbered left to right
        faces = [PreparedFace(aligned.crop, aligned.matrix, aligned, number) for number, aligned in enumerate(ordered)]
        return self._choose_faces(PreparedPhoto(photo, faces, name, rgba=rgba), face)

    def _choose_faces(self, photo: PreparedPhoto, choice: int | None) -> PreparedPhoto:
        """Keep face ``choice`` (or all that are large enough), largest first; ``FaceChoiceError`` if none is."""
        count = len(photo.faces)
        if choice is not None and not 0 <= choice < count:
            numbers = "0" if count == 1 else f"0-{count - 1}"
            raise FaceChoiceError(f"{photo.name}: no face {choice} (found {count}, numbered {numbers} left to right)")
        wanted = photo.faces if choice is None else [photo.faces[choice]]
        kept = []
        for face in sorted(wanted, key=lambda face: face.area, reverse=True):
            side, turn = _box_side(face), _turn(face)
            if side < self.config.min_face:
                why = f"too small to edit ({side:.0f} px, under {self.config.min_face} px)"
            elif turn is not None and not -self.config.max_turn <= turn <= 1 + self.config.max_turn:
                why = "turned too far to edit, in profile (its nose tip beyond an eye)"
            elif _cut_by_border(face, photo.photo.shape):
                why = "cut by the photo's border (most of an eye or of the mouth beyond it)"
            else:
                kept.append(face)
                continue
            photo.left.append(LeftFace(photo.name, face.number, why))
        if not kept:
            raise FaceChoiceError(photo.left[-1].told)
        photo.faces = kept
        return photo

    def _largest_face_reading(self, image: ImageSource) -> tuple[np.ndarray, np.ndarray | None]:
        """The AUs [16] of the largest face of ``image`` and its landmarks in its crop (None when not aligned)."""
        photo = self.prepare(image, glasses=False)[0]
        photo.faces = photo.faces[:1]  # faces are kept largest first
        return self.estimate_faces([photo])[0], _mesh_points(photo.faces[0])

    def _face_aligner(self) -> FaceAligner:
        if self._aligner is None:  # detectors are slow to load; --no-align never needs one
            self._aligner = FaceAligner(size=self.image_size)
        return self._aligner

    @property
    def mesh_basis(self) -> MeshBasis:
        if self._mesh_basis is None:
            self._mesh_basis = photo_basis(MeshBasis.load(), self.config.upper_face_gain)
        return self._mesh_basis

    def _narrowing(self, face: PreparedFace) -> np.ndarray | None:
        """The ``far_side_narrowing`` of a face's mesh, read once per face (a web page's slider moves, a sequence's
        frames, a lopsided copy's two sides); None without a mesh or a mirror-symmetric basis."""
        points = _mesh_points(face)
        if face.narrowing is None and points is not None and has_mesh(points) and self.mesh_basis.mirror is not None:
            face.narrowing = far_side_narrowing(points, self.mesh_basis.mirror)
        return face.narrowing

    def _face_field(self, face: PreparedFace, flow: np.ndarray, colour: np.ndarray, source_aus: np.ndarray,
                    target_aus: np.ndarray, kind: str, creases: bool = False, photo: np.ndarray | None = None,
                    side: str | None = None, other_aus: np.ndarray | None = None) -> FaceField:
        """The model's field of one face, with the mesh motion of its edit as ``kind`` (a ``MOTIONS``) says, and the
        shading of its folds with ``creases``; the paint takes the eyes' colours from ``photo`` (the face's photo)
        at the paint's resolution; a face that wears clear glasses keeps their frame still (any ``kind``); ``side``:
        ``target_aus`` on that side, ``other_aus`` on the other (``render``)."""
        meshed = face.aligned is not None and has_mesh(face.aligned.landmarks.points)
        if not meshed or (kind == "model" and not face.glasses):
            return FaceField(flow, colour)
        scale = paint_scale(face.matrix)  # the paint as sharp as the photo
        if face.detail is None and photo is not None:  # made once per face (sequences: every frame)
            face.detail = detail_view(photo, face.matrix, face.crop.shape[0], scale)
        held = self._frames(face, scale) if face.glasses else None
        if kind == "model":
            return FaceField(flow, colour, held=held)
        points = face.aligned.landmarks.points
        motion = mesh_motion(face.crop, points, source_aus, target_aus, self.mesh_basis, scale, face.detail, side,
                             other_aus, self._narrowing(face))
        if kind == "mesh":
            flow, colour = motion.flow, np.zeros_like(colour)
        else:  # both: the model's field on the mesh motion's finer grid, plus the motion
            flow = resample_field(flow, motion.flow.shape[-1]) + motion.flow
        shade = None
        unchanged = np.allclose(source_aus, target_aus) and (side is None or np.allclose(source_aus, other_aus))
        if creases and not unchanged:
            shade = crease_shade(motion.target_points, face.crop.shape[0], source_aus, target_aus, self.mesh_basis,
                                 scale)
            if side is not None:  # each side's folds
                other = crease_shade(motion.target_points, face.crop.shape[0], source_aus, other_aus,
                                     self.mesh_basis, scale)
                weights = side_weights(paint_grid(shade.shape[-1], scale), face.crop.shape[0], side)[None, :]
                shade = weights * shade + (1.0 - weights) * other
        light = None if unchanged else self._unfolded(face, flow, scale, source_aus, target_aus, side, other_aus)
        if light is not None:
            shade = light if shade is None else shade[None] * light
        return FaceField(flow, colour, motion.paint, motion.target_points, shade, held)

    def _unfolded(self, face: PreparedFace, flow: np.ndarray, scale: int, source_aus: np.ndarray,
                  target_aus: np.ndarray, side: str | None, other_aus: np.ndarray | None) -> np.ndarray | None:
        """``[3, P, P]``: the light that takes away the folds of ``face`` its edit (``flow``) undoes
        (``editing.unfold``), each side's by its own target when ``side`` says; None if none."""
        settings = self.mesh_basis.settings
        shares = [unfolded_share(source_aus, aus, settings) for aus in (target_aus, other_aus) if aus is not None]
        picture_sides = (shares[0], shares[-1]) if side != "right" else (shares[-1], shares[0])
        view = paint_view(face.crop, scale, face.detail)
        return unfold_light(view, face.aligned.landmarks.points, flow, face.crop.shape[0], picture_sides,
                            face.crop.shape[0] * scale)

    @staticmethod
    def _frames(face: PreparedFace, scale: int) -> np.ndarray:
        """uint8 [P, P]: the frame of the clear glasses ``face`` wears and its lenses (``clear_frames``' labels),
        found once (sequences: every frame)."""
        if face.frames is None:
            face.frames = clear_frames(paint_view(face.crop, scale, face.detail), face.aligned.landmarks.points, scale)
        return face.frames

    def _apply(self, photo: PreparedPhoto, rows: list[int], fields: list[FaceField], crop_masks: np.ndarray,
               region: str | None) -> np.ndarray:
        """The photo with the edits of its faces (``rows`` into the per-face arrays), largest face first."""
        out = photo.photo.copy()
        for face, row in zip(photo.faces, rows):
            if face.blend_mask is None:  # the same for every edit of this face (sequences: every frame)
                face.blend_mask = self.face_mask(photo.photo.shape, face)
            mask = face.blend_mask
            edit = fields[row]
            if edit.moved_points is not None and _leaves_hull(face.aligned.landmarks.points, edit.moved_points):
                mask = np.maximum(mask, self._face_aligner().photo_moved_face_mask(face.aligned, photo.photo.shape,
                                                                                   edit.moved_points))
            if region is not None:
                mask = mask * _to_photo(crop_masks[row][:, :, region_channel(region)], face, photo.photo.shape)
            out = apply_field(photo.photo, face.matrix, edit.flow, edit.colour, mask, into=out, paint=edit.paint,
                              shade=edit.shade, held=edit.held)
        return out

    def face_mask(self, photo_shape: tuple[int, ...], face: PreparedFace) -> np.ndarray:
        """Float H×W: the feathered face hull of an aligned face; everywhere for a resized whole image."""
        if face.aligned is None:
            return np.ones(photo_shape[:2], np.float32)
        return self._face_aligner().photo_face_mask(face.aligned, photo_shape)

    @torch.inference_mode()
    def _generate(self, crops: np.ndarray, targets: torch.Tensor, sources: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
        """(edited crops [F,3,S,S] in [-1, 1], region masks [F,3,S,S], flows [F,2,S,S], colours [F,3,S,S])."""
        outputs = [self.generator.edit_field(images, target, source)
                   for images, target, source in self._tensor_batches(crops, targets, sources)]
        edited, masks, flows, colours = (torch.cat([out[i].cpu() for out in outputs]) for i in range(4))
        return edited, masks, flows.numpy(), colours.numpy()

    @torch.inference_mode()
    def _regress_aus(self, crops: np.ndarray) -> torch.Tensor:
        """G_exp's AUs ``[N, 16]`` for crops ``[N, S, S, 3]``."""
        return torch.cat([self.au_regressor(images).clamp(0.0, 1.0).cpu() for images, in self._tensor_batches(crops)])

    def _tensor_batches(self, crops: np.ndarray, *vectors: torch.Tensor) -> Iterator[tuple[torch.Tensor, ...]]:
        """(images [b, 3, S, S], then each of ``vectors`` [b, ...]) per batch, on the editor's device."""
        for start in range(0, len(crops), self.config.batch_size):
            stop = start + self.config.batch_size
            images = torch.stack([to_tensor(crop) for crop in crops[start:stop]]).to(self.device)
            yield images, *(vector[start:stop].to(self.device) for vector in vectors)


def resolve_model_dir(path: str | Path | None) -> Path:
    """The bundle folder to load: ``path``, or the shipped default model."""
    if path is not None:
        return Path(path)
    if not (DEFAULT_MODEL_DIR / "config.yaml").is_file():
        raise CheckpointError(
            f"no shipped model at {DEFAULT_MODEL_DIR}: train one (lsgan train all) and pass its bundle folder "
            "with --model DIR (or Editor.from_pretrained(DIR))"
        )
    return DEFAULT_MODEL_DIR


def torch_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} asked for, but no CUDA GPU is available here")
    return device


def _au_tensor(aus: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(aus, dtype=np.float32))


GeneratedFields = tuple[torch.Tensor, np.ndarray, np.ndarray]  # edited crops [F, 3, S, S], flows, colours


def _one_sided(side: str, acting: GeneratedFields, other: GeneratedFields) -> GeneratedFields:
    """The generator's outputs for the targets on ``side`` of each crop and for the other side's targets beyond it
    (``side_weights`` by column)."""
    weights = side_weights(np.arange(acting[1].shape[-1], dtype=np.float32), acting[1].shape[-1], side)  # [S]
    edited = torch.from_numpy(weights) * acting[0] + torch.from_numpy(1.0 - weights) * other[0]
    flows, colours = (weights * mine + (1.0 - weights) * theirs for mine, theirs in zip(acting[1:], other[1:]))
    return edited, flows, colours


def _mesh_points(face: PreparedFace) -> np.ndarray | None:
    """The face's landmarks in its crop (mediapipe's mesh, or dlib's 68 points), None when it was not aligned."""
    return None if face.aligned is None else face.aligned.landmarks.points


def _leaves_hull(points: np.ndarray, moved: np.ndarray) -> bool:
    """Whether any ``moved`` point lies outside the convex hull of ``points`` (e.g. a dropped chin)."""
    hull = cv2.convexHull(points.astype(np.float32))
    return any(cv2.pointPolygonTest(hull, (float(x), float(y)), False) < 0 for x, y in moved)


def _region_masks(face: PreparedFace, generated: np.ndarray) -> np.ndarray:
    """[S, S, 3] the (eye, mouth, part) masks of a face's crop that ``--region`` and ``EditResult.masks`` use: drawn
    from its landmarks (``data.faces.landmark_region_masks``) where it was aligned, else the generator's
    (``generated``, its SMG parser's): the parser, trained on SynthFACS, found no eyes on some real faces (two of
    eight portraits) and no mouth on another, and an edit to their region changed nothing."""
    if face.aligned is None:
        return generated
    return landmark_region_masks(face.aligned.landmarks, face.crop.shape[0]).transpose(1, 2, 0)


def _box_side(face: PreparedFace) -> float:
    if face.aligned is None:
        return float("inf")
    x0, y0, x1, y1 = face.aligned.box
    return min(x1 - x0, y1 - y0)


def _brightest(face: PreparedFace) -> float:
    """How bright a face's brightest is in its crop (``paint.brightest`` inside its landmarks' hull; the whole crop
    for an unaligned image): the gauge of its photo's light that its reading is brightened by (``reading.exposed``)."""
    crop = face.crop
    if face.aligned is None:
        side = crop.shape[0] - 1
        return brightest(crop, np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32), 1)
    return brightest(crop, face.aligned.landmarks.points, 1)


def _turn(face: PreparedFace) -> float | None:
    """``Landmarks.turn`` of an aligned face (None for a whole, unaligned image)."""
    return None if face.aligned is None else face.aligned.landmarks.turn()


def _cut_by_border(face: PreparedFace, photo_shape: tuple[int, ...]) -> bool:
    """Whether most of an eye or of the mouth of an aligned face lies beyond the photo's border: the mesh there is
    a guess at what the photo does not show (often a wrong one), and the edit would move and paint the guess. An eye
    whose outer corner only reaches past the border is edited."""
    if face.aligned is None:
        return False
    landmarks, scheme = face.aligned.landmarks, face.aligned.landmarks.scheme
    on_photo = landmarks.transformed(cv2.invertAffineTransform(face.aligned.matrix))
    height, width = photo_shape[:2]
    for part in (scheme.left_eye, scheme.right_eye, scheme.outer_lips):
        points = on_photo.part(part)  # [N, 2] photo pixels
        beyond = (points < 0).any(axis=1) | (points[:, 0] > width - 1) | (points[:, 1] > height - 1)
        if beyond.mean() > MOST_BEYOND_BORDER:
            return True
    return False


def _to_photo(crop_array: np.ndarray, face: PreparedFace, photo_shape: tuple[int, ...]) -> np.ndarray:
    """A crop-space array (S×S[×C]) carried onto the photo (H×W[×C]); 0 where the crop does not reach."""
    if face.aligned is None:
        height, width = photo_shape[:2]
        return cv2.resize(crop_array, (width, height), interpolation=cv2.INTER_LINEAR)
    return crop_to_photo(np.ascontiguousarray(crop_array), face.aligned, photo_shape)


def _masks_on_photo(photo: PreparedPhoto, faces: list[tuple[PreparedFace, np.ndarray]]) -> np.ndarray:
    """The region masks (S×S×3 per face) of a photo's faces on the photo (H×W×3, the largest where faces meet)."""
    combined = np.zeros((*photo.photo.shape[:2], 3), np.float32)
    for face, masks in faces:
        if face.aligned is None:
            combined = np.maximum(combined, _to_photo(masks, face, photo.photo.shape))
            continue
        box, warped = crop_on_photo(np.ascontiguousarray(masks), face.aligned, photo.photo.shape)
        combined[box] = np.maximum(combined[box], warped)
    return combined


def _as_list(images: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    if isinstance(images, np.ndarray) and images.ndim == 4:  # a batch array [N, H, W, C]
        return list(images)
    if isinstance(images, (list, tuple)):
        if not images:
            raise InputImageError("no images given: the list is empty")
        return list(images)
    return [images]
