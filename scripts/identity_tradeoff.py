"""How an edit's reads and its identity cost trade: each photo edited to each emotion at shares of its AU change.

An edit to an emotion moves each face from its own AUs (G_exp's reading) to the emotion's (``facs.EDIT_PROTOTYPES``);
``lsgan edit --steps`` shows the way between. This script asks for a share ``s`` of that change (AUs = source +
s × (emotion − source), for each s of ``--shares``) and measures the edits as ``lsgan eval photos`` does
(``run_photo_benchmark``): per share, the edits read as asked by each classifier read (among those whose source was
not already read so) and the identity distance by dlib and by HSE FaceRes, mean / max. Then what a per-face bound on
identity would give: for each face and emotion, the largest share whose dlib distance is at most ``--bound`` (the
smallest share where none is), judged also by FaceRes, which such a bound would not see (docs/real_photos.md,
"Measured, not kept: what an edit's identity cost is made of").

Usage: python scripts/identity_tradeoff.py [--photos DIR ...] [--emotions happy,sad,...] [--shares 1,0.8,0.6,0.4]
                                           [--bound 0.45] [--classifiers faceapi,fer] [--out DIR]
(the 27 training-only crops, six emotions, four shares: some 8 minutes on a 2-core CPU)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lsgan.atomic import atomic_file
from lsgan.data.photos import benchmark_photos, default_photos_dir
from lsgan.editing import Editor
from lsgan.editing.targets import share_of_change
from lsgan.evaluation.photos import (
    BenchmarkResult,
    EditRow,
    load_classifiers,
    parse_classifier_names,
    parse_emotions,
    run_photo_benchmark,
    summarize,
)
from lsgan.facs import edit_vector

DEFAULT_EMOTIONS = "happy,sad,surprised,angry,fearful,disgusted"
DEFAULT_SHARES = "1,0.8,0.6,0.4"


def parse_shares(text: str) -> list[float]:
    """Comma-separated shares of the AU change, each in (0, 1], largest first; ``SystemExit`` with one line if not."""
    try:
        shares = sorted({float(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        shares = []
    if not shares or not all(0 < share <= 1 for share in shares):
        raise SystemExit(f"--shares must be comma-separated numbers in (0, 1], got {text!r}")
    return shares


class ShareEditor:
    """An editor that, asked for an emotion, asks the wrapped one for ``share`` of the change to it: each photo's
    faces found and read once (``Editor``'s steps: prepare, estimate_faces, render), then rendered towards their
    share."""

    def __init__(self, editor: Editor, share: float) -> None:
        self.editor, self.share = editor, share

    def edit(self, images, aus=None, *, emotion: str | None = None, intensity: float | None = None,
             face: int | None = None):
        photos = self.editor.prepare(images, face=face)
        source = self.editor.estimate_faces(photos)  # [F, 16]
        target = edit_vector(emotion, 1.0 if intensity is None else intensity)
        return self.editor.render(photos, share_of_change(source, target, self.share), source)


def within_bound(runs: Mapping[float, Sequence[EditRow]], bound: float) -> tuple[list[EditRow], dict[str, float]]:
    """Per face and emotion, the edited row of the largest share whose dlib distance is at most ``bound`` (the
    smallest share's where none is), and the share chosen for each (``EditRow.name``/emotion)."""
    shares = sorted(runs, reverse=True)
    by_share = {share: {(row.name, row.emotion): row for row in runs[share] if row.status == "edited"}
                for share in shares}
    chosen, chosen_share = [], {}
    for key in by_share[shares[0]]:
        candidates = [(share, by_share[share][key]) for share in shares if key in by_share[share]]
        share, row = next(((s, r) for s, r in candidates if r.identity_distance <= bound), candidates[-1])
        chosen.append(row)
        chosen_share[f"{key[0]}/{key[1]}"] = share
    return chosen, chosen_share


def figures(result: BenchmarkResult) -> dict[str, object]:
    """Reads (read as asked, eligible) per classifier read, and both identity distances' mean / max."""
    summary = summarize(result)
    reads = {name: (c["overall"]["read_as_asked"], c["overall"]["eligible"])
             for name, c in summary["classifiers"].items()}
    identity = {judge: (summary[key]["mean"], summary[key]["max"])
                for judge, key in (("dlib", "identity_distance"), ("faceres", "identity_distance_faceres"))}
    return {"reads": reads, "identity": identity}


def line(label: str, figure: Mapping[str, object]) -> str:
    reads = "  ".join(f"{name} {hits}/{of}" for name, (hits, of) in figure["reads"].items())
    identity = "  ".join(f"{judge} {mean:.3f} / {top:.3f}" for judge, (mean, top) in figure["identity"].items())
    return f"{label:14s} {reads}  identity {identity}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, nargs="*",
                        help="folders of photos (default: the training-only crops, train_faces/)")
    parser.add_argument("--emotions", default=DEFAULT_EMOTIONS)
    parser.add_argument("--shares", default=DEFAULT_SHARES, help="comma-separated shares of the AU change, in (0, 1]")
    parser.add_argument("--bound", type=float, default=0.45, help="the per-face bound on dlib's identity distance")
    parser.add_argument("--classifiers", default="faceapi,fer")
    parser.add_argument("--out", type=Path, help="write every figure as JSON here")
    args = parser.parse_args()

    if args.out and (args.out / "identity_tradeoff.json").exists():
        raise SystemExit(f"{args.out / 'identity_tradeoff.json'} exists: give another --out")
    shares = parse_shares(args.shares)
    folders = args.photos or [default_photos_dir() / "train_faces"]
    photos = [p for folder in folders for p in benchmark_photos(folder)]
    if not photos:
        raise SystemExit("no photos: run `lsgan data fetch photos`, or give --photos")
    emotions = parse_emotions(args.emotions)
    classifiers = load_classifiers(parse_classifier_names(args.classifiers))
    editor = Editor.from_pretrained()
    results, report = {}, {}
    for share in shares:
        results[share] = run_photo_benchmark(ShareEditor(editor, share), photos, emotions, classifiers,
                                             progress=False)
        report[f"share {share:g}"] = figures(results[share])
        print(line(f"share {share:g}", report[f"share {share:g}"]), flush=True)
    rows, chosen = within_bound({share: result.rows for share, result in results.items()}, args.bound)
    first = results[shares[0]]
    bounded = BenchmarkResult(rows, [], first.emotions, first.classifiers, first.intensity, first.model)
    label = f"dlib <= {args.bound:g}"
    report[label] = {**figures(bounded), "mean_share": float(np.mean(list(chosen.values()))), "shares": chosen}
    print(line(label, report[label]) + f"  mean share {report[label]['mean_share']:.2f}", flush=True)
    if args.out:
        with atomic_file(args.out / "identity_tradeoff.json") as part:
            part.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
