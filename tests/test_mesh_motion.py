"""The AU mesh basis (data.mesh_basis), the mesh motion of an edit (editing.mesh_motion, Editor motion) and its paint
(editing.paint; laid on with the photo's grain, editing.grain: tests/test_grain.py)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.numpy import save_file

from edit_support import face_files, lsgan, synth_faces, tiny_bundle  # noqa: F401  (pytest fixtures)
from lsgan.data.faces import MEDIAPIPE478, FaceAligner, FaceTemplate
from lsgan.data.mesh_basis import (
    IRIS_START,
    LIP_CONTOURS,
    LOWER_LIDS,
    MESH_POINTS,
    UPPER_LIDS,
    MeshBasis,
    MeshBasisSettings,
    build_mesh_basis,
    carried_motion,
    rendered_brows,
    rendered_chin_motion,
    rendered_jaw,
    rendered_lid_motion,
    rendered_lids,
    rendered_lip_motion,
    rendered_lips,
    symmetric,
)
from lsgan.editing import editor as editor_module
from lsgan.editing.editor import Editor, EditorConfig, EditorConfigError
from lsgan.data.images import read_image, write_image
from lsgan.editing.fields import apply_field, resample_field
from lsgan.editing.mesh_motion import (
    FIELD_SCALE, MAX_UPPER_FACE_GAIN, REAL_SMILE_GAIN, REST_CORNER_LIFT, REST_MOUTH_WIDTH, REST_WIDTH_FLOOR,
    SIDE_BLEND, SMILE_MOUTH_WIDTH, SMILE_READ, UPPER_FACE_GAIN, dense_backward_field, lips_as_shown, lips_stay_lips,
    face_basis, far_side_narrowing, mesh_motion, photo_basis, share_above_rest, side_weights, smile_as_real,
    smile_taken_to_rest, smile_width_floor,
    smile_width_kept, smile_width_shown, teeth_kept,
)
from lsgan.editing.paint import (
    EYE_CORNERS, INNER_LIP_MIDDLE, IRISES, LID_SHADE_DEPTH, LIP_RGB, LIP_TINT, LIT_BRIGHTEST, LOWER_TOOTH_EDGES, LUMA,
    MAX_PAINT_SCALE, MEETING_LINE_CHROMA, MEETING_LINE_SHADE, PAINT_SCALE, SCLERA_RGB, SCLERA_TO_TEETH, SHOWN_TEETH,
    TEETH_OVER_BRIGHTEST, TEETH_RGB, TOOTH_EDGES, _eye_colours, _iris_by_radius, brightest, detail_view, eye_contour,
    eye_paint, lip_colour, lip_gap, lip_paint, lips_coverage, lips_taut, lower_teeth_exposure, meeting_line_colour,
    mouth_paint, opening_coverage, over, paint_scale, polygon_coverage, sampled_at, smooth_outline, stretched,
    teeth_colour, teeth_exposure,
)
from lsgan.editing import fields as fields_module
from lsgan.editing.grain import fine_texture
from lsgan.errors import CheckpointError
from lsgan.facs import AU_IDS, NUM_AUS, au_index, au_vector, edit_vector, emotion_vector
from lsgan.metrics.photo import eye_frame, geometry_readings

SIZE = 64
CHIN, UPPER_LIP, LOWER_LIP = 152, 13, 14
CORNERS = (61, 291)  # image-left (the subject's right), image-right
BROW_TOPS = (105, 334)


@pytest.fixture(scope="module")
def basis() -> MeshBasis:
    return MeshBasis.load()


def rendered_in_photo(aus: np.ndarray, yaw: float = 0.0) -> np.ndarray:
    """SynthFACS identity 5 showing ``aus`` [16], turned by ``yaw`` degrees (positive: towards image-right), rendered
    at 256 px in the middle of a 400-pixel grey photo."""
    from lsgan.data.synthfacs import Pose, render, sample_identity

    photo = np.full((400, 400, 3), 128, np.uint8)
    photo[72:328, 72:328] = render(sample_identity(5), aus, 256, pose=Pose(yaw=yaw)).image
    return photo


@pytest.fixture(scope="module")
def closed_mouth() -> np.ndarray:
    """A SynthFACS face with its mouth closed, in the middle of a larger grey photo."""
    return rendered_in_photo(np.zeros(NUM_AUS))


@pytest.fixture(scope="module")
def face(closed_mouth):
    with FaceAligner(SIZE) as aligner:
        return aligner.align(closed_mouth)


BROAD_SMILE = au_vector({10: 0.6, 12: 1.0, 25: 1.0})  # a smile with the teeth showing


@pytest.fixture(scope="module")
def broad_smile():
    """The SynthFACS face of ``closed_mouth`` showing ``BROAD_SMILE``, in the middle of a larger grey photo, aligned."""
    with FaceAligner(SIZE) as aligner:
        return aligner.align(rendered_in_photo(BROAD_SMILE))


def at_point(field: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The values [C] of a map [C, F, F] over a 64-pixel crop (F a multiple of 64) at a crop point (x, y)."""
    scale = field.shape[-1] // SIZE
    x, y = np.round((np.asarray(point) + 0.5) * scale - 0.5).astype(int)
    return field[:, y, x]


def motion_of(basis: MeshBasis, au: int, amount: float = 1.0) -> np.ndarray:
    return basis.motion(np.zeros(NUM_AUS), au_vector({au: amount})) * SIZE  # [478, 2] crop pixels


def mouth_mesh(half_width: float, half_height: float) -> np.ndarray:
    """``[478, 2]`` a mesh whose only placed points are its inner lips, an ellipse centred at (32, 44) of a 64-pixel
    crop (``half_height`` 0: lips that touch): the paint tests' mouths."""
    inner = list(MEDIAPIPE478.inner_lips)
    angles = np.linspace(0, 2 * np.pi, len(inner), endpoint=False)
    points = np.zeros((MESH_POINTS, 2), np.float32)
    points[inner] = np.stack([32 + half_width * np.cos(angles), 44 + half_height * np.sin(angles)], axis=1)
    return points


def test_the_shipped_basis_moves_the_mesh_as_facs_says(basis):
    assert basis.displacements.shape == (NUM_AUS, 478, 2) and basis.renderer_version >= 2
    jaw = motion_of(basis, 26)
    assert jaw[CHIN, 1] > 0.03 * SIZE and jaw[LOWER_LIP, 1] > 0.03 * SIZE  # AU26: jaw and lower lip down
    smile = motion_of(basis, 12)
    (right_x, right_y), (left_x, left_y) = smile[list(CORNERS)]
    assert right_y < 0 and left_y < 0 and right_x < 0 < left_x  # AU12: corners up and out
    assert all(motion_of(basis, 2)[i, 1] < 0 for i in BROW_TOPS)  # AU2: brows up
    assert all(motion_of(basis, 4)[i, 1] > 0 for i in BROW_TOPS)  # AU4: brows down
    assert basis.agreement[au_index(12)] > 0.8 and basis.agreement[au_index(26)] > 0.8
    np.testing.assert_allclose(basis.motion(au_vector({12: 1.0}), np.zeros(NUM_AUS)), -smile / SIZE, atol=1e-6)
    # a smile with parted lips retracts the upper lip more than the two apart (SynthFACS v3, a real smile's apex)
    together = basis.motion(np.zeros(NUM_AUS), au_vector({12: 1.0, 25: 1.0}))[UPPER_LIP, 1] * SIZE
    assert together < smile[UPPER_LIP, 1] + motion_of(basis, 25)[UPPER_LIP, 1] - 0.3


def test_the_lids_move_as_the_rendered_lids_do(basis):
    """mediapipe's lid points barely follow a rendered lid, so the basis takes the lids' motion from the renderer."""
    from lsgan.data.synthfacs import sample_identity

    identity = sample_identity(7)
    curves = rendered_lids(identity, np.zeros(NUM_AUS, np.float32), 256)  # [eye, lid, 25, 2] render pixels
    start = np.zeros((478, 2), np.float32)
    for eye in range(2):
        for lid, indices in enumerate((UPPER_LIDS[eye], LOWER_LIDS[eye])):
            start[list(indices)] = curves[eye, lid, np.linspace(3, 21, len(indices)).round().astype(int)]
    to_crop = np.array([[1 / 256, 0, 0], [0, 1 / 256, 0]], np.float32)  # render pixels -> fractions of the side
    start = start / 256
    eye_distance = abs(curves[1, 0, 0, 0] - curves[0, 0, 0, 0]) / 256  # inner corners: a lower bound on it
    upper_mid, lower_mid = UPPER_LIDS[0][3], LOWER_LIDS[0][3]
    wide = rendered_lid_motion(start, identity, au_vector({5: 1.0}), 256, to_crop)
    assert wide[upper_mid][1] < -0.03 * eye_distance and abs(wide[lower_mid][1]) < 0.02 * eye_distance
    squint = rendered_lid_motion(start, identity, au_vector({7: 1.0}), 256, to_crop)
    assert squint[upper_mid][1] > 0 and squint[lower_mid][1] < -0.02 * eye_distance  # both lids close in
    assert all(np.allclose(v, 0) for v in rendered_lid_motion(start, identity, au_vector({12: 1.0}), 256,
                                                              to_crop).values())
    # the shipped basis: AU5 lifts both upper lids by several percent of the eye distance (0.27 of the crop)
    for indices in UPPER_LIDS:
        assert basis.displacements[au_index(5), indices[3], 1] < -0.03 * 0.27


def test_the_lips_move_as_the_rendered_lips_do():
    """mediapipe's lips keep a real mouth's shape on renders (they missed most of AU20's stretch), so the basis takes
    the lip contours' motion from the renderer, each point at its place between the corners."""
    from lsgan.data.synthfacs import sample_identity

    identity = sample_identity(7)
    neutral = rendered_lips(identity, np.zeros(NUM_AUS, np.float32), 256) / 256  # [4, K, 2] fractions of the side
    start = np.zeros((478, 2), np.float32)
    for indices, curve in zip(LIP_CONTOURS, neutral):
        start[list(indices)] = curve[np.linspace(0, len(curve) - 1, len(indices)).round().astype(int)]
    eye_distance = 0.4 * 0.27  # well below a 256-px render's, in fractions of its side

    def motion(aus: dict[int, float]) -> dict[int, np.ndarray]:
        return rendered_lip_motion(start, neutral, rendered_lips(identity, au_vector(aus), 256) / 256)

    (left, right), upper_mid, lower_mid = CORNERS, LIP_CONTOURS[0][5], LIP_CONTOURS[3][5]
    stretch = motion({20: 1.0})
    assert stretch[right][0] - stretch[left][0] > 0.5 * eye_distance  # AU20: the corners pulled far apart
    raised = motion({10: 1.0})
    assert raised[upper_mid][1] < -0.1 * eye_distance and abs(raised[right][0] - raised[left][0]) < 1e-6
    lifted = motion({17: 1.0})
    assert lifted[lower_mid][1] < -0.1 * eye_distance  # AU17 pushes the lower lip up
    assert all(np.allclose(v, 0) for v in motion({5: 1.0}).values())
    # a point in the red of the lower lip, a quarter of the way from its inner contour to its outer one, moves as
    # they do in that proportion (a dropped jaw moves the lower lip's two contours by different amounts)
    body = 15  # mediapipe's lower lip, between inner 14 and outer 17
    inner_mid = LIP_CONTOURS[2][5]
    start[body] = 0.75 * start[inner_mid] + 0.25 * start[lower_mid]
    dropped = motion({26: 1.0})
    np.testing.assert_allclose(dropped[body], 0.75 * dropped[inner_mid] + 0.25 * dropped[lower_mid], atol=1e-6)


def test_the_brows_carry_their_rendered_motion_to_the_skin_around_them():
    from lsgan.data.synthfacs import sample_identity

    identity = sample_identity(7)
    neutral = rendered_brows(identity, np.zeros(NUM_AUS, np.float32), 256) / 256  # [2, K, 2]
    posed = rendered_brows(identity, au_vector({4: 1.0}), 256) / 256
    start = np.full((478, 2), 0.5, np.float32)
    on_brow, far, between = 0, 1, 2
    start[on_brow] = neutral[0, 5]
    start[far] = (0.5, 0.95)  # the chin
    start[between] = (neutral[0, 0] + neutral[1, 0]) / 2  # the middle of the glabella
    weight, carried = carried_motion(start, list(neutral), list(posed))
    np.testing.assert_allclose(carried[on_brow], (posed - neutral)[0, 5], atol=1e-6)
    assert weight[on_brow] == pytest.approx(1.0) and weight[far] < 1e-6
    assert abs(carried[between, 0]) < 1e-6 < carried[between, 1]  # the knits cancel there; the brows pull it down
    assert (posed - neutral)[0, 0, 0] > 0 > (posed - neutral)[1, 0, 0]  # AU4 draws the inner ends together


def test_the_shipped_basis_knits_the_brows_and_stretches_the_lips(basis):
    eye_distance = 0.27
    inner_brows = (107, 336)  # image-left, image-right
    knit = basis.displacements[au_index(4), list(inner_brows), 0]
    assert knit[0] > 0.03 * eye_distance and knit[1] < -0.03 * eye_distance
    corners = basis.displacements[:, list(CORNERS), 0]  # [16, 2]
    assert corners[au_index(20), 1] - corners[au_index(20), 0] > 0.15 * eye_distance
    for au in (9, 10, 15):  # they raise or lower the lips; mediapipe had them narrow the mouth
        assert corners[au_index(au), 1] - corners[au_index(au), 0] > -0.01 * eye_distance


def test_the_shipped_basis_raises_the_inner_brows_of_sadness(basis):
    """FACS 1+4, as SynthFACS v4 renders it (the (1, 4) pair): the inner ends of the brows rise and draw together
    though the brow lowerer acts too; added as two singles, AU4 cancelled AU1's raise."""
    inner_brows = (107, 336)  # image-left, image-right
    sad = emotion_vector("sad")  # AU1 0.8 with AU4 0.6
    motion = basis.motion(np.zeros(NUM_AUS), sad)[list(inner_brows)] * SIZE  # [2, 2] crop pixels
    assert (motion[:, 1] < -0.5).all()  # up
    assert motion[0, 0] > 0 > motion[1, 0]  # together
    singles = basis.shape_of(au_vector({1: 0.8})) + basis.shape_of(au_vector({4: 0.6}))
    assert (motion[:, 1] < singles[list(inner_brows), 1] * SIZE - 0.5).all()


