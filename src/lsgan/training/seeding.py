"""Seeds. Networks are initialised from the base seed (the same on every rank); each training step then draws
from a stream seeded by (base seed, rank, step), so every rank has its own noise and a resumed run, on any
number of processes, draws exactly what the uninterrupted run drew."""

from __future__ import annotations

import random

import numpy as np
import torch

_STEP_STREAM = 0x5EED


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def seed_for_step(seed: int, rank: int, step: int) -> None:
    """Seed torch / numpy / python for training step ``step`` on ``rank``."""
    mixed = np.random.SeedSequence([seed, rank, step, _STEP_STREAM]).generate_state(1, dtype=np.uint64)[0]
    seed_everything(int(mixed) % 2**63)
