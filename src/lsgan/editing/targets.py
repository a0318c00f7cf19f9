"""Turning what a user asks for (``aus``, ``emotion``, ``like``) into target AU vectors ``[N, 16]``.

The rules, shared by the API, the CLI and the web page:
- the starting point is the source's own AUs (as estimated by G_exp), or what an edit to an emotion asks for
  (``facs.EDIT_PROTOTYPES``), or the AUs of another face (``like``: the change G_exp reads from the source to it,
  ``LIKE_GAIN`` times); emotion and like exclude each other; ``intensity`` scales either;
- ``aus`` given as settings ({12: 0.8} or "12=0.8,6=0.6") overrides just those AUs on top of that start;
  a signed value ({12: "+0.3"} or "12=+0.3,4=-0.2") moves the face's own estimated AU instead (clipped to 0-1);
- ``aus`` given as a full 16-vector (or ``[N, 16]``) is the target itself and cannot be combined;
- ``region`` ("eyes" or "mouth") keeps every AU outside that region at the face's own value (and the editor
  changes only the pixels of that region's mask);
- ``side`` ("left" or "right" of the picture) makes the edit one-sided: the target acts on that side of the face,
  and the other side goes to ``other_side_targets`` (an emotion's: the face at rest there; otherwise the face's own
  AUs, so that only that side changes); "both" (or None for an emotion FACS does not make one-sided) acts on the
  whole face; the midline AUs (``facs.BILATERAL_AUS``: chin, lips apart, jaw) act on both sides alike
  (``with_bilateral_aus``). Contempt (``facs.UNILATERAL_EMOTIONS``) is one-sided unless told: FACS's R12+R14, one lip
  corner drawn in and up, on the picture's left (``facs.UNILATERAL_SIDE``: the face's own right).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lsgan.facs import (
    BILATERAL_AUS,
    EYE_AUS,
    MOUTH_AUS,
    UNILATERAL_EMOTIONS,
    UNILATERAL_SIDE,
    AUError,
    AUSetting,
    au_index,
    check_au_vector,
    edit_vector,
    parse_au_string,
    parse_au_value,
    subset_indices,
)
from lsgan.nets.generator import REGIONS

AUSettings = Mapping[int, float | str]  # a str value may be signed: relative
# G_exp reads a real face's AUs low (its bounds come from face-api's confident reads of real faces: a posed surprise
# reads AU26 0.43, a broad smile AU12 0.6), so a face to copy (``like``) is copied as LIKE_GAIN times the change
# G_exp reads from the source to it, clipped to 0-1 (a face copied onto itself is unchanged; onto a face at rest, its
# reading times the gain). Chosen on training-only faces by face-api (copies read as the other face's emotion, the
# reading scaled: 46, 47, 55, 64 of 156 at 1, 1.25, 1.5, 2; the change scaled 1.5 times: 54; past 1.5 most readings
# are clipped to 1, and a copy no longer tells a strong expression from a moderate one), as the smile's
# REAL_SMILE_GAIN was; checked with fer (held out) on the portraits: 37 -> 53 of 156 (python scripts/like_copies.py;
# docs/real_photos.md)
LIKE_GAIN = 1.5
AUInput = AUSettings | str | Sequence[float] | np.ndarray
SIDES: tuple[str, ...] = ("both", "left", "right")  # the sides of the picture an edit acts on (``side``)


@dataclass(frozen=True)
class TargetRequest:
    """What the user asked for; ``like_aus`` is G_exp's estimate for the ``like`` image ([16]), if one was given, and
    ``like_points`` that face's mesh in its aligned crop ([478, 2]: its sides, ``editing.lopsided``)."""

    aus: AUInput | None = None
    emotion: str | None = None
    intensity: float | None = None
    like_aus: np.ndarray | None = None
    like_points: np.ndarray | None = None
    region: str | None = None  # "eyes" or "mouth": only that region's AUs change
    side: str | None = None  # "left" / "right": one side of the picture; "both"; None: ``request_side`` decides


def resolve_targets(request: TargetRequest, source_aus: np.ndarray) -> np.ndarray:
    """Target AUs ``[N, 16]`` (float32, 0-1) for sources whose own AUs are ``source_aus`` ``[N, 16]``."""
    check_request(request.aus, request.emotion, request.intensity, has_like=request.like_aus is not None)
    check_region(request.region)
    check_side(request.side)
    if _is_full_vector(request.aus):
        target = check_au_vector(np.asarray(request.aus), what="target AU vector")
        target = np.broadcast_to(target, source_aus.shape).astype(np.float32)
    else:
        target = _override(_base_vectors(request, source_aus), au_settings(request.aus), source_aus)
    return restrict_to_region(target, source_aus, request.region)