def test_the_chin_moves_between_the_rendered_lower_lip_and_jaw():
    """Below the lips the mesh moves as the rendered lower lip and jaw do, mixed by its place between the two:
    on the chin the jaw's motion, which only the jaw drop and the chin raiser make."""
    from lsgan.data.synthfacs import sample_identity

    identity = sample_identity(7)

    def curves(aus: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        return rendered_lips(identity, au_vector(aus), 256) / 256, rendered_jaw(identity, au_vector(aus), 256) / 256

    lips, jaw = curves({})
    lower_lip = lips[3]
    middle = len(lower_lip) // 2
    chin_x, lip_y = lower_lip[middle]
    chin_y = jaw[np.abs(jaw[:, 0] - chin_x).argmin(), 1]
    start = np.full((478, 2), 0.5, np.float32)
    on_chin, halfway, beside = CHIN, 200, 0
    start[on_chin] = (chin_x, chin_y - 1e-4)
    start[halfway] = (chin_x, (lip_y + chin_y) / 2)
    start[beside] = (lower_lip[0, 0] - 0.02, (lip_y + chin_y) / 2)  # outside the mouth corners: not the chin's
    for aus in ({9: 1.0}, {10: 1.0}, {12: 1.0}, {26: 1.0}, {17: 1.0}):
        posed_lips, posed_jaw = curves(aus)
        moved = rendered_chin_motion(start, [lips, posed_lips], [jaw, posed_jaw])
        assert beside not in moved and set(moved) >= {on_chin, halfway}
        jaw_motion = posed_jaw - jaw
        lip_motion = posed_lips[3, middle] - lower_lip[middle]
        np.testing.assert_allclose(moved[on_chin], jaw_motion[np.abs(jaw[:, 0] - chin_x).argmin()], atol=2e-3)
        np.testing.assert_allclose(moved[halfway], (moved[on_chin] + lip_motion) / 2, atol=2e-3)
        if 26 not in aus and 17 not in aus:
            assert np.abs(jaw_motion).max() < 1e-9  # the renderer's jaw stays where it is
    assert (curves({26: 1.0})[1] - jaw)[:, 1].max() > 0.03  # the jaw drop lowers the chin


def test_the_shipped_basis_moves_the_chin_only_with_the_jaw(basis):
    """mediapipe's chin moved for AUs that leave the rendered jaw where it is (0.014-0.022 eye distances for AU9,
    AU12, AU15, AU23, AU25) and fell 0.25 against the render's 0.36 for the jaw drop; the shipped basis moves it as
    the render does."""
    eye_distance = 0.27
    chin = basis.displacements[:, CHIN, 1] / eye_distance  # [16] eye distances per unit
    for au in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 20, 23, 25):
        assert abs(chin[au_index(au)]) < 0.005, au
    assert chin[au_index(26)] > 0.3 and chin[au_index(17)] < 0


def test_no_emotion_folds_the_field(basis, closed_mouth):
    """The backward field of every emotion at full intensity keeps its orientation (Jacobian determinant above
    zero, up to interpolation noise at the lip corners): with the lip contours from the renderer but the points in
    the red of the lips as mediapipe moved them, a dropped jaw pushed the inner lips past their neighbours and the
    warp drew the lower lip twice."""
    from lsgan.facs import EMOTIONS

    size = 256
    with FaceAligner(size) as aligner:
        face = aligner.align(closed_mouth)
    for gain in (1.0, UPPER_FACE_GAIN, MAX_UPPER_FACE_GAIN):  # the renderer's motion, a photo's, the most allowed
        moving = photo_basis(basis, gain)
        for emotion in EMOTIONS:
            for table in (emotion_vector, edit_vector):  # what SynthFACS poses and what an edit asks for
                flow = mesh_motion(face.crop, face.landmarks.points, np.zeros(NUM_AUS, np.float32),
                                   table(emotion, 1.0), moving).flow * (size / 2)  # [2, F, F] crop pixels
                (dxx, dxy), (dyx, dyy) = (np.gradient(f * FIELD_SCALE, axis=(1, 0)) for f in flow)  # per crop pixel
                determinant = (1 + dxx) * (1 + dyy) - dxy * dyx
                assert determinant.min() > -0.05, (gain, emotion, table.__name__)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=NUM_AUS, max_size=NUM_AUS),
       st.lists(st.floats(0.5, 2), min_size=NUM_AUS, max_size=NUM_AUS))
def test_a_gain_makes_an_au_act_as_if_that_much_stronger(aus, gains):
    basis = MeshBasis.load()
    scaled = basis.with_gains(dict(zip(AU_IDS, gains)))
    aus = np.asarray(aus, np.float32)
    np.testing.assert_allclose(scaled.shape_of(aus), basis.shape_of(aus * np.asarray(gains, np.float32)),
                               rtol=1e-4, atol=1e-6)


def test_a_photo_moves_its_brows_and_lids_further_than_the_renderer_and_its_mouth_as_far(basis):
    moving = photo_basis(basis)
    assert UPPER_FACE_GAIN > 1
    for au in (1, 2, 4, 5, 6, 7, 9):
        expected = UPPER_FACE_GAIN * basis.displacements[au_index(au)]
        np.testing.assert_allclose(moving.displacements[au_index(au)], expected, rtol=1e-6)
    for au in (10, 12, 14, 15, 17, 20, 23, 25, 26):
        np.testing.assert_array_equal(moving.displacements[au_index(au)], basis.displacements[au_index(au)])
    np.testing.assert_array_equal(photo_basis(basis, 1.0).displacements, basis.displacements)


@pytest.mark.parametrize("gain", [0.0, -1.0, 1.7])
def test_an_upper_face_gain_out_of_range_is_refused(gain):
    with pytest.raises(EditorConfigError, match=r"upper_face_gain must be in \(0, 1.6\]"):
        EditorConfig(upper_face_gain=gain)


def test_a_basis_round_trips_and_a_damaged_one_is_refused(basis, tmp_path):
    path = basis.save(tmp_path / "basis.safetensors")
    again = MeshBasis.load(path)
    np.testing.assert_array_equal(again.displacements, basis.displacements)
    np.testing.assert_array_equal(again.pair_displacements, basis.pair_displacements)
    np.testing.assert_array_equal(again.mirror, basis.mirror)
    assert again.settings == basis.settings
    shifted = np.roll(basis.mirror, 1)  # every point some other point's image, but not in pairs
    for mirror in (np.zeros_like(basis.mirror), shifted, basis.mirror[:-1], basis.mirror + len(basis.mirror)):
        replace(basis, mirror=mirror).save(tmp_path / "unpaired.safetensors")
        with pytest.raises(CheckpointError, match="not a pairing"):
            MeshBasis.load(tmp_path / "unpaired.safetensors")
    with safe_open(str(path), framework="np") as handle:  # a mirror of floats, written by something other than save
        tensors, metadata = {key: handle.get_tensor(key) for key in handle.keys()}, handle.metadata()
    save_file({**tensors, "mirror": tensors["mirror"].astype(np.float32)}, str(tmp_path / "floats.safetensors"),
              metadata)
    with pytest.raises(CheckpointError, match="not a pairing"):
        MeshBasis.load(tmp_path / "floats.safetensors")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable mesh basis"):
        MeshBasis.load(path)


def test_building_the_basis_again_on_one_face_agrees_with_the_shipped_one(basis):
    one = build_mesh_basis(MeshBasisSettings(identities=1, levels=(1.0,), first_identity=3))
    for au in (2, 12, 26):
        k = au_index(au)
        a, b = one.displacements[k].ravel(), basis.displacements[k].ravel()
        assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.7


def known_mirror_pairs() -> list[tuple[int, int]]:
    """Mesh points that mirror each other by mediapipe's own topology: lids, eye corners, irises, lip contours."""
    pairs = [pair for lids in (UPPER_LIDS, LOWER_LIDS) for pair in zip(*lids)]
    pairs += list(zip(*EYE_CORNERS))
    pairs += [(IRISES[0][0], IRISES[1][0])]
    pairs += [(a, b) for contour in LIP_CONTOURS for a, b in zip(contour, contour[::-1])]
    return pairs


def test_the_basis_pairs_mesh_points_as_the_mesh_mirrors_them(basis):
    mirror = basis.mirror
    assert mirror is not None and (mirror[mirror] == np.arange(len(mirror))).all()  # a pairing: each its mirror's
    for a, b in known_mirror_pairs():
        assert mirror[a] == b and mirror[b] == a, (a, b)
    assert (mirror[IRIS_START:] >= IRIS_START).all()  # irises with irises
    assert mirror[CHIN] == CHIN and mirror[UPPER_LIP] == UPPER_LIP  # the midline is its own mirror


def test_the_basis_moves_both_sides_of_the_face_alike(basis):
    np.testing.assert_allclose(symmetric(basis.displacements, basis.mirror), basis.displacements, atol=1e-6)
    np.testing.assert_allclose(symmetric(basis.pair_displacements, basis.mirror), basis.pair_displacements, atol=1e-6)
    for au in (1, 12, 20):  # the mouth corners and the brows move as mirror images; midline points only up/down
        moved = basis.displacements[au_index(au)]
        for left, right in (CORNERS, BROW_TOPS):
            np.testing.assert_allclose(moved[left] * [-1, 1], moved[right], atol=1e-6)
        assert abs(moved[CHIN, 0]) < 1e-6 and abs(moved[UPPER_LIP, 0]) < 1e-6
    lopsided = np.zeros_like(basis.displacements[:1])
    lopsided[0, CORNERS[0]] = (-1.0, 0.0)  # only one corner moves: the symmetric motion moves both by half
    both = symmetric(lopsided, basis.mirror)[0]
    np.testing.assert_allclose(both[list(CORNERS)], [[-0.5, 0.0], [0.5, 0.0]])


def test_a_one_sided_change_moves_that_side_and_the_other_side_goes_its_own_way(basis, face):
    """Contempt's 12 + 14 on the picture's left, the right side at rest: the left corner moves as the whole-face
    edit moves it, the right corner as the other side's target moves it, the upper lip's middle half way."""
    points, rest = face.landmarks.points, np.zeros(NUM_AUS, np.float32)
    contempt, other = edit_vector("contemptuous"), au_vector({4: 0.5})  # the other side: only the brows lower
    sided = mesh_motion(face.crop, points, rest, contempt, basis, side="left", other_aus=other).target_points
    whole = mesh_motion(face.crop, points, rest, contempt, basis).target_points
    others = mesh_motion(face.crop, points, rest, other, basis).target_points
    left, right = CORNERS
    np.testing.assert_allclose(sided[left], whole[left], atol=1e-3)
    np.testing.assert_allclose(sided[right], others[right], atol=1e-3)
    assert np.linalg.norm(whole[right] - others[right]) > 1.0  # crop pixels: the two targets differ there
    share = side_weights(points[UPPER_LIP, 0], SIZE, "left")
    assert 0.4 < share < 0.6
    np.testing.assert_allclose(sided[UPPER_LIP], share * whole[UPPER_LIP] + (1 - share) * others[UPPER_LIP], atol=1e-3)
    for brow in BROW_TOPS:  # far from the midline: each side's own target
        np.testing.assert_allclose(sided[brow], (whole if brow == BROW_TOPS[0] else others)[brow], atol=1e-3)
    mirrored = mesh_motion(face.crop, points, rest, contempt, basis, side="right", other_aus=rest).target_points
    assert mirrored[right][1] < points[right][1] - 0.5 and abs(mirrored[left][1] - points[left][1]) < 0.05


def test_side_weights_fade_across_the_midline():
    x = np.linspace(0, SIZE, 65)
    left, right = side_weights(x, SIZE, "left"), side_weights(x, SIZE, "right")
    np.testing.assert_allclose(left + right, 1.0, atol=1e-6)
    assert left[32] == pytest.approx(0.5) and np.all(np.diff(left) <= 0)
    reach = SIDE_BLEND * FaceTemplate().eye_distance * SIZE
    assert np.all(left[x <= SIZE / 2 - reach] == 1.0) and np.all(left[x >= SIZE / 2 + reach] == 0.0)


def test_no_au_change_means_no_motion_and_no_paint(basis, face):
    motion = mesh_motion(face.crop, face.landmarks.points, au_vector({12: 0.4}), au_vector({12: 0.4}), basis)
    assert motion.flow.shape == (2, FIELD_SCALE * SIZE, FIELD_SCALE * SIZE) and not motion.flow.any()
    assert motion.paint.shape == (4, 4 * SIZE, 4 * SIZE) and not motion.paint[3].any()
    np.testing.assert_allclose(motion.target_points, face.landmarks.points, atol=1e-4)


def test_a_dropped_jaw_samples_the_source_chin_and_paints_the_opened_mouth(basis, face):
    points = face.landmarks.points
    # a surprise's drop: at 1 the chin ends a pixel or two from the 64-px crop's border, where the field is anchored
    motion = mesh_motion(face.crop, points, np.zeros(NUM_AUS), au_vector({25: 0.8, 26: 0.8}), basis)
    moved_chin = motion.target_points[CHIN]
    back = at_point(motion.flow, moved_chin) * SIZE / 2  # crop pixels
    assert moved_chin[1] - points[CHIN, 1] > 3  # pixels
    np.testing.assert_allclose(moved_chin + back, points[CHIN], atol=1.0)  # the field is smoothed a little
    mouth = motion.target_points[[UPPER_LIP, LOWER_LIP]].mean(axis=0)
    px, py = np.round((mouth + 0.5) * 4 - 0.5).astype(int)
    assert motion.paint[3, py, px] > 0.9  # the new opening is covered
    eye = points[list(MEDIAPIPE478.left_eye)].mean(axis=0)
    ex, ey = np.round((eye + 0.5) * 4 - 0.5).astype(int)
    assert motion.paint[3, ey, ex] == 0 and abs(at_point(motion.flow, eye)[1]) < 0.01


def test_a_raised_lid_shows_the_eyeball_above_an_iris_that_keeps_its_size(basis, face):
    """AU5 lifts the lids off the eyeball: the iris and what the source showed of the eye stay where they were (a
    warp had stretched the iris with the lid), and what the lid uncovers is painted in the eye's own colours; lids
    that narrow (AU7) cover the eye and paint nothing."""
    points = face.landmarks.points
    wide = mesh_motion(face.crop, points, np.zeros(NUM_AUS), au_vector({5: 1.0}), basis)
    for eye, (centre, _) in enumerate(IRISES):
        upper = eye_contour(points, eye)[1:8]
        middle = upper[np.argmin(upper[:, 1])]  # the upper lid's highest point
        for share in (0.0, 0.25, 0.5):  # from the iris's centre halfway to the lid: still (a warp moved it 0.1 px)
            still = at_point(wide.flow, points[centre] * (1 - share) + middle * share) * SIZE / 2  # crop pixels
            assert np.abs(still).max() < 0.03
        lifted = eye_contour(wide.target_points, eye)[1:8]
        assert middle[1] - lifted[:, 1].min() > 0.8  # crop pixels
        uncovered = middle - np.array([0.0, 0.5])  # just above the source's lid, under the lifted one
        assert at_point(wide.paint, uncovered)[3] > 0.5
        inside = points[centre] + np.array([0.0, 0.5])  # what the source shows of the eye is not painted
        assert at_point(wide.paint, inside)[3] < 0.05
    narrow = mesh_motion(face.crop, points, np.zeros(NUM_AUS), au_vector({7: 1.0}), basis)
    assert narrow.paint[3].max() == 0.0


