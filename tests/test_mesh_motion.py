"""The AU mesh basis (data.mesh_basis) and the mesh motion of an edit (editing.mesh_motion, Editor motion)."""

import numpy as np
import pytest

from edit_support import face_files, lsgan, synth_faces, tiny_bundle  # noqa: F401  (pytest fixtures)
from lsgan.data.faces import MEDIAPIPE478, FaceAligner
from lsgan.data.mesh_basis import MeshBasis, MeshBasisSettings, build_mesh_basis
from lsgan.editing.editor import Editor, EditorConfig, EditorConfigError
from lsgan.editing.fields import apply_field
from lsgan.editing.mesh_motion import mesh_motion
from lsgan.errors import CheckpointError
from lsgan.facs import NUM_AUS, au_index, au_vector

SIZE = 64
CHIN, UPPER_LIP, LOWER_LIP = 152, 13, 14
CORNERS = (61, 291)  # image-right corner 61 is the subject's right
BROW_TOPS = (105, 334)


@pytest.fixture(scope="module")
def basis() -> MeshBasis:
    return MeshBasis.load()


@pytest.fixture(scope="module")
def closed_mouth() -> np.ndarray:
    """A SynthFACS face with its mouth closed, in the middle of a larger grey photo."""
    from lsgan.data.synthfacs import render, sample_identity

    photo = np.full((400, 400, 3), 128, np.uint8)
    photo[72:328, 72:328] = render(sample_identity(5), np.zeros(NUM_AUS), 256).image
    return photo


@pytest.fixture(scope="module")
def face(closed_mouth):
    with FaceAligner(SIZE) as aligner:
        return aligner.align(closed_mouth)


def motion_of(basis: MeshBasis, au: int, amount: float = 1.0) -> np.ndarray:
    return basis.motion(np.zeros(NUM_AUS), au_vector({au: amount})) * SIZE  # [478, 2] crop pixels


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


def test_a_basis_round_trips_and_a_damaged_one_is_refused(basis, tmp_path):
    path = basis.save(tmp_path / "basis.safetensors")
    again = MeshBasis.load(path)
    np.testing.assert_array_equal(again.displacements, basis.displacements)
    np.testing.assert_array_equal(again.pair_displacements, basis.pair_displacements)
    assert again.settings == basis.settings
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable mesh basis"):
        MeshBasis.load(path)


def test_building_the_basis_again_on_one_face_agrees_with_the_shipped_one(basis):
    one = build_mesh_basis(MeshBasisSettings(identities=1, levels=(1.0,), first_identity=3))
    for au in (2, 12, 26):
        k = au_index(au)
        a, b = one.displacements[k].ravel(), basis.displacements[k].ravel()
        assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.7


def test_no_au_change_means_no_motion_and_no_paint(basis, face):
    motion = mesh_motion(face.crop, face.landmarks.points, au_vector({12: 0.4}), au_vector({12: 0.4}), basis)
    assert motion.flow.shape == (2, SIZE, SIZE) and not motion.flow.any()
    assert motion.paint.shape == (4, 4 * SIZE, 4 * SIZE) and not motion.paint[3].any()
    np.testing.assert_allclose(motion.target_points, face.landmarks.points, atol=1e-4)


def test_a_dropped_jaw_samples_the_source_chin_and_paints_the_opened_mouth(basis, face):
    points = face.landmarks.points
    motion = mesh_motion(face.crop, points, np.zeros(NUM_AUS), au_vector({25: 1.0, 26: 1.0}), basis)
    moved_chin = motion.target_points[CHIN]
    x, y = np.round(moved_chin).astype(int)
    back = motion.flow[:, y, x] * SIZE / 2  # crop pixels
    assert moved_chin[1] - points[CHIN, 1] > 3  # pixels
    np.testing.assert_allclose(moved_chin + back, points[CHIN], atol=1.0)  # the field is smoothed a little
    mouth = motion.target_points[[UPPER_LIP, LOWER_LIP]].mean(axis=0)
    px, py = np.round((mouth + 0.5) * 4 - 0.5).astype(int)
    assert motion.paint[3, py, px] > 0.9  # the new opening is covered
    eye = points[list(MEDIAPIPE478.left_eye)].mean(axis=0)
    ex, ey = np.round((eye + 0.5) * 4 - 0.5).astype(int)
    assert motion.paint[3, ey, ex] == 0 and abs(motion.flow[1, round(eye[1]), round(eye[0])]) < 0.01


def test_paint_replaces_pixels_by_its_alpha_and_leaves_the_rest_as_the_warp_made_them():
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


def test_lsgan_edit_refuses_an_unknown_motion(lsgan, face_files):
    run = lsgan("edit", face_files[0], "--emotion", "happy", "--motion", "warp", "--out", face_files[0].parent / "o.png")
    assert run.code != 0 and "motion must be one of mesh, both, model" in run.err
    assert not (face_files[0].parent / "o.png").exists()


def test_the_web_page_chooses_the_motion_per_edit(closed_mouth, save_png):
    from lsgan.editing.web import EditPage, WebConfig

    with Editor.from_pretrained(motion="model") as editor:
        page = EditPage(editor, WebConfig())
        try:
            _, upload, aus, _ = page.load(str(save_png("face.png", closed_mouth)))
            aus[au_index(25)], aus[au_index(26)] = 1.0, 1.0
            by_model, _, _ = page.edit(upload, aus, "every face", "whole face")
            assert editor._mesh_basis is None
            by_mesh, _, _ = page.edit(upload, aus, "every face", "whole face", "mesh")
            assert np.any(by_mesh != by_model) and editor.config.motion == "model"
            with pytest.raises(EditorConfigError, match="motion must be one of"):
                page.edit(upload, aus, "every face", "whole face", "warp")
        finally:
            page.close()
