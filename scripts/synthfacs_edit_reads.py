"""How much of a rendered expression the editor's edit keeps, as real-face expression classifiers read it.

For --identities SynthFACS faces (identities from --first-identity, random pose and light from
``sample_pose_light``) renders each face neutral at --size pixels, then for each classifier emotion but neutral:

- ``render``: the renderer's own face with the AUs an edit to the emotion asks for (``facs.EDIT_PROTOTYPES``),
  the truth;
- ``edit``: ``lsgan edit``'s edit of the neutral render to that emotion (the shipped model, default editor);
- ``edit+creases``: the same with ``--creases`` (the renderer's folds shaded on).

Each image is read by each --classifiers model in the face box ``FaceAligner`` finds on a 2x upscale, and the script
prints per condition and emotion how many faces are read as the emotion (top class) and the mean probability of
it. The renders are the only faces whose true expression is known exactly, so the gap between ``render`` and
``edit`` is what the edit loses (geometry it does not deliver, or the renderer's shading it has no way to make)
and not the classifiers' error on real faces; docs/real_photos.md uses it.

Usage: python scripts/synthfacs_edit_reads.py [--identities 20] [--size 256] [--classifiers faceapi,fer]
                                              [--first-identity 200] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

import numpy as np

from lsgan.data.faces import FaceAligner
from lsgan.data.synthfacs import render, sample_identity, sample_pose_light
from lsgan.editing import Editor
from lsgan.facs import NUM_AUS, edit_vector
from lsgan.nets.expression import EXPRESSIONS, load_classifier
from synthfacs_emotions import face_box

CONDITIONS = ("render", "edit", "edit+creases")


def tally(probabilities: Mapping[tuple[str, str, str], Sequence[np.ndarray]]
          ) -> dict[tuple[str, str, str], tuple[int, float]]:
    """(condition, classifier, emotion) -> (faces read as the emotion, its mean probability), from each face's
    class probabilities (``EXPRESSIONS`` order) under that key."""
    result = {}
    for (condition, classifier, emotion), rows in probabilities.items():
        probs = np.asarray(rows, np.float64).reshape(-1, len(EXPRESSIONS))
        k = EXPRESSIONS.index(emotion)
        result[(condition, classifier, emotion)] = (int(np.sum(probs.argmax(axis=1) == k)), float(probs[:, k].mean()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--classifiers", default="faceapi,fer")
    parser.add_argument("--first-identity", type=int, default=200, help="past the mesh basis's 100-129")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    classifiers = {name: load_classifier(name) for name in args.classifiers.split(",")}
    emotions = [e for e in EXPRESSIONS if e != "neutral"]
    rng = np.random.default_rng(args.seed)
    scenes = [(sample_identity(args.first_identity + i, args.seed), *sample_pose_light(rng))
              for i in range(args.identities)]
    editors = {"edit": Editor.from_pretrained(), "edit+creases": Editor.from_pretrained(creases=True)}
    probabilities: dict[tuple[str, str, str], list[np.ndarray]] = {}
    with FaceAligner(size=128) as aligner:
        for identity, pose, light in scenes:
            neutral = render(identity, np.zeros(NUM_AUS), args.size, pose, light).image
            for emotion in emotions:
                images = {"render": render(identity, edit_vector(emotion), args.size, pose, light).image}
                images.update({name: editor.edit(neutral, emotion=emotion).image for name, editor in editors.items()})
                for condition, image in images.items():
                    box = face_box(aligner, image)
                    for name, classifier in classifiers.items():
                        probabilities.setdefault((condition, name, emotion), []).append(
                            classifier.classify(image, [box])[0])
    reads = tally(probabilities)
    for name in classifiers:
        print(f"{name}: faces read as the emotion, of {args.identities} (mean p of it), {args.size}px renders")
        print(f"{'':14}" + "".join(f"{e:>16}" for e in emotions) + f"{'total':>8}")
        for condition in CONDITIONS:
            cells = [reads[(condition, name, e)] for e in emotions]
            print(f"{condition:14}" + "".join(f"{n:>8d} ({p:.2f})" for n, p in cells)
                  + f"{sum(n for n, _ in cells):>8d}")


if __name__ == "__main__":
    main()
