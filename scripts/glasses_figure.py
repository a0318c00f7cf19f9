"""Clear glasses kept still (``lsgan edit``, by default where found; ``--glasses``, ``--no-glasses``): faces in
glasses edited with their frames let move and held.

    python scripts/glasses_figure.py --out docs/img/clear_glasses.jpg [--photo PATH[:FACE] ...] [--model DIR]

Rows: scikit-image's astronaut with the thin frame of clear glasses drawn round her eyes (``with_clear_glasses``),
then each ``--photo`` (its face FACE, numbered left to right; default the largest). Columns: the source, then each
of ``EMOTIONS`` with ``--no-glasses`` and with ``--glasses``. Prints, for the drawn frame, the share of its pixels
each edit changed by more than ``CHANGED`` levels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from real_photo_figure import face_window, labelled

from lsgan.data.faces import FaceAligner, affine_points
from lsgan.data.images import read_image, write_image
from lsgan.editing import Editor
from lsgan.editing.paint import eye_contour

EMOTIONS = ("surprised", "sad")
CHANGED = 10  # uint8 levels
RIM_HALF_SIZE = (0.4, 0.27)  # inter-ocular distances: the drawn rims' half width and height ...
RIM_WIDTH = 0.04  # ... their line's width ...
BRIDGE_RISE = 0.12  # ... and how far above the eyes' line the bridge runs


def with_clear_glasses(photo: np.ndarray, shade: int = 35, width: float = RIM_WIDTH,
                       half_size: tuple[float, float] = RIM_HALF_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(``photo`` with the frame of clear glasses drawn round its largest face's eyes: rectangles round each eye,
    ``half_size`` and ``width`` (inter-ocular distances), and a bridge ``BRIDGE_RISE`` above the eyes' line, in grey
    ``shade``; bool H×W where the frame is)."""
    eyes, distance = eyes_on_photo(photo)
    line = max(2, round(width * distance))
    drawn = np.zeros(photo.shape[:2], np.uint8)
    half = np.array(half_size) * distance
    for centre in eyes:
        corners = np.round([centre - half, centre + half]).astype(int)
        cv2.rectangle(drawn, tuple(corners[0]), tuple(corners[1]), 1, line)
    bridge_y = round((eyes[0][1] + eyes[1][1]) / 2 - BRIDGE_RISE * distance)
    left, right = sorted(eyes, key=lambda centre: centre[0])
    cv2.line(drawn, (round(left[0] + half[0]), bridge_y), (round(right[0] - half[0]), bridge_y), 1, line)
    return np.where(drawn[..., None] > 0, np.uint8(shade), photo), drawn > 0


def eyes_on_photo(photo: np.ndarray) -> tuple[np.ndarray, float]:
    """The eye centres [2, 2] of ``photo``'s largest face in the photo's pixels, and the distance between them."""
    with FaceAligner(64) as aligner:
        face = aligner.align(photo)
    centres = np.stack([eye_contour(face.landmarks.points, eye).mean(axis=0) for eye in range(2)])
    eyes = affine_points(centres, cv2.invertAffineTransform(face.matrix))
    return eyes, float(np.linalg.norm(eyes[1] - eyes[0]))


def row(editor: Editor, photo: np.ndarray, face: int | None, cell: int, frame: np.ndarray | None = None
        ) -> np.ndarray:
    """The source and its edits with ``glasses`` False and True, cut to the face and ``cell`` pixels wide each; with
    the ``frame`` known (bool H×W), the share of it each edit changed is printed."""
    prepared = editor.prepare(photo, face=face)[0].faces[0]
    rows, cols = face_window(prepared.aligned.box, photo.shape)

    def sized(image: np.ndarray) -> np.ndarray:
        window = image[rows, cols]
        return cv2.resize(window, (cell, round(window.shape[0] * cell / window.shape[1])), interpolation=cv2.INTER_AREA)

    cells = [labelled(sized(photo), "source")]
    for emotion in EMOTIONS:
        for glasses in (False, True):
            edited = editor.edit(photo, emotion=emotion, face=face, glasses=glasses).image
            label = f"{emotion} {'--glasses' if glasses else '--no-glasses'}"
            cells.append(labelled(sized(edited), label))
            if frame is not None:
                moved = np.abs(edited.astype(int) - photo).max(axis=-1)[frame] > CHANGED
                print(f"drawn frame, {label}: {moved.mean():.1%} of its pixels changed")
    return np.concatenate(cells, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--photo", action="append", default=[], help="PATH or PATH:FACE; repeatable")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--cell", type=int, default=240, help="each picture's width in pixels")
    args = parser.parse_args()
    from skimage import data

    with Editor.from_pretrained(args.model) as editor:
        photo, frame = with_clear_glasses(data.astronaut())
        lines = [row(editor, photo, None, args.cell, frame)]
        for given in args.photo:
            path, _, face = given.rpartition(":") if given.rpartition(":")[2].isdigit() else (given, "", "")
            lines.append(row(editor, read_image(path), int(face) if face else None, args.cell))
    write_image(args.out, np.concatenate(lines, axis=0))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
