"""The user-facing editor: load a model bundle, find and align faces, edit their expression, paste them back.

    editor = Editor.from_pretrained()                   # the shipped model (or a bundle folder)
    result = editor.edit("me.jpg", aus={12: 0.8, 6: 0.6})
    result.image                                        # uint8 H×W×3, the size of me.jpg
    editor.estimate(["a.png", b_array])                 # [2, 16] AU intensities in [0, 1]

Inputs may be file paths, PIL images or numpy arrays, alone or in a list. Photos are aligned to the model's crop
and the edit is pasted back with a soft blend, so only the face region changes; with ``align=False`` each
image is taken as an already-cropped face and simply resized to the model size and back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from lsgan.data.faces import AlignedFace, FaceAligner, crop_to_photo
from lsgan.data.images import (
    DEFAULT_MAX_PIXELS, ImageSource, describe_source, read_image, resize_image, to_tensor, to_uint8,
)
from lsgan.editing.targets import AUInput, TargetRequest, interpolate_targets, resolve_targets
from lsgan.errors import CheckpointError, InputImageError, LsganError
from lsgan.nets.lsgan import ModelBundle, load_bundle

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"

class DeviceError(LsganError, ValueError):
    """A device that is not available here (e.g. cuda on a machine without a GPU)."""


@dataclass
class EditorConfig:
    device: str = "cpu"
    batch_size: int = 16
    align: bool = True  # False: inputs are already-cropped faces, resized to the model size and back
    max_pixels: int | None = DEFAULT_MAX_PIXELS  # larger inputs are refused from their header (None: no limit)


@dataclass
class PreparedFace:
    """One input made ready for the model."""

    photo: np.ndarray  # H×W×3 uint8, the input as given
    crop: np.ndarray  # S×S×3 uint8, what the model sees
    aligned: AlignedFace | None  # how crop maps into photo; None when the whole photo was resized


@dataclass
class EditResult:
    images: list[np.ndarray]  # edited inputs, uint8 H×W×3, each the size of its input
    masks: np.ndarray  # [N, S, S, 3] float in [0, 1]: (eye, mouth, part) region masks in the model crop
    target_aus: np.ndarray  # [N, 16] the AUs asked for
    source_aus: np.ndarray  # [N, 16] G_exp's estimate of the inputs' own AUs
    crops: list[np.ndarray] = field(default_factory=list)  # the edited model crops, uint8 S×S×3
    photo_masks: list[np.ndarray] = field(default_factory=list)  # the masks on each input, float H×W×3 (0 off-crop)

    @property
    def image(self) -> np.ndarray:
        """The first (or only) edited image."""
        return self.images[0]


class Editor:
    def __init__(self, bundle: ModelBundle, config: EditorConfig | None = None) -> None:
        self.config = config or EditorConfig()
        self.device = _torch_device(self.config.device)
        self.image_size = bundle.config.image_size
        self.generator = bundle.generator.to(self.device).eval()
        self.au_regressor = bundle.au_regressor.to(self.device).eval()
        self._aligner: FaceAligner | None = None

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, *, device: str = "cpu", align: bool = True,
                        batch_size: int = 16, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Editor:
        """Load a model bundle folder; ``None`` loads the model shipped with lsgan."""
        config = EditorConfig(device=device, batch_size=batch_size, align=align, max_pixels=max_pixels)
        _torch_device(device)  # fail on an unavailable device before the (slower) load
        return cls(load_bundle(resolve_model_dir(path), device), config)

    # --- public API -------------------------------------------------------------------------------------------

    def estimate(self, images: ImageSource | Sequence[ImageSource]) -> np.ndarray:
        """G_exp's AU intensities ``[N, 16]`` (0-1, order ``facs.AU_IDS``) for each input face."""
        return self.estimate_faces(self.prepare(images))

    def edit(self, images: ImageSource | Sequence[ImageSource], aus: AUInput | None = None, *,
             emotion: str | None = None, intensity: float | None = None,
             like: ImageSource | None = None) -> EditResult:
        """Edit each input's expression; see ``editing.targets`` for how aus / emotion / like combine."""
        request = self.request(aus, emotion=emotion, intensity=intensity, like=like)
        return self.edit_faces(self.prepare(images), request)

    def edit_sequence(self, image: ImageSource, steps: int, aus: AUInput | None = None, *,
                      emotion: str | None = None, intensity: float | None = None,
                      like: ImageSource | None = None) -> EditResult:
        """``steps`` frames of one input going continuously from its own expression to the target one."""
        request = self.request(aus, emotion=emotion, intensity=intensity, like=like)
        return self.sequence_face(self.prepare(image)[0], request, steps)

    # --- steps, for callers that reuse prepared faces (CLI folders, the web page) ------------------------------

    def request(self, aus: AUInput | None = None, *, emotion: str | None = None, intensity: float | None = None,
                like: ImageSource | None = None) -> TargetRequest:
        """What to edit towards; ``like`` is read and its AUs estimated here, once."""
        like_aus = self.estimate(like)[0] if like is not None else None
        return TargetRequest(aus=aus, emotion=emotion, intensity=intensity, like_aus=like_aus)

    def edit_faces(self, faces: Sequence[PreparedFace], request: TargetRequest) -> EditResult:
        source_aus = self.estimate_faces(faces)
        return self.render(faces, resolve_targets(request, source_aus), source_aus)

    def sequence_face(self, face: PreparedFace, request: TargetRequest, steps: int) -> EditResult:
        source_aus = self.estimate_faces([face])  # [1, 16]
        targets = interpolate_targets(source_aus[0], resolve_targets(request, source_aus)[0], steps)  # [steps, 16]
        return self.render([face] * steps, targets, np.repeat(source_aus, steps, axis=0))

    def prepare(self, images: ImageSource | Sequence[ImageSource]) -> list[PreparedFace]:
        """Read, check and crop each input (aligned, or resized when ``align`` is off)."""
        return [self._prepare_one(image) for image in _as_list(images)]

    def estimate_faces(self, faces: Sequence[PreparedFace]) -> np.ndarray:
        crops = np.stack([face.crop for face in faces])
        return self._regress_aus(crops).numpy().astype(np.float32)

    def render(self, faces: Sequence[PreparedFace], target_aus: np.ndarray, source_aus: np.ndarray) -> EditResult:
        """Run the generator on prepared faces with target AUs ``[N, 16]`` and put the edits back in place."""
        crops = np.stack([face.crop for face in faces])
        edited, masks = self._generate(crops, _au_tensor(target_aus), _au_tensor(source_aus))
        edited_crops = list(to_uint8(edited))
        images = [self._restore(face, crop) for face, crop in zip(faces, edited_crops)]
        crop_masks = masks.movedim(1, -1).numpy()  # [N, S, S, 3]
        photo_masks = [_masks_on_photo(face, mask) for face, mask in zip(faces, crop_masks)]
        return EditResult(images, crop_masks, np.asarray(target_aus), source_aus, edited_crops, photo_masks)

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

    def _prepare_one(self, image: ImageSource) -> PreparedFace:
        photo = read_image(image, max_pixels=self.config.max_pixels)
        if not self.config.align:
            return PreparedFace(photo, resize_image(photo, self.image_size), None)
        aligned = self._face_aligner().align(photo, name=describe_source(image))
        return PreparedFace(photo, aligned.crop, aligned)

    def _face_aligner(self) -> FaceAligner:
        if self._aligner is None:  # detectors are slow to load; --no-align never needs one
            self._aligner = FaceAligner(size=self.image_size)
        return self._aligner

    def _restore(self, face: PreparedFace, edited_crop: np.ndarray) -> np.ndarray:
        if face.aligned is None:
            height, width = face.photo.shape[:2]
            return resize_image(edited_crop, (width, height))
        return self._face_aligner().paste_back(face.photo, edited_crop, face.aligned)

    @torch.inference_mode()
    def _generate(self, crops: np.ndarray, targets: torch.Tensor, sources: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Edited crops ``[N, 3, S, S]`` in [-1, 1] and region masks ``[N, 3, S, S]`` (targets, sources: [N, 16])."""
        outputs = [self.generator.edit(images, target, source)
                   for images, target, source in self._tensor_batches(crops, targets, sources)]
        return torch.cat([image.cpu() for image, _ in outputs]), torch.cat([mask.cpu() for _, mask in outputs])

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


def _torch_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} asked for, but no CUDA GPU is available here")
    return device


def _au_tensor(aus: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(aus, dtype=np.float32))


def _masks_on_photo(face: PreparedFace, masks: np.ndarray) -> np.ndarray:
    """Region masks ``S×S×3`` of a model crop, carried onto the input photo (``H×W×3``)."""
    if face.aligned is None:
        height, width = face.photo.shape[:2]
        return cv2.resize(masks, (width, height), interpolation=cv2.INTER_LINEAR)
    return crop_to_photo(np.ascontiguousarray(masks), face.aligned, face.photo.shape)


def _as_list(images: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    if isinstance(images, np.ndarray) and images.ndim == 4:  # a batch array [N, H, W, C]
        return list(images)
    if isinstance(images, (list, tuple)):
        if not images:
            raise InputImageError("no images given: the list is empty")
        return list(images)
    return [images]
