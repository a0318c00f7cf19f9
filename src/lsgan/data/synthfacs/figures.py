"""Contact sheets of SynthFACS renders (the pictures in docs/synthfacs.md).

    python -m lsgan.data.synthfacs.figures docs/img
writes synthfacs_emotions.png (identities x the eight emotions) and synthfacs_aus.png (one identity x each AU at
0, 0.5 and 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from lsgan.data.synthfacs.identity import sample_identity
from lsgan.data.synthfacs.renderer import render
from lsgan.data.synthfacs.shading import Light
from lsgan.facs import (
    AU_IDS,
    AU_NAMES,
    EMOTIONS,
    UNILATERAL_EMOTIONS,
    au_vector,
    emotion_vector,
)

CELL = 128
TITLE = 22
AU_LEVELS = (0.0, 0.5, 1.0)


def _font(size: int = 14) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _sheet(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    return sheet, ImageDraw.Draw(sheet)


def emotion_grid(identities: tuple[int, ...] = (1, 3, 12, 15, 17, 20), seed: int = 0, size: int = CELL) -> Image.Image:
    """Rows: identities; columns: the eight RaFD emotions at full intensity (contempt one-sided)."""
    sheet, draw = _sheet(size * len(EMOTIONS), TITLE + size * len(identities))
    for col, emotion in enumerate(EMOTIONS):
        draw.text((col * size + size // 2, TITLE // 2), emotion, fill=(0, 0, 0), font=_font(), anchor="mm")
        for row, identity in enumerate(identities):
            side = "left" if emotion in UNILATERAL_EMOTIONS else None
            face = render(
                sample_identity(identity, seed), emotion_vector(emotion), size, light=Light(25.0, 30.0), unilateral=side
            )
            sheet.paste(Image.fromarray(face.image), (col * size, TITLE + row * size))
    return sheet


def au_grid(identity: int = 18, seed: int = 0, size: int = CELL, columns: int = 4) -> Image.Image:
    """One panel per AU (titled "AU12 lip corner puller") showing intensities 0, 0.5 and 1 side by side."""
    panel_w, panel_h, gap = size * len(AU_LEVELS), TITLE + size + TITLE // 2, 12
    rows = -(-len(AU_IDS) // columns)
    sheet, draw = _sheet(columns * (panel_w + gap) - gap, rows * panel_h)
    person = sample_identity(identity, seed)
    for k, au in enumerate(AU_IDS):
        x0, y0 = (k % columns) * (panel_w + gap), (k // columns) * panel_h
        draw.text(
            (x0 + panel_w // 2, y0 + TITLE // 2),
            f"AU{au:02d} {AU_NAMES[au]}",
            fill=(0, 0, 0),
            font=_font(15),
            anchor="mm",
        )
        for j, level in enumerate(AU_LEVELS):
            face = render(person, au_vector({au: level}), size, light=Light(20.0, 30.0))
            sheet.paste(Image.fromarray(face.image), (x0 + j * size, y0 + TITLE))
            draw.text((x0 + j * size + 4, y0 + TITLE + 2), f"{level:g}", fill=(255, 255, 255), font=_font(12))
    return sheet


def main(folder: str = "docs/img") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    emotion_grid().save(out / "synthfacs_emotions.png", optimize=True)
    au_grid().save(out / "synthfacs_aus.png", optimize=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
