"""A lopsided face to copy is copied lopsided (``editing.lopsided``, ``Editor.sides``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.data.faces import FaceAligner
from lsgan.data.mesh_basis import MeshBasis
from lsgan.editing.editor import Editor
from lsgan.editing.lopsided import LOPSIDED, copied_differences, frowns, side_differences, split_sides
from lsgan.editing.mesh_motion import photo_basis, side_weights
from lsgan.editing.targets import TargetRequest
from lsgan.facs import NUM_AUS, au_index, au_vector
from lsgan.metrics import photo
from lsgan.metrics.photo import MOUTH_CORNERS, geometry_readings

SIZE = 64
AU1, AU2, AU12, AU15 = au_index(1), au_index(2), au_index(12), au_index(15)


@pytest.fixture(scope="module")
def basis() -> MeshBasis:
    return photo_basis(MeshBasis.load())


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    """A SynthFACS face at rest, its mediapipe mesh in a 64-pixel crop."""
    from lsgan.data.synthfacs import render, sample_identity

    image = np.full((400, 400, 3), 128, np.uint8)
    image[72:328, 72:328] = render(sample_identity(5), np.zeros(NUM_AUS), 256).image
    with FaceAligner(SIZE) as aligner:
        return aligner.align(image).landmarks.points


def eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[list(photo.EYE_CORNERS_L)].mean(0) - points[list(photo.EYE_CORNERS_R)].mean(0)))


def raised(points: np.ndarray, indices: tuple[int, ...], by: float) -> np.ndarray:
    """``points`` with ``indices`` moved up by ``by`` inter-ocular distances."""
    moved = points.copy()
    moved[list(indices), 1] -= by * eye_distance(points)
    return moved


def asymmetry_made(points: np.ndarray, differences: np.ndarray, basis: MeshBasis, reading: str) -> float:
    """The change of ``reading`` when one side of the picture gets ``differences`` (left minus right) more AU."""
    left = side_weights(points[:, 0], SIZE, "left")[:, None]
    moved = points + left * basis.motion(np.zeros(NUM_AUS), np.clip(differences, 0, 1)) * SIZE
    moved += (1 - left) * basis.motion(np.zeros(NUM_AUS), np.clip(-differences, 0, 1)) * SIZE
    return geometry_readings(moved)[reading] - geometry_readings(points)[reading]


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_lifted_mouth_corner_is_copied_on_its_side_as_far_as_it_is_lifted(basis, points, side):
    corner = photo.MOUTH_CORNERS[0 if side == "left" else 1]
    like = raised(points, (corner,), 0.08)
    differences = side_differences(points, like, basis, SIZE)
    assert (differences[AU12] > 0) == (side == "left") and differences[AU12] != 0
    assert np.count_nonzero(differences) == 1  # the brows are alike
    wanted = geometry_readings(like)["corner_asymmetry"] - geometry_readings(points)["corner_asymmetry"]
    assert asymmetry_made(points, differences, basis, "corner_asymmetry") == pytest.approx(wanted, abs=0.01)


def test_a_corner_drawn_down_by_a_face_that_frowns_is_its_depressor_on_that_side(basis, points):
    like = raised(points, (photo.MOUTH_CORNERS[0],), -0.06)  # the picture's left corner lower
    differences = side_differences(points, like, basis, SIZE, frowns=True)
    assert differences[AU15] > 0 and np.count_nonzero(differences) == 1
    assert asymmetry_made(points, differences, basis, "corner_asymmetry") == pytest.approx(-0.06, abs=0.01)
    assert side_differences(points, like, basis, SIZE)[AU12] < 0  # a face that smiles: the other corner lifted
    assert frowns(au_vector({15: 0.4, 12: 0.1})) and not frowns(au_vector({15: 0.4, 12: 0.5}))


def test_a_raised_brow_is_copied_on_its_side_with_both_brow_raisers(basis, points):
    like = raised(points, photo.BROW_R, 0.08)  # the picture's left brow
    differences = side_differences(points, like, basis, SIZE)
    assert differences[AU1] == differences[AU2] > 0 and np.count_nonzero(differences) == 2
    assert asymmetry_made(points, differences, basis, "brow_asymmetry") == pytest.approx(0.08, abs=0.01)


def test_a_face_no_more_lopsided_than_the_edited_one_or_without_a_mesh_is_copied_on_both_sides(basis, points):
    slightly = raised(raised(points, (photo.MOUTH_CORNERS[0],), 0.8 * LOPSIDED), photo.BROW_L, 0.8 * LOPSIDED)
    assert not side_differences(points, slightly, basis, SIZE).any()
    lopsided = raised(points, (photo.MOUTH_CORNERS[0],), 0.1)
    assert not side_differences(lopsided, lopsided, basis, SIZE).any()  # a smirk copied onto the same smirk
    assert side_differences(lopsided, points, basis, SIZE)[AU12] < 0  # ... a symmetric face onto it evens it
    assert not side_differences(points, None, basis, SIZE).any()
    assert not side_differences(points[:68], lopsided[:68], basis, SIZE).any()  # dlib's points: no mesh
    far = raised(points, (photo.MOUTH_CORNERS[0],), 5.0)
    assert side_differences(points, far, basis, SIZE)[AU12] == 1.0  # at most one AU unit either way


def test_a_share_of_the_copy_takes_a_share_of_the_difference_and_settings_and_regions_keep_theirs():
    differences = np.zeros((2, NUM_AUS), np.float32)
    differences[:, [AU1, AU2, AU12]] = [0.4, 0.4, -0.6]
    half = copied_differences(TargetRequest(like_aus=np.zeros(NUM_AUS), intensity=0.5), differences)
    np.testing.assert_allclose(half, differences / 2)
    set_smile = copied_differences(TargetRequest(like_aus=np.zeros(NUM_AUS), aus="12=0.3"), differences)
    assert not set_smile[:, AU12].any() and np.all(set_smile[:, AU1] == 0.4)
    eyes = copied_differences(TargetRequest(like_aus=np.zeros(NUM_AUS), region="eyes"), differences)
    assert not eyes[:, AU12].any() and np.all(eyes[:, AU2] == 0.4)
    mouth = copied_differences(TargetRequest(like_aus=np.zeros(NUM_AUS), region="mouth"), differences)
    assert not mouth[:, [AU1, AU2]].any() and np.all(mouth[:, AU12] == -0.6)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1), st.floats(-1, 1))
def test_the_two_sides_are_apart_by_the_difference_about_the_target_within_0_1(target, difference):
    left, right = split_sides(np.float32([target]), np.float32([difference]))
    assert 0 <= right[0] <= 1 and 0 <= left[0] <= 1
    assert left[0] - right[0] == pytest.approx(difference, abs=1e-6)
    if abs(difference) / 2 <= min(target, 1 - target):
        assert (left[0] + right[0]) / 2 == pytest.approx(target, abs=1e-6)
    if difference == 0:
        assert left[0] == right[0] == np.float32(target)


@pytest.fixture(scope="module")
def editor() -> Editor:
    return Editor.from_pretrained()


@pytest.fixture(scope="module")
def smirk(editor, astronaut):
    """The astronaut with contempt on the picture's left (one corner drawn up): a lopsided face to copy."""
    return editor.edit(astronaut, emotion="contemptuous").image


