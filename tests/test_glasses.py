"""Glasses stay as they are (``lsgan.editing.glasses``): dark ones found, clear ones when told."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.ndimage import binary_fill_holes
from script_support import script_fixture

from lsgan.data.faces import FaceAligner
from lsgan.data.images import LUMA, read_image
from lsgan.editing import Editor
from lsgan.editing.editor import EditorConfigError
from lsgan.editing.fields import HELD, HELD_INSIDE, apply_field
from lsgan.editing.glasses import clear_frames, dark_lenses, held_by_lenses
from lsgan.editing.grain import TEXTURE_SIGMA
from lsgan.editing.paint import detail_view, eye_contour, view_matrix

SIZE, SCALE = 64, 4


def aligned(photo: np.ndarray):
    with FaceAligner(SIZE) as aligner:
        return aligner.align(photo)


def view_of(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(crop, (SIZE * SCALE,) * 2, interpolation=cv2.INTER_CUBIC)


figure = script_fixture("glasses_figure")


def with_sunglasses(figure, photo: np.ndarray, shade: int = 18) -> tuple[np.ndarray, np.ndarray]:
    """(``photo`` with two dark lenses, ellipses 0.55 × 0.36 inter-ocular distances, and a bridge drawn over its
    face's eyes (found by the ``figure`` script's ``eyes_on_photo``); bool H×W where they are)."""
    eyes, distance = figure.eyes_on_photo(photo)
    drawn = np.zeros(photo.shape[:2], np.uint8)
    for centre in eyes:
        axes = (round(0.55 * distance / 2), round(0.36 * distance / 2))
        cv2.ellipse(drawn, tuple(int(v) for v in np.round(centre)), axes, 0, 0, 360, 1, -1)
    cv2.line(drawn, tuple(int(v) for v in np.round(eyes[0])), tuple(int(v) for v in np.round(eyes[1])), 1,
             max(2, round(0.05 * distance)))
    return np.where(drawn[..., None] > 0, np.uint8(shade), photo), drawn > 0


@pytest.fixture(scope="module")
def astronaut_photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def in_sunglasses(figure, astronaut_photo) -> tuple[np.ndarray, np.ndarray]:
    return with_sunglasses(figure, astronaut_photo)


def test_dark_lenses_are_found_over_both_eyes_and_nowhere_else(astronaut_photo, in_sunglasses):
    face = aligned(in_sunglasses[0])
    lenses = dark_lenses(view_of(face.crop), face.landmarks.points, SCALE)
    assert lenses is not None
    for eye in range(2):  # each eye's centre is under a lens
        x, y = np.round((eye_contour(face.landmarks.points, eye).mean(axis=0) + 0.5) * SCALE - 0.5).astype(int)
        assert lenses[y, x]
    mouth = np.round((face.landmarks.points[13] + 0.5) * SCALE - 0.5).astype(int)
    assert not lenses[mouth[1], mouth[0]] and lenses.mean() < 0.2
    bare = aligned(astronaut_photo)
    assert dark_lenses(view_of(bare.crop), bare.landmarks.points, SCALE) is None  # her eyes show their white


def test_eyes_that_show_no_white_but_only_their_lashes_are_not_lenses(astronaut_photo):
    """Closed eyes (each opening dark, as lashes are, with nothing dark round it) are not dark glasses."""
    face = aligned(astronaut_photo)
    crop = face.crop.copy()
    for eye in range(2):
        cv2.fillPoly(crop, [np.round(eye_contour(face.landmarks.points, eye)).astype(np.int32)], (15, 15, 15))
    assert dark_lenses(view_of(crop), face.landmarks.points, SCALE) is None


def test_the_field_is_still_on_the_lenses_and_no_pixel_beside_them_samples_them():
    side = SIZE * SCALE
    lenses = np.zeros((side, side), bool)
    lenses[80:120, 60:120] = True
    points = np.array([[22.0, 17.0], [40.0, 50.0]], np.float32)  # a brow point over a lens, a far one
    targets = points + np.array([[0.0, -3.0], [0.0, 6.0]], np.float32)  # the brow raised 3 px; the far point more
    flow = np.zeros((2, side, side), np.float32)
    flow[1] = 3.0 / (SIZE / 2)  # every pixel samples 3 crop pixels below itself (a raise)
    held = held_by_lenses(flow, lenses, points, targets, SIZE)
    assert not held[:, lenses].any()
    rows, cols = np.mgrid[0:side, 0:side]
    sampled = np.clip(np.round(rows + held[1] * SIZE / 2 * SCALE), 0, side - 1).astype(int)
    lens_inside = np.zeros_like(lenses)
    lens_inside[81:119, 61:119] = True  # a pixel beside the lens samples at most its edge's pixels
    assert not lens_inside[sampled[~lenses], cols[~lenses]].any()
    np.testing.assert_allclose(held[:, 0, 0], flow[:, 0, 0])  # far from the lenses: all of it


@pytest.mark.parametrize("emotion", ["surprised", "sad", "angry"])
def test_an_edit_moves_the_face_and_leaves_dark_glasses_as_they_are(in_sunglasses, emotion):
    """The astronaut in drawn sunglasses: the lenses' dark shape, within 4 px of them, is the photo's to the pixel
    (the brows and lids moved round them bent and enlarged it: 0.61-0.72 of it kept); their inside away from the
    edge (the reach of the window the texture given back is compared in, 3 × ``grain.TEXTURE_SIGMA``: it reads the
    moved neighbours) is untouched; the face's edit is made."""
    photo, lenses = in_sunglasses
    edited = Editor.from_pretrained().edit(photo, emotion=emotion).image
    near = cv2.dilate(lenses.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    dark_before, dark_after = ((image.astype(np.float32) @ LUMA < 60) & near for image in (photo, edited))
    np.testing.assert_array_equal(dark_after, dark_before)
    changed = np.any(edited != photo, axis=-1)
    reach = 2 * round(3 * TEXTURE_SIGMA) + 1
    inside = cv2.erode(lenses.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    assert inside.any() and not changed[inside].any()
    assert changed.sum() > 2000


@pytest.fixture(scope="module")
def in_clear_glasses(figure, astronaut_photo) -> tuple[np.ndarray, np.ndarray]:
    """The astronaut with the thin frame of clear glasses drawn round her eyes, and where the frame is."""
    return figure.with_clear_glasses(astronaut_photo)


@pytest.mark.parametrize("shade, width, half_size", [(35, 0.04, (0.4, 0.27)), (20, 0.12, (0.45, 0.32)),
                                                    (250, 0.04, (0.4, 0.27))], ids=["thin", "thick", "white"])
def test_clear_frames_follow_the_drawn_frame(figure, astronaut_photo, shade, width, half_size):
    """Thin and thick dark frames, and a white one (a light line: looked for where no dark one runs round)."""
    photo, drawn = figure.with_clear_glasses(astronaut_photo, shade, width, half_size)
    face = aligned(photo)
    labels = clear_frames(detail_view(photo, face.matrix, SIZE, SCALE), face.landmarks.points, SCALE)
    found = labels == HELD
    frame = cv2.warpAffine(drawn.astype(np.float32), to_view(face), found.shape[::-1]) > 0.3  # [P, P]
    assert found[frame].mean() > 0.95  # nearly all of the frame ...
    assert found.sum() < 1.6 * frame.sum()  # ... and not much besides: as wide as it is
    for eye in range(2):  # nor the eyes: they are inside the lenses
        x, y = np.round((eye_contour(face.landmarks.points, eye).mean(axis=0) + 0.5) * SCALE - 0.5).astype(int)
        assert (labels[y - 2:y + 3, x - 2:x + 3] == HELD_INSIDE).all()


def to_view(face) -> np.ndarray:
    """The photo -> paint view matrix of an aligned face (``paint.detail_view``'s, at ``SCALE``)."""
    return view_matrix(face.matrix, SCALE)


def test_the_frame_s_place_is_filled_from_round_it_not_from_dark_lenses(figure, astronaut_photo):
    """A dark frame round dark lenses, the face raised behind it by more than the frame is wide: what shows above the
    top rims (the frame's place, inpainted, carried up) is filled from round the frame; taking the lenses for skin
    fills it darker."""
    photo, drawn = figure.with_clear_glasses(astronaut_photo, 20, 0.08, (0.42, 0.3))
    lenses = binary_fill_holes(drawn) & ~drawn
    photo = np.where(lenses[..., None], (photo * 0.3).astype(np.uint8), photo)
    face = aligned(photo)
    side = SIZE * SCALE
    on_view = [cv2.warpAffine(mask.astype(np.float32), to_view(face), (side, side)) > 0.5 for mask in (drawn, lenses)]
    labels = np.where(on_view[0], HELD, np.where(on_view[1], HELD_INSIDE, 0)).astype(np.uint8)
    mask = np.ones(photo.shape[:2], np.float32)
    colour = np.zeros((3, SIZE, SIZE), np.float32)
    raise_ = np.zeros((2, SIZE, SIZE), np.float32)
    raise_[1] = 3.0 / (SIZE / 2)  # 3 crop pixels: more than the frame is wide
    lift = round(3.0 / np.sqrt(abs(np.linalg.det(face.matrix[:, :2]))))  # photo pixels
    top_rims = drawn.copy()
    top_rims[np.nonzero(lenses)[0].min():] = False
    above = np.roll(top_rims, -lift, axis=0) & ~(cv2.dilate(drawn.astype(np.uint8), np.ones((3, 3))) > 0)
    luma = {}
    for name, held in (("lenses apart", labels), ("lenses as skin", np.where(labels == HELD, HELD, 0))):
        moved = apply_field(photo, face.matrix, raise_, colour, mask, held=held.astype(np.uint8))
        luma[name] = float((moved[above].astype(np.float32) @ LUMA).mean())
    assert luma["lenses apart"] > luma["lenses as skin"] + 20


def test_a_held_frame_stays_to_the_pixel_and_the_face_moves_behind_it(in_clear_glasses):
    """apply_field with ``held``: the frame's pixels are the photo's, moved or not; with no motion the photo comes
    back as it was; without ``held`` the frame moves with the face."""
    photo, drawn = in_clear_glasses
    face = aligned(photo)
    held = clear_frames(detail_view(photo, face.matrix, SIZE, SCALE), face.landmarks.points, SCALE)
    mask = np.ones(photo.shape[:2], np.float32)
    colour = np.zeros((3, SIZE, SIZE), np.float32)
    still = np.zeros((2, SIZE, SIZE), np.float32)
    assert np.array_equal(apply_field(photo, face.matrix, still, colour, mask, held=held), photo)
    raise_ = np.zeros_like(still)
    raise_[1] = 2.0 / (SIZE / 2)  # every pixel samples 2 crop pixels below itself: the face moves up
    moved = apply_field(photo, face.matrix, raise_, colour, mask, held=held)
    np.testing.assert_array_equal(moved[drawn], photo[drawn])
    lift = round(2.0 / np.sqrt(abs(np.linalg.det(face.matrix[:, :2]))))  # photo pixels the face moved up
    carried_to = np.roll(drawn, -lift, axis=0) & ~(cv2.dilate(drawn.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    dark = [(image.astype(np.float32) @ LUMA < 60)[carried_to].mean() for image in (photo, moved)]
    assert dark[1] < dark[0] + 0.05  # no copy of the frame carried up with the face
    off_frame = ~(cv2.dilate(drawn.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0)
    assert np.abs(moved.astype(int) - photo)[off_frame].mean() > 1.0  # the rest of the face moved
    carried = apply_field(photo, face.matrix, raise_, colour, mask)
    assert np.abs(carried.astype(int) - photo)[drawn].mean() > 20  # the frame went with it


@pytest.mark.parametrize("motion", ["mesh", "model"])
def test_an_edit_of_a_face_told_to_wear_glasses_keeps_their_frame(in_clear_glasses, motion):
    photo, drawn = in_clear_glasses
    editor = Editor.from_pretrained(motion=motion)
    kept = editor.edit(photo, emotion="surprised", glasses=True).image
    bent = editor.edit(photo, emotion="surprised", glasses=False).image
    np.testing.assert_array_equal(kept[drawn], photo[drawn])
    assert np.abs(bent.astype(int) - photo)[drawn].mean() > 3 * max(np.abs(kept.astype(int) - photo)[drawn].mean(), 1)
    brows = np.any(kept != photo, axis=-1) & ~drawn
    assert brows.sum() > 2000  # the expression is made round the frame


def test_the_figure_script_draws_each_edit_and_says_how_much_of_the_frame_moved(figure, tmp_path, capsys,
                                                                                monkeypatch):
    out = tmp_path / "glasses.png"
    monkeypatch.setattr("sys.argv", ["glasses_figure.py", "--out", str(out), "--cell", "96"])
    figure.main()
    printed = capsys.readouterr().out
    shares = {line.split(":")[0]: float(line.split(": ")[1].split("%")[0]) for line in printed.splitlines()
              if line.startswith("drawn frame")}
    assert shares["drawn frame, surprised --glasses"] == 0.0 and shares["drawn frame, surprised --no-glasses"] > 30
    figure_image = read_image(out)
    assert figure_image.shape[1] == 96 * (1 + 2 * len(figure.EMOTIONS))


def test_every_frame_of_a_sequence_keeps_the_frame(in_clear_glasses):
    photo, drawn = in_clear_glasses
    frames = Editor.from_pretrained().edit_sequence(photo, 3, emotion="surprised", glasses=True).images
    assert len(frames) == 3 and np.any(frames[-1] != photo)
    for frame in frames:
        np.testing.assert_array_equal(frame[drawn], photo[drawn])


def test_a_face_that_seems_to_wear_clear_glasses_keeps_them_still_by_default_and_is_named(in_clear_glasses,
                                                                                          astronaut_photo):
    photo, drawn = in_clear_glasses
    editor = Editor.from_pretrained()
    found = editor.prepare(photo)[0]
    assert found.faces[0].glasses and found.faces[0].seems_to_wear_glasses
    assert len(found.hints) == 1 and "face 0 seems to wear glasses: their frame is kept still" in found.hints[0]
    edited = editor.edit(photo, emotion="surprised")
    np.testing.assert_array_equal(edited.image, editor.edit(photo, emotion="surprised", glasses=True).image)
    assert np.any(edited.image != photo) and edited.notes == found.hints  # the API's result says it too
    told = editor.prepare(photo, glasses=True)[0]
    assert told.faces[0].glasses and not told.faces[0].seems_to_wear_glasses and not told.hints
    off = editor.prepare(photo, glasses=False)[0]
    assert not off.faces[0].glasses and not off.hints
    bare = editor.prepare(astronaut_photo)[0]  # her own face wears none
    assert not bare.faces[0].glasses and not bare.hints
    small = cv2.resize(photo, (160, 160), interpolation=cv2.INTER_AREA)  # 20 px between the eyes: not looked for
    assert not editor.prepare(small)[0].faces[0].glasses


def test_without_alignment_glasses_are_not_looked_for(in_clear_glasses):
    prepared = Editor.from_pretrained(align=False).prepare(in_clear_glasses[0])[0]
    assert not prepared.faces[0].glasses and not prepared.hints


def test_glasses_need_the_face_s_landmarks(in_clear_glasses):
    with pytest.raises(EditorConfigError, match="not with --no-align"):
        Editor.from_pretrained(align=False).edit(in_clear_glasses[0], emotion="happy", glasses=True)
