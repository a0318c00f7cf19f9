"""The photo's grain on what an edit paints (editing.grain): how strong it is read, and made as strong; the fine
texture a warp's resampling loses given back as grain (``fields.apply_field``). An edit's paint laid on with it:
tests/test_mesh_motion.py (test_an_opened_mouth_on_a_grainy_photo_is_as_grainy)."""

import cv2
import numpy as np
import pytest

from lsgan.data.images import LUMA
from lsgan.editing import grain as grain_module
from lsgan.editing.fields import apply_field
from lsgan.editing.grain import fine_texture, grain_noise, photo_grain


def _grainy(shape: tuple[int, int], std: float, seed: int = 1) -> np.ndarray:
    """A grey photo [h, w, 3] (uint8) of white noise of ``std`` around 128."""
    noise = np.random.default_rng(seed).standard_normal((*shape, 1)) * std
    return np.clip(128 + noise, 0, 255).astype(np.uint8).repeat(3, axis=2)


def _texture_std(image: np.ndarray) -> float:
    return float(fine_texture(image.astype(np.float32) @ LUMA).std())


def test_the_paint_takes_the_grain_of_the_photo_s_smooth_skin():
    skin = _grainy((120, 160), 6.0)
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


def _edited_by(photo: np.ndarray, flow: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``photo`` (a square: the face's crop itself, as large a face as its side) edited by ``flow`` [2, S, S] (grid
    units) with no colour change, under ``mask`` (default: all of it)."""
    side = photo.shape[0]
    mask = np.ones((side, side)) if mask is None else mask
    return apply_field(photo, np.array([[1.0, 0, 0], [0, 1.0, 0]]), flow, np.zeros((3, side, side), np.float32), mask)


def _magnified(photo: np.ndarray, factor: float) -> np.ndarray:
    """``photo`` (a square, the face's crop) edited by a field that magnifies it ``factor`` times about its
    middle."""
    side = photo.shape[0]
    middle = (side - 1) / 2
    xs = np.arange(side, dtype=np.float32) - middle
    shift = xs * (1 / factor - 1) / (side / 2)  # grid units: a pixel at x samples x / factor from the middle
    return _edited_by(photo, np.stack([np.tile(shift, (side, 1)), np.tile(shift[:, None], (1, side))]))


def test_a_stretched_grainy_face_keeps_its_grain(monkeypatch):
    """Magnified twice, a grainy photo's fine texture comes out smoothed (Lanczos keeps 0.54 of its std; read at the
    nearest pixel, each pixel twice, 0.72); the texture lost is given back as the photo's grain, up to
    ``LOST_TEXTURE_CAP`` times the photo's grain."""
    photo = _grainy((160, 160), 6.0)
    middle = np.s_[40:120, 40:120]
    source = _texture_std(photo[middle])
    given_back = _texture_std(_magnified(photo, 2.0)[middle])
    assert 0.9 * source < given_back < 1.15 * source  # measured 1.06
    monkeypatch.setattr("lsgan.editing.fields.LOST_TEXTURE_CAP", 0.0)
    assert _texture_std(_magnified(photo, 2.0)[middle]) < 0.8 * source  # nothing given back: smoothed


def test_texture_is_given_back_only_up_to_the_cap_times_the_photo_s_grain(monkeypatch):
    """A photo with a faint grain and a strong texture in one part (the source of most of the loss): each pixel is
    brought up to at most ``LOST_TEXTURE_CAP`` times the photo's grain, counting what it keeps of its own. The faint
    side gets back no more than that; the strong side, magnified, keeps more than that of its own texture and gets
    nothing (more is an edge blurred, not the photo's texture: on top of it, a closed smile's upper lip came out
    speckled)."""
    photo = _grainy((160, 160), 1.5)
    photo[:, 80:] = _grainy((160, 80), 30.0, seed=2)
    grain = photo_grain(photo, np.ones((160, 160), bool))
    monkeypatch.setattr("lsgan.editing.fields.grain_noise", lambda origin, shape, strength: np.ones(shape, np.float32))
    lost = _magnified(photo, 1.6).astype(np.float32) - _magnified_without_texture(photo, 1.6, monkeypatch)
    assert lost.max() <= grain_module.LOST_TEXTURE_CAP * grain + 0.51  # rounding
    assert _texture_std(_magnified_without_texture(photo, 1.6, monkeypatch)[:, 90:-12]) > 5 * grain  # it keeps more
    assert lost[:, 90:-12].mean() < 0.05 * grain_module.LOST_TEXTURE_CAP * grain  # and gets nothing
    assert lost[:, 12:60].mean() > 0.05 * grain  # the faint side's lost grain is given back


def test_lost_texture_counts_no_more_than_the_most_a_pixel_is_brought_up_to():
    had = _grainy((64, 64), 30.0)
    xs, ys = np.meshgrid(np.arange(64, dtype=np.float32), np.arange(64, dtype=np.float32))
    inside = np.s_[8:-8, 8:-8]
    flat = np.full_like(had, 128)
    assert grain_module.lost_texture(had, flat, xs, ys)[inside].mean() > 15  # all of it, uncapped
    np.testing.assert_allclose(grain_module.lost_texture(had, flat, xs, ys, 5.0)[inside], 5.0, rtol=1e-4)
    keeps_some = _grainy((64, 64), 10.0, seed=3)  # more than 5 of its own: brought up to nothing more
    assert grain_module.lost_texture(had, keeps_some, xs, ys, 5.0)[inside].max() < 1.0
    np.testing.assert_array_equal(grain_module.lost_texture(had, had, xs, ys, 5.0), 0.0)  # as it was: nothing lost


def _magnified_without_texture(photo: np.ndarray, factor: float, monkeypatch) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr("lsgan.editing.fields.LOST_TEXTURE_CAP", 0.0)
        return _magnified(photo, factor).astype(np.float32)


def test_a_field_that_moves_nothing_gives_a_grainy_photo_back_as_it_was():
    """The texture is compared over a box grown past the face, the photo reflected beyond its borders as the
    resampling reads it: a face that fills the photo loses nothing at the photo's edges, and gets nothing added."""
    photo = _grainy((160, 160), 20.0)
    np.testing.assert_array_equal(_magnified(photo, 1.0), photo)
    far = _edited_by(photo, np.full((2, 160, 160), 9.0, np.float32))  # samples 4.5 photos away: bounded
    assert far.shape == photo.shape and far.dtype == np.uint8


def test_a_small_face_gets_no_texture_back(monkeypatch):
    """A face a few dozen pixels across (the model's own 64-pixel crops, ``lsgan demo``) has eyes and lips a few
    pixels wide: what resampling smooths there is their edges, and grain given back would speckle them. The share
    given back grows from none at 64 photo pixels across the crop to all of it at 128 (the fine texture read at the
    nearest pixel too, left out here: test_a_beard_moved_a_fraction_of_a_pixel_keeps_its_own_fine_texture)."""
    monkeypatch.setattr("lsgan.editing.fields._unsmoothed", lambda photo, xs, ys: np.zeros((*xs.shape, 3), "f4"))
    for side, share in ((64, 0.0), (96, 0.5), (128, 1.0)):
        photo = _grainy((side, side), 6.0)
        without = _magnified_without_texture(photo, 2.0, monkeypatch)
        with monkeypatch.context() as patch:
            patch.setattr("lsgan.editing.fields.grain_noise", lambda origin, shape, strength: np.ones(shape, "f4"))
            gain = _magnified(photo, 2.0).astype(np.float32) - without  # the texture given back, as a brightening
            patch.setattr("lsgan.editing.fields.TEXTURE_FACE_SIDES", (0, 1))  # all of it at any size
            full = _magnified(photo, 2.0).astype(np.float32) - without
        assert full.mean() > 2.0  # measured 4.2-4.5
        assert gain.mean() == pytest.approx(share * full.mean(), abs=0.3)


def _shifted(photo: np.ndarray, dx: float, mask: np.ndarray | None = None) -> np.ndarray:
    """``photo`` (a square, the face's crop) edited by a field that moves it ``dx`` pixels right, under ``mask``
    (default: all of it)."""
    side = photo.shape[0]
    flow = np.zeros((2, side, side), np.float32)
    flow[0] = -dx / (side / 2)  # grid units: each pixel samples dx to its left
    return _edited_by(photo, flow, mask)


def _laplacian_variance(image: np.ndarray) -> float:
    return float(cv2.Laplacian(image.astype(np.float32) @ LUMA, cv2.CV_32F).var())


def test_a_beard_moved_a_fraction_of_a_pixel_keeps_its_own_fine_texture(monkeypatch):
    """A Lanczos kernel a fraction of a pixel off averages neighbours: a beard (texture far stronger than the face's
    smoothest skin, so beyond the grain given back) moved 0.3-0.4 pixels kept 0.72 of its Laplacian's variance, and
    the bearded portraits' edits 0.71 of their faces'. Its fine texture is read at the nearest pixel: the beard keeps
    its own texture (not grain in its place), at its strength; a small face's is interpolated as before."""
    photo = _grainy((160, 160), 1.5)
    photo[:, 80:] = _grainy((160, 80), 30.0, seed=2)
    beard = np.s_[20:-20, 90:-20]
    source_fine = fine_texture(photo.astype(np.float32) @ LUMA)[beard]
    for dx in (0.3, -0.4):
        edit = _shifted(photo, dx)[beard]
        assert _laplacian_variance(edit) > 0.95 * _laplacian_variance(photo[beard])  # measured 0.99
        edit_fine = fine_texture(edit.astype(np.float32) @ LUMA)
        assert np.corrcoef(source_fine.ravel(), edit_fine.ravel())[0, 1] > 0.95  # its own texture, where it was
        with monkeypatch.context() as patch:
            patch.setattr("lsgan.editing.fields.TEXTURE_FACE_SIDES", (1000, 2000))  # a small face
            smoothed = _laplacian_variance(_shifted(photo, dx)[beard])
            assert smoothed < 0.8 * _laplacian_variance(photo[beard])  # measured 0.69-0.72
            patch.setattr("lsgan.editing.fields.TEXTURE_FACE_SIDES", (140, 180))  # half of it
            half = _laplacian_variance(_shifted(photo, dx)[beard])
        assert half < 0.9 * _laplacian_variance(edit)  # half the nearest pixel's texture (measured 0.74 of it)


def test_the_fine_texture_crosses_the_mask_s_feather_steeply(monkeypatch):
    """Where the mask feathers, the photo and the edit are not aligned: half of one texture and half of another
    keep half its variance (a ring of soft skin and beard round each edited face). The fine texture crosses from
    the photo's to the edit's ``FINE_CROSSING`` times as steeply, about the feather's middle; where the mask is 0
    the photo is as it was, where it is 1 the edit."""
    side = 160
    ramp = np.clip((np.arange(side) - 40) / 80, 0, 1)  # the mask: 0 left of x = 40, 1 right of x = 120
    mask = np.tile(ramp, (side, 1))
    photo = _grainy((side, side), 30.0)
    feather = np.s_[10:-10, 70:90]  # the mask 0.38-0.62
    kept = _texture_std(_shifted(photo, 3.0, mask)[feather]) / _texture_std(photo[feather])
    monkeypatch.setattr("lsgan.editing.fields.FINE_CROSSING", 1.0)
    mixed = _shifted(photo, 3.0, mask)
    assert kept > 1.08 * _texture_std(mixed[feather]) / _texture_std(photo[feather])  # measured 0.80 against 0.70
    monkeypatch.setattr("lsgan.editing.fields.FINE_CROSSING", 4.0)
    monkeypatch.setattr("lsgan.editing.fields.TEXTURE_FACE_SIDES", (1000, 2000))  # a small face: mixed alike
    np.testing.assert_array_equal(_shifted(photo, 3.0, mask)[feather], mixed[feather])
    for crossing in (1.0, 4.0, 100.0):
        monkeypatch.setattr("lsgan.editing.fields.FINE_CROSSING", crossing)
        edit = _shifted(photo, 3.0, mask)
        np.testing.assert_array_equal(edit[:, :40], photo[:, :40])
        np.testing.assert_array_equal(edit[:, 121:], _shifted(photo, 3.0)[:, 121:])