def test_a_raised_lid_takes_its_shade_off_the_eyeball_below_it(basis, face):
    """The band of eyeball just under a lid, in its shade, would stay behind as a dark line across the opened eye (the
    field near a lid delivers part of its motion): where the lid rises it is painted over too, down to
    ``LID_SHADE_DEPTH`` below the source's lid and no deeper, in eyes that show their white (``WHITE_EYE``)."""
    points = face.landmarks.points
    band = LID_SHADE_DEPTH * FaceTemplate().eye_distance * SIZE  # crop pixels (0.35)
    for amount in (1.0, 0.3):
        wide = mesh_motion(face.crop, points, np.zeros(NUM_AUS), au_vector({5: amount}), basis)
        for eye in range(2):
            upper = eye_contour(points, eye)[1:8]
            middle = upper[np.argmin(upper[:, 1])]  # the source's upper lid, highest point
            assert at_point(wide.paint, middle + np.array([0.0, 0.3]))[3] > 0.5  # measured 0.65-0.7; 0.04-0.08 before
            assert at_point(wide.paint, middle + np.array([0.0, band + 0.45]))[3] < 0.1  # below it: the photo's
    # an eye that shows no white (its "sclera" as dark as lids and skin: small, shaded, behind dark glasses) keeps
    # the band as it is: painted in that colour it made a ring round the eye
    targets = points + motion_of(basis, 5)
    side = SIZE * PAINT_SCALE
    detail = cv2.resize(face.crop, (side, side), interpolation=cv2.INTER_CUBIC)
    white = eye_paint(face.crop, points, targets, PAINT_SCALE, detail)
    for eye in range(2):
        detail[polygon_coverage(eye_contour(points, eye), side, PAINT_SCALE) > 0] = (60, 40, 30)
    no_white = eye_paint(face.crop, points, targets, PAINT_SCALE, detail)
    for eye in range(2):
        upper = eye_contour(points, eye)[1:8]
        in_shade = upper[np.argmin(upper[:, 1])] + np.array([0.0, 0.3])
        assert at_point(white, in_shade)[3] > 0.5 and at_point(no_white, in_shade)[3] < 0.2


def test_a_painted_iris_top_has_the_iris_s_rings(basis, face):
    """The top of an iris that a raised lid uncovers is painted ring by ring in what the eye shows of each ring (its
    dark rim where the rim is): one colour for it all read as a cap on the iris below."""
    points = face.landmarks.points
    targets = points + motion_of(basis, 5)
    side = SIZE * PAINT_SCALE
    detail = cv2.resize(face.crop, (side, side), interpolation=cv2.INTER_CUBIC)
    rows, cols = np.mgrid[0:side, 0:side]
    rims = []
    for eye, (centre, ring) in enumerate(IRISES):
        middle = (points[centre] + 0.5) * PAINT_SCALE - 0.5
        radius = np.linalg.norm(points[list(ring)] - points[centre], axis=1).mean() * PAINT_SCALE
        out = np.hypot(cols - middle[0], rows - middle[1]) / radius
        detail[out < 1.0] = (40, 30, 20)  # a dark rim ...
        detail[out < 0.85] = (150, 110, 60)  # ... round a light brown iris
        rims.append((out > 0.88) & (out < 0.98) & (rows < middle[1]))  # its top's rim
    paint = eye_paint(face.crop, points, targets, PAINT_SCALE, detail)
    rgb = (paint[:3] + 1) * 127.5
    for rim in rims:
        painted = rim & (paint[3] > 0.9)
        assert painted.sum() >= 3  # 4 and 7 at this paint's scale
        assert rgb[0, painted].mean() < 90  # near the rim's red (40; measured 57, 67), where one colour was 143


def test_an_iris_is_painted_in_its_colour_as_light_as_each_ring_but_not_in_a_highlight_s_colour():
    """``_iris_by_radius``: each ring of an iris as light as the eye shows it, in the iris's median colour: a red eye
    or a catchlight lends a ring neither its colour nor its light."""
    scale, side = 4, SIZE * 4
    rows, cols = np.mgrid[0:side, 0:side]
    middle = (np.array([32.0, 20.0]) + 0.5) * scale - 0.5  # an iris of radius 4 crop pixels round (32, 20)
    out = np.hypot(cols - middle[0], rows - middle[1]) / (4.0 * scale)
    image = np.full((side, side, 3), 200.0, np.float32)
    image[out < 1.0] = (40, 30, 20)  # a dark rim round a light brown iris
    image[out < 0.85] = (150, 110, 60)
    red_eye = (out < 0.6) & (cols > middle[0])  # a red highlight over half of the middle rings
    image[red_eye] = (240, 60, 60)
    iris = out < 1.0
    iris_rgb = np.median(image[iris], axis=0)
    painted = _iris_by_radius(image, iris, out, iris_rgb)
    left_middle = (out > 0.35) & (out < 0.45) & (cols < middle[0])
    colour = painted[:, left_middle].mean(axis=1)
    np.testing.assert_allclose(colour / colour.sum(), iris_rgb / iris_rgb.sum(), atol=1e-3)  # the iris's hue
    assert colour @ LUMA < 1.3 * (iris_rgb @ LUMA) + 1e-3  # no lighter than the light's bound
    rim = painted[:, (out > 0.9) & (out < 0.97)].mean(axis=1)
    assert rim @ LUMA < 0.5 * (iris_rgb @ LUMA)  # its dark rim


def test_eye_colours_are_the_eyes_own_or_plain_ones_where_too_little_shows():
    image = np.zeros((20, 20, 3), np.float32)
    image[:, :10] = (200, 190, 180)  # sclera, with a darker share of lash-mixed pixels
    image[:4, :10] = (90, 80, 70)
    image[:, 10:] = (40, 60, 90)  # a blue-grey iris
    opening = np.ones((20, 20), bool)
    iris = np.zeros((20, 20), bool)
    iris[:, 10:] = True
    sclera_rgb, iris_rgb = _eye_colours(image, opening, iris)
    np.testing.assert_array_equal(sclera_rgb, (200, 190, 180))
    np.testing.assert_array_equal(iris_rgb, (40, 60, 90))
    sclera_rgb, _ = _eye_colours(image, np.zeros((20, 20), bool), iris)
    np.testing.assert_array_equal(sclera_rgb, SCLERA_RGB)
    dim, _ = _eye_colours(image, np.zeros((20, 20), bool), iris, light=0.8)  # the defaults in a darker face's light
    np.testing.assert_allclose(dim, SCLERA_RGB * 0.8)


def test_the_eye_paint_takes_its_colours_from_the_photo_at_the_paints_resolution(basis, face):
    """At a 64-pixel crop's resolution lashes and lids blur an eye's sclera grey; the paint of what a raised lid
    uncovers reads the eye's colours in the photo seen at its own resolution (``detail_view``) when it has it."""
    points = face.landmarks.points
    targets = points + motion_of(basis, 5)
    side = SIZE * PAINT_SCALE
    grey = np.full((SIZE, SIZE, 3), 90, np.uint8)  # the crop: every eye pixel a dull grey
    detail = np.full((side, side, 3), 90, np.uint8)
    detail[:, :, 0] = 240  # the photo: a bright, reddish white where the crop is grey
    from_crop = eye_paint(grey, points, targets, PAINT_SCALE)
    from_detail = eye_paint(grey, points, targets, PAINT_SCALE, detail)
    painted = from_crop[3] > 0.9
    assert painted.any() and np.array_equal(painted, from_detail[3] > 0.9)  # the same place, other colours
    greys = (from_crop[:3, painted] + 1) * 127.5  # [3, N]
    assert greys.max() < 91 and np.ptp(greys, axis=0).max() < 1  # the crop's grey (shaded under the lid)
    reds = (from_detail[:3, painted] + 1) * 127.5
    assert reds[0].mean() > 2 * greys[0].mean() and np.abs(reds[1:] - greys[1:]).max() < 1  # the detail's colour
    with pytest.raises(ValueError, match="detail is"):
        eye_paint(grey, points, targets, PAINT_SCALE, detail[:-1])


def test_the_detail_view_is_the_crop_at_the_paints_resolution(face, closed_mouth):
    """``detail_view`` samples the photo where the crop's pixels lie, ``scale`` times as finely: averaged back down
    it is the crop itself (up to the warps' resampling)."""
    view = detail_view(closed_mouth, face.matrix, SIZE)
    assert view.shape == (SIZE * PAINT_SCALE, SIZE * PAINT_SCALE, 3) and view.dtype == np.uint8
    down = view.reshape(SIZE, PAINT_SCALE, SIZE, PAINT_SCALE, 3).mean(axis=(1, 3))
    assert np.abs(down - face.crop.astype(np.float32)).mean() < 3.0


def test_bared_teeth_reach_the_lips_of_a_narrow_smile_and_the_cavity_stays_inside_them():
    """A smile's lips parted two crop pixels: its upper teeth, bared by AU12 (the lip drawn up against them), fill
    the gap from lip to lip; the dark mouth and the teeth of a jaw dropped alone stay half a crop pixel inside the
    inner lips, which show around them, and a sliver between touching lips is not painted."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    flow = np.zeros((2, size, size), np.float32)
    closed, column = mouth_mesh(9, 0.0), round((32 + 0.5) * scale - 0.5)
    smile = mouth_paint(crop, closed, mouth_mesh(9, 1.0), flow, scale, teeth_exposure(au_vector({12: 1.0, 25: 0.5})))
    gap_rows = round(2.0 * scale)  # the opening's height in paint rows at its middle
    covered = smile[3, :, column] > 0.5
    assert covered.sum() >= gap_rows - 2  # lip to lip (the eroded opening covered a crop pixel less)
    assert (smile[:3, covered, column].mean(axis=0) > 0.0).all()  # and all of it teeth
    wide = mouth_paint(crop, closed, mouth_mesh(9, 6.0), flow, scale, teeth_exposure(au_vector({26: 1.0})))
    dark = (wide[3, :, column] > 0.5) & (wide[:3, :, column].mean(axis=0) < -0.5)
    last_row = (44 + 6.0 + 0.5) * scale - 0.5  # the lower inner lip's contour, paint rows
    assert 1 <= last_row - np.flatnonzero(dark)[-1] <= scale  # the cavity ends inside the lip
    first_row = (44 - 6.0 + 0.5) * scale - 0.5  # the upper inner lip's contour
    assert 1 <= np.flatnonzero(wide[3, :, column] > 0.5)[0] - first_row <= scale  # unbared teeth: inside the lip too
    assert mouth_paint(crop, closed, mouth_mesh(9, 0.3), flow, scale, 1.0)[3].max() < 0.5  # touching: a sliver


def lens_mesh(half_width: float, half_height: float) -> np.ndarray:
    """``[478, 2]`` as ``mouth_mesh``, its inner lips a lens: two arcs that meet at sharp corners, as the lips of a
    stretched mouth do (the corners at x = 32 ± ``half_width``)."""
    inner = list(MEDIAPIPE478.inner_lips)
    angles = np.linspace(0, 2 * np.pi, len(inner), endpoint=False)
    points = np.zeros((MESH_POINTS, 2), np.float32)
    points[inner] = np.stack([32 + half_width * np.cos(angles),
                              44 + half_height * np.sin(angles) * np.abs(np.sin(angles))], axis=1)
    return points


def test_taut_lips_open_into_their_corners_and_relaxed_ones_close_there_first():
    """Lips stretched taut (fear's AU20, a smile's AU12) part to their corners: the painted opening tapers to within
    a crop pixel of the inner-lip contour's corners. Relaxed lips parted by the jaw alone close first at the corners
    (the opening stops short of them). Touching lips enclose no opening either way, and a taut source's own opening
    is not painted again by an edit that keeps it."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    flow = np.zeros((2, size, size), np.float32)
    closed, stretched_open = lens_mesh(12, 0.0), lens_mesh(12, 3.0)
    assert lips_taut(au_vector({20: 1.0, 25: 1.0})) == lips_taut(au_vector({12: 1.0})) == 1.0
    assert lips_taut(au_vector({25: 1.0, 26: 1.0})) == 0.0

    def ends(target_aus: np.ndarray, target: np.ndarray = stretched_open) -> tuple[float, float]:
        """The painted opening's first and last column, in crop pixels."""
        paint = mouth_paint(crop, closed, target, flow, scale, taut=(0.0, lips_taut(target_aus)))
        columns = np.flatnonzero((paint[3] > 0.5).any(axis=0))
        return (columns[0] + 0.5) / scale - 0.5, (columns[-1] + 0.5) / scale - 0.5

    taut, relaxed = ends(au_vector({20: 1.0, 25: 1.0})), ends(au_vector({25: 1.0, 26: 1.0}))
    assert taut[0] - 20 < 0.5 and 44 - taut[1] < 0.5  # the corners are at 20 and 44
    assert relaxed[0] - 20 > 1.0 and 44 - relaxed[1] > 1.0
    half_taut = ends(au_vector({20: 0.5, 25: 1.0}))
    assert relaxed[1] < half_taut[1] < taut[1]  # half as taut: half as far into the corners
    touching = mouth_paint(crop, closed, lens_mesh(12, 0.3), flow, scale, taut=(0.0, 1.0))
    assert touching[3].max() < 0.5
    kept = mouth_paint(crop, stretched_open, stretched_open, flow, scale, taut=(1.0, 1.0))
    assert not kept[3].any()


