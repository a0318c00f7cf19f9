"""What each data-set image shows: RaFD-style posed emotions at several intensities, DISFA-style spontaneous
AU combinations (sparse, intensities skewed low), and the small head pose and light variation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lsgan.data.synthfacs.frame import Pose
from lsgan.data.synthfacs.renderer import Side
from lsgan.data.synthfacs.shading import Light
from lsgan.facs import AU_IDS, EMOTIONS, NUM_AUS, UNILATERAL_EMOTIONS, emotion_vector

EMOTION_INTENSITIES: tuple[float, ...] = (1.0, 0.5, 0.75, 0.25)
SPONTANEOUS = "spontaneous"
# How often each AU is active in spontaneous data (DISFA-like: smiles, brow and lid actions, lips part are common).
SPONTANEOUS_WEIGHTS: dict[int, float] = {
    1: 1.0,
    2: 0.8,
    4: 1.4,
    5: 0.5,
    6: 1.2,
    7: 0.6,
    9: 0.4,
    10: 0.4,
    12: 1.6,
    14: 0.5,
    15: 0.5,
    17: 0.8,
    20: 0.4,
    23: 0.4,
    25: 1.5,
    26: 1.0,
}
YAW_RANGE = 8.0  # degrees, uniform in +-range
# degrees: the largest yaw range a set may be rendered with; the renderer turns a face by one fixed-point step, and
# `python scripts/turned_faces.py` checked its turned faces' motion against the mesh up to 24 degrees
MAX_YAW_RANGE = 24.0
ROLL_RANGE = 6.0
AZIMUTH_RANGE = 60.0
ELEVATION_RANGE = (10.0, 50.0)


@dataclass(frozen=True)
class Expression:
    emotion: str  # one of lsgan.facs.EMOTIONS or "spontaneous"
    intensity: float  # emotion intensity; for spontaneous rows the largest AU intensity
    aus: np.ndarray  # [16] in [0, 1], rounded to 4 decimals (what the CSV stores)
    unilateral: Side | None = None


def posed_expression(emotion: str, intensity: float, rng: np.random.Generator) -> Expression:
    side = str(rng.choice(["left", "right"])) if emotion in UNILATERAL_EMOTIONS else None
    intensity = 0.0 if emotion == "neutral" else intensity
    return Expression(emotion, intensity, np.round(emotion_vector(emotion, intensity).astype(np.float64), 4), side)  # type: ignore[arg-type]


def spontaneous_expression(rng: np.random.Generator) -> Expression:
    weights = np.array([SPONTANEOUS_WEIGHTS[a] for a in AU_IDS])
    count = int(min(1 + rng.poisson(1.3), 5))
    active = rng.choice(NUM_AUS, size=count, replace=False, p=weights / weights.sum())
    aus = np.zeros(NUM_AUS)
    aus[active] = np.clip(rng.beta(1.3, 2.2, size=count) + 0.05, 0.0, 1.0)
    aus = np.round(aus, 4)
    return Expression(SPONTANEOUS, float(aus.max()), aus)


def sample_expression(rng: np.random.Generator, spontaneous_fraction: float = 0.5) -> Expression:
    """A random posed emotion (random intensity level) or a spontaneous AU combination."""
    if rng.uniform() < spontaneous_fraction:
        return spontaneous_expression(rng)
    emotion = EMOTIONS[rng.integers(len(EMOTIONS))]
    return posed_expression(emotion, float(rng.choice(EMOTION_INTENSITIES)), rng)


def expression_for_index(index: int, per_identity: int, rng: np.random.Generator) -> Expression:
    """The ``index``-th image of an identity: first the eight emotions at each intensity level in turn (about half
    of the images, a whole number of rounds), then spontaneous AU combinations."""
    rounds = max(1, per_identity // 2 // len(EMOTIONS))
    posed_slots = min(per_identity, rounds * len(EMOTIONS))
    if index >= posed_slots:
        return spontaneous_expression(rng)
    emotion = EMOTIONS[index % len(EMOTIONS)]
    level = EMOTION_INTENSITIES[(index // len(EMOTIONS)) % len(EMOTION_INTENSITIES)]
    return posed_expression(emotion, level, rng)


def sample_pose_light(rng: np.random.Generator, yaw_range: float = YAW_RANGE) -> tuple[Pose, Light]:
    """Small random head pose (the yaw uniform in ±``yaw_range`` degrees) and a random light, rounded as the CSV
    stores them (so renders reproduce exactly)."""
    pose = Pose(
        yaw=round(float(rng.uniform(-yaw_range, yaw_range)), 3),
        roll=round(float(rng.uniform(-ROLL_RANGE, ROLL_RANGE)), 3),
    )
    light = Light(
        azimuth=round(float(rng.uniform(-AZIMUTH_RANGE, AZIMUTH_RANGE)), 3),
        elevation=round(float(rng.uniform(*ELEVATION_RANGE)), 3),
    )
    return pose, light
