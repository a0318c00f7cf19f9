"""How well a model trained on real faces reads SynthFACS's rendered AUs: mediapipe's 478-point face mesh, read
through the hand-made FACS readings of ``lsgan.metrics.photo`` (one per AU: ``AU_READING``).

Renders --count faces at --size pixels: random identities (of --identities), expressions as SynthFACS samples
them (``sample_expression``: half posed emotions at 0.25-1, half sparse spontaneous AU combinations), random pose
and light (``sample_pose_light``); with --independent every AU is drawn on its own, uniform in [0, 1] (no
prototypes, no sparsity; the two-sided AU vector). Each render is upscaled (to at least 256 px, at least 2x) and
given to ``FaceAligner`` (mediapipe's detector and mesh, dlib's detector where mediapipe's finds nothing); renders
without a mesh are left out and counted.

Prints per AU the Pearson r between the rendered intensity and the AU's reading (``AU_READING``) times its FACS
sign (``READING_AUS``): r > 0 means the mesh moved the way FACS says. The reading per AU was fixed from FACS before
anything was measured; the last column lists, for information, r of the AU's other FACS readings. Then the mean r
over the 16 AUs and how many are under 0.2 (issue 11's bar: mean >= 0.5, none under 0.2).
With --neutral-relative each render is also read minus the neutral render (all AUs 0) of the same identity, pose
and light, which takes the identity's own face shape out; both columns are printed.

Usage: python scripts/synthfacs_au_readings.py [--count 200] [--size 128] [--seed 0] [--identities 67]
                                               [--independent] [--neutral-relative]
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from lsgan.data.faces import MEDIAPIPE478, FaceAligner
from lsgan.data.synthfacs import Identity, Light, Pose, render, sample_expression, sample_identity, sample_pose_light
from lsgan.data.synthfacs.renderer import Side
from lsgan.facs import AU_IDS, AU_NAMES, NUM_AUS
from lsgan.metrics.photo import AU_READING, READING_AUS, READINGS, geometry_readings

DETECT_SIDE = 256  # renders are upscaled to at least this (and at least 2x) before mediapipe sees them
THRESHOLD = 0.2  # issue 11: no AU under this r


@dataclass(frozen=True)
class Scene:
    identity: int
    aus: np.ndarray  # [16] in [0, 1]
    pose: Pose
    light: Light
    unilateral: Side | None


@dataclass(frozen=True)
class AUReadings:
    """Per-AU Pearson r of the rendered intensities with the signed readings, over the meshed renders."""

    au_r: dict[int, float]  # AU -> r with its ``AU_READING``
    other_r: dict[int, dict[str, float]]  # AU -> {each other reading READING_AUS lists for it: r}
    renders: int
    meshed: int

    @property
    def mean_r(self) -> float:
        return float(np.mean(list(self.au_r.values())))

    @property
    def under(self) -> list[int]:
        return [au for au, r in self.au_r.items() if not r >= THRESHOLD]


def sample_scenes(count: int, seed: int, identities: int = 67, independent: bool = False) -> list[Scene]:
    """``count`` random scenes, the same for the same arguments."""
    rng = np.random.default_rng(seed)
    scenes = []
    for _ in range(count):
        identity = int(rng.integers(identities))
        if independent:
            aus, side = np.round(rng.uniform(0.0, 1.0, NUM_AUS), 4), None
        else:
            expression = sample_expression(rng)
            aus, side = expression.aus, expression.unilateral
        scenes.append(Scene(identity, aus, *sample_pose_light(rng), side))
    return scenes


def mesh_of(aligner: FaceAligner, image: np.ndarray) -> np.ndarray | None:
    """The largest face's mediapipe mesh ``[478, 2]`` (upscaled pixels: readings do not depend on scale), or None."""
    scale = max(2, math.ceil(DETECT_SIDE / image.shape[0]))
    big = np.asarray(Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.BICUBIC))
    faces = aligner.detect(big)
    if not faces or faces[0].landmarks.scheme is not MEDIAPIPE478:
        return None
    return faces[0].landmarks.points


def read_scenes(scenes: list[Scene], size: int, seed: int, neutral: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The AUs ``[N, 16]``, the readings ``[N, len(READINGS)]`` of each scene's render (NaN rows where no mesh was
    found) and, with ``neutral``, those of the same identity, pose and light with all AUs at 0 (else None)."""
    readings = np.full((len(scenes), len(READINGS)), np.nan)
    neutrals = np.full_like(readings, np.nan) if neutral else None
    with FaceAligner(size=size) as aligner:

        def read(identity: Identity, aus: np.ndarray, scene: Scene, side: Side | None) -> np.ndarray:
            mesh = mesh_of(aligner, render(identity, aus, size, scene.pose, scene.light, side).image)
            if mesh is None:
                return np.full(len(READINGS), np.nan)
            values = geometry_readings(mesh)
            return np.array([values[name] for name in READINGS])

        for row, scene in enumerate(scenes):
            identity = sample_identity(scene.identity, seed)
            readings[row] = read(identity, scene.aus, scene, scene.unilateral)
            if neutrals is not None:
                neutrals[row] = read(identity, np.zeros(NUM_AUS), scene, None)
    return np.array([scene.aus for scene in scenes]), readings, neutrals


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of two 1-d arrays (NaN when either is constant)."""
    x, y = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / norm) if norm > 0 else float("nan")


