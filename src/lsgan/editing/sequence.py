"""Continuous edits (``--steps N``): the frames of a source → target sequence as PNGs, an animated GIF, and an
MP4 when imageio-ffmpeg is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from lsgan.editing.outputs import atomic_file, atomic_folder


@dataclass
class AnimationConfig:
    fps: int = 12
    boomerang: bool = True  # play target → source after source → target, so the GIF loops smoothly


@dataclass
class SequenceFiles:
    frames_dir: Path
    gif: Path
    mp4: Path | None = None
    frames: list[Path] = field(default_factory=list)


def mp4_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("imageio", "imageio_ffmpeg"))


def write_sequence(frames: Sequence[np.ndarray], stem: str | Path, config: AnimationConfig | None = None) -> SequenceFiles:
    """Write ``<stem>_frames/000.png…``, ``<stem>.gif`` and (if possible) ``<stem>.mp4``."""
    config = config or AnimationConfig()
    stem = Path(stem)
    frames_dir = stem.with_name(f"{stem.name}_frames")
    with atomic_folder(frames_dir) as tmp_dir:
        for index, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp_dir / f"{index:03d}.png")
    played = _play_order(list(frames), config.boomerang)
    files = SequenceFiles(frames_dir, _write_gif(played, stem.with_suffix(".gif"), config.fps))
    files.frames = sorted(frames_dir.glob("*.png"))
    if mp4_available():
        files.mp4 = _write_mp4(played, stem.with_suffix(".mp4"), config.fps)
    return files


def _play_order(frames: list[np.ndarray], boomerang: bool) -> list[np.ndarray]:
    return frames + frames[-2:0:-1] if boomerang else frames


def _write_gif(frames: list[np.ndarray], path: Path, fps: int) -> Path:
    first, *rest = (Image.fromarray(frame) for frame in frames)
    with atomic_file(path) as tmp:
        first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0)
    return path


def _write_mp4(frames: list[np.ndarray], path: Path, fps: int) -> Path:
    import imageio.v2 as imageio

    # libx264 with yuv420p needs even sides; macro_block_size=2 pads odd sizes by at most one pixel.
    with atomic_file(path) as tmp, imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264",
                                                      macro_block_size=2) as writer:
        for frame in frames:
            writer.append_data(frame)
    return path
