"""``lsgan demo``: SynthFACS faces of test identities (never seen in training) edited across the eight emotions
and along an AU sweep, as one labelled grid; under each face's row, the same person rendered with the target AUs
(the true edit), so that what the model does can be judged against what it should do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lsgan.data.images import write_image
from lsgan.data.synthfacs import render, sample_identity
from lsgan.editing.editor import Editor, PreparedFace, PreparedPhoto
from lsgan.editing.fields import resize_matrix
from lsgan.facs import EMOTIONS, NUM_AUS, au_index, edit_vector

LABEL_HEIGHT = 14
LABEL_COLOUR = (40, 40, 40)


@dataclass
class DemoConfig:
    identities: tuple[int, ...] = (1_000_001, 1_000_002, 1_000_003)  # ids far beyond any training set's
    seed: int = 0
    sweep_au: int = 12
    sweep_steps: int = 5
    with_truth: bool = True  # a row of rendered true targets under each identity's edits


@dataclass
class DemoFiles:
    grid: Path
    sources: list[Path]


def neutral_faces(config: DemoConfig, size: int) -> list[np.ndarray]:
    """uint8 S×S×3 renders of the demo identities with a neutral face."""
    neutral = np.zeros(NUM_AUS, dtype=np.float32)
    return [render(sample_identity(identity, config.seed), neutral, size=size).image for identity in config.identities]


def true_row(identity: int, config: DemoConfig, size: int) -> np.ndarray:
    """The demo identity rendered with each column's AUs (the source column left blank)."""
    cells = [np.full((size, size, 3), 255, np.uint8) if aus is None
             else render(sample_identity(identity, config.seed), aus, size=size).image
             for _, aus in demo_columns(config)]
    return np.concatenate(cells, axis=1)


def demo_columns(config: DemoConfig) -> list[tuple[str, np.ndarray | None]]:
    """(label, target AUs) per grid column; ``None`` is the unedited source."""
    columns: list[tuple[str, np.ndarray | None]] = [("source", None)]
    columns += [(emotion, edit_vector(emotion)) for emotion in EMOTIONS]
    for value in np.linspace(0.0, 1.0, config.sweep_steps):
        sweep = np.zeros(NUM_AUS, dtype=np.float32)
        sweep[au_index(config.sweep_au)] = value
        columns.append((f"AU{config.sweep_au}={value:.2g}", sweep))
    return columns


def demo_grid(editor: Editor, faces: list[np.ndarray], config: DemoConfig) -> np.ndarray:
    """Rows: faces (each followed by its true targets with ``with_truth``); columns: source, the eight emotions,
    the AU sweep; a label row on top."""
    columns = demo_columns(config)
    targets = np.stack([aus for _, aus in columns if aus is not None])  # [C, 16]
    rows = []
    for identity, image in zip(config.identities, faces):
        photo = PreparedPhoto(image, [PreparedFace(image, resize_matrix(image.shape, image.shape[0]), None)])  # crops
        source_aus = editor.estimate_faces([photo])
        edited = editor.render([photo] * len(targets), targets, np.repeat(source_aus, len(targets), axis=0))
        rows.append(np.concatenate([image, *edited.images], axis=1))
        if config.with_truth:
            rows.append(true_row(identity, config, image.shape[0]))
    return np.concatenate([_label_row([label for label, _ in columns], faces[0].shape[1]), *rows], axis=0)


def _label_row(labels: list[str], cell: int) -> np.ndarray:
    strip = Image.new("RGB", (cell * len(labels), LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(strip)
    for index, label in enumerate(labels):
        draw.text((index * cell + 2, 1), label[: max(cell // 6, 3)], fill=LABEL_COLOUR)
    return np.asarray(strip)


def write_demo(editor: Editor, out_dir: Path, config: DemoConfig | None = None) -> DemoFiles:
    config = config or DemoConfig()
    faces = neutral_faces(config, editor.image_size)
    sources = [write_image(out_dir / f"source_{identity}.png", face) for identity, face in zip(config.identities, faces)]
    grid = write_image(out_dir / "demo_grid.png", demo_grid(editor, faces, config))
    return DemoFiles(grid, sources)
