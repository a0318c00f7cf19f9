"""SynthFACS identities: everything a generator must preserve (face shape, colouring, hair, accessories),
sampled deterministically from ``(identity_id, seed)``. Lengths are in image-frame units ([-1, 1] spans the image)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Colour = tuple[float, float, float]

# Skin albedo endpoints (sRGB 0-1): a tone t in [0, 1] interpolates light -> deep through a warm mid tone.
SKIN_LIGHT: Colour = (0.96, 0.80, 0.70)
SKIN_MID: Colour = (0.78, 0.56, 0.42)
SKIN_DEEP: Colour = (0.36, 0.23, 0.16)

HAIR_COLOURS: dict[str, Colour] = {
    "black": (0.06, 0.05, 0.05),
    "dark_brown": (0.17, 0.11, 0.07),
    "brown": (0.33, 0.21, 0.12),
    "light_brown": (0.52, 0.38, 0.24),
    "blond": (0.80, 0.67, 0.43),
    "red": (0.55, 0.22, 0.10),
    "grey": (0.62, 0.61, 0.60),
}
HAIR_WEIGHTS = (0.26, 0.24, 0.18, 0.1, 0.1, 0.05, 0.07)
HAIR_STYLES: tuple[str, ...] = ("short", "long", "bob", "buzz", "curly")
IRIS_COLOURS: dict[str, Colour] = {
    "dark_brown": (0.20, 0.11, 0.06),
    "brown": (0.36, 0.21, 0.10),
    "hazel": (0.45, 0.37, 0.18),
    "green": (0.30, 0.42, 0.28),
    "blue": (0.32, 0.48, 0.66),
    "grey": (0.45, 0.50, 0.54),
}
IRIS_WEIGHTS = (0.35, 0.25, 0.12, 0.08, 0.13, 0.07)


@dataclass(frozen=True)
class Identity:
    """One synthetic person. Frozen so it can be shared between renders and compared for equality."""

    identity_id: int
    texture_seed: int
    # face outline
    face_half_width: float
    jaw_half_width: float
    chin_half_width: float
    chin_y: float
    hairline_y: float
    head_top_y: float
    # eyes and brows
    eye_y: float
    eye_spacing: float
    eye_half_width: float
    eye_opening: float
    eye_tilt: float
    iris_radius: float
    iris_colour: Colour
    brow_gap: float
    brow_thickness: float
    brow_arch: float
    brow_colour: Colour
    # nose and mouth
    nose_tip_y: float
    nose_half_width: float
    nose_height: float
    mouth_y: float
    mouth_half_width: float
    upper_lip: float
    lower_lip: float
    lip_colour: Colour
    # colouring and accessories
    skin_tone: float
    skin_colour: Colour
    hair_style: str
    hair_colour: Colour
    hair_volume: float
    hair_parting: float
    background_top: Colour
    background_bottom: Colour
    clothes_colour: Colour
    glasses: bool
    glasses_colour: Colour
    glasses_round: bool
    stubble: float
    earrings: bool


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(float(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _jitter(rng: np.random.Generator, colour: Colour, amount: float) -> Colour:
    """Vary brightness by ~``amount`` and hue by a third of that (so a grey stays grey, not lilac)."""
    brightness = 1.0 + rng.normal(0.0, amount)
    return tuple(float(np.clip(c * (brightness + rng.normal(0.0, amount / 3)), 0.0, 1.0)) for c in colour)  # type: ignore[return-value]


def skin_colour(tone: float) -> Colour:
    """Skin albedo for a tone in [0, 1] (0 = light, 1 = deep)."""
    return _mix(SKIN_LIGHT, SKIN_MID, tone / 0.5) if tone < 0.5 else _mix(SKIN_MID, SKIN_DEEP, (tone - 0.5) / 0.5)


def _choice(rng: np.random.Generator, table: dict[str, Colour], weights: tuple[float, ...]) -> tuple[str, Colour]:
    names = list(table)
    name = names[rng.choice(len(names), p=np.asarray(weights) / sum(weights))]
    return name, table[name]


def _random_colour(rng: np.random.Generator, low: float, high: float, saturation: float) -> Colour:
    grey = rng.uniform(low, high)
    hue = rng.uniform(-1.0, 1.0, 3) * saturation
    return tuple(float(np.clip(grey + h, 0.02, 0.98)) for h in hue)  # type: ignore[return-value]


def sample_identity(identity_id: int, seed: int = 0) -> Identity:
    """The identity number ``identity_id`` of the data set generated with ``seed`` (pure function of both)."""
    rng = np.random.default_rng([int(seed), int(identity_id), 0x1D])
    u = rng.uniform
    tone = float(rng.beta(1.3, 1.6))
    hair_name, hair = _choice(rng, HAIR_COLOURS, HAIR_WEIGHTS)
    hair = _jitter(rng, hair, 0.08)
    style = HAIR_STYLES[rng.integers(len(HAIR_STYLES))]
    face_half_width = u(0.47, 0.55)
    eye_y = u(-0.13, -0.07)
    nose_tip_y = eye_y + u(0.25, 0.31)
    chin_y = u(0.62, 0.7)
    mouth_y = float(np.clip(nose_tip_y + u(0.15, 0.19), None, chin_y - 0.2))
    masculine = rng.uniform() < 0.5
    lip_base = _mix(skin_colour(tone), (0.7, 0.25, 0.28), u(0.45, 0.7))
    brow_colour = _mix(hair, (0.05, 0.04, 0.04), 0.5 if hair_name in ("blond", "grey") else 0.2)
    return Identity(
        identity_id=int(identity_id),
        texture_seed=int(rng.integers(2**31)),
        face_half_width=face_half_width,
        jaw_half_width=face_half_width * u(0.74, 0.9 if masculine else 0.84),
        chin_half_width=face_half_width * u(0.24, 0.38),
        chin_y=chin_y,
        hairline_y=eye_y - u(0.42, 0.52),
        head_top_y=eye_y - u(0.66, 0.72),
        eye_y=eye_y,
        eye_spacing=u(0.2, 0.235),
        eye_half_width=u(0.095, 0.11),
        eye_opening=u(0.036, 0.048),
        eye_tilt=u(-0.008, 0.02),
        iris_radius=u(0.038, 0.043),
        iris_colour=_jitter(rng, _choice(rng, IRIS_COLOURS, IRIS_WEIGHTS)[1], 0.08),
        brow_gap=u(0.095, 0.12),
        brow_thickness=u(0.03, 0.045) if masculine else u(0.024, 0.034),
        brow_arch=u(0.008, 0.035),
        brow_colour=brow_colour,
        nose_tip_y=nose_tip_y,
        nose_half_width=u(0.066, 0.09),
        nose_height=u(0.7, 1.2),
        mouth_y=mouth_y,
        mouth_half_width=u(0.16, 0.2),
        upper_lip=u(0.026, 0.04) if masculine else u(0.032, 0.046),
        lower_lip=u(0.036, 0.054) if masculine else u(0.042, 0.06),
        lip_colour=_jitter(rng, lip_base, 0.05),
        skin_tone=tone,
        skin_colour=_jitter(rng, skin_colour(tone), 0.03),
        hair_style=style
        if not masculine or style not in ("long", "bob")
        else str(rng.choice(["short", "buzz", "curly"], p=[0.55, 0.25, 0.2])),
        hair_colour=hair,
        hair_volume=u(0.03, 0.08),
        hair_parting=u(-0.6, 0.6),
        background_top=_random_colour(rng, 0.35, 0.85, 0.08),
        background_bottom=_random_colour(rng, 0.2, 0.75, 0.08),
        clothes_colour=_random_colour(rng, 0.08, 0.8, 0.2),
        glasses=bool(rng.uniform() < 0.22),
        glasses_colour=_random_colour(rng, 0.03, 0.4, 0.05),
        glasses_round=bool(rng.uniform() < 0.5),
        stubble=float(u(0.3, 1.0)) if masculine and rng.uniform() < 0.4 else 0.0,
        earrings=bool(not masculine and rng.uniform() < 0.3),
    )
