"""One person's own expressions against the edits that ask for them: the mesh readings of a video's frames at rest
and smiling beside those of its smiles edited to neutral and its faces at rest edited to happy.

The frames of one video that `lsgan data fetch photos` fetches (``video_frames/NAME/``, default franck.mp4: a man
talking, 4800 frames, every 20th kept) are read by face-api in the face's own box and meshed (``read_frames``):
those read neutral with p >= 0.9 are at rest, those read happy with p >= 0.6 smile (``rest_geometry.py``'s
thresholds). Up to ``--edits`` of each (evenly spaced) are edited by the shipped model, smiles to neutral and faces
at rest to happy, and meshed again in their boxes. Printed for each of ``metrics.photo``'s readings (inter-ocular
distances): the median at rest, of the smiles edited to neutral and their gap in standard deviations of the
readings at rest; the median smiling, of the faces edited to happy and their gap in those of the smiles. The same
face, camera and light on both sides: what an edit leaves of an expression, or adds to it, beside the person's own
(a few minutes):

    python scripts/same_person.py [--photos ~/.cache/lsgan/data/photos] [--video franck] [--edits 40]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lsgan.data.faces import FaceAligner, MediapipeDetector
from lsgan.data.photos import default_photos_dir
from lsgan.metrics.photo import geometry_readings
from lsgan.nets.expression import load_classifier
from rest_geometry import AT_REST, SMILING, edited_meshes, read_as
from video_frame_geometry import read_frames


def evenly(frames: list[dict], count: int) -> list[dict]:
    """At most ``count`` of ``frames``, evenly spaced."""
    return frames[::max(1, -(-len(frames) // count))] if count > 0 else []


def edited_readings(frames: list[dict], emotion: str, mesh: MediapipeDetector) -> list[dict]:
    """Each frame (``read_frames`` records) edited to ``emotion`` by the shipped model and meshed again in its box:
    ``{"readings"}`` per edit whose mesh is found."""
    return [{"readings": geometry_readings(points)} for _, _, points in edited_meshes(frames, emotion, mesh)]


def gaps(real: list[dict], edits: list[dict]) -> dict[str, tuple[float, float, float]]:
    """Per reading: (median of ``real``, median of ``edits``, their difference over ``real``'s standard
    deviation)."""
    if not real or not edits:
        raise SystemExit(f"too few faces: {len(real)} real, {len(edits)} edits")
    out = {}
    for name in real[0]["readings"]:
        own = np.array([r["readings"][name] for r in real])
        edit = float(np.median([e["readings"][name] for e in edits]))
        out[name] = (float(np.median(own)), edit, (edit - float(np.median(own))) / max(float(own.std()), 1e-9))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--video", default="franck", help="a folder of video_frames/")
    parser.add_argument("--edits", type=int, default=40, help="faces edited each way, at most")
    args = parser.parse_args()
    folder = args.photos / "video_frames" / args.video
    if not folder.is_dir():
        raise SystemExit(f"{folder} is not a folder: run `lsgan data fetch photos` first, or name another --video")
    mesh = MediapipeDetector()
    with FaceAligner(64) as aligner:
        frames = read_frames(folder, aligner, mesh, load_classifier("faceapi"), "")
    rest, smiles = read_as(frames, *AT_REST), read_as(frames, *SMILING)
    print(f"{args.video}: {len(rest)} frames at rest, {len(smiles)} smiling")
    to_neutral = gaps(rest, edited_readings(evenly(smiles, args.edits), "neutral", mesh))
    to_happy = gaps(smiles, edited_readings(evenly(rest, args.edits), "happy", mesh))
    print(f"{'reading':20s} {'at rest':>8s} {'smiles to neutral':>18s} {'gap/sd':>7s} | {'smiling':>8s} "
          f"{'rest to happy':>14s} {'gap/sd':>7s}")
    for name, (own, edit, gap) in to_neutral.items():
        smile, happy, happy_gap = to_happy[name]
        print(f"{name:20s} {own:+8.3f} {edit:+18.3f} {gap:+7.2f} | {smile:+8.3f} {happy:+14.3f} {happy_gap:+7.2f}")


if __name__ == "__main__":
    main()
