"""How much G_exp's reading of a portrait moves when the same photo is given a little differently: rescaled 0.9×
and 1.1×, 4 pixels cropped off the top-left and off the bottom-right corner, re-saved as JPEG quality 80. Printed
for the aligned crop alone and for the editor's reading (the median over ``editing.reading.VIEWS``), and for two
smaller sets of views: the mean absolute change of a reading over every AU and re-given photo, its 95th percentile,
the largest change, the share of changes over 0.1, and seconds per reading (alignment included).

    python scripts/reading_repeatability.py [--model DIR] [--photos ~/.cache/lsgan/data/photos]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lsgan.data.images import read_image
from lsgan.data.photos import benchmark_photos
from lsgan.editing import editor as editing
from lsgan.editing.reading import VIEWS, View
from lsgan.errors import LsganError
from lsgan.nets.lsgan import load_bundle

VIEW_SETS: dict[str, tuple[View, ...]] = {
    "aligned crop alone": (),  # steady_reading off
    "30 views (the editor's)": VIEWS,
    "10 views (scale 1)": tuple(view for view in VIEWS if view[1] == 1.0),
    "6 views (mirror x scale)": tuple(view for view in VIEWS if view[2:] == (0.0, 0.0)),
}


def given_again(photo: np.ndarray) -> Iterator[np.ndarray]:
    """The photo as someone else might have given it."""
    height, width = photo.shape[:2]
    yield cv2.resize(photo, (round(width * 0.9), round(height * 0.9)), interpolation=cv2.INTER_AREA)
    yield cv2.resize(photo, (round(width * 1.1), round(height * 1.1)), interpolation=cv2.INTER_CUBIC)
    yield np.ascontiguousarray(photo[4:, 4:])
    yield np.ascontiguousarray(photo[:-4, :-4])
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=80)
    yield np.asarray(Image.open(buffer).convert("RGB"))


def reader(bundle: editing.ModelBundle, views: tuple[View, ...]) -> editing.Editor:
    """An editor that reads each face through ``views`` (none: the aligned crop alone)."""
    made = editing.Editor(bundle)
    made.reading_views = views
    return made


def changes(editor: editing.Editor, photos: list[np.ndarray]) -> tuple[np.ndarray, float, int]:
    """(``[N, 16]`` absolute changes of the largest face's reading, seconds per reading, re-given photos without a
    face)."""
    rows, seconds, readings, missed = [], 0.0, 0, 0
    for photo in photos:
        base = editor.estimate(photo)[0]
        for again in given_again(photo):
            start = time.perf_counter()
            try:
                rows.append(np.abs(editor.estimate(again)[0] - base))
            except LsganError:
                missed += 1
                continue
            seconds += time.perf_counter() - start
            readings += 1
    return np.stack(rows), seconds / max(readings, 1), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model bundle (default: the shipped one)")
    parser.add_argument("--photos", type=Path, default=Path("~/.cache/lsgan/data/photos").expanduser())
    args = parser.parse_args()
    bundle = load_bundle(editing.resolve_model_dir(args.model))
    photos = [read_image(path) for path in benchmark_photos(args.photos)]
    print(f"{len(photos)} portraits, each given again 5 ways")
    print(f"{'reading':26s} {'mean':>7s} {'p95':>6s} {'max':>6s} {'>0.1':>6s} {'s/reading':>9s}")
    for name, views in VIEW_SETS.items():
        delta, seconds, missed = changes(reader(bundle, views), photos)
        note = f"  ({missed} re-given photos without a face)" if missed else ""
        print(f"{name:26s} {delta.mean():7.4f} {np.percentile(delta, 95):6.3f} {delta.max():6.3f} "
              f"{(delta > 0.1).mean():6.3f} {seconds:9.3f}{note}")


if __name__ == "__main__":
    main()
