"""The folds an AU change makes, shaded as SynthFACS shades them and carried to a photo (editing.creases)."""

import numpy as np
import pytest
from edit_support import tiny_bundle  # noqa: F401  (pytest fixture)

from lsgan.data.mesh_basis import MeshBasis
from lsgan.data.synthfacs import sample_identity
from lsgan.data.synthfacs.geometry import face_shape
from lsgan.editing.creases import crease_reference, crease_shade, expression_folds, fold_shading
from lsgan.editing.fields import apply_field
from lsgan.facs import NUM_AUS, au_vector, emotion_vector

SIZE, SCALE = 64, 4
GLABELLA = (9, 8, 168)  # mesh points between the brows, top to bottom
CHEEKS = (50, 280)


@pytest.fixture(scope="module")
def basis() -> MeshBasis:
    return MeshBasis.load()


@pytest.fixture(scope="module")
def reference():
    return crease_reference()


def _at(shade: np.ndarray, point: np.ndarray) -> float:
    """The shade [P, P] at a crop-pixel point (nearest paint pixel)."""
    x, y = np.round((point + 0.5) * SCALE - 0.5).astype(int)
    return float(shade[y, x])


def test_a_neutral_face_has_no_expression_folds():
    shape = face_shape(sample_identity(3), np.zeros(NUM_AUS), np.zeros(NUM_AUS))
    assert shape.grooves  # the eyelid creases, the nose's sides... are there
    assert expression_folds(shape).grooves == []
    assert expression_folds(shape).bumps == []


def test_every_fold_the_renderer_draws_is_named():
    from lsgan.data.synthfacs.geometry import GROOVE_KINDS

    every = np.ones(NUM_AUS)
    kinds = {g.kind for g in face_shape(sample_identity(3), every, every).grooves}
    assert kinds <= set(GROOVE_KINDS) and {"nasolabial", "glabella", "nose_wrinkle", "crows_feet"} <= kinds


def test_only_the_aus_folds_remain():
    frown = face_shape(sample_identity(3), au_vector({4: 1.0}), au_vector({4: 1.0}))
    folds = expression_folds(frown).grooves
    assert folds and all(g.rest == 0 for g in folds)
    lines = np.concatenate([g.line for g in folds])
    assert np.abs(lines[:, 0]).max() < 0.15  # glabellar lines and the tightened lids' crease, near the midline


def test_fold_shading_is_flat_without_folds_and_darker_with_them(reference):
    flat = fold_shading(reference.identity, np.zeros(NUM_AUS), 96)
    assert np.allclose(flat, 1.0)
    frown = fold_shading(reference.identity, au_vector({4: 1.0}), 96)
    assert frown.min() < 0.8 and frown.max() <= 1.3


def test_no_change_no_shade(basis, reference):
    points = reference.points * SIZE
    aus = emotion_vector("sad")
    shade = crease_shade(points, SIZE, aus, aus, basis, SCALE, reference)
    assert shade.shape == (SIZE * SCALE, SIZE * SCALE)
    assert np.allclose(shade, 1.0, atol=1e-5)


def test_anger_furrows_the_glabella_and_leaves_the_cheeks(basis, reference):
    source, target = np.zeros(NUM_AUS, np.float32), emotion_vector("angry")
    moved = (reference.points + basis.motion(source, target)) * SIZE
    shade = crease_shade(moved, SIZE, source, target, basis, SCALE, reference)
    between_brows = min(_at(shade, moved[i]) for i in GLABELLA)
    furrows = shade[int(moved[9, 1] * SCALE):int(moved[168, 1] * SCALE),
                    int((moved[168, 0] - 4) * SCALE):int((moved[168, 0] + 4) * SCALE)]
    assert furrows.min() < 0.85, between_brows
    assert all(abs(_at(shade, moved[i]) - 1.0) < 0.02 for i in CHEEKS)
    assert shade[0, 0] == 1.0  # outside the face


def test_undoing_an_expression_never_lightens_the_photo(basis, reference):
    points = reference.points * SIZE
    shade = crease_shade(points, SIZE, au_vector({4: 1.0}), np.zeros(NUM_AUS, np.float32), basis, SCALE, reference)
    assert shade.max() == 1.0  # the furrows G_exp read may not be in the photo: no light stripes where they were
    deeper = crease_shade(points, SIZE, au_vector({4: 0.5}), au_vector({4: 1.0}), basis, SCALE, reference)
    assert deeper.min() < 0.9  # while deepening them darkens


def test_the_nasolabial_folds_and_the_nose_wrinkles_are_left_out():
    both = au_vector({9: 1.0, 12: 1.0})
    shape = face_shape(sample_identity(3), both, both)
    kinds = {g.kind for g in expression_folds(shape).grooves}
    assert "nasolabial" not in kinds and "nose_wrinkle" not in kinds and "infraorbital" in kinds
    assert {"nasolabial", "nose_wrinkle"} <= {g.kind for g in expression_folds(shape, left_out=()).grooves}


def test_apply_field_multiplies_by_the_shade():
    photo = np.full((40, 40, 3), 200, np.uint8)
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    flow, colour = np.zeros((2, 40, 40), np.float32), np.zeros((3, 40, 40), np.float32)
    shade = np.full((80, 80), 0.5, np.float32)
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1.0
    out = apply_field(photo, matrix, flow, colour, mask, shade=shade)
    assert (out[15, 15] == 100).all() and (out[0, 0] == 200).all()


def test_the_page_shades_the_folds_only_when_its_box_is_ticked(tiny_bundle, astronaut, save_png):
    from lsgan.editing.editor import Editor
    from lsgan.editing.web import EditPage, WebConfig

    editor = Editor.from_pretrained(tiny_bundle)
    page = EditPage(editor, WebConfig())
    try:
        _, upload, _, _, _ = page.load(str(save_png("astronaut.png", astronaut)))
        angry = list(emotion_vector("angry"))
        plain, _, _ = page.edit(upload, angry)
        folded, _, _ = page.edit(upload, angry, creases=True)
        again, _, _ = page.edit(upload, angry, creases=False)
    finally:
        page.close()
        editor.close()
    difference = folded.astype(int) - plain.astype(int)
    # folds only darken: by up to a level the other way where the face's mask feathers, the fold's fine texture (its
    # edge's overshoot) crossing over more steeply than its shade (fields.FINE_CROSSING; 27 of 786 432 values)
    assert difference.max() <= 1 and difference.min() < -15
    assert (difference > 0).mean() < 1e-3
    np.testing.assert_array_equal(again, plain)
    assert editor.config.creases is False  # a per-edit choice, not a change of the editor
