"""The mouths of real faces at rest and smiling: the measurements behind the mesh motion's ``REST_MOUTH_WIDTH``,
``SMILE_MOUTH_WIDTH`` and ``REST_CORNER_LIFT`` (``lsgan.editing.mesh_motion``).

Every face in the training-only crops (``train_faces/``) and the video frames (``video_frames/*/``) that
`lsgan data fetch photos` fetches is read by face-api (in the face's own box) and by mediapipe's mesh
(``metrics.photo.geometry_readings``, inter-ocular distances). The faces face-api reads as neutral with p >= 0.9 are
at rest, those it reads as happy with p >= 0.6 smile; printed: how many, their mean mouth width, and the percentiles
of the mouth's width and of the corners' lift at rest (a few minutes). Read box-averaged (``--boxes``), fewer faces
count as surely at rest (those whose every box reads so), with their corners a little higher. With
``--closed-smiles N``, every N-th smiling face (in reading order: the crops, then the frames) is also edited to
neutral with the shipped model and meshed again: the closed mouths' widths beside those at rest
(``mesh_motion.REST_WIDTH_FLOOR``), and what face-api reads the edits as:

    python scripts/rest_geometry.py [--photos ~/.cache/lsgan/data/photos] [--boxes] [--closed-smiles 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lsgan.data.faces import FaceAligner, MediapipeDetector
from lsgan.data.images import read_image
from lsgan.data.photos import default_photos_dir
from lsgan.evaluation.photos import BOX_AVERAGED, classifier_reads
from lsgan.metrics.photo import geometry_readings
from lsgan.nets.expression import EXPRESSIONS, load_classifier
from video_frame_geometry import read_frames

AT_REST = ("neutral", 0.9)  # face-api's class and the least probability
SMILING = ("happy", 0.6)
PERCENTILES = (5, 25, 50, 75)


def read_as(frames: list[dict], emotion: str, least: float) -> list[dict]:
    """The frames whose face-api reading is ``emotion`` at ``least`` probability."""
    column = EXPRESSIONS.index(emotion)
    return [f for f in frames if int(np.argmax(f["probs"])) == column and f["probs"][column] >= least]


def mouth_summary(frames: list[dict]) -> dict[str, float | int | list[float]]:
    """The figures the constants are taken from (``frames``: ``video_frame_geometry.read_frames``' records)."""
    rest, smiles = read_as(frames, *AT_REST), read_as(frames, *SMILING)
    if not rest or not smiles:
        raise SystemExit(f"too few faces read: {len(rest)} at rest, {len(smiles)} smiling")
    lifts = [f["readings"]["corner_lift"] for f in rest]
    widths = [f["readings"]["mouth_width"] for f in rest]
    return {"at rest": len(rest), "smiling": len(smiles),
            "mouth width at rest, mean": float(np.mean(widths)),
            "mouth width smiling, mean": float(np.mean([f["readings"]["mouth_width"] for f in smiles])),
            f"mouth width at rest, percentiles {'/'.join(map(str, PERCENTILES))}":
                [float(v) for v in np.percentile(widths, PERCENTILES)],
            f"corner lift at rest, percentiles {'/'.join(map(str, PERCENTILES))}":
                [float(v) for v in np.percentile(lifts, PERCENTILES)]}


def closed_summary(rest: list[dict], smiles: list[dict], closed: list[dict]) -> dict[str, int | list[float]]:
    """The mouth widths of ``smiles`` and of their edits to neutral (``closed``: each edit's ``mouth_width`` and
    face-api's top class ``read``) beside those of the faces at ``rest``, at ``PERCENTILES``, and how many of the
    edits face-api reads neutral and happy."""
    if not closed:
        raise SystemExit("no smile closed by an edit was meshed again")
    named = f"percentiles {'/'.join(map(str, PERCENTILES))}"

    def widths(records: list[dict]) -> list[float]:
        return [float(v) for v in np.percentile([r["readings"]["mouth_width"] for r in records], PERCENTILES)]

    reads = [c["read"] for c in closed]
    return {"smiles closed": len(closed), f"mouth width at rest, {named}": widths(rest),
            f"mouth width of the smiles, {named}": widths(smiles), f"mouth width closed, {named}": widths(closed),
            "closed read neutral": reads.count("neutral"), "closed read happy": reads.count("happy")}


def edited_meshes(frames: list[dict], emotion: str, mesh: MediapipeDetector
                  ) -> Iterator[tuple[dict, np.ndarray, np.ndarray]]:
    """(frame, its edit to ``emotion`` by the shipped model, the edit's mesh [478, 2] found again in the frame's box)
    for each of ``frames`` (``read_frames`` records) whose edit is meshed."""
    from lsgan.editing import Editor

    editor = Editor.from_pretrained()
    for frame in frames:
        edited = editor.edit(read_image(frame["path"]), emotion=emotion).image
        found = mesh.mesh_in_box(edited, frame["box"])
        if found is not None:
            yield frame, edited, found.points


def close_smiles(smiles: list[dict], mesh: MediapipeDetector, classifier) -> list[dict]:
    """Each smiling face (``read_frames`` records) edited to neutral by the shipped model, meshed again in its box:
    ``{"readings", "read"}`` per edit whose mesh is found."""
    closed = []
    for smile, edited, points in edited_meshes(smiles, "neutral", mesh):
        probs = classifier_reads(classifier, edited, smile["box"])[classifier.name]
        closed.append({"readings": geometry_readings(points), "read": EXPRESSIONS[int(np.argmax(probs))]})
    return closed


def print_summary(summary: dict) -> None:
    for name, value in summary.items():
        shown = " / ".join(f"{v:+.3f}" for v in value) if isinstance(value, list) else (
            str(value) if isinstance(value, int) else f"{value:.3f}")
        print(f"{name}: {shown}")


def read_faces(photos: Path, boxes: str = "") -> tuple[list[dict], MediapipeDetector, object]:
    """``read_frames``' records of every face in ``photos``' training-only crops and video frames (face-api's reading
    in the face's own box, or averaged over ``boxes``), with the mesher and face-api's classifier that read them."""
    crops, videos = photos / "train_faces", photos / "video_frames"
    if not crops.is_dir() or not videos.is_dir():
        raise SystemExit(f"{photos} has no train_faces/ or video_frames/: run `lsgan data fetch photos` first")
    folders = [crops, *sorted(folder for folder in videos.iterdir() if folder.is_dir())]
    classifier, mesh = load_classifier("faceapi"), MediapipeDetector()
    with FaceAligner(64) as aligner:
        frames = [frame for folder in folders for frame in read_frames(folder, aligner, mesh, classifier, boxes)]
    return frames, mesh, classifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--boxes", action="store_true", help="face-api's reading averaged over the jittered boxes")
    parser.add_argument("--closed-smiles", type=int, default=0, metavar="N",
                        help="also edit every N-th smiling face to neutral and measure its closed mouth")
    args = parser.parse_args()
    frames, mesh, classifier = read_faces(args.photos, BOX_AVERAGED if args.boxes else "")
    print_summary(mouth_summary(frames))
    if args.closed_smiles > 0:
        smiles = read_as(frames, *SMILING)[::args.closed_smiles]
        print_summary(closed_summary(read_as(frames, *AT_REST), smiles, close_smiles(smiles, mesh, classifier)))


if __name__ == "__main__":
    main()
