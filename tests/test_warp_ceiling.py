"""scripts/warp_ceiling.py: a source warped by the flow to a moved copy of itself makes most of the change; a
colour change, which no warp can make, is not made."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lsgan.metrics.image import change_along_truth
from script_support import script_fixture


script = script_fixture("warp_ceiling")


def texture(shift: float) -> np.ndarray:
    """A 64-pixel picture of smooth coloured texture (as skin and hair give the flow something to follow), moved
    ``shift`` pixels right."""
    noise = np.random.default_rng(3).uniform(0, 255, (64, 64, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 1.5)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 200 + 20
    moved = cv2.warpAffine(smooth, np.float32([[1, 0, shift], [0, 1, 0]]), (64, 64), borderMode=cv2.BORDER_REFLECT)
    return moved.round().astype(np.uint8)


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_a_warp_by_the_estimated_flow_makes_most_of_a_pure_motion(script, method):
    source, truth = texture(0.0), texture(2.0)
    warped = script.warped_to_truth(source, truth, method, upscale=4)
    along = change_along_truth(*(script.stacked([image]) for image in (warped, source, truth)))
    assert warped.shape == source.shape and warped.dtype == np.uint8
    assert float(along) > (0.8 if method == "dis" else 0.5)  # Farneback follows a pure motion less closely


def test_a_colour_change_no_warp_can_make_is_not_made(script):
    source = texture(0.0)
    truth = cv2.add(source, np.full_like(source, 40))  # brighter everywhere: nothing moved
    warped = script.warped_to_truth(source, truth, "dis", upscale=4)
    along = change_along_truth(*(script.stacked([image]) for image in (warped, source, truth)))
    assert float(along) < 0.2


def test_images_round_trip_between_tensors_and_uint8(script):
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(script.to_uint8(script.stacked(list(images))), images)
    assert torch.is_tensor(script.stacked(list(images)))


def test_the_mesh_warp_follows_a_rendered_jaw_drop(script):
    """A SynthFACS face and the same face with the jaw dropped: moving the source's mediapipe mesh onto the
    truth's makes a good share of the change, as the optical flow does."""
    from lsgan.data.faces import MediapipeDetector
    from lsgan.data.synthfacs import render, sample_identity
    from lsgan.facs import NUM_AUS, au_vector

    identity = sample_identity(7)
    source = render(identity, np.zeros(NUM_AUS, np.float32), 64).image
    truth = render(identity, au_vector({25: 1.0, 26: 1.0}), 64).image
    detector = MediapipeDetector()
    try:
        alongs = {method: float(change_along_truth(*(script.stacked([image]) for image in (
            script.warped_to_truth(source, truth, method, 4, detector), source, truth))))
            for method in script.METHODS}
    finally:
        detector.close()
    assert alongs["mesh"] > 0.4 and alongs["dis"] > 0.4, alongs  # 0.61 and 0.60 when written
