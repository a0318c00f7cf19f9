"""The FACS vocabulary shared by every part of lsgan: the paper's 16 action units, their names,
the eye/mouth split used by the transformative generator, and the eight RaFD emotions as AU prototypes (as posed,
and as an edit asks for them).

AU intensities are on a 0-1 scale everywhere inside lsgan; DISFA/OpenFace use 0-5 (``DISFA_SCALE``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lsgan.errors import LsganError

AU_IDS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26)
NUM_AUS = len(AU_IDS)
AU_COLUMNS: tuple[str, ...] = tuple(f"AU{a:02d}" for a in AU_IDS)
DISFA_SCALE = 5.0

AU_NAMES: dict[int, str] = {
    1: "inner brow raiser",
    2: "outer brow raiser",
    4: "brow lowerer",
    5: "upper lid raiser",
    6: "cheek raiser",
    7: "lid tightener",
    9: "nose wrinkler",
    10: "upper lip raiser",
    12: "lip corner puller",
    14: "dimpler",
    15: "lip corner depressor",
    17: "chin raiser",
    20: "lip stretcher",
    23: "lip tightener",
    25: "lips part",
    26: "jaw drop",
}

# The paper's split of the target AU vector between the TG branches (u_te, u_tm); the "part" branch sees all 16.
EYE_AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9)
MOUTH_AUS: tuple[int, ...] = (10, 12, 14, 15, 17, 20, 23, 25, 26)

EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "sad", "surprised", "angry", "fearful", "disgusted", "contemptuous",
)

# EMFACS-style prototypes at full intensity (0-1). Contempt is unilateral in FACS (R12A+R14A); the AU vector
# has no side, so renderers that can show one-sided actions read ``UNILATERAL_EMOTIONS``.
EMOTION_PROTOTYPES: dict[str, dict[int, float]] = {
    "neutral": {},
    "happy": {6: 0.8, 12: 1.0, 25: 0.5},
    "sad": {1: 0.8, 4: 0.6, 15: 0.8, 17: 0.4},
    "surprised": {1: 0.9, 2: 0.9, 5: 0.8, 25: 0.7, 26: 0.8},
    "angry": {4: 1.0, 5: 0.5, 7: 0.8, 23: 0.8, 17: 0.4},
    "fearful": {1: 0.8, 2: 0.6, 4: 0.5, 5: 0.9, 7: 0.3, 20: 0.8, 25: 0.6, 26: 0.4},
    "disgusted": {9: 0.9, 10: 0.8, 15: 0.4, 17: 0.5, 4: 0.4},
    "contemptuous": {12: 0.5, 14: 0.7},
}
UNILATERAL_EMOTIONS: frozenset[str] = frozenset({"contemptuous"})
UNILATERAL_SIDE = "left"  # where an edit to a one-sided emotion acts unless told: the picture's left, the face's right
# Midline actions FACS does not score on one side: the chin raiser, the lips parting, the jaw dropping. A one-sided edit
# moves them on both sides alike (half a mouth cannot open).
BILATERAL_AUS: tuple[int, ...] = (17, 25, 26)
# What an edit asks for when given an emotion: ``EMOTION_PROTOTYPES`` (what SynthFACS's posers show, as RaFD's do),
# but five emotions otherwise, chosen on real video frames (fear on training-only photos too) by the classifier the
# edits may answer to (face-api) and checked on LFW faces and the held-out portraits (docs/real_photos.md, "Emotions
# as photographs show them", "Fear's lower lip pulled down"): anger open-mouthed (4+5+7+10+23+25+26), read where the
# closed-lip variant is not; fear at full stretch, the jaw dropped and the lower lip pulled down off the lower teeth
# (1+2+4+5+16+20+25+26: a stretched slit of a mouth read as a grin); disgust as the upper lip raiser without the nose
# wrinkler (10+16+25): a warp cannot draw AU9's wrinkles, and its motion alone cost identity for no more reads;
# sadness as posed, its AUs stronger (1+4+15+17); a smile with its lips further apart (6+12+25, AU25 0.8: more teeth,
# a mouth that already shows its own keeps them, ``editing.mesh_motion.teeth_kept``); contempt one-sided at full
# strength (12+14 at 1 on one side, ``UNILATERAL_SIDE``, the other at rest: at the posed .5 / .7 on both sides the
# portraits' corners rose alike, 0.003 inter-ocular distances apart; one-sided, the acting corner rises 0.15 more than
# the other). AU15 stands in for the lower lip depressor AU16, not among the 16.
EDIT_PROTOTYPES: dict[str, dict[int, float]] = {
    **EMOTION_PROTOTYPES,
    "angry": {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 23: 0.3, 25: 1.0, 26: 0.6},
    "fearful": {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.5, 20: 1.0, 25: 1.0, 26: 0.8},
    "disgusted": {10: 1.0, 15: 0.6, 25: 0.5, 4: 0.4},
    "sad": {1: 1.0, 4: 0.8, 15: 1.0, 17: 0.6},
    "happy": {6: 0.8, 12: 1.0, 25: 0.8},
    "contemptuous": {12: 1.0, 14: 1.0},
}


class AUError(LsganError, ValueError):
    """A malformed AU specification (unknown AU, wrong length, NaN or out-of-range value)."""


def au_index(au: int) -> int:
    """Position of an AU number in the 16-vector."""
    try:
        return AU_IDS.index(int(au))
    except ValueError:
        raise AUError(f"unknown AU {au}: lsgan uses AUs {', '.join(map(str, AU_IDS))}") from None


def check_au_vector(values: Sequence[float] | np.ndarray, *, scale: float = 1.0, what: str = "AU vector") -> np.ndarray:
    """Validate a 16-vector (or a batch, shape [..., 16]) and return it as float32 on the 0-1 scale."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape[-1:] != (NUM_AUS,):
        raise AUError(f"{what} must have {NUM_AUS} values (AUs {AU_IDS}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise AUError(f"{what} contains NaN or infinite values")
    arr = arr / scale
    if arr.min(initial=0.0) < -1e-6 or arr.max(initial=0.0) > 1 + 1e-6:
        raise AUError(f"{what} has values outside [0, {scale:g}]: min {arr.min() * scale:g}, max {arr.max() * scale:g}")
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


def au_vector(aus: Mapping[int, float] | None = None, base: Sequence[float] | None = None) -> np.ndarray:
    """A 16-vector from {AU number: intensity}, starting from ``base`` (zeros by default)."""
    vec = np.zeros(NUM_AUS, dtype=np.float32) if base is None else check_au_vector(base, what="base AU vector").copy()
    for au, value in (aus or {}).items():
        value = float(value)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise AUError(f"AU{au} intensity must be a number in [0, 1], got {value}")
        vec[au_index(au)] = value
    return vec


@dataclass(frozen=True)
class AUSetting:
    """One AU setting: an absolute intensity in [0, 1], or (``relative``) a change in [-1, 1] added to the face's
    own intensity, the result clipped to [0, 1]."""

    value: float
    relative: bool = False

    def applied_to(self, own: np.ndarray) -> np.ndarray:
        """The intensity this setting gives a face whose own intensity is ``own`` (any shape)."""
        if not self.relative:
            return np.full_like(own, self.value)
        return np.clip(own + self.value, 0.0, 1.0)


def parse_au_value(au: int, value: str | float) -> AUSetting:
    """An AU's setting from its value: a number (absolute, 0-1) or a signed string "+0.3" / "-0.2" (relative)."""
    text = value.strip() if isinstance(value, str) else None
    relative = text is not None and text[:1] in "+-" and text != ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AUError(f"bad value {value!r} for AU{au}: expected a number, e.g. 0.8 or +0.3") from None
    low = -1.0 if relative else 0.0
    if not math.isfinite(number) or not low <= number <= 1.0:
        allowed = "a number in [-1, +1]" if relative else "a number in [0, 1]"
        raise AUError(f"AU{au} {'change' if relative else 'intensity'} must be {allowed}, got {text or value}")
    return AUSetting(number, relative)


def parse_au_string(text: str) -> dict[int, AUSetting]:
    """Parse "12=0.8,6=0.6" (also "AU12=0.8") into {12: AUSetting(0.8), 6: AUSetting(0.6)}; "12=+0.3,4=-0.2"
    gives relative settings (changes to the face's own intensities)."""
    result: dict[int, AUSetting] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise AUError(f"bad AU setting {item!r}: expected AU=VALUE, e.g. 12=0.8 or 12=+0.3")
        try:
            au = int(key.strip().upper().removeprefix("AU"))
        except ValueError:
            raise AUError(f"bad AU setting {item!r}: expected AU=VALUE, e.g. 12=0.8 or 12=+0.3") from None
        au_index(au)
        if au in result:
            raise AUError(f"AU{au} is given twice in {text!r}: give each AU once")
        result[au] = parse_au_value(au, value)
    if not result:
        raise AUError(f"nothing to edit: {text!r} names no AU (e.g. 12=0.8)")
    return result


def emotion_vector(emotion: str, intensity: float = 1.0,
                   prototypes: Mapping[str, Mapping[int, float]] = EMOTION_PROTOTYPES) -> np.ndarray:
    """The prototype AU vector of one of the eight RaFD emotions, scaled by ``intensity`` in [0, 1]
    (``prototypes``: ``EMOTION_PROTOTYPES``, or ``EDIT_PROTOTYPES`` for what an edit asks for)."""
    name = emotion.strip().lower()
    if name not in prototypes:
        raise AUError(f"unknown emotion {emotion!r}: choose one of {', '.join(EMOTIONS)}")
    if not math.isfinite(intensity) or not 0.0 <= intensity <= 1.0:
        raise AUError(f"emotion intensity must be in [0, 1], got {intensity}")
    return au_vector({au: v * intensity for au, v in prototypes[name].items()})


def edit_vector(emotion: str, intensity: float = 1.0) -> np.ndarray:
    """The AU vector an edit to ``emotion`` asks for (``EDIT_PROTOTYPES``), scaled by ``intensity`` in [0, 1]."""
    return emotion_vector(emotion, intensity, EDIT_PROTOTYPES)


def subset_indices(aus: Sequence[int]) -> list[int]:
    """Indices into the 16-vector of an AU subset (e.g. ``EYE_AUS``)."""
    return [au_index(a) for a in aus]
