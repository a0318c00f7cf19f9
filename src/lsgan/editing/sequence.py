"""Continuous edits (``--steps N``, 2-240): the frames of a source → target sequence as PNGs, an animated GIF,
and an MP4 when imageio-ffmpeg is installed. Frames are streamed to disk, not held."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from lsgan.atomic import atomic_file, atomic_folder
from lsgan.data.images import ImageExtras, write_image
from lsgan.editing.targets import MAX_STEPS, check_steps


GIF_COLOURS = 256
GIF_PALETTE_FRAMES = 5  # frames a sequence's one GIF palette is read from (``_gif_palette``) ...
GIF_PALETTE_PIXELS = 1_000_000  # ... shrunk to at most this many pixels together


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


def write_sequence(frames: Iterable[np.ndarray], stem: str | Path, config: AnimationConfig | None = None,
                   extras: ImageExtras | None = None) -> SequenceFiles:
    """Write ``<stem>_frames/000.png…``, ``<stem>.gif`` and (if possible) ``<stem>.mp4``; the frames with the colour
    profile, EXIF and grey of the source file (``extras``; not its alpha, which the GIF and MP4 cannot hold).

    ``frames`` may be a generator: each frame is written as it comes and not kept; the GIF and MP4 are then made
    from the written PNGs, read back one at a time."""
    config = config or AnimationConfig()
    stem = Path(stem)
    frames_dir = stem.with_name(f"{stem.name}_frames")
    frame_extras = None if extras is None else replace(extras, rgba=None)
    with atomic_folder(frames_dir) as tmp_dir:
        for index, frame in enumerate(frames):
            if index >= MAX_STEPS:  # a generator of frames is bounded too
                check_steps(index + 1)
            write_image(tmp_dir / f"{index:03d}.png", frame, frame_extras)
    frame_files = sorted(frames_dir.glob("*.png"))
    played = _play_order(frame_files, config.boomerang)
    files = SequenceFiles(frames_dir, _write_gif(played, stem.with_suffix(".gif"), config.fps), frames=frame_files)
    if mp4_available():
        files.mp4 = _write_mp4(played, stem.with_suffix(".mp4"), config.fps)
    return files


def _play_order(frames: list[Path], boomerang: bool) -> list[Path]:
    return frames + frames[-2:0:-1] if boomerang else frames


def _read_frames(paths: Iterable[Path]) -> Iterator[Image.Image]:
    for path in paths:
        with Image.open(path) as frame:
            frame.load()
            yield frame


def _write_gif(frames: list[Path], path: Path, fps: int) -> Path:
    palette = _gif_palette(frames)
    first, *_ = _on_palette(frames[:1], palette)
    with atomic_file(path) as tmp:
        first.save(tmp, format="GIF", save_all=True, append_images=_on_palette(frames[1:], palette),
                   duration=round(1000 / fps), loop=0, optimize=False)  # optimize: a palette cut down per frame
    return path


def _gif_palette(frames: list[Path]) -> Image.Image:
    """The one 256-colour palette (Pillow's median cut) of a sequence's GIF, read from ``GIF_PALETTE_FRAMES`` of its
    frames (the first, the last and evenly between), shrunk to ``GIF_PALETTE_PIXELS`` in all. Left to Pillow, each
    frame was quantised on its own (0.4 s a 512-pixel frame), each with its own colours, which flicker from frame to
    frame."""
    unique = list(dict.fromkeys(frames))  # a boomerang plays its frames twice
    picks = dict.fromkeys(unique[round(i * (len(unique) - 1) / (GIF_PALETTE_FRAMES - 1))]
                          for i in range(GIF_PALETTE_FRAMES))
    images = [frame.convert("RGB") for frame in _read_frames(picks)]
    width, height = images[0].size
    shrink = min(1.0, (GIF_PALETTE_PIXELS / (len(images) * width * height)) ** 0.5)
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    stacked = np.concatenate([np.asarray(image.resize(size, Image.Resampling.BOX)) for image in images])
    return Image.fromarray(stacked).quantize(GIF_COLOURS, Image.Quantize.MEDIANCUT)


def _on_palette(frames: list[Path], palette: Image.Image) -> Iterator[Image.Image]:
    """The frames on ``palette``, each pixel its nearest colour (not dithered, as Pillow would: a still part of the
    picture stays the same from frame to frame, which the GIF then stores once)."""
    for frame in _read_frames(frames):
        yield frame.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)


def _write_mp4(frames: list[Path], path: Path, fps: int) -> Path:
    import imageio.v2 as imageio

    # libx264 with yuv420p needs even sides: an odd side gets its last row or column once more (imageio would
    # resize the whole frame to even sides instead, and say so on stderr)
    with atomic_file(path) as tmp, imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264",
                                                      macro_block_size=1) as writer:
        for frame in _read_frames(frames):
            writer.append_data(_even_sides(np.asarray(frame.convert("RGB"))))
    return path


def _even_sides(frame: np.ndarray) -> np.ndarray:
    """``frame`` [H, W, 3] with its last row and column repeated where H or W is odd."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