def corner_asymmetry(editor: Editor, image: np.ndarray) -> float:
    face = editor.prepare(image)[0].faces[0]
    return geometry_readings(face.aligned.landmarks.points)["corner_asymmetry"]


def test_a_smirk_copied_is_a_smirk_on_its_side(editor, astronaut, smirk):
    """The astronaut's own smirk copied onto her photo: her picture's left corner lifted past the right, as the
    face copied has it; asked for on both sides, both corners alike; the sequence ends on the edit."""
    source = corner_asymmetry(editor, astronaut)
    wanted = corner_asymmetry(editor, smirk)
    assert wanted - source > 0.1
    request = editor.request(like=smirk)
    photo = editor.prepare(astronaut)[0]
    side, left, right = editor.sides([photo], request, editor.estimate_faces([photo]))
    assert side == "left" and left[0, AU12] > right[0, AU12]
    copied = editor.edit(astronaut, like=smirk).image
    assert corner_asymmetry(editor, copied) - source > 0.5 * (wanted - source)
    both = editor.edit(astronaut, like=smirk, side="both").image
    assert abs(corner_asymmetry(editor, both) - source) < 0.03
    frames = editor.edit_sequence(astronaut, 2, like=smirk).images
    np.testing.assert_array_equal(frames[-1], copied)


def test_a_face_copied_from_itself_is_copied_on_both_sides(editor, astronaut):
    photo = editor.prepare(astronaut)[0]
    source = editor.estimate_faces([photo])
    side, targets, other = editor.sides([photo], editor.request(like=astronaut), source)
    assert side is None and other is None
    np.testing.assert_allclose(targets, source, atol=1e-6)


def test_a_face_copied_that_frowns_on_one_side_is_copied_with_that_side_s_depressor(editor, astronaut):
    photo = editor.prepare(astronaut)[0]
    source = editor.estimate_faces([photo])
    lower_left = raised(photo.faces[0].aligned.landmarks.points, (MOUTH_CORNERS[0],), -0.1)
    frown = TargetRequest(like_aus=au_vector({15: 0.6}), like_points=lower_left)
    side, left, right = editor.sides([photo], frown, source)
    assert side == "left" and left[0, AU15] > right[0, AU15]
    np.testing.assert_allclose(left[0, AU12], right[0, AU12])
