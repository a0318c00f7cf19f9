"""Shared, generic pytest fixtures (keep them small; several test files use them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def save_png(tmp_path: Path) -> Callable[..., Path]:
    """``save_png(name, array_or_pil)`` writes a PNG (or any suffix PIL knows) under tmp_path; returns its path."""

    def save(name: str, image: np.ndarray | Image.Image) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(path)
        return path

    return save


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real face photo, uint8 512×512×3 (ships with scikit-image)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture
def fake_synthfacs(tmp_path: Path) -> Callable[..., Path]:
    """``fake_synthfacs(identities=3, per_identity=2, size=24)``: a folder in the SynthFACS on-disk layout
    (docs/architecture.md) with random images, random label maps and random AUs; the last identity is ``test``."""
    from lsgan.data.images import write_image
    from lsgan.facs import AU_COLUMNS, EMOTIONS
    from lsgan.parsing import NUM_PARSING_CLASSES

    def make(identities: int = 3, per_identity: int = 2, size: int = 24, name: str = "synth") -> Path:
        root = tmp_path / name
        gen = np.random.default_rng(1)
        header = ["image", "labels", "identity", "split", "emotion", "intensity", *AU_COLUMNS,
                  "yaw", "roll", "light_azimuth", "light_elevation", "seed"]
        lines = [",".join(header)]
        for index in range(identities * per_identity):
            identity = index // per_identity
            write_image(root / f"images/{index:04d}.png", gen.integers(0, 256, (size, size, 3), dtype=np.uint8))
            write_image(root / f"labels/{index:04d}.png",
                        gen.integers(0, NUM_PARSING_CLASSES, (size, size), dtype=np.uint8))
            aus = ",".join(f"{v:.3f}" for v in gen.uniform(0, 1, len(AU_COLUMNS)))
            split = "test" if identity == identities - 1 else "train"
            lines.append(f"images/{index:04d}.png,labels/{index:04d}.png,{identity},{split},"
                         f"{EMOTIONS[index % len(EMOTIONS)]},1.0,{aus},0,0,0,0,{index}")
        (root / "annotations.csv").write_text("\n".join(lines) + "\n")
        (root / "meta.json").write_text('{"au_scale": 1, "version": "test", "seed": 1}')
        return root

    return make
