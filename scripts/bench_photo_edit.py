"""Whole-photo editing speed on CPU, by photo size: finding the faces (whole photo and tiles), one edit of every
face (`Editor.edit`: detection, reading, mesh motion, paint, paste-back), with the faces found, and a slider move on
the web page (`EditPage.edit` on the kept upload: its faces found and read when it was uploaded).

    python scripts/bench_photo_edit.py                       # 0.3, 2, 12 and 48 MP
    python scripts/bench_photo_edit.py --megapixels 12 --faces 8 --face-size 60

Each photo is a grey canvas of the given size with ``--faces`` copies of scikit-image's astronaut's head,
``--face-size`` pixels wide (the face itself some three quarters of that), spread over it (a group shot). Times are
the median of ``--repeats`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ASPECT = 4 / 3


def group_photo(megapixels: float, faces: int, face_size: int) -> np.ndarray:
    """A ``megapixels`` canvas (4:3) with ``faces`` astronaut faces of ``face_size`` px on a grid."""
    import cv2
    from skimage import data

    height = round(math.sqrt(megapixels * 1e6 / ASPECT))
    width = round(height * ASPECT)
    photo = np.full((height, width, 3), 150, np.uint8)
    face = cv2.resize(np.ascontiguousarray(data.astronaut()[40:260, 120:330]), (face_size, face_size),
                      interpolation=cv2.INTER_AREA)  # the head, a little hair and neck around the face
    columns = min(math.ceil(math.sqrt(faces * ASPECT)), faces)
    rows = math.ceil(faces / columns)
    if face_size > min(height / rows, width / columns):
        raise SystemExit(f"{faces} faces of {face_size} px do not fit a {width}x{height} photo: "
                         f"at most {math.floor(min(height / rows, width / columns))} px each")
    for index in range(faces):
        row, column = divmod(index, columns)
        y = round((row + 0.5) * height / rows - face_size / 2)
        x = round((column + 0.5) * width / columns - face_size / 2)
        photo[y:y + face_size, x:x + face_size] = face
    return photo


def median_seconds(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[0.3, 2.0, 12.0, 48.0])
    parser.add_argument("--faces", type=int, default=5)
    parser.add_argument("--face-size", type=int, default=80, help="head crop width in pixels")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.faces < 1 or args.face_size < 32 or args.repeats < 1 or min(args.megapixels) <= 0:
        raise SystemExit("--faces and --repeats must be at least 1, --face-size at least 32, --megapixels positive")

    from lsgan.data.faces import FaceAligner
    from lsgan.editing import Editor

    editor = Editor.from_pretrained()
    print(f"{'photo':>14} {'faces found':>11} {'find faces s':>12} {'edit all s':>10} {'slider move s':>13}")
    with FaceAligner() as aligner, tempfile.TemporaryDirectory() as folder:
        for megapixels in args.megapixels:
            photo = group_photo(megapixels, args.faces, args.face_size)
            found = len(aligner.detect(photo))
            find = median_seconds(lambda: aligner.detect(photo), args.repeats)
            edit = median_seconds(lambda: editor.edit(photo, emotion="surprised"), args.repeats)
            slider = slider_move_seconds(editor, photo, Path(folder) / f"{megapixels}.png", args.repeats)
            size = f"{photo.shape[1]}x{photo.shape[0]}"
            print(f"{size:>14} {f'{found} of {args.faces}':>11} {find:>12.2f} {edit:>10.2f} {slider:>13.2f}")


def slider_move_seconds(editor, photo: np.ndarray, path: Path, repeats: int) -> float:
    """The web page's edit of every face of ``photo`` (uploaded as ``path``) to a surprised preset, the upload
    already loaded (and kept, the page's default memory budget allowing)."""
    from PIL import Image

    from lsgan.editing.web import EditPage, WebConfig

    Image.fromarray(photo).save(path)
    page = EditPage(editor, WebConfig())
    try:
        _, upload, _, _, _ = page.load(str(path))
        aus = page.preset("surprised")
        return median_seconds(lambda: page.edit(upload, aus), repeats)
    finally:
        page.close()


if __name__ == "__main__":
    main()
