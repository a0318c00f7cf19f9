"""Turning what a user asks for (``aus``, ``emotion``, ``like``) into target AU vectors ``[N, 16]``.

The rules, shared by the API, the CLI and the web page:
- the starting point is the source's own AUs (as estimated by G_exp), or an emotion prototype, or the AUs of
  another face (``like``); emotion and like exclude each other;
- ``aus`` given as settings ({12: 0.8} or "12=0.8,6=0.6") overrides just those AUs on top of that start;
  a signed value ({12: "+0.3"} or "12=+0.3,4=-0.2") moves the face's own estimated AU instead (clipped to 0-1);
- ``aus`` given as a full 16-vector (or ``[N, 16]``) is the target itself and cannot be combined;
- ``region`` ("eyes" or "mouth") keeps every AU outside that region at the face's own value (and the editor
  changes only the pixels of that region's mask).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lsgan.facs import (
    EYE_AUS,
    MOUTH_AUS,
    AUError,
    AUSetting,
    au_index,
    check_au_vector,
    emotion_vector,
    parse_au_string,
    parse_au_value,
    subset_indices,
)
from lsgan.nets.generator import REGIONS

AUSettings = Mapping[int, float | str]  # a str value may be signed: relative
AUInput = AUSettings | str | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class TargetRequest:
    """What the user asked for; ``like_aus`` is G_exp's estimate for the ``like`` image ([16]), if one was given."""

    aus: AUInput | None = None
    emotion: str | None = None
    intensity: float | None = None
    like_aus: np.ndarray | None = None
    region: str | None = None  # "eyes" or "mouth": only that region's AUs change


def resolve_targets(request: TargetRequest, source_aus: np.ndarray) -> np.ndarray:
    """Target AUs ``[N, 16]`` (float32, 0-1) for sources whose own AUs are ``source_aus`` ``[N, 16]``."""
    check_request(request.aus, request.emotion, request.intensity, has_like=request.like_aus is not None)
    check_region(request.region)
    if _is_full_vector(request.aus):
        target = check_au_vector(np.asarray(request.aus), what="target AU vector")
        target = np.broadcast_to(target, source_aus.shape).astype(np.float32)
    else:
        target = _override(_base_vectors(request, source_aus), au_settings(request.aus), source_aus)
    return restrict_to_region(target, source_aus, request.region)


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
    return {au: parse_au_value(au_number(au), value) for au, value in (aus or {}).items()}


def au_number(au: object) -> int:
    """An AU key of a settings mapping, checked: 12 or "12" or "AU12"."""
    try:
        number = int(str(au).strip().upper().removeprefix("AU"))
    except ValueError:
        raise AUError(f"bad AU {au!r}: expected an AU number, e.g. 12") from None
    au_index(number)
    return number


def check_request(aus: AUInput | None, emotion: str | None, intensity: float | None, *, has_like: bool) -> None:
    """Raise ``AUError`` for a request that cannot be met, before any image is read or model loaded."""
    if emotion is not None and has_like:
        raise AUError("give either an emotion or a face to copy (like), not both")
    if intensity is not None and emotion is None:
        raise AUError("an intensity needs an emotion (e.g. happy at intensity 0.7)")
    if _is_full_vector(aus) and (emotion is not None or has_like):
        raise AUError("a full 16-value AU vector is the whole target: do not combine it with an emotion or like")
    if aus is None and emotion is None and not has_like:
        raise AUError("nothing to edit: give AUs (e.g. 12=0.8), an emotion, or a face to copy (like)")
    if emotion is not None:
        emotion_vector(emotion, 1.0 if intensity is None else intensity)
    if isinstance(aus, str):
        parse_au_string(aus)
    elif isinstance(aus, Mapping):
        au_settings(aus)
    elif aus is not None:
        check_au_vector(np.asarray(aus), what="target AU vector")


def _is_full_vector(aus: AUInput | None) -> bool:
    return aus is not None and not isinstance(aus, (str, Mapping))


def _base_vectors(request: TargetRequest, source_aus: np.ndarray) -> np.ndarray:
    if request.emotion is not None:
        intensity = 1.0 if request.intensity is None else request.intensity
        return np.broadcast_to(emotion_vector(request.emotion, intensity), source_aus.shape)
    if request.like_aus is not None:
        like = check_au_vector(request.like_aus, what="AUs of the face to copy")
        return np.broadcast_to(like, source_aus.shape)
    return check_au_vector(source_aus, what="source AUs")


def _override(base: np.ndarray, settings: dict[int, AUSetting], source_aus: np.ndarray) -> np.ndarray:
    target = np.array(base, dtype=np.float32)
    for au, setting in settings.items():
        column = au_index(au)
        target[:, column] = setting.applied_to(source_aus[:, column])
    return target


def interpolate_targets(source: np.ndarray, target: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` AU arrays ``[steps, *source.shape]`` going linearly from ``source`` to ``target`` (both ends
    included); ``source`` and ``target`` are ``[16]`` or ``[F, 16]``."""
    if steps < 2:
        raise AUError(f"a sequence needs at least 2 steps, got {steps}")
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * source.ndim))
    return ((1.0 - weights) * source[None] + weights * target[None]).astype(np.float32)
