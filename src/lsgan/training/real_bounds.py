"""AU bounds on unlabelled real faces, read off a real-face expression classifier (not in the paper; issue 11).

``data.real``'s frames carry no AU labels, and G_exp, trained on SynthFACS alone, reads AUs on photos that are not
there (a neutral face as brows raised and lips stretched) and misses real smiles. What can honestly be said of a
frame that the training classifier (``nets.expression.LOSS_CLASSIFIER``, face-api; fer stays out of every loss)
reads as an emotion with probability at least ``confidence``: by EMFACS (``facs.EMOTION_PROTOTYPES``) the AUs of
that emotion's prototype are on, at least ``PROTOTYPE_SHARE`` of their prototype intensity, and the AUs outside it
are off, except the ones speech moves (``SPEECH_AUS``: the frames are of people talking). Each frame gets lower and
upper bounds ``[16]``; a frame without such a read, or read as an emotion outside ``emotions``, gets [0, 1], no
constraint. Stage aux trains G_exp on SynthFACS's labels plus ``losses.au_bound_loss`` on the bounded frames
(``stages.aux_options.real_bounds``).

The classifier reads each frame whole, in its detector's box, as its own pipeline would: on the 64-pixel aligned
crops it agrees with its full-frame reads on 77 % of the video frames only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lsgan.data.faces import FaceAligner
from lsgan.data.images import read_image
from lsgan.errors import DataError, LsganError
from lsgan.facs import AU_IDS, EMOTION_PROTOTYPES, NUM_AUS
from lsgan.nets.expression import EXPRESSIONS, ExpressionClassifier

SPEECH_AUS: tuple[int, ...] = (10, 17, 23, 25, 26)  # lips and jaw move when people talk: never bounded
PROTOTYPE_SHARE = 0.5  # a confidently read emotion's prototype AUs are on at least this share of their intensity
REAL_EXPRESSIONS = "real_expressions.npz"  # the classifier's reads of data.real's faces, once per run dir


@dataclass
class RealExpressions:
    probabilities: np.ndarray  # [N, 7] in nets.expression.EXPRESSIONS order, one row per RealFaces name
    names: list[str]
    classifier: str
    made_from: dict  # the RealFaces.made_from these were read for

    def to_bytes(self) -> bytes:
        """An .npz (plain arrays only, read back without pickle)."""
        buffer = io.BytesIO()
        np.savez(buffer, probabilities=self.probabilities.astype(np.float32), names=np.array(json.dumps(self.names)),
                 classifier=np.array(self.classifier), made_from=np.array(json.dumps(self.made_from)))
        return buffer.getvalue()

    @classmethod
    def read(cls, path: Path) -> RealExpressions:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["probabilities"], json.loads(str(data["names"])), str(data["classifier"]),
                           json.loads(str(data["made_from"])))
        except (OSError, ValueError, KeyError) as err:
            raise DataError(f"{path}: not a real-expressions cache ({err}); delete it to read the faces again") from None


def read_expressions(folder: Path, names: Sequence[str], classifier: ExpressionClassifier, *,
                     progress: bool = True) -> np.ndarray:
    """``[N, 7]``: ``classifier``'s probabilities for the largest face of each named image under ``folder`` (all
    zeros, hence no bounds, for an image whose face is no longer found)."""
    rows = np.zeros((len(names), len(EXPRESSIONS)), np.float32)
    with FaceAligner() as aligner:
        for i, name in enumerate(tqdm(names, desc="reading real faces' expressions", unit="image",
                                      disable=not progress)):
            try:
                photo = read_image(folder / name)
                faces = aligner.detect(photo)
            except LsganError:
                continue
            if faces:
                rows[i] = classifier.classify(photo, [faces[0].box])[0]
    return rows


def au_bounds(probabilities: np.ndarray, emotions: Sequence[str], confidence: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds ``[N, 16]`` (see the module docstring) for classifier reads ``[N, 7]``."""
    count = len(probabilities)
    lower, upper = np.zeros((count, NUM_AUS), np.float32), np.ones((count, NUM_AUS), np.float32)
    top = probabilities.argmax(axis=1) if count else np.zeros(0, int)
    for i in range(count):
        emotion = EXPRESSIONS[top[i]]
        if probabilities[i, top[i]] < confidence or emotion not in emotions:
            continue
        prototype = EMOTION_PROTOTYPES[emotion]
        for k, au in enumerate(AU_IDS):
            if au in SPEECH_AUS:
                continue
            if au in prototype:
                lower[i, k] = PROTOTYPE_SHARE * prototype[au]
            else:
                upper[i, k] = 0.0
    return lower, upper


def bounded_rows(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Indices of the frames that have any bound."""
    return np.flatnonzero((lower > 0).any(axis=1) | (upper < 1).any(axis=1))
