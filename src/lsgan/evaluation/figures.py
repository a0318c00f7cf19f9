"""The model evaluation's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state) into PNG bytes:
a per-AU bar chart of AU MSE per method, and an image grid (rows: test pairs; columns: source, true target and
each method's edit)."""

from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from lsgan.data.images import to_uint8
from lsgan.facs import AU_IDS

DPI = 110


def au_bar_chart(bars: list[tuple[str, np.ndarray]], floor: np.ndarray | None, title: str,
                 ylabel: str = "AU MSE") -> bytes:
    """Grouped bars: for each AU (``facs.AU_IDS``), one bar per ``(method, values [16])``; ``floor`` [16] (the
    judge's error on true targets) as a black tick across each group."""
    figure = Figure(figsize=(max(8.0, 0.6 * len(AU_IDS) * max(1, len(bars)) / 3), 3.6), dpi=DPI)
    axes = figure.subplots()
    positions = np.arange(len(AU_IDS))
    width = 0.8 / max(1, len(bars))
    for index, (name, values) in enumerate(bars):
        axes.bar(positions - 0.4 + width * (index + 0.5), values, width, label=name)
    if floor is not None:
        axes.hlines(floor, positions - 0.42, positions + 0.42, colors="black", linewidth=1.5,
                    label="judge on true targets (floor)")
    axes.set_xticks(positions, [f"AU{au:02d}" for au in AU_IDS], fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=7, ncols=min(4, len(bars) + 1))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def image_grid(columns: list[tuple[str, Tensor]], title: str) -> bytes:
    """One column per ``(name, images [R,3,S,S] in [-1,1])``, one row per pair."""
    rows = min(len(images) for _, images in columns)
    figure = Figure(figsize=(1.3 * len(columns), 1.3 * rows + 0.5), dpi=DPI)
    grid = figure.subplots(rows, len(columns), squeeze=False)
    for column, (name, images) in enumerate(columns):
        pixels = to_uint8(images[:rows])
        for row in range(rows):
            axes = grid[row][column]
            axes.imshow(pixels[row], interpolation="nearest")
            axes.set_xticks([])
            axes.set_yticks([])
            if row == 0:
                axes.set_title(name, fontsize=7)
    figure.suptitle("\n".join(textwrap.wrap(title, width=max(24, 18 * len(columns)))), fontsize=8)
    figure.tight_layout()
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
