"""The photo's grain on what an edit paints (editing.grain): how strong it is read, and made as strong. An edit's
paint laid on with it: tests/test_mesh_motion.py (test_an_opened_mouth_on_a_grainy_photo_is_as_grainy)."""

import cv2
import numpy as np
import pytest

from lsgan.data.images import LUMA
from lsgan.editing.grain import fine_texture, grain_noise, photo_grain


def test_the_paint_takes_the_grain_of_the_photo_s_smooth_skin():
    rng = np.random.default_rng(1)
    skin = np.clip(128 + rng.standard_normal((120, 160, 1)) * 6.0, 0, 255).astype(np.uint8).repeat(3, axis=2)
    face = np.ones(skin.shape[:2], bool)
    grain = photo_grain(skin, face)
    assert 4.0 < grain < 6.0  # white noise of std 6, less what the smoothing keeps of it (measured 4.8)
    with_pores = skin.copy()
    with_pores[::24, ::24] = 0  # sparse dark dots: texture that is not grain, and does not count
    assert photo_grain(with_pores, face) < 1.05 * grain  # measured 4.9
    assert photo_grain(np.full_like(skin, 128), face) == 0.0
    assert photo_grain(skin, np.zeros_like(face)) == 0.0  # no face pixels: no grain read
    flat = np.full(skin.shape, 40.0, np.float32)
    painted = np.clip(flat + grain_noise((0, 0), skin.shape[:2], grain)[..., None], 0, 255).astype(np.uint8)
    assert photo_grain(painted, face) == pytest.approx(grain, rel=0.05)  # read as the photo's is
    # each photo pixel has its own grain, whatever box it is made for; the pattern repeats without seams
    whole = grain_noise((0, 0), (600, 600), 3.0)
    np.testing.assert_array_equal(grain_noise((5, 7), (50, 60), 3.0), whole[5:55, 7:67])
    np.testing.assert_array_equal(whole[256:512], whole[:256])
    seam = photo_grain(np.clip(128 + whole[128:384, 128:384, None], 0, 255).astype(np.uint8).repeat(3, axis=2),
                       np.ones((256, 256), bool))  # a box across the tiles' edges reads as one away from them
    assert seam == pytest.approx(3.0, rel=0.05)


def test_the_grain_of_a_large_face_is_read_in_its_middle():
    rng = np.random.default_rng(4)
    photo = np.full((1000, 1000, 3), 128, np.uint8)
    photo[300:700, 300:700] = np.clip(128 + rng.standard_normal((400, 400, 1)) * 6.0, 0, 255).astype(np.uint8)
    assert 4.0 < photo_grain(photo, np.ones((1000, 1000), bool)) < 6.0  # flat 84 % of it; read: the grainy middle


def test_the_grain_read_is_a_number_where_a_box_filter_leaves_negatives():
    """``cv2.blur``'s running sums leave tiny negatives (-1e-14) in flat patches beside strong texture; their square
    root was NaN, which made the grain of a group photo's face NaN (and NaN is not > 0: no grain, silently)."""
    rng = np.random.default_rng(0)
    negatives = 0
    for _ in range(40):
        height, width = rng.integers(20, 200, 2)
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        for _ in range(3):  # flat patches in the noise
            y, x = rng.integers(0, height), rng.integers(0, width)
            image[y:y + rng.integers(5, 60), x:x + rng.integers(5, 60)] = rng.integers(0, 256)
        fine = fine_texture(image.astype(np.float32) @ LUMA)
        negatives += int((cv2.blur(fine * fine, (7, 7)) < 0).any())
        grain = photo_grain(image, np.ones((height, width), bool))
        assert np.isfinite(grain) and grain > 0
        assert np.isfinite(grain_noise((0, 0), (height, width), grain)).all()
    assert negatives > 0  # the case is there (2 of these 40)
