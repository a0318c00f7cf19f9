"""How a real-face expression classifier reads SynthFACS's emotion prototypes.

Renders each of the seven classifier emotions (``lsgan.facs.EMOTION_PROTOTYPES`` at full intensity) on --identities
identities at --size pixels (random pose and light from ``sample_pose_light``), finds the face box with
``FaceAligner`` (mediapipe, then dlib) on a 2x upscale, and prints per emotion: the share of renders whose top
class is the emotion ("read as"), and the mean probability of the emotion. With --single-aus it prints instead, for
each AU alone at intensity 1, the mean change of every class probability from the neutral render of the same face.

Usage: python scripts/synthfacs_emotions.py [--identities 20] [--size 128] [--classifier faceapi] [--seed 0]
                                            [--single-aus]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from lsgan.data.faces import FaceAligner
from lsgan.data.synthfacs import render, sample_identity, sample_pose_light
from lsgan.facs import AU_IDS, au_vector, emotion_vector
from lsgan.nets.expression import EXPRESSIONS, load_classifier


def face_box(aligner: FaceAligner, image: np.ndarray, scale: int = 2) -> tuple[float, float, float, float]:
    """The largest face's box in ``image`` pixels (found on a ``scale``-times upscale); the whole image if none."""
    size = image.shape[0]
    big = np.asarray(Image.fromarray(image).resize((size * scale,) * 2, Image.BICUBIC))
    faces = aligner.detect(big)
    if not faces:
        return (0.0, 0.0, float(size), float(size))
    return tuple(float(v) / scale for v in faces[0].box)  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=20)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--classifier", default="faceapi")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--single-aus", action="store_true", help="per-AU probability changes instead")
    args = parser.parse_args()

    classifier = load_classifier(args.classifier)
    aligner = FaceAligner(size=args.size)
    rng = np.random.default_rng(args.seed)
    scenes = [(sample_identity(i, args.seed), *sample_pose_light(rng)) for i in range(args.identities)]

    def read(aus: np.ndarray) -> np.ndarray:
        probs = []
        for identity, pose, light in scenes:
            image = render(identity, aus, args.size, pose, light).image
            probs.append(classifier.classify(image, [face_box(aligner, image)])[0])
        return np.array(probs)

    if args.single_aus:
        print(f"{args.classifier}: each AU alone at 1 minus neutral, mean over {args.identities} identities")
        print("AU    " + " ".join(f"{e[:7]:>8}" for e in EXPRESSIONS))
        neutral = read(np.zeros(len(AU_IDS)))
        for au in AU_IDS:
            shift = (read(au_vector({au: 1.0})) - neutral).mean(axis=0)
            print(f"AU{au:<3} " + " ".join(f"{v:+8.2f}" for v in shift))
        return
    print(f"{args.classifier} on {args.identities} identities x 7 emotions at {args.size}px (seed {args.seed})")
    print(f"{'emotion':<10} {'read as':>8} {'mean p':>7}   most read as")
    shares = []
    for k, emotion in enumerate(EXPRESSIONS):
        probs = read(emotion_vector(emotion))
        top = probs.argmax(axis=1)
        share = float(np.mean(top == k))
        shares.append(share)
        counts = np.bincount(top, minlength=len(EXPRESSIONS))
        common = ", ".join(f"{EXPRESSIONS[j]} {counts[j]}" for j in np.argsort(-counts)[:3] if counts[j])
        print(f"{emotion:<10} {share:>8.0%} {probs[:, k].mean():>7.2f}   {common}")
    print(f"mean read-as share over the 7 emotions: {np.mean(shares):.0%}")


if __name__ == "__main__":
    main()