def test_an_opening_grown_a_little_keeps_the_source_s_inside_with_no_painted_rim_round_it():
    """A smile that parts a mouth already open a little further (``teeth_kept``): the warped source's own inside
    shows, and the sliver between it and the new inner-lip contour is not painted as a dark outline (nor as a white
    one of teeth); an opening grown by more than that is painted."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    flow = np.zeros((2, size, size), np.float32)
    source = mouth_mesh(8, 3.0)
    for exposure in (0.0, teeth_exposure(au_vector({12: 1.0}))):
        grown = mouth_paint(crop, source, mouth_mesh(8.4, 3.4), flow, scale, exposure, taut=(1.0, 1.0))
        assert grown[3].max() < 0.5
        opened = mouth_paint(crop, source, mouth_mesh(8, 6.0), flow, scale, exposure, taut=(1.0, 1.0))
        rows = np.flatnonzero(opened[3, :, round((32 + 0.5) * scale - 0.5)] > 0.5)
        assert len(rows) >= 2 * 2.5 * scale  # the new 2.5 crop pixels above and below the old opening


def test_bared_teeth_are_in_the_lips_shadow_at_the_lips_not_a_bright_rim():
    """Bared upper teeth drawn up to the inner lip are shaded there as next to it (the upper lip's shadow): the
    teeth are brightest some way below the lip, not in a rim along it, and grow lighter all the way there (no dark
    seam where the painted opening's own edge runs)."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    paint = mouth_paint(crop, mouth_mesh(8, 0.0), mouth_mesh(8, 8.0), np.zeros((2, size, size), np.float32), scale,
                        teeth_exposure(au_vector({10: 1.0})))
    middle = round((32 + 0.5) * scale - 0.5)
    painted = np.flatnonzero(paint[3, :, middle] > 0.5)
    light = paint[:3, painted, middle].mean(axis=0)
    assert light.argmax() >= scale // 2  # the brightest teeth are half a crop pixel or more below the lip
    assert light[0] < light.max() - 0.1
    assert (np.diff(light[:light.argmax() + 1]) > -0.01).all()


def test_painted_teeth_match_the_faces_own_or_take_half_their_colour_from_the_eyes(face):
    """Teeth and sclera are both near white in the same light and cast: the painted teeth's colour is half the
    sclera's (brightened ``SCLERA_TO_TEETH`` times), half ``TEETH_RGB`` in the face's light; eyes behind dark glasses,
    or no eyes at all, leave the fixed colour; a mouth that shows its own teeth gives theirs."""
    points = face.landmarks.points
    side = SIZE * PAINT_SCALE
    skin = (180, 140, 120)
    view = np.empty((side, side, 3), np.uint8)
    view[:] = skin
    eyes = np.zeros((side, side), bool)
    for eye in range(2):
        eyes |= polygon_coverage(eye_contour(points, eye), side, PAINT_SCALE) > 0.5
    light, luma = 0.9, float(np.array(skin, np.float32) @ LUMA)
    fixed = TEETH_RGB * light
    view[eyes] = (150, 160, 190)  # a bluish cast
    teeth = teeth_colour(view, points, PAINT_SCALE, light, luma)
    np.testing.assert_allclose(teeth, 0.5 * fixed + 0.5 * np.clip(SCLERA_TO_TEETH * np.array([150, 160, 190]), 0, 255),
                               atol=1e-3)
    assert teeth[2] > fixed[2] and teeth[0] < fixed[0]  # bluer than the fixed ivory
    view[eyes] = (30, 30, 30)  # dark glasses
    np.testing.assert_allclose(teeth_colour(view, points, PAINT_SCALE, light, luma), fixed, atol=1e-3)
    no_eyes = mouth_mesh(9, 3.0)  # only the inner lips placed
    np.testing.assert_allclose(teeth_colour(view, no_eyes, PAINT_SCALE, light, luma), fixed, atol=1e-3)
    opening = np.zeros((side, side), bool)
    opening[170:180, 100:150] = True
    view[eyes] = (150, 160, 190)
    view[opening] = (40, 20, 20)  # a dark mouth: no teeth of its own to match
    np.testing.assert_allclose(teeth_colour(view, points, PAINT_SCALE, light, luma, opening),
                               teeth_colour(view, points, PAINT_SCALE, light, luma), atol=1e-3)
    view[opening] = (210, 190, 150)  # the face's own teeth, yellower than the paint's: painted teeth match them
    np.testing.assert_allclose(teeth_colour(view, points, PAINT_SCALE, light, luma, opening), [210, 190, 150],
                               atol=1e-3)


def test_paint_over_paint_keeps_each_where_the_other_is_clear():
    top, below = np.zeros((4, 2, 2), np.float32), np.zeros((4, 2, 2), np.float32)
    top[:3, 0, 0], top[3, 0, 0] = 0.5, 1.0
    below[:3, 1, 1], below[3, 1, 1] = -0.5, 0.8
    both = over(top, below)
    np.testing.assert_allclose(both[:, 0, 0], [0.5, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(both[:, 1, 1], [-0.5, -0.5, -0.5, 0.8], atol=1e-6)
    assert both[3, 0, 1] == 0.0


def test_a_field_finer_than_the_crop_moves_the_photo_by_the_crops_own_units():
    """``apply_field`` reads a finer field ([2, F, F] over an S-pixel crop, as the mesh motion's) in grid units of
    the crop, S being the colour map's side: the same shift as the crop-resolution field."""
    photo = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    matrix = np.array([[0.5, 0, 0], [0, 0.5, 0]])  # photo -> a 24-pixel crop
    colour, mask = np.zeros((3, 24, 24), np.float32), np.ones((48, 48))
    flow = np.zeros((2, 24, 24), np.float32)
    flow[0] = 2 / 12  # two crop pixels to the right: four photo pixels
    coarse = apply_field(photo, matrix, flow, colour, mask)
    fine = apply_field(photo, matrix, resample_field(flow, 96), colour, mask)
    np.testing.assert_array_equal(fine, coarse)
    # to the bit where the shift is four times nearer than the border (nearer it, ``fields.within_photo``)
    np.testing.assert_array_equal(coarse[:, :32], photo[:, 4:36])


def test_the_teeth_edge_is_level_and_the_lip_hides_the_teeth_where_a_round_opening_comes_down_below_it():
    """Bared upper teeth in a round opening (an angry or surprised O) end at a level edge, not at a crescent parallel
    to the upper lip; towards the corners, where the lip comes down below that edge, no teeth show."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    closed, round_opening = mouth_mesh(8, 0.0), mouth_mesh(8, 8.0)
    paint = mouth_paint(crop, closed, round_opening, np.zeros((2, size, size), np.float32), scale,
                        teeth_exposure(au_vector({10: 1.0})))
    bright = (paint[:3].mean(axis=0) > 0.0) & (paint[3] > 0.5)
    middle = round((32 + 0.5) * scale - 0.5)
    toothed = np.flatnonzero(bright.any(axis=0))
    edges = {int(c): int(np.flatnonzero(bright[:, c])[-1]) for c in toothed}
    assert middle in edges and all(edge <= edges[middle] + 1 for edge in edges.values())  # none lower than the middle
    corner = round((32 + 6.5 + 0.5) * scale - 0.5)  # 6.5 crop pixels out: the opening's top is 3.3 pixels lower
    assert paint[3, :, corner].max() > 0.9 and not bright[:, corner].any()  # open there, but dark: the lip hides
    fear = mouth_paint(crop, closed, round_opening, np.zeros((2, size, size), np.float32), scale,
                       teeth_exposure(au_vector({20: 1.0, 25: 1.0})), lower_teeth_exposure(au_vector({20: 1.0})))
    lower = ((fear[:3].mean(axis=0) > 0.0) & (fear[3] > 0.5))[44 * scale:]  # the opening's lower half
    tops = {int(c): int(np.flatnonzero(lower[:, c])[0]) for c in np.flatnonzero(lower.any(axis=0))}
    assert middle in tops and all(top >= tops[middle] - 1 for top in tops.values())  # the lower teeth's edge is level
    assert not lower[:, corner].any()


def test_teeth_show_as_facs_says_and_a_stretched_opening_is_painted_over():
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    points, targets = mouth_mesh(8, 1.5), mouth_mesh(8, 8.0)  # a mouth ajar opened wide: 5x its area
    flow = np.zeros((2, size, size), np.float32)  # the test stretches nothing: the paint decides alone
    assert teeth_exposure(au_vector({25: 1.0, 26: 1.0})) < teeth_exposure(au_vector({12: 1.0}))

    incisor = round((32 + 0.5 * TOOTH_EDGES[1] * FaceTemplate().eye_distance * size + 0.5) * scale - 0.5)

    def teeth_rows(exposure: float, column: int = incisor, source: np.ndarray = points,
                   target: np.ndarray = targets) -> int:
        """Bright rows of the paint in ``column`` (by default the middle of a central incisor)."""
        paint = mouth_paint(crop, source, target, flow, scale, exposure)
        bright = (paint[:3].mean(axis=0) > 0.0) & (paint[3] > 0.5)  # the cavity is darker than -0.5
        return int(bright[:, column].sum())

    assert 0 < teeth_rows(teeth_exposure(au_vector({26: 1.0}))) < teeth_rows(teeth_exposure(au_vector({10: 1.0})))
    smile = mouth_paint(crop, points, targets, flow, scale, teeth_exposure(au_vector({12: 1.0})))
    last = np.flatnonzero(smile[:3, :, incisor].mean(axis=0) > 0.0)[-1]  # the incisor's lowest bright row
    midline = int((32 + 0.5) * scale - 0.5)  # the paint column at the lips' middle (crop x 32)
    first = int(np.argmax(smile[3, :, incisor] > 0.9))

    def gap_depth(rows: slice) -> float:  # how much darker the gap between the central incisors is than an incisor
        return float(smile[:3, rows, incisor].mean() - smile[:3, rows, midline].mean())

    at_edge, at_gum = gap_depth(slice(last - 2, last)), gap_depth(slice(first + 1, first + 3))
    assert at_edge > 0.1 and at_edge > at_gum + 0.02  # the gap lets the cavity through, most at the teeth's edge
    near_lip, halfway = (smile[:3, first + (last - first) * share // 8, incisor].mean() for share in (2, 5))
    assert near_lip < halfway - 0.05  # the upper lip shades the teeth under it
    closed, narrow = mouth_mesh(8, 0.0), mouth_mesh(8, 0.9)  # lips parted 1.8 crop pixels: a smile's gap is teeth
    parted = [teeth_rows(teeth_exposure(au_vector(aus)), source=closed, target=narrow)
              for aus in ({25: 0.5}, {12: 1.0, 25: 0.5})]
    assert parted[0] == 0 < parted[1]
    ajar = mouth_paint(crop, points, points, flow, scale)  # nothing opens: nothing painted
    assert not ajar[3].any()
    # the warp stretches the ajar mouth over the whole new opening (flow pulls every row from the lip line)
    stretch = np.zeros((2, size, size), np.float32)
    ys = np.arange(size, dtype=np.float32)[:, None]
    stretch[1] = np.where(np.abs(ys - 44) < 9, (44 + (ys - 44) * 1.5 / 8.0 - ys) / (size / 2), 0.0)
    painted = mouth_paint(crop, points, targets, stretch, scale)
    assert painted[3, 44 * scale, 32 * scale] > 0.9  # the stretched source opening is painted over too
    column = painted[:3, :, 32 * scale].mean(axis=0)[painted[3, :, 32 * scale] > 0.9]  # top to bottom, inside
    lower_half = column[len(column) // 2:]
    assert lower_half[-3:].mean() > lower_half[:3].mean()  # the cavity lightens towards the lower lip (no flat hole)


def test_a_dark_photo_s_opened_mouth_is_as_dark_as_its_light():
    """The same face in full light and in under a third of it (the face's brightest 200 and 60): the mouth's inside
    darker in proportion below ``LIT_BRIGHTEST`` (the fixed dark red was as light as such a face's lips: a patch),
    its teeth no brighter than ``TEETH_OVER_BRIGHTEST`` times the face's brightest (at the light's floor they glowed
    at three times it)."""
    size, scale = 64, 4
    points, targets = mouth_mesh(8, 1.5), mouth_mesh(8, 8.0)
    flow = np.zeros((2, size, size), np.float32)
    cavity, teeth = {}, {}
    for most in (200, 60):
        crop = np.full((size, size, 3), most, np.uint8)
        paint = mouth_paint(crop, points, targets, flow, scale, teeth_exposure(au_vector({10: 1.0})))
        luma = ((paint[:3] + 1.0) * 127.5).transpose(1, 2, 0) @ LUMA
        inside = paint[3] > 0.9
        cavity[most], teeth[most] = np.percentile(luma[inside], 10), luma[inside].max()
    assert cavity[60] == pytest.approx(cavity[200] * 60 / LIT_BRIGHTEST, rel=0.05)
    assert teeth[200] > 200 and teeth[60] <= TEETH_OVER_BRIGHTEST * 60 + 0.5


def test_a_dark_photo_s_painted_eyeball_is_no_brighter_than_its_brightest(basis, face, monkeypatch):
    """A lid raised on a face in a quarter of the light, its eye's colours the plain ones (``SCLERA_RGB`` at the
    light's floor, as where an eye shows too little of its own; no iris): the eyeball it uncovers is no brighter than
    the face's brightest (``paint.brightest``), where the plain white glowed."""
    from lsgan.editing import paint as paint_module

    monkeypatch.setattr(paint_module, "_eye_colours", lambda *args: (SCLERA_RGB * 0.75, SCLERA_RGB * 0.75))
    points = face.landmarks.points.copy()
    points[468:] = 0.0  # no iris: the opened eye is all white
    dark = np.round(face.crop * 0.25).astype(np.uint8)
    paint = eye_paint(dark, points, points + motion_of(basis, 5), PAINT_SCALE)
    view = cv2.resize(dark, (SIZE * PAINT_SCALE,) * 2, interpolation=cv2.INTER_CUBIC)
    luma = ((paint[:3] + 1.0) * 127.5).transpose(1, 2, 0) @ LUMA
    assert (paint[3] > 0.9).sum() > 20
    assert luma[paint[3] > 0.9].max() <= brightest(view, points, PAINT_SCALE) + 0.5


def test_teeth_painted_over_a_mouth_that_showed_teeth_take_their_colour():
    """A mouth opened wide from lips apart (past ``MAX_STRETCH``: painted over) gets teeth in the colour of those it
    showed; lips barely apart (less than ``SHOWN_TEETH``) show no teeth of their own to take it from."""
    size, scale = 64, 4
    flow = np.zeros((2, size, size), np.float32)

    def painted_teeth(source: np.ndarray) -> np.ndarray:  # mean RGB of the paint's brightest pixels
        crop = np.full((size, size, 3), 120, np.uint8)
        lips = polygon_coverage(source[list(MEDIAPIPE478.inner_lips)], size * scale, scale)
        inside = cv2.resize(lips, (size, size)) > 0.2
        crop[inside] = (230, 200, 110)  # yellowish teeth
        paint = mouth_paint(crop, source, mouth_mesh(8, 8.0), flow, scale, teeth_exposure(au_vector({26: 1.0})))
        rgb = (paint[:3] + 1) * 127.5  # [3, P, P]
        luma = (rgb * LUMA[:, None, None]).sum(axis=0)
        return rgb[:, (paint[3] > 0.9) & (luma >= np.percentile(luma[paint[3] > 0.9], 95))].mean(axis=1)

    own, barely = painted_teeth(mouth_mesh(8, 1.5)), painted_teeth(mouth_mesh(8, 0.5))
    assert lip_gap(mouth_mesh(8, 0.5)) < SHOWN_TEETH * FaceTemplate().eye_distance * size <= lip_gap(mouth_mesh(8, 1.5))
    assert own[0] / own[2] > 1.6 > barely[0] / barely[2]  # yellow like the mouth's own; the fixed ivory's is 1.1


def test_an_opening_is_stretched_past_its_area_or_its_height():
    """Teeth stretched tall read as long teeth even where the opening narrows as it opens (a surprise from a smile):
    a source opening grown past ``MAX_STRETCH`` times its height counts as stretched as one grown past its area."""
    def box(height: int, width: int) -> np.ndarray:
        coverage = np.zeros((64, 64), np.float32)
        coverage[10:10 + height, 10:10 + width] = 1.0
        return coverage

    smile = box(4, 32)
    assert not stretched(smile, box(5, 36))  # 1.25 times as tall, 1.4 times the area
    assert stretched(smile, box(4, 50))  # as tall, 1.56 times the area
    assert stretched(smile, box(8, 16))  # the same area, twice as tall
    assert not stretched(np.zeros((64, 64), np.float32), box(1, 1))  # nothing open: a pixel is within bounds


def test_a_taut_smile_s_rim_drawn_up_a_round_opening_is_painted_over():
    """A smile's lens-shaped opening (taut lips: the whole contour shows teeth) opened into a round one: the warp
    draws the rim of teeth under the upper lip up the top half of the new opening, while the part where the lips are
    apart grows little. That rim read as long teeth, striped by the row it came from (a smile asked for anger): the
    opening as shown has grown past ``MAX_STRETCH`` times its height, so the whole opening is painted."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    smile, round_open = lens_mesh(12, 2.0), mouth_mesh(6, 6.0)
    rows = np.arange(size, dtype=np.float32)[:, None]
    flow = np.zeros((2, size, size), np.float32)
    flow[1] = np.where((rows >= 38) & (rows < 44), (42.4 - rows) / (size / 2), 0.0)  # rows 38-43 read the rim
    paint = mouth_paint(crop, smile, round_open, flow, scale, taut=(1.0, 0.0))
    middle = paint[3, :, round((32 + 0.5) * scale - 0.5)]
    assert middle[round((40 + 0.5) * scale - 0.5)] > 0.9  # the drawn-up rim is painted over
    assert (middle > 0.9).sum() > 10 * scale  # the opening from top to bottom (12 crop pixels tall)
    kept = mouth_paint(crop, smile, smile, np.zeros_like(flow), scale, taut=(1.0, 1.0))
    assert not kept[3].any()  # the smile as it was keeps its own teeth


def test_lower_teeth_show_where_the_lips_are_stretched_or_the_lower_lip_pulled_down():
    """AU20 stretches the lower lip tight over the lower teeth and AU15 stands in for AU16 (the lower lip pulled
    down): an opening with them shows lower teeth at its bottom; a jaw dropped alone (surprise) or anger's shout
    shows only the upper teeth."""
    size, scale = 64, 4
    crop = np.full((size, size, 3), 150, np.uint8)
    points, targets = mouth_mesh(8, 0.5), mouth_mesh(9, 7.0)
    flow = np.zeros((2, size, size), np.float32)
    assert lower_teeth_exposure(edit_vector("fearful")) == 1.0
    assert lower_teeth_exposure(edit_vector("surprised")) == lower_teeth_exposure(edit_vector("angry")) == 0.0
    assert 0 < lower_teeth_exposure(edit_vector("disgusted")) < 1

    def bright_rows(lower: float) -> np.ndarray:
        paint = mouth_paint(crop, points, targets, flow, scale, teeth_exposure(au_vector({26: 1.0})), lower)
        incisor = 32 + 0.5 * LOWER_TOOTH_EDGES[1] * FaceTemplate().eye_distance * size  # a lower central incisor
        column = round((incisor + 0.5) * scale - 0.5)
        return np.flatnonzero((paint[:3, :, column].mean(axis=0) > 0.0) & (paint[3, :, column] > 0.5))

    middle = (44 + 0.5) * scale - 0.5  # paint row of the opening's middle
    assert (bright_rows(0.0) < middle).all()  # upper teeth only
    lower = bright_rows(1.0)
    assert (lower > middle).sum() >= 0.04 * FaceTemplate().eye_distance * size * scale  # a band of lower teeth


def test_a_closed_mouth_read_as_open_is_not_closed_through_itself(basis, face):
    """G_exp reads parted lips on some closed mouths: the source's AU25/AU26 are limited to the gap the mesh shows,
    so an edit to neutral leaves closed lips closed (no fold in the warp, no sliver painted as an opening)."""
    points = face.landmarks.points
    phantom = au_vector({25: 0.5, 26: 0.5, 12: 0.3})
    limited = lips_as_shown(phantom, points / SIZE, basis)
    assert limited[au_index(25)] < 0.1 and limited[au_index(26)] < 0.1 and limited[au_index(12)] == 0.3
    motion = mesh_motion(face.crop, points, phantom, np.zeros(NUM_AUS), basis)
    assert lip_gap(motion.target_points) > lip_gap(points) - 0.3  # crop pixels: the lips do not cross
    assert motion.paint[3].sum() < 1.0
    opened = points + basis.motion(np.zeros(NUM_AUS), au_vector({25: 0.8, 26: 0.8})) * SIZE  # truly open lips
    np.testing.assert_allclose(lips_as_shown(au_vector({25: 0.8, 26: 0.8}), opened / SIZE, basis),
                               au_vector({25: 0.8, 26: 0.8}), atol=1e-6)


def test_parted_lips_read_as_closed_are_closed_by_an_edit_to_neutral(basis, face):
    """G_exp reads a smile's parted lips as closed on faces it has not seen: for a target with the lips together, the
    source's AU25 (then AU26) is raised to the gap the mesh shows, so an edit to neutral closes the lips instead of
    leaving the teeth showing."""
    points = face.landmarks.points
    shown = au_vector({12: 0.6, 25: 0.7})
    parted = points + basis.motion(np.zeros(NUM_AUS), shown) * SIZE
    misread = au_vector({12: 0.6, 25: 0.1})
    raised = lips_as_shown(misread, parted / SIZE, basis)
    assert raised[au_index(25)] == pytest.approx(0.7, abs=0.02) and raised[au_index(26)] == 0.0
    assert lip_gap(basis.shape_of(raised)) == pytest.approx(lip_gap(parted / SIZE), abs=1e-4)
    np.testing.assert_array_equal(np.delete(raised, au_index(25)), np.delete(misread, au_index(25)))
    wide = points + basis.motion(np.zeros(NUM_AUS), au_vector({25: 1.0, 26: 0.5})) * SIZE  # more than AU25 opens
    raised = lips_as_shown(np.zeros(NUM_AUS), wide / SIZE, basis)
    assert raised[au_index(25)] == 1.0 and raised[au_index(26)] == pytest.approx(0.5, abs=0.02)
    neutral = mesh_motion(face.crop, parted, misread, np.zeros(NUM_AUS), basis)
    assert lip_gap(neutral.target_points) < lip_gap(points) + 0.3 < lip_gap(parted)  # crop pixels: closed again
    jaw_unread = au_vector({25: 0.1})  # AU26 read as exactly 0 on a mouth open beyond AU25's reach: closed too
    neutral = mesh_motion(face.crop, wide, jaw_unread, np.zeros(NUM_AUS), basis)
    assert lip_gap(neutral.target_points) < lip_gap(points) + 0.3
    own = mesh_motion(face.crop, wide, np.zeros(NUM_AUS), np.zeros(NUM_AUS), basis)  # its own (zero) AUs
    assert np.abs(own.flow).max() == 0
    # a target with the lips apart moves them from the reading, as before: a smile edited to happy keeps its teeth,
    # and the classifiers read anger's wider shout (docs/real_photos.md)
    for apart in (au_vector({6: 0.8, 12: 1.0, 25: 0.5}), au_vector({4: 1.0, 10: 1.0, 25: 1.0, 26: 0.6})):
        np.testing.assert_array_equal(lips_as_shown(misread, parted / SIZE, basis, apart), misread)


def test_an_au_the_target_keeps_stays_as_the_mesh_shows_it(basis, face):
    """A target that keeps the source's misread lip gap (an edit to the face's own AUs, or ``--aus 12=0.8`` keeping
    the rest) does not open the closed lips to that reading."""
    points = face.landmarks.points
    phantom = au_vector({25: 0.5, 26: 0.5, 12: 0.3})
    own = mesh_motion(face.crop, points, phantom, phantom, basis)
    assert np.abs(own.flow).max() == 0 and own.paint[3].max() == 0
    smile = mesh_motion(face.crop, points, phantom, au_vector({25: 0.5, 26: 0.5, 12: 0.9}), basis)
    assert lip_gap(smile.target_points) < lip_gap(points) + 0.5  # crop pixels: the lips stay about as they were


def mouth_of_width(width: float) -> np.ndarray:
    """``[478, 2]`` a mesh whose only placed points are its eye corners (one inter-ocular distance, 20 pixels, apart)
    and its mouth corners, ``width`` inter-ocular distances apart."""
    points = np.zeros((MESH_POINTS, 2), np.float32)
    points[[33, 133]], points[[263, 362]] = (22.0, 24.0), (42.0, 24.0)
    points[CORNERS[0]], points[CORNERS[1]] = (32.0 - 10.0 * width, 44.0), (32.0 + 10.0 * width, 44.0)
    return points


@settings(max_examples=40, deadline=None)
@given(read=st.floats(0.0, 1.0), asked=st.floats(0.0, 1.0), width=st.floats(0.6, 1.2))
def test_a_smile_taken_away_is_the_smile_the_photo_shows(read, asked, width):
    """G_exp reads a real smile low (docs/real_photos.md, "Smiles taken away as photos show them"): a target with less
    smile than the reading takes away up to ``REAL_SMILE_GAIN`` times as much, all of it where the mouth is as wide as
    a smile's, none of it where it is no wider than at rest; one with as much smile or more, or a source read under
    ``SMILE_READ``, moves from the reading as it is; every other AU as asked."""
    source, target = au_vector({12: read, 6: 0.5, 25: 0.4}), au_vector({12: asked, 4: 0.7})
    moved_from, moved_to = smile_as_real(source, target, mouth_of_width(width))
    smile = au_index(12)
    others = np.arange(NUM_AUS) != smile
    np.testing.assert_array_equal(moved_from[others], source[others])
    np.testing.assert_array_equal(moved_to[others], target[others])
    if asked < read and read >= SMILE_READ:
        gain = float(moved_from[smile] / read)
        assert 1.0 <= gain <= REAL_SMILE_GAIN + 1e-6
        assert moved_to[smile] == pytest.approx(gain * asked, abs=1e-5)  # the face's own AUs still move nothing
        if width >= SMILE_MOUTH_WIDTH:
            assert gain == pytest.approx(REAL_SMILE_GAIN)
        if width <= REST_MOUTH_WIDTH:
            assert gain == pytest.approx(1.0)
    else:
        assert moved_from[smile] == source[smile] and moved_to[smile] == target[smile]


def test_the_smile_is_raised_further_the_wider_the_mouth():
    read, gains = au_vector({12: 0.6}), []
    for width in np.linspace(REST_MOUTH_WIDTH, SMILE_MOUTH_WIDTH, 5):
        gains.append(smile_as_real(read, np.zeros(NUM_AUS), mouth_of_width(width))[0][au_index(12)] / 0.6)
    assert gains[0] == pytest.approx(1.0) and gains[-1] == pytest.approx(REAL_SMILE_GAIN)
    assert np.all(np.diff(gains) > 0)


def test_a_basis_turned_moves_each_point_as_far_in_the_turned_frame(basis):
    """``MeshBasis.turned``: every motion (single AUs and pairs) turned by the rotation, none lengthened; turned back,
    the basis it was."""
    angle = np.radians(3.0)
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]], np.float32)
    turned = basis.turned(rotation)
    aus = edit_vector("happy")
    np.testing.assert_allclose(turned.motion(np.zeros(NUM_AUS), aus), basis.motion(np.zeros(NUM_AUS), aus) @ rotation,
                               atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(turned.pair_displacements, axis=-1),
                               np.linalg.norm(basis.pair_displacements, axis=-1), atol=1e-7)
    np.testing.assert_allclose(turned.turned(rotation.T).displacements, basis.displacements, atol=1e-7)


@pytest.mark.parametrize("degrees", [-3.0, 2.0])
def test_a_smile_on_a_face_tilted_in_its_crop_lifts_both_corners_alike(basis, face, degrees):
    """A turned face lies in its crop with its eyes 1-3 degrees off level (the crop's similarity fits the eyes and the
    mouth's centre together). ``mesh_motion`` makes the basis's motion in the face's own frame (``face_basis``): a
    smile lifts both corners alike as the face's eye line has it, where drawn out level in the crop one corner rose
    above the other by about a hundredth of the inter-ocular distance per degree of tilt."""
    angle = np.radians(degrees)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = face.landmarks.points.mean(axis=0)
    points = (face.landmarks.points - centre) @ turn.T + centre  # the face tilted about its middle
    def tilt(mesh: np.ndarray) -> float:  # degrees of the eye line off level in the crop
        return float(np.degrees(np.arctan2(*eye_frame(mesh)[2][0][::-1])))

    assert tilt(points) - tilt(face.landmarks.points) == pytest.approx(degrees)
    happy, rest = edit_vector("happy"), np.zeros(NUM_AUS)

    def lopsided(target_points: np.ndarray) -> float:
        return abs(geometry_readings(target_points)["corner_asymmetry"] - geometry_readings(points)["corner_asymmetry"])

    level = points + basis.motion(rest, happy) * SIZE  # the motion drawn level in the crop
    assert lopsided(level) > 0.004 * abs(tilt(points))
    assert lopsided(mesh_motion(face.crop, points, rest, happy, basis).target_points) < 2e-4
    assert lopsided(points + face_basis(basis, points).motion(rest, happy) * SIZE) < 2e-4


def test_a_basis_foreshortened_scales_only_the_motion_along_its_direction(basis):
    """``MeshBasis.foreshortened``: each point's motion (single AUs and pairs: fear's 1 + 4) along the direction
    scaled by that point's factor, its motion at right angles kept; factors of 1 give the basis back."""
    angle = np.radians(20.0)
    across = np.array([np.cos(angle), np.sin(angle)], np.float32)
    normal = np.array([-across[1], across[0]], np.float32)
    factors = np.linspace(0.3, 1.0, MESH_POINTS).astype(np.float32)
    fear, rest = edit_vector("fearful"), np.zeros(NUM_AUS)
    before, after = basis.motion(rest, fear), basis.foreshortened(across, factors).motion(rest, fear)
    np.testing.assert_allclose(after @ across, factors * (before @ across), atol=1e-6)
    np.testing.assert_allclose(after @ normal, before @ normal, atol=1e-6)
    kept = basis.foreshortened(across, np.ones(MESH_POINTS))
    np.testing.assert_allclose(kept.pair_displacements, basis.pair_displacements, atol=1e-7)
    np.testing.assert_allclose(kept.displacements, basis.displacements, atol=1e-7)


TURNS = (-24.0, 0.0, 24.0)  # SynthFACS yaw, degrees (positive: the face turned towards image-right)


@pytest.fixture(scope="module")
def turned_smiles():
    """``{yaw: (the aligned neutral face, the mesh of the same face smiling, in the neutral's crop)}``: SynthFACS
    identity 5 rendered frontal and turned either way, neutral and happy, in the middle of a grey photo."""
    from lsgan.data.faces import MediapipeDetector, affine_points

    faces = {}
    with FaceAligner(SIZE) as aligner:
        for yaw in TURNS:
            neutral = aligner.align(rendered_in_photo(np.zeros(NUM_AUS), yaw))
            smile = MediapipeDetector().detect(rendered_in_photo(edit_vector("happy"), yaw))[0].landmarks.points
            faces[yaw] = neutral, affine_points(smile, neutral.matrix)
    return faces


def test_a_frontal_face_reads_no_side_narrower(basis, turned_smiles):
    """``far_side_narrowing`` on a frontal face: its mouth's corners and its middle as wide as their mirror points
    (to within the mesh's noise), so its motion is the basis's; a mesh with no area reads no narrowing."""
    face = turned_smiles[0.0][0]
    narrowing = far_side_narrowing(face.landmarks.points, basis.mirror)
    assert narrowing[list(CORNERS)].min() > 0.98 and np.median(narrowing) > 0.99
    assert narrowing.max() == 1.0
    flat = np.stack([np.arange(MESH_POINTS) * 0.1, np.full(MESH_POINTS, 30.0)], axis=1)  # every point on one line
    np.testing.assert_array_equal(far_side_narrowing(flat, basis.mirror), np.ones(MESH_POINTS))


@pytest.mark.parametrize("yaw", [-24.0, 24.0])
def test_a_smile_on_a_face_turned_away_moves_its_far_corner_as_the_render_does(basis, turned_smiles, yaw):
    """A face turned away is foreshortened on its far side, and so is the motion of its expressions there: the same
    face rendered smiling, meshed in the neutral face's crop, moves its far corner across about three quarters as
    far as when frontal, its near one about as far. ``mesh_motion`` (through ``face_basis``) shortens the far
    corner's motion across the face towards the render's (``far_side_narrowing``), where the basis alone drew it as
    far as the near corner's; the near corner and all motion up and down stay the basis's."""
    face, smile = turned_smiles[yaw]
    points = face.landmarks.points
    far, near = (CORNERS[1], CORNERS[0]) if yaw > 0 else CORNERS
    narrowing = far_side_narrowing(points, basis.mirror)
    assert narrowing[far] < 0.8 and narrowing[near] == 1.0
    across, down = eye_frame(points)[2]
    happy, rest = edit_vector("happy"), np.zeros(NUM_AUS)
    drawn_frontal = basis.turned(eye_frame(points)[2]).motion(rest, happy) * SIZE  # as before foreshortening
    planned = mesh_motion(face.crop, points, rest, happy, basis).target_points - points
    rendered = smile - points
    assert abs((planned[far] - rendered[far]) @ across) < 0.6 * abs((drawn_frontal[far] - rendered[far]) @ across)
    assert planned[far] @ across == pytest.approx(narrowing[far] * (drawn_frontal[far] @ across), rel=1e-4)
    assert planned[near] @ across == pytest.approx(drawn_frontal[near] @ across, rel=1e-4)
    np.testing.assert_allclose(planned @ down, drawn_frontal @ down, atol=1e-4)


def test_a_face_edited_again_reads_its_far_side_once(monkeypatch):
    """The editor reads a face's ``far_side_narrowing`` once and keeps it with the face (``PreparedFace.narrowing``):
    a prepared photo edited again (a web page's slider moves, a sequence's frames, another face copied, whose sides
    ``editing.lopsided`` compares) does not read it again, and its edit is the one a fresh preparation gives."""
    from lsgan.editing import mesh_motion as mesh_motion_module
    from lsgan.editing.targets import TargetRequest

    photo = rendered_in_photo(np.zeros(NUM_AUS), yaw=24.0)
    reads = []
    narrowing = mesh_motion_module.far_side_narrowing
    for module in (editor_module, mesh_motion_module):
        monkeypatch.setattr(module, "far_side_narrowing", lambda *args: reads.append(1) or narrowing(*args))
    with Editor.from_pretrained() as editor:
        prepared = editor.prepare(photo)
        first = editor.edit_faces(prepared, TargetRequest(emotion="happy")).image
        again = editor.edit_faces(prepared, TargetRequest(emotion="surprised")).image
        editor.edit_faces(prepared, editor.request(like=rendered_in_photo(edit_vector("happy"))))
        assert len(reads) == 1 and prepared[0].faces[0].narrowing is not None
        assert prepared[0].faces[0].narrowing.min() < 0.9  # a face turned away: its far side narrower
        np.testing.assert_array_equal(again, editor.edit(photo, emotion="surprised").image)
    assert np.abs(first.astype(int) - again.astype(int)).max() > 30


def test_an_edit_to_neutral_narrows_a_broad_smile_further_than_read(basis, face):
    """Through ``mesh_motion``: a face smiling as wide as a smile's mouth, read at 0.6 and edited to neutral, has its
    corners lowered as taking away 0.6 × the gain does (that much further down; across, no narrower than a mouth at
    rest: ``smile_width_kept``); an edit to more smile moves from the reading. Across and down are the face's own
    (``face_basis``: the basis's motion is made in the frame of the face's eye line)."""
    smiling = au_vector({12: 1.0})
    points = face.landmarks.points + basis.motion(np.zeros(NUM_AUS), smiling) * SIZE
    assert smile_width_shown(points) == 1.0  # the rendered face smiles as wide as real smiles do
    read = au_vector({12: 0.6})
    across, down = eye_frame(points)[2]

    def mouth_width(target_points: np.ndarray) -> float:
        return float((target_points[CORNERS[1]] - target_points[CORNERS[0]]) @ across)

    neutral = mesh_motion(face.crop, points, read, np.zeros(NUM_AUS), basis)
    lowered = (neutral.target_points - points)[list(CORNERS)] @ down
    as_read = basis.motion(np.zeros(NUM_AUS), read)[list(CORNERS), 1] * SIZE  # how far a smile of 0.6 lifts them
    np.testing.assert_allclose(lowered, -REAL_SMILE_GAIN * as_read, rtol=0.01)
    assert mouth_width(neutral.target_points) < mouth_width(points)
    happier = mesh_motion(face.crop, points, read, au_vector({12: 0.9}), basis)
    widened = basis.motion(read, au_vector({12: 0.9}))[list(CORNERS), 0] * SIZE
    assert mouth_width(happier.target_points) - mouth_width(points) == pytest.approx(widened[1] - widened[0], rel=0.01)


def _mouth_at_rest(face, basis, depressor: float, tightener: float = 1.0) -> np.ndarray:
    """The mesh of ``face`` with its mouth corners drawn down as the lip corner depressor (AU15) at ``depressor``
    (over 1: further than the renderer draws it) does and its mouth narrowed by the lip tightener (AU23) at
    ``tightener``: a face at rest whose corners sit that low, its mouth no wider than a face's at rest."""
    aus = np.zeros(NUM_AUS, np.float32)
    aus[au_index(15)], aus[au_index(23)] = depressor, tightener
    return face.landmarks.points + basis.motion(np.zeros(NUM_AUS), aus) * SIZE


def _closed_corner_lift(points: np.ndarray, basis, source: np.ndarray, smile: float) -> float:
    """The corner lift of ``points`` showing ``source`` moved to its AUs with the lips closed (AU25, AU26 at 0) and
    AU12 at ``smile``."""
    closed = np.array(source, np.float32)
    closed[[au_index(25), au_index(26)]] = 0.0
    closed[au_index(12)] = smile
    return geometry_readings(points + basis.motion(source, closed) * SIZE)["corner_lift"]


@settings(max_examples=25, deadline=None)
@given(read=st.floats(0.3, 1.0), asked=st.floats(0.0, 1.0), depressor=st.floats(0.0, 1.6))
@example(read=0.85, asked=0.0, depressor=1.6)  # at rest already
@example(read=0.85, asked=0.0, depressor=0.0)  # taken away down to rest
@example(read=0.4, asked=0.0, depressor=0.0)  # all of it
def test_a_smile_on_a_mouth_at_rest_is_taken_away_no_lower_than_a_face_at_rest(basis, face, read, asked, depressor):
    """G_exp reads some faces at rest as smiling: taking that reading away turned their mouths down (their edits to
    neutral read sad). On a mouth no wider than at rest the smile is taken away as far as the corners, the lips
    closed, stay at ``REST_CORNER_LIFT``: all of it where they stay higher, none of it where they are that low
    already; every other AU as asked."""
    points = _mouth_at_rest(face, basis, depressor)
    assert smile_width_shown(points) == 0.0
    source, target = au_vector({12: read, 25: 0.3}), au_vector({12: asked, 4: 0.7, 25: 0.8})
    limited = smile_taken_to_rest(points, source, target, basis, SIZE)
    smile = au_index(12)
    others = np.arange(NUM_AUS) != smile
    np.testing.assert_array_equal(limited[others], target[others])
    if asked >= read:
        assert limited[smile] == target[smile]
        return
    assert asked - 1e-6 <= limited[smile] <= read + 1e-6
    lift = _closed_corner_lift(points, basis, source, limited[smile])
    own = _closed_corner_lift(points, basis, source, read)
    if own <= REST_CORNER_LIFT:
        assert limited[smile] == pytest.approx(read)  # at rest already: the smile read is not there to take away
    elif limited[smile] > asked + 1e-6:
        # taken away down to rest, no further (the share is found linearly; the eyes that scale the reading move a
        # little with the smile: within a thousandth of an inter-ocular distance)
        assert lift == pytest.approx(REST_CORNER_LIFT, abs=1e-3)
    else:
        assert lift >= REST_CORNER_LIFT - 1e-6  # all of it: the corners stay above rest


def test_a_mouth_as_wide_as_a_smile_s_has_its_smile_taken_away_whole_under_parted_lips(basis, face):
    """A mouth as wide as a smile's is a smile, whatever its corners say (an open smile's upper lip is drawn up off
    the teeth): a target that parts the lips takes its smile away whole (a smile kept under an open mouth reads as
    happy); one between rest and a smile's width, in proportion. A target that closes the lips leaves the closed
    corners at ``REST_CORNER_LIFT`` whatever the width (taken whole, a broad smile closed to a frown)."""
    read, neutral, opened = au_vector({12: 0.9}), np.zeros(NUM_AUS), au_vector({25: 1.0, 26: 0.5})
    low_and_wide = _mouth_at_rest(face, basis, 1.6, tightener=0.0) + basis.motion(neutral, au_vector({12: 0.6})) * SIZE
    assert smile_width_shown(low_and_wide) == 1.0
    rest_share = share_above_rest(low_and_wide, read, neutral, basis, SIZE)
    assert rest_share < 1.0  # its corners alone keep some
    assert smile_taken_to_rest(low_and_wide, read, opened, basis, SIZE)[au_index(12)] == pytest.approx(0.0)
    closed_left = smile_taken_to_rest(low_and_wide, read, neutral, basis, SIZE)[au_index(12)]
    assert closed_left == pytest.approx(0.9 * (1.0 - rest_share), abs=1e-5) and closed_left > 0.05
    between = _mouth_at_rest(face, basis, 1.6, tightener=0.0)
    width = smile_width_shown(between)
    assert 0.3 < width < 0.9  # measured 0.71
    rest_share = share_above_rest(between, read, opened, basis, SIZE)
    left = smile_taken_to_rest(between, read, opened, basis, SIZE)[au_index(12)]
    assert left == pytest.approx(0.9 * (1.0 - rest_share) * (1.0 - width), abs=1e-5)


def test_a_face_at_rest_read_as_smiling_is_not_turned_sad_by_an_edit_to_neutral(basis, face):
    """Through ``mesh_motion``: a face whose corners sit as low as faces at rest do and whose mouth is no wider,
    misread as smiling (AU12 0.85, as G_exp reads Bill Murray's portrait), edited to neutral moves nothing; edited to
    sadness, its corners go down from where they are by the corner depressor (AU15) alone."""
    points = _mouth_at_rest(face, basis, 1.6)
    assert geometry_readings(points)["corner_lift"] < REST_CORNER_LIFT and smile_width_shown(points) == 0.0
    misread = au_vector({12: 0.85})
    neutral = mesh_motion(face.crop, points, misread, np.zeros(NUM_AUS), basis)
    assert np.abs(neutral.flow).max() == 0
    sad = edit_vector("sad")
    corners = list(CORNERS)
    lowered = mesh_motion(face.crop, points, misread, sad, basis).target_points[corners, 1] - points[corners, 1]
    as_depressor = basis.motion(np.zeros(NUM_AUS), sad)[corners, 1] * SIZE
    np.testing.assert_allclose(lowered, as_depressor, atol=0.05)  # crop pixels


def test_paint_replaces_pixels_by_its_alpha_and_leaves_the_rest_as_the_warp_made_them(monkeypatch):
    # the photo's grain, which the paint takes (tested above), is left out: this photo is nothing but grain
    monkeypatch.setattr(fields_module, "grain_noise", lambda origin, shape, strength: np.zeros(shape, np.float32))
    photo = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    matrix = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    flow, colour, mask = np.zeros((2, 40, 40), np.float32), np.zeros((3, 40, 40), np.float32), np.ones((40, 40))
    paint = np.zeros((4, 80, 80), np.float32)
    paint[:3] = -1.0  # black
    paint[3, :40] = 1.0  # the top half of the crop
    painted = apply_field(photo, matrix, flow, colour, mask, paint=paint)
    assert painted[:19].max() == 0
    np.testing.assert_array_equal(painted[21:], photo[21:])
    np.testing.assert_array_equal(apply_field(photo, matrix, flow, colour, mask), photo)


def test_motion_presets_of_the_editor(closed_mouth):
    astronaut = closed_mouth
    with pytest.raises(EditorConfigError, match="motion must be one of mesh, both, model"):
        EditorConfig(motion="warp")
    luma = np.array([0.299, 0.587, 0.114])
    outputs = {}
    for motion in ("both", "mesh", "model"):
        with Editor.from_pretrained(motion=motion) as editor:
            result = editor.edit(astronaut, aus="25=1,26=1")
            face = editor.prepare(astronaut)[0].faces[0]
        outputs[motion] = result.image
    assert editor._mesh_basis is None  # "model" never loads the basis
    moved = mesh_motion(face.crop, face.aligned.landmarks.points, result.source_aus[0], result.target_aus[0],
                        MeshBasis.load()).target_points
    to_photo = np.linalg.inv(np.vstack([face.matrix, [0, 0, 1]]))[:2]
    mouth = np.round(moved[[UPPER_LIP, LOWER_LIP]].mean(axis=0) @ to_photo[:, :2].T + to_photo[:, 2]).astype(int)
    window = (slice(mouth[1] - 1, mouth[1] + 2), slice(mouth[0] - 4, mouth[0] + 5))

    def mouth_luma(image: np.ndarray) -> float:
        return float((image[window] @ luma).mean())

    assert mouth_luma(outputs["mesh"]) < mouth_luma(astronaut) - 20  # the mouth opens onto a dark cavity
    assert mouth_luma(outputs["both"]) < mouth_luma(astronaut) - 20
    assert np.any(outputs["both"] != outputs["model"]) and np.any(outputs["both"] != outputs["mesh"])
    far = (slice(0, 40), slice(0, 40))  # the photo's corner: never part of a face edit
    for image in outputs.values():
        np.testing.assert_array_equal(image[far], astronaut[far])


def test_the_paint_is_as_fine_as_the_photo(closed_mouth, monkeypatch):
    """A face larger in its photo is painted at more pixels per crop pixel (``paint_scale``: the photo's, within
    ``PAINT_SCALE`` and ``MAX_PAINT_SCALE``), so an opened mouth's teeth and cavity keep edges as sharp as the
    photo's; at the smallest paint, enlarged, the same edit is soft."""
    def shrink(s: float, turn: float = 0.0) -> np.ndarray:  # photo -> crop, s photo pixels per crop pixel
        c, n = np.cos(turn), np.sin(turn)
        return np.array([[c / s, -n / s, 3.0], [n / s, c / s, -2.0]])

    assert [paint_scale(shrink(s)) for s in (2.0, 4.0, 4.2, 6.9, 11.0, 40.0)] == [4, 4, 5, 7, 11, MAX_PAINT_SCALE]
    assert paint_scale(shrink(6.9, turn=0.7)) == 7
    big = cv2.resize(closed_mouth, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    luma = np.array([0.299, 0.587, 0.114])

    def steep_steps(image: np.ndarray) -> float:  # the mean of the 100 largest luma steps down the edited mouth
        changed = np.abs(image.astype(float) - big.astype(float)).max(axis=-1) > 30
        steps = np.abs(np.diff(image @ luma, axis=0))[changed[1:] & changed[:-1]]
        return float(np.sort(steps)[-100:].mean())

    with Editor.from_pretrained() as editor:
        assert paint_scale(editor.prepare(big)[0].faces[0].matrix) > 2 * PAINT_SCALE
        fine = editor.edit(big, aus="10=1,25=1,26=1").image
        monkeypatch.setattr(editor_module, "paint_scale", lambda matrix: PAINT_SCALE)
        coarse = editor.edit(big, aus="10=1,25=1,26=1").image
    assert steep_steps(fine) > 1.5 * steep_steps(coarse)  # measured 67 and 35


def test_lsgan_edit_refuses_an_unknown_motion(lsgan, face_files):
    run = lsgan("edit", face_files[0], "--emotion", "happy", "--motion", "warp", "--out", face_files[0].parent / "o.png")
    assert run.code != 0 and "motion must be one of mesh, both, model" in run.err
    assert not (face_files[0].parent / "o.png").exists()


def test_the_web_page_chooses_the_motion_per_edit(closed_mouth, save_png):
    from lsgan.editing.web import EditPage, WebConfig

    with Editor.from_pretrained(motion="model") as editor:
        page = EditPage(editor, WebConfig())
        try:
            _, upload, aus, _, _ = page.load(str(save_png("face.png", closed_mouth)))
            aus[au_index(25)], aus[au_index(26)] = 1.0, 1.0
            by_model, _, _ = page.edit(upload, aus, "every face", "whole face")
            assert editor._mesh_basis is None
            by_mesh, _, _ = page.edit(upload, aus, "every face", "whole face", "mesh")
            assert np.any(by_mesh != by_model) and editor.config.motion == "model"
            with pytest.raises(EditorConfigError, match="motion must be one of"):
                page.edit(upload, aus, "every face", "whole face", "warp")
        finally:
            page.close()


def test_lsgan_edit_refuses_an_upper_face_gain_out_of_range(lsgan, face_files):
    run = lsgan("edit", face_files[0], "--emotion", "sad", "--upper-face-gain", "1.7",
                "--out", face_files[0].parent / "o.png")
    assert run.code != 0 and "upper_face_gain must be in (0, 1.6], got 1.7" in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert not (face_files[0].parent / "o.png").exists()


def test_lsgan_edit_upper_face_gain_moves_the_brows_that_much_further(closed_mouth, tmp_path, lsgan):
    """`lsgan edit --upper-face-gain`: at 1 the brows move as rendered, at the default 1.3 times as far (mediapipe's
    mesh of the edits; that the mouth's AUs keep their motion: the photo basis test above)."""
    from lsgan.cli.edit import UPPER_FACE_GAIN_DEFAULT

    assert UPPER_FACE_GAIN_DEFAULT == UPPER_FACE_GAIN  # the CLI's default is the editor's
    source = tmp_path / "face.png"
    write_image(source, closed_mouth)
    moved = {}
    for gain in ("1", str(UPPER_FACE_GAIN)):
        out = tmp_path / f"sad_{gain}.png"
        assert lsgan("edit", source, "--aus", "1=1,4=1,15=1", "--upper-face-gain", gain, "--out", out).code == 0
        with FaceAligner(SIZE) as aligner:
            moved[gain] = aligner.align(read_image(out)).landmarks.points  # [478, 2] crop pixels
    with FaceAligner(SIZE) as aligner:
        before = aligner.align(closed_mouth).landmarks.points
    inner_brows = [55, 285]  # mediapipe's inner brow ends
    lift = {gain: float((before[inner_brows, 1] - points[inner_brows, 1]).mean()) for gain, points in moved.items()}
    assert lift["1"] > 0.5, lift  # AU1 raises the inner brows (crop pixels)
    assert lift[str(UPPER_FACE_GAIN)] / lift["1"] == pytest.approx(UPPER_FACE_GAIN, rel=0.1), lift


def test_reports_name_the_upper_face_gain():
    from lsgan.editing.editor import describe_motion

    assert describe_motion("mesh", False) == f"motion mesh, upper face ×{UPPER_FACE_GAIN:g}"
    assert describe_motion("both", True, 1.0) == "motion both, upper face ×1, creases"
    assert describe_motion("model", False, 1.0) == "motion model"


def test_lips_that_close_are_lips_from_lip_to_lip(basis, broad_smile, monkeypatch):
    """A smile with the teeth showing edited to neutral: the moved mesh closes the lips, and no band of the source's
    teeth is left between them (the field's smoothing had mixed the upper lip's motion down with the lower lip's up
    where they meet, and pixels of the closed lips sampled the teeth: ``lips_stay_lips``)."""
    from lsgan.editing import mesh_motion as motion_module
    from lsgan.editing import paint as paint_module

    smile, face = BROAD_SMILE, broad_smile
    points, side = face.landmarks.points, SIZE * FIELD_SCALE
    enlarged = cv2.resize(face.crop, (side, side), interpolation=cv2.INTER_CUBIC)

    def teeth_between_the_lips(image: np.ndarray, mesh: np.ndarray) -> int:  # bright grey pixels, ±2 crop px
        inner = mesh[list(MEDIAPIPE478.inner_lips)]
        middle = inner[:, 1].mean()
        window = image[round((middle - 2) * FIELD_SCALE):round((middle + 2) * FIELD_SCALE),
                       round(inner[:, 0].min() * FIELD_SCALE):round(inner[:, 0].max() * FIELD_SCALE)].astype(float)
        return int(((window.mean(axis=-1) > 170) & (np.ptp(window, axis=-1) < 40)).sum())

    def edited(motion) -> np.ndarray:  # the crop through the field at its resolution, the paint laid over
        grid = (np.arange(side, dtype=np.float32) + 0.5) / FIELD_SCALE - 0.5
        xs, ys = np.meshgrid(grid, grid)
        to_field = [((axis + flow * SIZE / 2 + 0.5) * FIELD_SCALE - 0.5).astype(np.float32)
                    for axis, flow in ((xs, motion.flow[0]), (ys, motion.flow[1]))]
        warped = cv2.remap(enlarged, *to_field, cv2.INTER_LINEAR).astype(np.float32)
        paint = resample_field(motion.paint, side)
        return warped * (1 - paint[3][..., None]) + (paint[:3].transpose(1, 2, 0) + 1) * 127.5 * paint[3][..., None]

    assert teeth_between_the_lips(enlarged, points) > 40  # the source shows its teeth
    neutral = np.zeros(NUM_AUS, np.float32)
    closed = mesh_motion(face.crop, points, smile, neutral, basis)
    assert lip_gap(closed.target_points) < 0.2 and teeth_between_the_lips(edited(closed), closed.target_points) == 0
    middle = np.round((closed.target_points[list(INNER_LIP_MIDDLE)].mean(axis=0) + 0.5) * PAINT_SCALE - 0.5)
    column = closed.paint[:, :, int(middle[0])]
    line = np.flatnonzero(column[3] > 0.3)  # the line where the closed lips meet, drawn dark
    assert 1 <= len(line) <= PAINT_SCALE and abs(line.mean() - middle[1]) <= PAINT_SCALE
    assert (column[:3, line].mean(axis=0) < -0.3).all()  # dark
    drawn = []
    with monkeypatch.context() as patched:  # the line as the mesh motion hands it to the paint (field pixels)
        patched.setattr(motion_module, "mouth_paint", lambda *args: drawn.append(args[8]) or mouth_paint(*args))
        mesh_motion(face.crop, points, smile, neutral, basis)
    assert drawn[0].max() > 0.5 and np.abs(np.diff(drawn[0], axis=1)).max() < 0.5  # along the mouth: no staircase
    monkeypatch.setattr(motion_module, "lips_stay_lips", lambda flow, *args: (flow, None))
    monkeypatch.setattr(paint_module, "LIP_TINT", 0.0)  # the lips' colour laid on the band would hide it too
    smoothed = mesh_motion(face.crop, points, smile, neutral, basis)
    assert teeth_between_the_lips(edited(smoothed), smoothed.target_points) > 8  # what it fixes


def test_lips_are_squeezed_and_their_line_drawn_only_at_the_mouth(basis, broad_smile):
    """The smile closed to neutral: only pixels that sample a column of the source's opening are squeezed, and the
    line where the lips meet lies on the mouth. Columns beside the opening have no edges (0s): pixels at the crop's
    top that sampled them were taken for lips there, and the "line" from them down to the mouth was drawn as two
    dotted lines over the face (Kim Kardashian's neutral edit, from her brows to her lips)."""
    points = broad_smile.landmarks.points
    targets = points + basis.motion(BROAD_SMILE, np.zeros(NUM_AUS, np.float32)) * SIZE
    flow = dense_backward_field(points, targets, SIZE)
    squeezed, meeting = lips_stay_lips(flow, points, targets, SIZE)
    lips = np.concatenate([points, targets])[:, 1][np.r_[list(MEDIAPIPE478.inner_lips),
                                                        [MESH_POINTS + i for i in MEDIAPIPE478.inner_lips]]]
    mouth_rows = slice(int((lips.min() - 3) * FIELD_SCALE), int((lips.max() + 3) * FIELD_SCALE))
    assert meeting is not None and meeting[mouth_rows].max() > 0.5
    outside = np.ones(meeting.shape[0], bool)
    outside[mouth_rows] = False
    assert not meeting[outside].any()
    np.testing.assert_array_equal(squeezed[:, outside], flow[:, outside])


@settings(max_examples=40, deadline=None)
@given(radii=st.lists(st.floats(0.6, 1.4), min_size=5, max_size=24), squash=st.floats(0.05, 1.0))
def test_a_smooth_outline_runs_through_its_points_without_loops(radii, squash):
    """``smooth_outline``: the closed curve through every point of an outline (star-shaped about its centre, as thin
    as a closed mouth's), no further out than the points reach by more than a fifth of the largest side."""
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    outline = np.stack([np.cos(angles), squash * np.sin(angles)], 1) * np.array(radii)[:, None] * 10 + 32
    curve = smooth_outline(outline.astype(np.float32), 8)
    assert curve.shape == (8 * len(radii), 2) and np.isfinite(curve).all()
    assert np.allclose(curve[::8], outline, atol=1e-3)
    side = np.linalg.norm(np.roll(outline, -1, axis=0) - outline, axis=1).max()
    assert (curve.min(0) >= outline.min(0) - side / 5).all() and (curve.max(0) <= outline.max(0) + side / 5).all()


def test_an_open_mouth_is_painted_round_not_as_a_polygon():
    """The opening's coverage (``opening_coverage``) is the smooth curve through the inner-lip points: with the points
    on a circle, it reaches the circle between them, where the polygon through them cuts the corner (a painted mouth
    showed the contour's corners and straight sides)."""
    points, scale, radius = np.zeros((MESH_POINTS, 2), np.float32), MAX_PAINT_SCALE, 20.0
    inner = list(MEDIAPIPE478.inner_lips)
    angles = np.linspace(0, 2 * np.pi, len(inner), endpoint=False)
    points[inner] = np.stack([np.cos(angles), np.sin(angles)], 1) * radius + SIZE / 2
    between = angles + np.pi / len(inner)  # halfway between two points: the polygon's side is 0.25 crop px inside
    near_circle = np.stack([np.cos(between), np.sin(between)], 1) * (radius - 0.1) + SIZE / 2
    columns, rows = np.round((near_circle + 0.5) * scale - 0.5).astype(int).T
    smooth = opening_coverage(points, SIZE * scale, scale)[rows, columns]
    polygon = polygon_coverage(points[inner], SIZE * scale, scale)[rows, columns]
    assert (smooth > 0.9).all() and (polygon < 0.3).all()


def test_the_lips_colour_is_their_redder_half(face):
    """``lip_colour`` reads the lips' red, not the teeth or the skin that a mesh contour takes in with them."""
    points, side = face.landmarks.points, SIZE * PAINT_SCALE
    lips = lips_coverage(points, side, PAINT_SCALE) > 0.5
    view = np.full((side, side, 3), (200, 160, 140), np.uint8)  # skin
    view[lips] = (250, 248, 240)  # teeth where the contour cuts across them (the upper third), ...
    lower = lips & (np.arange(side)[:, None] > np.quantile(np.nonzero(lips)[0], 1 / 3))
    view[lower] = (170, 60, 80)  # ... the red below
    assert lower.sum() > lips.sum() / 2
    assert np.allclose(lip_colour(view, points, PAINT_SCALE), (170, 60, 80))
    assert np.array_equal(lip_colour(view, points * 0.01, PAINT_SCALE), LIP_RGB)  # lips too small to read


def test_an_edit_s_lips_show_lip_colour_where_the_source_had_none(face):
    """``lip_paint``: where the moved mesh's lips cover what the source's lips did not (a thin lip made fuller as a
    smile closes), the lips' colour at ``LIP_TINT``; nothing where the lips stay (no motion, or sub-pixel shifts)."""
    points, side, rgb = face.landmarks.points, SIZE * PAINT_SCALE, np.array([170, 60, 80], np.float32)
    still = np.zeros((2, SIZE * FIELD_SCALE, SIZE * FIELD_SCALE), np.float32)
    assert lip_paint(points, points, still, SIZE, PAINT_SCALE, rgb)[3].max() == 0.0
    nudged = points.copy()
    nudged[list(LIP_CONTOURS[0])] += (0.0, -0.2)  # crop pixels: under half a pixel
    assert lip_paint(points, nudged, still, SIZE, PAINT_SCALE, rgb)[3].max() == 0.0
    fuller = points.copy()
    fuller[list(LIP_CONTOURS[0][2:-2])] += (0.0, -1.5)  # the upper lip's outer contour raised 1.5 crop pixels
    paint = lip_paint(points, fuller, still, SIZE, PAINT_SCALE, rgb)
    new = (lips_coverage(fuller, side, PAINT_SCALE) > 0.99) & (lips_coverage(points, side, PAINT_SCALE) < 0.01)
    assert new.sum() > PAINT_SCALE ** 2
    assert paint[3][new].max() == pytest.approx(LIP_TINT, abs=0.01)
    assert np.allclose((paint[:3, new].T + 1) * 127.5, rgb, atol=0.01)
    lower_lip = polygon_coverage(points[list(LIP_CONTOURS[2]) + list(LIP_CONTOURS[3][::-1])], side, PAINT_SCALE)
    below_the_mouth = (np.arange(side)[:, None] + 0.5) / PAINT_SCALE - 0.5 > points[LOWER_LIP, 1] + 1.0
    assert paint[3][(lower_lip > 0.01) & below_the_mouth].max() == 0.0  # the lip that did not move


def test_the_meeting_line_is_the_lips_red_in_shadow():
    """The line where closed lips meet is the lips' colour ``MEETING_LINE_SHADE`` times as light, in their hue at
    ``MEETING_LINE_CHROMA`` of their chroma (real closed lips' line is as red as the lips): redder than the lips'
    RGB scaled down (a grey-brown), within sRGB for lipstick red, grey for grey lips."""
    def lab(rgb: np.ndarray) -> np.ndarray:  # CIELAB of one uint8-unit colour
        return cv2.cvtColor(np.float32([[rgb / 255.0]]), cv2.COLOR_RGB2LAB)[0, 0]

    for lips in ([190, 116, 112], [128, 80, 65], [222, 53, 50], [150, 60, 120]):
        lips = np.float32(lips)
        line, scaled = meeting_line_colour(lips), MEETING_LINE_SHADE * lips
        assert line.min() >= 0.0 and line.max() <= 255.0
        assert abs(lab(line)[0] - lab(scaled)[0]) < 1.0  # as light as the lips darkened
        hue = np.degrees(np.arctan2(*lab(line)[[2, 1]]) - np.arctan2(*lab(lips)[[2, 1]]))
        assert abs(hue) < 3.0  # in the lips' hue
        chroma = np.hypot(*lab(line)[1:])
        assert np.hypot(*lab(scaled)[1:]) + 3.0 < chroma <= MEETING_LINE_CHROMA * np.hypot(*lab(lips)[1:]) + 0.5
    natural = np.float32([190, 116, 112])  # within sRGB at the chroma asked
    assert abs(np.hypot(*lab(meeting_line_colour(natural))[1:]) - MEETING_LINE_CHROMA * np.hypot(*lab(natural)[1:])) < 1
    grey = meeting_line_colour(np.float32([100, 100, 100]))
    assert np.ptp(grey) < 1.0 and abs(grey.mean() - MEETING_LINE_SHADE * 100) < 1.5


def test_a_smile_closed_to_neutral_keeps_red_lips(basis, broad_smile, monkeypatch):
    """A broad smile edited to neutral: its thin lips, stretched over the teeth, are closed with the lips' colour
    where the closed lips take in what was skin or teeth (``lip_paint``), and the line where they meet is drawn in the
    lips' own colour, darkened (``meeting_line_colour``): on a face whose lips are blue, the line is blue."""
    from lsgan.editing import paint as paint_module

    smile, points, crop = BROAD_SMILE, broad_smile.landmarks.points, broad_smile.crop
    closed = mesh_motion(crop, points, smile, np.zeros(NUM_AUS, np.float32), basis)
    own = lip_colour(cv2.resize(crop, (SIZE * PAINT_SCALE,) * 2, interpolation=cv2.INTER_CUBIC), points,
                     PAINT_SCALE)
    with monkeypatch.context() as patched:
        patched.setattr(paint_module, "LIP_TINT", 0.0)
        bare = mesh_motion(crop, points, smile, np.zeros(NUM_AUS, np.float32), basis)
    tinted = (closed.paint[3] > 0.3) & (bare.paint[3] == 0.0)  # the lips' colour alone
    assert tinted.sum() > PAINT_SCALE ** 2
    assert (lips_coverage(closed.target_points, SIZE * PAINT_SCALE, PAINT_SCALE)[tinted] > 0.5).mean() > 0.8
    assert np.allclose((closed.paint[:3, tinted].T + 1) * 127.5, own, atol=0.5)
    middle = np.round((closed.target_points[list(INNER_LIP_MIDDLE)].mean(axis=0) + 0.5) * PAINT_SCALE - 0.5)
    column = closed.paint[:, :, int(middle[0])]
    line = column[3] > 0.6  # where the meeting line is laid on
    assert line.any()
    blue = crop.copy()
    lips_in_crop = lips_coverage(points, SIZE, 1) > 0.5
    blue[lips_in_crop] = blue[lips_in_crop][:, ::-1]  # the lips' red and blue swapped
    blue_line = mesh_motion(blue, points, smile, np.zeros(NUM_AUS, np.float32), basis).paint[:, :, int(middle[0])]
    red, bluish = (column[:3, line] + 1) * 127.5, (blue_line[:3, line] + 1) * 127.5
    assert (red[0] > red[2]).all() and (bluish[2] > bluish[0]).all()
    assert np.allclose(red.max(axis=1), meeting_line_colour(own), rtol=0.2)


def test_a_smile_keeps_the_teeth_a_parted_mouth_already_shows(basis, face, monkeypatch):
    """A smile asked of a face whose parted lips show its teeth opens them no more than ``MAX_STRETCH`` times their
    area (``teeth_kept``): the face keeps its own teeth, where an opening by the jaw alone paints them over; a closed
    mouth, and targets that are not smiles (anger's open mouth), open as asked. (The face's smile is the basis's own,
    read as it is: no real smile's gain.)"""
    from lsgan.editing import mesh_motion as motion_module

    monkeypatch.setattr(motion_module, "REAL_SMILE_GAIN", 1.0)
    points = face.landmarks.points
    source = au_vector({6: 0.8, 12: 1.0, 25: 0.6})  # a smile with the lips apart
    parted = points + basis.motion(np.zeros(NUM_AUS), source) * SIZE
    assert lip_gap(parted) >= SHOWN_TEETH * FaceTemplate().eye_distance * SIZE
    smile = au_vector({6: 0.8, 12: 1.0, 25: 1.0})
    kept = teeth_kept(parted, source, smile, basis, SIZE)
    assert source[au_index(25)] < kept[au_index(25)] < 1.0
    np.testing.assert_array_equal(np.delete(kept, au_index(25)), np.delete(smile, au_index(25)))

    def painted_inside(target: np.ndarray) -> float:  # the paint's alpha at the middle of the edit's opening
        motion = mesh_motion(face.crop, parted, source, target, basis)
        return float(at_point(motion.paint, motion.target_points[list(INNER_LIP_MIDDLE)].mean(axis=0))[3])

    assert painted_inside(smile) < 0.1  # the source's own opening, warped
    assert painted_inside(au_vector({6: 0.8, 12: 0.4, 25: 1.0, 26: 0.6})) > 0.9  # the jaw's opening: painted over
    np.testing.assert_array_equal(teeth_kept(points, np.zeros(NUM_AUS), smile, basis, SIZE), smile)  # closed
    anger = edit_vector("angry")
    np.testing.assert_array_equal(teeth_kept(parted, source, anger, basis, SIZE), anger)



def test_an_opened_mouth_on_a_grainy_photo_is_as_grainy(closed_mouth, monkeypatch):
    """The cavity an edit paints into a grainy photo carries its grain (``editing.grain``), where a flat colour
    reads as a patch stuck on the photo."""
    noise = np.random.default_rng(2).standard_normal(closed_mouth.shape[:2] + (1,)) * 8.0
    grainy = np.clip(closed_mouth + noise, 0, 255).astype(np.uint8)
    with Editor.from_pretrained() as editor:
        edited = editor.edit(grainy, aus="25=1,26=1").image
        monkeypatch.setattr(fields_module, "grain_noise", lambda origin, shape, strength: np.zeros(shape, np.float32))
        smooth = editor.edit(grainy, aus="25=1,26=1").image
    cavity = (smooth @ LUMA < 60) & (grainy @ LUMA > 60)  # the newly painted dark inside of the mouth
    cavity = cv2.erode(cavity.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert cavity.sum() > 50
    photo = fine_texture(grainy @ LUMA)[72:328, 72:328].std()
    assert fine_texture(smooth @ LUMA)[cavity].std() < 0.3 * photo  # measured 0.7 against 9.0
    assert fine_texture(edited @ LUMA)[cavity].std() > 0.6 * photo  # measured 7.5
    assert (edited @ LUMA)[cavity].max() < 100  # grain on a dark paint is clipped at black, not wrapped to white



def test_closed_lips_show_none_of_the_opening_by_their_line(basis, broad_smile, monkeypatch):
    """The smile closed to neutral, read finer than its field (at three times its resolution, as a photo larger than
    the crop is): between the field's rows where the upper lip's samples give way to the lower lip's, the sampling
    runs through the source's opening, a staircase of teeth or dark along the line (a grey band between Kim
    Kardashian's closed lips). The paint lays the lips' colour over what of the opening the closed lips show by the
    line (``paint._meeting_paint``), the line over that; beyond the line's ends (within two crop pixels of the
    closed mouth's corners) the photo is left."""
    from lsgan.editing import paint as paint_module

    smile, face = BROAD_SMILE, broad_smile
    scale = MAX_PAINT_SCALE  # paint pixels per crop pixel: three times the field's
    points, side = face.landmarks.points, SIZE * scale
    neutral = np.zeros(NUM_AUS, np.float32)

    def opening_shown() -> np.ndarray:  # bool [P, P]: where the closed mouth shows the source's opening
        motion = mesh_motion(face.crop, points, smile, neutral, basis, scale)
        seen = cv2.remap(opening_coverage(points, side, scale), *sampled_at(motion.flow, SIZE, scale),
                         cv2.INTER_LINEAR, borderValue=0.0)
        return seen * (1.0 - motion.paint[3]) * (1.0 - opening_coverage(motion.target_points, side, scale)) > 0.1

    corners = mesh_motion(face.crop, points, smile, neutral, basis, scale).target_points[[61, 291]] * scale

    def off_the_corners(shown: np.ndarray) -> int:  # shown pixels further than two crop pixels from both corners
        ys, xs = np.nonzero(shown)
        return int((np.hypot(xs[:, None] - corners[:, 0], ys[:, None] - corners[:, 1]).min(axis=1) > 2 * scale).sum())

    shown = opening_shown()
    line_only = paint_module._meeting_paint
    monkeypatch.setattr(paint_module, "_meeting_paint", lambda line, seen_inside, *args: line_only(
        line, np.zeros_like(seen_inside), *args))
    shown_without = opening_shown()
    assert off_the_corners(shown) == 0 and off_the_corners(shown_without) > 5 * scale  # measured 0 and 98
    assert not (shown & ~shown_without).any()
    assert shown.any()  # the corners' own dark, beyond the line's ends, left as it is (all of it covered otherwise)


def test_a_smile_taken_away_narrows_the_mouth_no_further_than_a_face_at_rest(basis, broad_smile):
    """The basis's smile narrows a mouth some 0.3 inter-ocular distances per unit, and a broad smile is taken away as
    1.5 times G_exp's reading (``smile_as_real``): broad smiles closed to neutral came out narrower than nearly every
    face at rest, pursed. Taken away to closed lips (neutral, sadness), the smile's motion across is cut so that
    the mouth is as narrow as ``smile_width_floor`` and no narrower; its corners come down as far. A target that
    keeps the smile, or opens the mouth (surprise's narrow "O"), moves as the basis does."""
    points = broad_smile.landmarks.points

    def width(motion: np.ndarray) -> float:
        return geometry_readings(points + motion * SIZE)["mouth_width"]

    source = np.array(BROAD_SMILE, np.float32)
    source[au_index(12)] = REAL_SMILE_GAIN  # as smile_as_real reads this mouth, as wide as a smile's
    floor = smile_width_floor(points)
    assert REST_WIDTH_FLOOR < floor < geometry_readings(points)["mouth_width"]
    for target in (np.zeros(NUM_AUS, np.float32), edit_vector("sad")):
        plain, kept = basis.motion(source, target), smile_width_kept(points, source, target, basis, SIZE)
        assert width(plain) < floor - 0.1  # measured 0.75 and 0.79 against 0.92
        assert width(kept) == pytest.approx(floor, abs=2e-3)
        down = eye_frame(points)[2][1]  # the face's own down: the cut is along its eye line
        np.testing.assert_allclose(kept @ down, plain @ down, atol=1e-7)  # the corners lowered as far
    frown = np.array(source, np.float32)
    frown[au_index(4)] = 0.7  # the smile kept
    for target in (frown, edit_vector("surprised")):
        np.testing.assert_array_equal(smile_width_kept(points, source, target, basis, SIZE),
                                      basis.motion(source, target))
    motion = mesh_motion(broad_smile.crop, points, BROAD_SMILE, np.zeros(NUM_AUS, np.float32), basis)
    assert geometry_readings(motion.target_points)["mouth_width"] == pytest.approx(floor, abs=2e-3)
