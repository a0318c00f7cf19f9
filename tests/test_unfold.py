"""The folds an edit undoes, lightened from the photo's own valleys (editing.unfold)."""

import cv2
import numpy as np
import pytest

from lsgan.data.faces import MEDIAPIPE478
from lsgan.data.mesh_basis import MeshBasisSettings
from lsgan.editing.fields import apply_field
from lsgan.editing.unfold import FOLD_LINES, fold_valleys, unfold_light, unfolded_share
from lsgan.facs import NUM_AUS, au_vector, edit_vector

SIZE, SCALE = 64, 4
SKIN, FOLD = (200, 150, 130), (130, 80, 70)  # a fold's shadow is darker and redder than the skin round it
LEFT = np.array([[18.0, 18.0], [15.0, 26.0], [15.0, 34.0], [18.0, 42.0]])  # crop pixels, nose wing to mouth corner
RIGHT = LEFT * [-1.0, 1.0] + [SIZE - 1.0, 0.0]
ELSEWHERE = 8  # crop row of a dark line no fold runs along


def _mesh() -> np.ndarray:
    """[478, 2]: the folds' lines ``LEFT`` / ``RIGHT``, every other point at the mouth (the lips' hull)."""
    points = np.tile([[SIZE / 2, 50.0]], (478, 1))
    points[list(MEDIAPIPE478.outer_lips)] += np.random.default_rng(0).uniform(-3, 3, (len(MEDIAPIPE478.outer_lips), 2))
    points[list(FOLD_LINES[0])], points[list(FOLD_LINES[1])] = LEFT, RIGHT
    return points


def _face(right_broad: bool = False, fold: np.ndarray = LEFT, mole: np.ndarray | None = None) -> np.ndarray:
    """uint8 [P, P, 3] skin, a soft fold line two crop pixels wide along ``fold``, another across the forehead; with
    ``right_broad`` the right fold's side of the face is in a broad shadow instead (no line); a ``mole`` as dark as
    the fold, 1.5 crop pixels across (about 5 mm on a face), where given (crop pixels)."""
    view = np.zeros((SIZE * SCALE, SIZE * SCALE, 3), np.float32)
    view[:] = SKIN
    for line in (fold, np.array([[8.0, ELSEWHERE], [56.0, ELSEWHERE]])):
        vertices = np.round(((line + 0.5) * SCALE - 0.5) * 16).astype(np.int32)
        cv2.polylines(view, [vertices], False, FOLD, thickness=2 * SCALE, lineType=cv2.LINE_AA, shift=4)
    if mole is not None:
        cv2.circle(view, tuple(np.round((mole + 0.5) * SCALE - 0.5).astype(int)), 3 * SCALE // 4, FOLD, -1,
                   cv2.LINE_AA)
    if right_broad:
        view[:, 40 * SCALE:] = FOLD
    return np.round(cv2.GaussianBlur(view, (0, 0), SCALE / 2)).astype(np.uint8)


def _light(view: np.ndarray, shares=(1.0, 1.0), flow: np.ndarray | None = None) -> np.ndarray:
    flow = np.zeros((2, SIZE, SIZE), np.float32) if flow is None else flow
    return unfold_light(view, _mesh(), flow, SIZE, shares, SIZE * SCALE)


def _at(image: np.ndarray, point) -> np.ndarray:
    """``image`` [P, P, ...] at a crop-pixel point (nearest paint pixel)."""
    x, y = np.round((np.asarray(point) + 0.5) * SCALE - 0.5).astype(int)
    return image[y, x]


def test_a_narrow_valley_is_found_and_broad_shading_is_not():
    view = _face(right_broad=True)
    valleys = fold_valleys(view, SIZE)  # [3, P, P] log units
    fold = _at(np.moveaxis(valleys, 0, -1), LEFT[1])
    darkness = np.log((_at(view, [30, 30]) + 8.0) / (_at(view, LEFT[1]) + 8.0))  # the soft line's, at its middle
    assert (fold > 0.6 * darkness).all()  # most of it: the photo is smoothed past its pores before the closing
    assert _at(valleys[1], [50, 30]) < 0.01  # inside the broad shadow
    assert _at(valleys[1], [30, 30]) < 0.01  # flat skin


def test_the_fold_takes_the_skins_colour_and_nothing_else_changes():
    view = _face()
    light = _light(view)  # [3, P, P]
    lit = view * np.moveaxis(light, 0, -1)
    before, after = (np.log(SKIN / (_at(image, LEFT[1]) + 0.0)) for image in (view, lit))
    assert (after < 0.4 * before).all()  # each channel: most of the fold's darkness is gone ...
    assert after.max() - after.min() < 0.5 * (before.max() - before.min())  # ... and of its redness: no orange line
    assert np.abs(_at(np.moveaxis(light, 0, -1), [32, ELSEWHERE]) - 1.0).max() < 1e-6  # a line off the folds stays
    assert light.min() >= 1.0  # it only lightens


def test_a_dot_on_the_folds_line_is_kept():
    mole = LEFT[2]  # where the fold would run on, had it not stopped halfway
    view = _face(fold=LEFT[:2], mole=mole)
    lit = view * np.moveaxis(_light(view), 0, -1)
    darkness = [np.log(SKIN / (_at(image, mole) + 0.0)) for image in (view, lit)]
    assert (darkness[1] > 0.8 * darkness[0]).all()  # a mole (a freckle, a pore) is no fold
    fold = [np.log(SKIN / (_at(image, (LEFT[0] + LEFT[1]) / 2) + 0.0)) for image in (view, lit)]
    assert (fold[1] < 0.5 * fold[0]).all()  # while the fold's line is lightened