def check_side(side: str | None) -> None:
    if side is not None and side not in SIDES:
        raise AUError(f"unknown side {side!r}: choose one of {', '.join(SIDES)} (of the picture)")


def request_side(request: TargetRequest) -> str | None:
    """The side of the picture ``request`` acts on, "left" or "right", or None for the whole face: its ``side``,
    and where none is given ``UNILATERAL_SIDE`` for a one-sided emotion (contempt)."""
    check_side(request.side)
    side = request.side
    if side is None:
        one_sided = isinstance(request.emotion, str) and request.emotion.strip().lower() in UNILATERAL_EMOTIONS
        side = UNILATERAL_SIDE if one_sided else "both"
    return None if side == "both" else side


def with_bilateral_aus(other_aus: np.ndarray, target_aus: np.ndarray) -> np.ndarray:
    """``other_aus`` ``[F, 16]`` (a one-sided edit's other side) with ``facs.BILATERAL_AUS`` as in ``target_aus``:
    the mouth opens, closes and the jaw drops on both sides alike."""
    other = np.array(other_aus, np.float32)
    columns = subset_indices(BILATERAL_AUS)
    other[..., columns] = np.asarray(target_aus, np.float32)[..., columns]
    return other


def other_side_targets(request: TargetRequest, source_aus: np.ndarray) -> np.ndarray:
    """``[N, 16]``: what a one-sided ``request`` asks of the face's other side: for an emotion, the same request to
    neutral (the face at rest there, with any ``aus`` settings on both sides: FACS's contempt is one lip corner on
    a face otherwise at rest); otherwise the face's own AUs (the change acts on one side only)."""
    if request.emotion is None:
        return check_au_vector(source_aus, what="source AUs").copy()
    return resolve_targets(replace(request, emotion="neutral", side="both"), source_aus)


REGION_AUS: dict[str, tuple[int, ...]] = {"eyes": EYE_AUS, "mouth": MOUTH_AUS}
_REGION_MASKS = {"eyes": "eye", "mouth": "mouth"}  # --region name -> generator mask name


def check_region(region: str | None) -> None:
    if region is not None and region not in REGION_AUS:
        raise AUError(f"unknown region {region!r}: choose one of {', '.join(REGION_AUS)} (or none for the whole face)")


def region_channel(region: str) -> int:
    """The channel of a region's mask among the generator's (eye, mouth, part) masks."""
    check_region(region)
    return REGIONS.index(_REGION_MASKS[region])


def restrict_to_region(target: np.ndarray, source: np.ndarray, region: str | None) -> np.ndarray:
    """``target`` [N, 16] with every AU outside ``region`` put back to the source's own value."""
    if region is None:
        return target
    outside = np.ones(target.shape[-1], bool)
    outside[subset_indices(REGION_AUS[region])] = False
    return np.where(outside, source, target).astype(np.float32)


def au_settings(aus: AUInput | None) -> dict[int, AUSetting]:
    """The AU settings of a string or mapping request (empty for none)."""
    if isinstance(aus, str):
        return parse_au_string(aus)
    settings = {}
    for au, value in (aus or {}).items():  # keys are whole numbers (check_request_types)
        au_index(int(au))
        settings[int(au)] = parse_au_value(int(au), value)
    return settings


def check_request(aus: AUInput | None, emotion: str | None, intensity: float | None, *, has_like: bool) -> None:
    """Raise ``AUError`` for a request that cannot be met, before any image is read or model loaded."""
    check_request_types(aus, emotion, intensity)
    if emotion is not None and has_like:
        raise AUError("give either an emotion or a face to copy (like), not both")
    if intensity is not None and emotion is None and not has_like:
        raise AUError("an intensity needs an emotion or a face to copy (e.g. happy at intensity 0.7)")
    if _is_full_vector(aus) and (emotion is not None or has_like):
        raise AUError("a full 16-value AU vector is the whole target: do not combine it with an emotion or like")
    if aus is None and emotion is None and not has_like:
        raise AUError("nothing to edit: give AUs (e.g. 12=0.8), an emotion, or a face to copy (like)")
    if emotion is not None:
        edit_vector(emotion, 1.0 if intensity is None else intensity)
    elif intensity is not None and (not math.isfinite(intensity) or not 0.0 <= intensity <= 1.0):
        raise AUError(f"the intensity of a copy must be in [0, 1], got {intensity}")
    if isinstance(aus, str):
        parse_au_string(aus)
    elif isinstance(aus, Mapping):
        au_settings(aus)
    elif aus is not None:
        check_au_vector(np.asarray(aus), what="target AU vector")