def correlate(aus: np.ndarray, readings: np.ndarray) -> AUReadings:
    """Per AU: r of its intensity (``aus[:, k]``) with the FACS-signed ``AU_READING``, and with its other readings,
    over the rows with finite readings."""
    meshed = np.isfinite(readings).all(axis=1)
    aus, readings = aus[meshed], readings[meshed]

    def signed_r(au: int, reading: str) -> float:
        return READING_AUS[reading][au] * pearson(aus[:, AU_IDS.index(au)], readings[:, READINGS.index(reading)])

    au_r = {au: signed_r(au, AU_READING[au]) for au in AU_IDS}
    other_r = {au: {reading: signed_r(au, reading) for reading in READINGS
                    if au in READING_AUS[reading] and reading != AU_READING[au]} for au in AU_IDS}
    return AUReadings(au_r, other_r, len(meshed), int(meshed.sum()))


def au_readings(count: int = 200, size: int = 128, seed: int = 0, identities: int = 67, independent: bool = False,
                neutral_relative: bool = False) -> dict[str, AUReadings]:
    """Render, mesh, read and correlate (see the module docstring): ``{"absolute": ...}``, and with
    ``neutral_relative`` also ``"minus neutral"``."""
    scenes = sample_scenes(count, seed, identities, independent)
    aus, readings, neutrals = read_scenes(scenes, size, seed, neutral=neutral_relative)
    results = {"absolute": correlate(aus, readings)}
    if neutrals is not None:
        results["minus neutral"] = correlate(aus, readings - neutrals)
    return results


def single_au_changes(identities: int = 12, size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each AU alone at 1 minus neutral on identities ``0..identities-1`` (random pose and light): the mean change
    of every reading ``[16, len(READINGS)]``, and the readings' spread over the neutral identities
    ``[len(READINGS)]`` (the scale an AU must beat to be read)."""
    rng = np.random.default_rng(seed)
    neutral = [Scene(i, np.zeros(NUM_AUS), *sample_pose_light(rng), None) for i in range(identities)]
    _, base, _ = read_scenes(neutral, size, seed)
    changes = np.zeros((NUM_AUS, len(READINGS)))
    for k in range(NUM_AUS):
        aus = np.eye(NUM_AUS)[k]
        _, readings, _ = read_scenes([Scene(s.identity, aus, s.pose, s.light, None) for s in neutral], size, seed)
        changes[k] = np.nanmean(readings - base, axis=0)
    return changes, np.nanstd(base, axis=0)


def single_au_report(changes: np.ndarray, spread: np.ndarray) -> list[str]:
    """The matrix of mean changes (* marks the AU's own reading, . its other FACS readings)."""
    lines = ["AU    " + " ".join(f"{name[:9]:>10}" for name in READINGS)]
    for k, au in enumerate(AU_IDS):
        marks = ["*" if name == AU_READING[au] else "." if au in READING_AUS[name] else " " for name in READINGS]
        lines.append(f"AU{au:<3} " + " ".join(f"{value:+9.3f}{mark}" for value, mark in zip(changes[k], marks)))
    lines.append("spread " + " ".join(f"{value:9.3f} " for value in spread)[1:])
    return lines


def _cell(value: float) -> str:
    return f"{value:+.2f}" if math.isfinite(value) else "  nan"


def report(results: dict[str, AUReadings]) -> list[str]:
    """The per-AU table, one r column per result (e.g. absolute readings and minus neutral)."""
    labels = list(results)
    lines = [f"{'AU':<5} {'name':<21} {'reading (FACS sign)':<22} " + " ".join(f"{label:>14}" for label in labels)
             + "   other readings of the AU, r (" + labels[-1] + ")"]
    for au in AU_IDS:
        reading = AU_READING[au]
        sign = "+" if READING_AUS[reading][au] > 0 else "-"
        others = ", ".join(f"{name} {_cell(r)}" for name, r in results[labels[-1]].other_r[au].items())
        lines.append(f"AU{au:<3} {AU_NAMES[au]:<21} {reading + ' ' + sign:<22} "
                     + " ".join(f"{_cell(result.au_r[au]):>14}" for result in results.values()) + f"   {others}")
    lines.append(f"{'mean r over the 16 AUs':<49} " + " ".join(f"{_cell(r.mean_r):>14}" for r in results.values()))
    for label, result in results.items():
        under = ", ".join(f"AU{au}" for au in result.under) or "none"
        lines.append(f"{label}: {len(result.under)} AUs under {THRESHOLD}: {under}  ({result.meshed} of "
                     f"{result.renders} renders meshed)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--identities", type=int, default=67)
    parser.add_argument("--independent", action="store_true", help="each AU uniform in [0, 1] on its own")
    parser.add_argument("--neutral-relative", action="store_true",
                        help="also each reading minus the same identity/pose/light's neutral render")
    parser.add_argument("--single-aus", action="store_true",
                        help="instead: each AU alone at 1 minus neutral on the first --identities identities")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    start = time.perf_counter()
    if args.single_aus:
        print(f"each AU alone at 1 minus neutral, mean over identities 0-{args.identities - 1} at {args.size}px "
              f"(random pose and light, seed {args.seed}), in inter-ocular distances; last row: the readings' "
              "standard deviation over the neutral identities")
        print("\n".join(single_au_report(*single_au_changes(args.identities, args.size, args.seed))))
        print(f"{time.perf_counter() - start:.0f} s")
        return
    results = au_readings(args.count, args.size, args.seed, args.identities, args.independent, args.neutral_relative)
    sampling = "each AU uniform in [0, 1]" if args.independent else "SynthFACS's posed + spontaneous expressions"
    print(f"{args.count} renders at {args.size}px, {sampling}, random identity of {args.identities}, pose and "
          f"light (seed {args.seed}); Pearson r of each AU's intensity with its FACS-signed mesh reading")
    print("\n".join(report(results)))
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
