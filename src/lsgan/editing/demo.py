"""``lsgan demo``: SynthFACS faces of test identities (never seen in training) edited across the eight emotions
and along an AU sweep, as one labelled grid; under each face's row, the same person rendered with the target AUs
(the true edit), so that what the model does can be judged against what it should do. Contempt is edited and
rendered on one side (``editing.targets.request_side``), as ``lsgan edit --emotion contemptuous`` edits it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from lsgan.data.images import write_image
from lsgan.data.synthfacs import render, sample_identity
from lsgan.editing.editor import Editor, PreparedFace, PreparedPhoto
from lsgan.editing.fields import resize_matrix
from lsgan.editing.targets import TargetRequest, other_side_targets, request_side
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


class DemoColumn(NamedTuple):
    label: str
    aus: np.ndarray | None  # [16] the target; None: the unedited source
    side: str | None = None  # "left" / "right": a one-sided edit (contempt); None: both sides


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
    cells = [np.full((size, size, 3), 255, np.uint8) if column.aus is None
             else render(sample_identity(identity, config.seed), column.aus, size=size, unilateral=column.side).image
             for column in demo_columns(config)]
    return np.concatenate(cells, axis=1)


def demo_columns(config: DemoConfig) -> list[DemoColumn]:
    """The grid's columns: the source, the eight emotions (each on the side an edit to it acts on), the sweep."""
    columns = [DemoColumn("source", None)]
    columns += [DemoColumn(emotion, edit_vector(emotion), request_side(TargetRequest(emotion=emotion)))
                for emotion in EMOTIONS]
    for value in np.linspace(0.0, 1.0, config.sweep_steps):
        sweep = np.zeros(NUM_AUS, dtype=np.float32)
        sweep[au_index(config.sweep_au)] = value
        columns.append(DemoColumn(f"AU{config.sweep_au}={value:.2g}", sweep))
    return columns


def demo_grid(editor: Editor, faces: list[np.ndarray], config: DemoConfig) -> np.ndarray:
    """Rows: faces (each followed by its true targets with ``with_truth``); columns: source, the eight emotions,
    the AU sweep; a label row on top."""
    columns = demo_columns(config)
    rows = []
    for identity, image in zip(config.identities, faces):
        photo = PreparedPhoto(image, [PreparedFace(image, resize_matrix(image.shape, image.shape[0]), None)])  # crops
        rows.append(np.concatenate([image, *_edited_cells(editor, photo, columns[1:])], axis=1))
        if config.with_truth:
            rows.append(true_row(identity, config, image.shape[0]))
    return np.concatenate([_label_row([column.label for column in columns], faces[0].shape[1]), *rows], axis=0)


def _edited_cells(editor: Editor, photo: PreparedPhoto, columns: list[DemoColumn]) -> list[np.ndarray]:
    """``photo`` edited to each column: those on both sides in one batch, a one-sided one (an emotion's) alone."""
    source_aus = editor.estimate_faces([photo])  # [1, 16]
    both = [column for column in columns if column.side is None]
    edited = editor.render([photo] * len(both), np.stack([column.aus for column in both]),
                           np.repeat(source_aus, len(both), axis=0)).images
    cells = dict(zip((column.label for column in both), edited))
    for column in columns:
        if column.side is not None:
            other = other_side_targets(TargetRequest(emotion=column.label), source_aus)
            cells[column.label] = editor.render([photo], column.aus[None], source_aus, side=column.side,
                                                other_aus=other).images[0]
    return [cells[column.label] for column in columns]


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