def check_request_types(aus: object, emotion: object, intensity: object) -> None:
    """The API's arguments have the types the CLI would give (``intensity="0.5"`` or ``emotion=3`` are refused
    here with one clear line, not deep inside with a TypeError)."""
    if emotion is not None and not isinstance(emotion, str):
        raise AUError(f"emotion must be a name such as 'happy', got {emotion!r} ({type(emotion).__name__})")
    if intensity is not None and not _is_number(intensity):
        raise AUError(f"intensity must be a number in [0, 1], got {intensity!r} ({type(intensity).__name__})")
    if aus is None or isinstance(aus, str):
        return
    if isinstance(aus, Mapping):
        for au, value in aus.items():
            signed = isinstance(value, str) and value.strip()[:1] in ("+", "-")
            if not _is_number(au) or isinstance(au, float) or not (_is_number(value) or signed):
                raise AUError(f"aus as a mapping is {{AU number: intensity}}, e.g. {{12: 0.8}} (or a signed change, "
                              f"{{12: '+0.3'}}); got {au!r}: {value!r}")
        return
    if not isinstance(aus, (Sequence, np.ndarray)) or np.asarray(aus, dtype=object).size == 0 \
            or np.asarray(aus).dtype.kind not in "iuf":
        raise AUError(f"aus must be settings ('12=0.8' or {{12: 0.8}}) or 16 numbers, got {type(aus).__name__} {aus!r:.80}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_full_vector(aus: AUInput | None) -> bool:
    return aus is not None and not isinstance(aus, (str, Mapping))


def _base_vectors(request: TargetRequest, source_aus: np.ndarray) -> np.ndarray:
    if request.emotion is not None:
        intensity = 1.0 if request.intensity is None else request.intensity
        return np.broadcast_to(edit_vector(request.emotion, intensity), source_aus.shape)
    if request.like_aus is not None:
        like = check_au_vector(request.like_aus, what="AUs of the face to copy")
        intensity = 1.0 if request.intensity is None else request.intensity  # a share of the copy
        return share_of_change(check_au_vector(source_aus, what="source AUs"), like, LIKE_GAIN * intensity)
    return check_au_vector(source_aus, what="source AUs")


def share_of_change(source_aus: np.ndarray, target_aus: np.ndarray, share: float) -> np.ndarray:
    """``[F, 16]``: ``share`` of the way from each face's own AUs ``source_aus`` [F, 16] to ``target_aus`` ([16] or
    [F, 16]), clipped to 0-1 (0: the face as it is; over 1, further the same way: a copy's ``LIKE_GAIN``)."""
    return np.clip(source_aus + share * (target_aus - source_aus), 0.0, 1.0).astype(np.float32)


def _override(base: np.ndarray, settings: dict[int, AUSetting], source_aus: np.ndarray) -> np.ndarray:
    target = np.array(base, dtype=np.float32)
    for au, setting in settings.items():
        column = au_index(au)
        target[:, column] = setting.applied_to(source_aus[:, column])
    return target


MIN_STEPS = 2
MAX_STEPS = 240  # 20 s at 12 fps; more runs for hours and fills the disk for no visible gain


def check_steps(steps: object) -> None:
    """A sequence has 2 to ``MAX_STEPS`` frames (CLI ``--steps``, ``Editor.edit_sequence``)."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or not MIN_STEPS <= steps <= MAX_STEPS:
        raise AUError(f"a sequence needs between {MIN_STEPS} and {MAX_STEPS} steps (--steps), got {steps!r}")


def interpolate_targets(source: np.ndarray, target: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` AU arrays ``[steps, *source.shape]`` going linearly from ``source`` to ``target`` (both ends
    included); ``source`` and ``target`` are ``[16]`` or ``[F, 16]``."""
    check_steps(steps)
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * source.ndim))
    return ((1.0 - weights) * source[None] + weights * target[None]).astype(np.float32)