def test_each_side_by_its_share():
    view = _face()
    full, half, none = (_light(view, shares) for shares in ((1.0, 1.0), (0.5, 1.0), (0.0, 1.0)))
    lift = np.log(_at(full[1], LEFT[1]))
    assert np.log(_at(half[1], LEFT[1])) == pytest.approx(lift / 2, rel=0.02)
    np.testing.assert_array_equal(none[:, :, : SIZE * SCALE // 2], 1.0)
    assert _light(view, (0.0, 0.0)) is None


def test_the_light_moves_with_the_edits_field():
    view = _face()
    shift = 3.0  # crop pixels: each edited pixel comes from this far to its right
    flow = np.zeros((2, SIZE, SIZE), np.float32)
    flow[0] = shift / (SIZE / 2)
    moved, still = _light(view, flow=flow), _light(view)
    here = LEFT[1] - [shift, 0.0]
    assert _at(moved[1], here) == pytest.approx(_at(still[1], LEFT[1]), rel=1e-3)


def test_only_what_the_target_undoes_is_lightened():
    settings = MeshBasisSettings()
    smile, neutral = edit_vector("happy"), np.zeros(NUM_AUS, np.float32)
    assert unfolded_share(smile, neutral, settings) > 0.6  # most of a smile's fold, not its rest depth
    assert 0.0 < unfolded_share(smile, edit_vector("sad"), settings) < 1.0
    assert unfolded_share(neutral, smile, settings) == 0.0  # a deeper fold is not this module's
    assert unfolded_share(smile, smile, settings) == 0.0
    assert unfolded_share(neutral, au_vector({10: 1.0}), settings) == 0.0


def test_apply_field_shades_each_channel_by_its_own():
    photo = np.random.default_rng(1).integers(60, 120, (40, 40, 3)).astype(np.uint8)  # a colour photo
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    flow, colour = np.zeros((2, 40, 40), np.float32), np.zeros((3, 40, 40), np.float32)
    shade = np.stack([np.full((80, 80), value, np.float32) for value in (1.0, 1.5, 2.0)])
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1.0
    out = apply_field(photo, matrix, flow, colour, mask, shade=shade)
    expected = np.clip(np.round(photo[15:25, 15:25] * [1.0, 1.5, 2.0]), 0, 255)
    assert np.abs(out[15:25, 15:25] - expected).max() <= 1 and (out[0, 0] == photo[0, 0]).all()


@pytest.fixture(scope="module")
def shipped_editor():
    from lsgan.editing.editor import Editor

    editor = Editor.from_pretrained()
    yield editor
    editor.close()


def _edits(editor, astronaut, monkeypatch, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """The astronaut edited from ``source`` AUs to ``target``: with her folds lightened, without, and her face's box."""
    import lsgan.editing.editor as editor_module

    photos = editor.prepare(astronaut)
    with_light = editor.render(photos, target[None], source[None])
    monkeypatch.setattr(editor_module, "unfold_light", lambda *args, **kwargs: None)
    without = editor.render(photos, target[None], source[None])
    return with_light.image.astype(int), without.image.astype(int), with_light.faces[0].box


def test_a_smile_undone_leaves_its_folds_lighter(shipped_editor, astronaut, monkeypatch):
    smile = edit_vector("happy")
    lit, plain, (x0, y0, x1, y1) = _edits(shipped_editor, astronaut, monkeypatch, smile, np.zeros(NUM_AUS, np.float32))
    difference = (lit - plain).sum(axis=-1)
    rows, cols = np.nonzero(difference > 6)
    assert difference.max() > 45 and len(rows) > 100  # her folds lit by tens of levels
    assert (difference >= -3).all()  # nothing darkened (a level a channel where the fine texture crosses over)
    width, height = x1 - x0, y1 - y0
    assert rows.min() > y0 + 0.5 * height and rows.max() < y0 + 0.9 * height  # between her nose and chin ...
    centre = (x0 + x1) / 2
    assert (cols < centre - 0.1 * width).sum() > 20 and (cols > centre + 0.1 * width).sum() > 20  # ... beside the mouth


def test_a_deeper_fold_is_left_as_the_photo_has_it(shipped_editor, astronaut, monkeypatch):
    lit, plain, _ = _edits(shipped_editor, astronaut, monkeypatch, np.zeros(NUM_AUS, np.float32), edit_vector("happy"))
    np.testing.assert_array_equal(lit, plain)


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_one_sided_edit_lightens_the_fold_of_the_side_it_takes_the_smile_from(shipped_editor, astronaut,
                                                                                 monkeypatch, side):
    import lsgan.editing.editor as editor_module

    lit = shipped_editor.edit(astronaut, emotion="contemptuous", side=side)
    monkeypatch.setattr(editor_module, "unfold_light", lambda *args, **kwargs: None)
    plain = shipped_editor.edit(astronaut, emotion="contemptuous", side=side)
    x0, _, x1, _ = lit.faces[0].box
    _, cols = np.nonzero((lit.image.astype(int) - plain.image.astype(int)).sum(axis=-1) > 6)
    # her smile kept (and one corner raised) on ``side``, taken away (to rest) on the other: that fold only
    rest_side = cols >= (x0 + x1) / 2 if side == "left" else cols < (x0 + x1) / 2
    assert len(cols) > 50 and rest_side.all()
