"""How much of SynthFACS's true change a pure warp can make: each test source warped by the optical flow from its
rendered true target back to it, scored with ``along`` (``metrics.change_along_truth``) and PSNR at the pairs' size,
on the pairs ``lsgan eval`` scores (``evaluation.models.load_test_pairs``).

A warp moves the source's pixels and draws nothing new (no shading of moved skin, no folds, no inside of a mouth), so
this bounds what an edit made of a field alone, such as the mesh motion without its paint, can reach on ``along``:
issue 11 asks for 0.6. The flow is estimated between the source and the truth enlarged ``--upscale`` times, with
OpenCV's DIS (medium preset) and Farneback; an estimate, not the renderer's own geometry (which is not a field). A
third warp moves the source's mediapipe mesh onto the truth's (``editing.mesh_motion.dense_backward_field``, no
paint): the mesh motion's field if it knew each face's own motion at its 478 points, as mediapipe sees it.

    python scripts/warp_ceiling.py --data runs/data/synthfacs-v4-64-60x40    # 476 pairs, about two minutes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from lsgan.data.faces import MediapipeDetector
from lsgan.data.images import to_tensor, to_uint8
from lsgan.editing.mesh_motion import dense_backward_field
from lsgan.evaluation.models import load_test_pairs
from lsgan.metrics.image import change_along_truth, psnr


def stacked(images: list[np.ndarray]) -> torch.Tensor:
    """uint8 H×W×3 images -> [N, 3, H, W] in [-1, 1]."""
    return torch.stack([to_tensor(image) for image in images])


METHODS = ("dis", "farneback", "mesh")


def backward_flow(method: str, truth: np.ndarray, source: np.ndarray, detector: MediapipeDetector | None = None
                  ) -> np.ndarray | None:
    """[H, W, 2]: for each pixel of ``truth`` (uint8 RGB), where it lies in ``source``; None when ``mesh`` (which
    needs the ``detector``) finds no face in one of them."""
    if method == "mesh":
        return mesh_flow(truth, source, detector)
    grey_truth, grey_source = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (truth, source))
    if method == "dis":
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(grey_truth, grey_source, None)
    return cv2.calcOpticalFlowFarneback(grey_truth, grey_source, None, 0.5, 4, 15, 5, 5, 1.1, 0)


def mesh_flow(truth: np.ndarray, source: np.ndarray, detector: MediapipeDetector) -> np.ndarray | None:
    """The backward field that takes ``source``'s mediapipe mesh to ``truth``'s, in pixels [H, W, 2]."""
    found = [detector.detect(image) for image in (source, truth)]
    if not all(found):
        return None
    start, end = (faces[0].landmarks.points.astype(np.float32) for faces in found)
    side = source.shape[0]
    return dense_backward_field(start, end, side, scale=1).transpose(1, 2, 0) * (side / 2)


def warped_to_truth(source: np.ndarray, truth: np.ndarray, method: str, upscale: int,
                    detector: MediapipeDetector | None = None) -> np.ndarray:
    """``source`` (uint8 S×S×3) warped by the flow ``method`` finds from ``truth`` to it, at S (unchanged when
    there is none)."""
    side = source.shape[0]
    big_source, big_truth = (cv2.resize(image, (side * upscale,) * 2, interpolation=cv2.INTER_CUBIC)
                             for image in (source, truth))
    flow = backward_flow(method, big_truth, big_source, detector)
    if flow is None:
        return source.copy()
    ys, xs = np.mgrid[0:side * upscale, 0:side * upscale].astype(np.float32)
    warped = cv2.remap(big_source, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    return cv2.resize(warped, (side, side), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a SynthFACS set (lsgan data synth)")
    parser.add_argument("--size", type=int, default=64, help="the pairs' side, as lsgan eval scores them")
    parser.add_argument("--limit", type=int, default=None, help="the first N pairs (default: all)")
    parser.add_argument("--upscale", type=int, default=4)
    args = parser.parse_args()
    pairs = load_test_pairs(args.data, args.size, limit=args.limit)
    sources, truths = to_uint8(pairs.source), to_uint8(pairs.truth)
    source, truth = stacked(list(sources)), stacked(list(truths))
    print(f"{len(sources)} pairs; unchanged source: PSNR {float(psnr(source, truth).mean()):.2f} dB, along 0")
    detector = MediapipeDetector()
    try:
        for method in METHODS:
            warped = stacked([warped_to_truth(s, t, method, args.upscale, detector) for s, t in zip(sources, truths)])
            along = float(change_along_truth(warped, source, truth).mean())
            print(f"source warped by the {method} flow to its true target: along {along:.3f}, "
                  f"PSNR {float(psnr(warped, truth).mean()):.2f} dB")
    finally:
        detector.close()


if __name__ == "__main__":
    main()
