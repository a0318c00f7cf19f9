"""Editing outputs: mask pictures; files and folders are written through ``lsgan.atomic`` (complete or not at all)."""

from __future__ import annotations

import numpy as np


MASK_NAMES = ("eye", "mouth", "part")  # the channels of the generator's region masks


def masks_to_rgb(masks: np.ndarray) -> np.ndarray:
    """Region masks ``[H, W, 3]`` (eye, mouth, part; 0-1) as a uint8 picture: eye red, mouth green, part blue."""
    return np.clip(np.rint(masks * 255.0), 0, 255).astype(np.uint8)
