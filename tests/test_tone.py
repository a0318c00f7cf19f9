"""Black-and-white and toned photos stay so where an edit paints (``lsgan.editing.tone``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.data.images import LUMA
from lsgan.editing import Editor
from lsgan.editing.tone import FADED_BLACK, MONOCHROME_RESIDUAL, on_print, on_tone, photo_tone, print_black

SEPIA = np.array([1.07, 0.95, 0.78], np.float32)  # each channel's share of the grey: a sepia print


def grey(photo: np.ndarray) -> np.ndarray:
    luma = np.round(photo.astype(np.float32) @ LUMA).astype(np.uint8)
    return np.repeat(luma[..., None], 3, axis=-1)


def sepia(photo: np.ndarray) -> np.ndarray:
    return np.clip(np.round(grey(photo) * SEPIA), 0, 255).astype(np.uint8)


def tint(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return rgb - (rgb @ LUMA)[..., None]


def test_a_colour_photo_has_no_tone_and_a_grey_one_no_tint(astronaut):
    assert photo_tone(astronaut) is None
    np.testing.assert_array_equal(photo_tone(grey(astronaut)), 0.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-0.25, 0.25), min_size=3, max_size=3), st.integers(0, 2 ** 16))
def test_a_toned_photo_s_tint_is_read_and_laid_on_what_is_painted(shares, seed):
    """A photo toned by any channel shares (grey × (1 + s), a sepia-like print): the tone read gives a painted
    pixel of any colour the print's tint at its luma, within a level, and keeps its luma."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(30, 200, size=(64, 64)).astype(np.float32)  # toned, no channel clips
    toned = np.clip(np.round(levels[..., None] * (1 + np.array(shares, np.float32))), 0, 255).astype(np.uint8)
    tone = photo_tone(toned)
    assert tone is not None
    painted = rng.uniform(40, 215, size=(200, 3)).astype(np.float32)  # e.g. a red mouth, cream teeth
    kept = on_tone(painted, tone)
    np.testing.assert_allclose(kept @ LUMA, painted @ LUMA, atol=1e-3)
    gain = 1 + np.array(shares, np.float32)
    levels_painted = (painted @ LUMA) / float(gain @ LUMA)  # the grey level the print shows at that luma
    expected = tint(levels_painted[:, None] * gain)
    shown = toned.reshape(-1, 3).astype(np.float32) @ LUMA
    inside = (painted @ LUMA > shown.min() + 8) & (painted @ LUMA < shown.max() - 8)  # lumas the print shows
    np.testing.assert_allclose(tint(kept)[inside], expected[inside], atol=1.0)


def test_colours_a_luma_does_not_explain_are_not_a_tone():
    """Half the pixels tinted red, half blue at the same lumas: a colour photo, however grey its average."""
    levels = np.linspace(40, 200, 400, dtype=np.float32)
    red = np.stack([levels + 20, levels - 5, levels - 5], axis=1)
    blue = np.stack([levels - 5, levels - 5, levels + 20], axis=1)
    pixels = np.clip(np.concatenate([red, blue]), 0, 255).astype(np.uint8)
    assert np.sqrt(np.mean(np.sum(tint(pixels) ** 2, axis=1))) > MONOCHROME_RESIDUAL
    assert photo_tone(pixels) is None


@pytest.fixture(scope="module")
def editor() -> Editor:
    return Editor.from_pretrained()


@pytest.mark.parametrize("print_", [grey, sepia], ids=["black-and-white", "sepia"])
def test_a_black_and_white_or_toned_photo_is_edited_in_its_tone(editor, astronaut, print_):
    """A surprised edit opens the mouth: its inside, painted dark red and its teeth warm white on colour photos, takes
    the print's tone (grey: every pixel grey), and what the edit left is as it was."""
    photo = print_(astronaut)
    edited = editor.edit(photo, emotion="surprised").image
    changed = np.any(edited != photo, axis=-1)
    assert changed.sum() > 500
    tone = photo_tone(photo)
    expected = on_tone(edited[changed].astype(np.float32), tone)
    assert np.abs(edited[changed] - expected).max() <= 1.5  # on the print's tone, up to rounding each channel
    if print_ is grey:
        assert np.all(edited == edited[..., :1])


def test_a_faded_print_s_opened_mouth_is_no_darker_than_its_blacks(editor, astronaut):
    """The astronaut as a black-and-white print faded to 0.55 x + 95 (its darkest 95): her opened mouth's inside is
    laid within the print's levels (the paint's dark red had come out as a black hole, 30 levels under anything in
    the print); an unfaded print's paint is left as it is (``print_black`` 0)."""
    photo = grey(astronaut)
    faded = np.clip(np.round(photo * 0.55 + 95), 0, 255).astype(np.uint8)
    assert print_black(faded) > FADED_BLACK and print_black(photo) == 0.0
    edited = editor.edit(faded, emotion="surprised").image
    changed = np.any(edited != faded, axis=-1)
    assert changed.sum() > 500 and edited[changed].min() >= faded.min() - 2
    paint = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8)).astype(np.float32)
    assert on_print(paint, 0.0) is paint
