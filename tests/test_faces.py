import csv
import os
import sys

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.data.datasets import build_dataset
from lsgan.data.faces import (
    DLIB68,
    AlignedFace,
    FRAME_GREY,
    MEDIAPIPE_NOISE,
    TURNED_SEARCH_SIDE,
    COARSE_BLUR_SIGMA,
    DetectedFace,
    FaceAligner,
    FaceTemplate,
    Landmarks,
    blurred_mask,
    crop_to_photo,
    feathered_hull,
    frame,
    landmark_region_masks,
    MEDIAPIPE478,
    MediapipeDetector,
    landmarks_to_parsing,
    native_stderr_without,
    unturn_matrix,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.data.images import resize_image, to_uint8
from lsgan.errors import InputImageError, NoFaceError
from lsgan.facs import AU_COLUMNS
from lsgan.parsing import CLASS_INDEX

SIZE = 128


@pytest.fixture(scope="module")
def aligner():
    with FaceAligner(SIZE) as face_aligner:
        yield face_aligner


@pytest.fixture(scope="module")
def aligned(aligner, astronaut):
    return aligner.align(astronaut, name="astronaut")


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_unturn_matrix_takes_a_turned_photo_s_pixels_back_to_the_photo_s(turns):
    photo = np.zeros((5, 8), np.uint8)
    photo[1, 6] = 1  # x 6, y 1
    turned = np.rot90(photo, turns)
    y, x = np.argwhere(turned)[0]
    np.testing.assert_allclose(unturn_matrix(turns, photo.shape) @ [x, y, 1.0], [6, 1])


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_face_lying_down_or_upside_down_is_found_and_aligned_upright(aligner, astronaut, turns):
    """The detectors find faces within about 45 degrees of upright: a tight portrait a quarter turn off (a phone
    photo whose orientation was lost) or upside down had "no face found". Now the photo is looked at turned too, and
    the face's landmarks come back in its own pixels: the crop is upright, as the upright photo's, and the nose tip
    where the photo has it."""
    portrait = np.ascontiguousarray(astronaut[55:185, 160:290])  # her face, 1.25 times its box
    upright = aligner.align(portrait, name="portrait")
    turned = np.ascontiguousarray(np.rot90(portrait, turns))
    face = aligner.align(turned, name="turned")
    assert np.abs(face.crop.astype(int) - upright.crop.astype(int)).mean() < 12
    nose = cv2.invertAffineTransform(face.matrix) @ [*face.landmarks.points[1], 1.0]  # the turned photo's pixels
    upright_nose = cv2.invertAffineTransform(upright.matrix) @ [*upright.landmarks.points[1], 1.0]
    np.testing.assert_allclose(unturn_matrix(turns, portrait.shape) @ [*nose, 1.0], upright_nose, atol=4)


def test_astronaut_face_is_found_and_aligned_to_the_template(aligned):
    assert aligned.crop.shape == (SIZE, SIZE, 3) and aligned.crop.dtype == np.uint8
    assert aligned.landmarks.points.shape == (478, 2)
    np.testing.assert_allclose(aligned.landmarks.anchors(), FaceTemplate().points(SIZE), atol=0.04 * SIZE)
    x0, y0, x1, y1 = aligned.box
    assert 150 < (x0 + x1) / 2 < 260 and 60 < (y0 + y1) / 2 < 180  # her face, not the flag or the suit


def test_dlib_fallback_agrees_with_mediapipe(aligned, astronaut):
    with FaceAligner(SIZE, backend="dlib") as dlib_aligner:
        by_dlib = dlib_aligner.align(astronaut)
    assert by_dlib.landmarks.points.shape == (68, 2)
    np.testing.assert_allclose(by_dlib.landmarks.anchors(), aligned.landmarks.anchors(), atol=0.03 * SIZE)


def test_paste_back_of_unchanged_crop_restores_the_photo(aligner, aligned, astronaut):
    restored = aligner.paste_back(astronaut, aligned.crop, aligned)
    assert restored.shape == astronaut.shape and restored.dtype == np.uint8
    changed = np.any(restored != astronaut, axis=2)
    x0, y0, x1, y1 = aligned.box
    ys, xs = np.nonzero(changed)
    assert x0 - 20 < xs.min() and xs.max() < x1 + 20 and y0 - 40 < ys.min() and ys.max() < y1 + 20
    difference = np.abs(restored.astype(int) - astronaut.astype(int))
    assert difference[changed].mean() < 6


def test_paste_back_changes_only_the_face(aligner, aligned, astronaut):
    black = np.zeros_like(aligned.crop)
    pasted = aligner.paste_back(astronaut, black, aligned)
    mask = aligner.face_mask(aligned)
    assert mask.max() == pytest.approx(1.0) and mask[0, 0] == 0
    nose = aligned.landmarks.points[1]  # mesh point 1: nose tip, deep inside the face
    nose_in_photo = np.linalg.solve(aligned.matrix[:, :2], nose - aligned.matrix[:, 2])
    assert pasted[int(nose_in_photo[1]), int(nose_in_photo[0])].max() < 10
    outside = np.ones(astronaut.shape[:2], bool)
    x0, y0, x1, y1 = (int(v) for v in aligned.box)
    outside[max(0, y0 - 60):y1 + 20, max(0, x0 - 20):x1 + 20] = False
    np.testing.assert_array_equal(pasted[outside], astronaut[outside])
    with pytest.raises(InputImageError, match="edited crop"):
        aligner.paste_back(astronaut, black[:64], aligned)


def test_all_faces_largest_first(aligner, astronaut):
    face = astronaut[40:260, 120:330]
    group = np.full((300, 600, 3), 200, np.uint8)
    group[40:260, 10:220] = face
    group[100:210, 400:505] = resize_image(face, (105, 110))
    faces = aligner.align_all(group)
    assert len(faces) == 2
    assert faces[0].box[0] < 300 < faces[1].box[0]  # the big one first
    assert aligner.align(group).box == faces[0].box


def test_small_faces_in_a_large_photo_are_found_in_its_tiles_once_each(aligner, astronaut):
    """A wide shot: faces of some 60-70 px in a 12 MP photo, a tenth of what the detector sees of the whole photo
    at 192 px. Its tiles find each face once (faces across a tile edge, whole in the neighbour)."""
    face = resize_image(np.ascontiguousarray(astronaut[30:280, 110:360]), (100, 100))  # the face some 65 px wide
    photo = np.full((3000, 4000, 3), 150, np.uint8)
    corners = [(400, 300), (1500, 1000), (2440, 1500), (3000, 2600), (505, 2700)]  # (1500, 1000): across tile edges
    for x, y in corners:
        photo[y:y + 100, x:x + 100] = face
    faces = aligner.detect(photo)
    centres = sorted(((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in faces)
    assert len(faces) == len(corners)
    np.testing.assert_allclose(centres, sorted((x + 50, y + 50) for x, y in corners), atol=15)
    assert all(f.landmarks.scheme.name == "mediapipe478" for f in faces)


def test_turn_is_where_the_nose_tip_lies_between_the_eyes(aligned, astronaut, aligner):
    frontal = aligned.landmarks.turn()  # landmarks in crop pixels: the turn does not depend on the alignment
    assert 0.4 < frontal < 0.6
    tilted = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((256, 256), 40, 0.8), (512, 512))
    assert abs(aligner.align(tilted).landmarks.turn() - frontal) < 0.03
    points = aligned.landmarks.points.copy()
    left, right, _ = aligned.landmarks.anchors()
    points[1] = right + 0.3 * (right - left)  # the nose tip past the image-right eye: a profile
    from lsgan.data.faces import Landmarks

    assert Landmarks(points, aligned.landmarks.scheme).turn() == pytest.approx(1.3)


def test_a_tilted_face_is_meshed_again_turned_upright(aligner, astronaut, monkeypatch):
    """mediapipe's mesh of a face tilted 40 degrees strays from the mesh of the same face upright, most round the
    mouth: a face tilted more than ``UPRIGHT_ROLL`` is meshed again in a crop turned upright round it, which comes
    nearer the upright mesh; an upright face is meshed once, in the crop round its box."""
    from lsgan.data.faces import affine_points
    from lsgan.data.mesh_basis import LIP_CONTOURS

    mesher = aligner._mesher
    photo = cv2.copyMakeBorder(astronaut, 256, 256, 256, 256, cv2.BORDER_CONSTANT, value=(FRAME_GREY,) * 3)
    [upright] = aligner.detect(photo)
    turn = cv2.getRotationMatrix2D((512.0, 512.0), -40.0, 1.0)  # clockwise in the picture
    tilted = cv2.warpAffine(photo, turn, (1024, 1024), borderValue=(FRAME_GREY,) * 3)
    crops: list[np.ndarray] = []
    mesh_in = mesher._mesh_in
    monkeypatch.setattr(mesher, "_mesh_in", lambda image, to_crop: crops.append(to_crop) or mesh_in(image, to_crop))
    [face] = aligner.detect(tilted)
    assert face.landmarks.roll() == pytest.approx(upright.landmarks.roll() + 40.0, abs=1.0) and len(crops) == 2
    assert Landmarks(affine_points(face.landmarks.points, crops[1]), MEDIAPIPE478).roll() == pytest.approx(0, abs=3)
    back = cv2.invertAffineTransform(turn)
    lips = sorted({point for contour in LIP_CONTOURS for point in contour})
    eye_distance = float(np.linalg.norm(np.subtract(*upright.landmarks.anchors()[:2])))

    def strays(points: np.ndarray) -> float:  # from the upright mesh round the lips, inter-ocular distances
        return float(np.linalg.norm(affine_points(points, back)[lips] - upright.landmarks.points[lips], axis=1).mean()
                     / eye_distance)

    assert strays(face.landmarks.points) < strays(mesh_in(tilted, crops[0]))  # measured 0.007 against 0.024
    crops.clear()
    assert mesher.mesh_in_box(photo, upright.box) is not None and len(crops) == 1


def test_a_face_that_fills_the_whole_photo_is_found_in_a_grey_frame(aligner, astronaut):
    """The astronaut cropped inside her face (forehead and chin cut off) and enlarged: neither detector finds a
    face that fills the picture so, but framed in grey they do; its box and mesh come back in the photo's pixels."""
    from lsgan.data.faces import affine_points

    inside = (slice(91, 148), slice(196, 253))  # 57 px inside her detector box (66-173, 171-278)
    photo = resize_image(np.ascontiguousarray(astronaut[inside]), (300, 300))
    assert aligner._detect(photo) == []  # as it is: nothing
    [face] = aligner.detect(photo)
    whole = aligner.align(astronaut)
    eyes = affine_points(whole.landmarks.anchors()[:2], cv2.invertAffineTransform(whole.matrix))  # astronaut px
    expected = (eyes - [196, 91]) * 300 / 57
    np.testing.assert_allclose(face.landmarks.anchors()[:2], expected, atol=0.05 * 300)  # measured 1-4 px
    framed, margin = frame(photo)
    assert framed.shape == (300 + 2 * margin, 300 + 2 * margin, 3) and margin == 60
    np.testing.assert_array_equal(framed[margin:-margin, margin:-margin], photo)
    assert (framed[:margin] == FRAME_GREY).all()


def test_a_small_photo_of_small_faces_asks_dlib_too_a_portrait_does_not(aligner, astronaut, monkeypatch):
    """A 632×474 photo of five heads of 80 px: mediapipe reads it whole (too small for tiles) and finds two; as its
    faces are all small in the photo, dlib is asked too, and the faces it adds are meshed. A portrait is not."""
    head = resize_image(np.ascontiguousarray(astronaut[40:260, 120:330]), (80, 80))
    photo = np.full((474, 632, 3), 150, np.uint8)
    for x, y in [(65, 79), (276, 79), (487, 79), (65, 316), (276, 316)]:
        photo[y:y + 80, x:x + 80] = head
    faces = aligner.detect(photo)
    assert len(faces) == 5 and all(f.landmarks.scheme.name == "mediapipe478" for f in faces)
    asked = []
    dlib = aligner._backends[1]
    monkeypatch.setattr(dlib, "boxes", lambda image: asked.append(image.shape) or [])
    assert len(aligner.detect(np.ascontiguousarray(astronaut[0:300, 100:400]))) == 1 and not asked


def test_tiles_cover_the_image_and_overlapping_boxes_are_one_face():
    from lsgan.data.faces import _cut_by_tile, _new_faces, tiles

    image = np.zeros((1300, 2100, 3), np.uint8)
    placed = [(x0, y0, tile.shape[:2]) for x0, y0, tile in tiles(image, (1024, 512), 0.75)]
    assert {shape for *_, shape in placed} == {(1024, 1024), (512, 512)}
    for side in (1024, 512):
        covered = np.zeros(image.shape[:2], bool)
        for x0, y0, _ in (p for p in placed if p[2][0] == side):
            covered[y0:y0 + side, x0:x0 + side] = True
        assert covered.all()  # the last tile of each row and column is flush with the edge
    assert not list(tiles(np.zeros((600, 640, 3), np.uint8), (1024, 512), 0.75))  # small photos: the whole only
    known = [(100.0, 100.0, 200.0, 200.0)]
    boxes = [(120.0, 110.0, 190.0, 210.0), (400.0, 400.0, 450.0, 450.0), (410.0, 405.0, 455.0, 452.0)]
    assert _new_faces(boxes, known) == [boxes[1]]  # the first overlaps a known face, the third the second
    tile = (512.0, 0.0, 1024.0, 512.0)
    assert _cut_by_tile((514.0, 100.0, 600.0, 190.0), tile, image.shape)  # at the tile's inner left edge
    assert not _cut_by_tile((600.0, 2.0, 700.0, 90.0), tile, image.shape)  # at its top: the image's own edge


@pytest.mark.parametrize("kind", ["grey", "noise"])
def test_no_face_names_the_file(aligner, save_png, rng, kind):
    photo = np.full((200, 200, 3), 128, np.uint8) if kind == "grey" else rng.integers(0, 256, (200, 200, 3),
                                                                                       dtype=np.uint8)
    path = save_png(f"{kind}.png", photo)
    with pytest.raises(NoFaceError, match=f"{kind}.png: no face found"):
        aligner.align(path)


def test_parsing_and_region_masks_from_landmarks(aligned):
    labels = landmarks_to_parsing(aligned.landmarks, SIZE)
    assert labels.shape == (SIZE, SIZE) and labels.dtype == np.uint8
    present = set(np.unique(labels).tolist())
    wanted = {"background", "skin", "nose", "left_brow", "right_brow", "left_eye", "right_eye", "upper_lip",
              "lower_lip", "mouth_interior"}
    assert {CLASS_INDEX[name] for name in wanted} <= present
    left_x = np.nonzero(labels == CLASS_INDEX["left_eye"])[1].mean()
    right_x = np.nonzero(labels == CLASS_INDEX["right_eye"])[1].mean()
    assert left_x < SIZE / 2 < right_x  # image-left, as parsing.py defines
    upper_y = np.nonzero(labels == CLASS_INDEX["upper_lip"])[0].mean()
    assert upper_y < np.nonzero(labels == CLASS_INDEX["lower_lip"])[0].mean()

    masks = landmark_region_masks(aligned.landmarks, SIZE)
    assert masks.shape == (3, SIZE, SIZE) and masks.dtype == np.float32
    np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-5)
    (lx, ly), (rx, ry), (mx, my) = np.round(aligned.landmarks.anchors()).astype(int)
    assert masks[0, ly, lx] > 0.9 and masks[0, ry, rx] > 0.9 and masks[1, my, mx] > 0.9
    assert masks[2, 2, 2] == 1.0
    eye_class_area = np.isin(labels, [CLASS_INDEX[n] for n in ("left_eye", "left_brow", "right_eye",
                                                                "right_brow")]).mean()
    assert masks[0].mean() > 1.5 * eye_class_area  # enlarged, as the paper's SMG regions


def test_prepare_skips_bad_photos_and_writes_a_synthfacs_layout(tmp_path, save_png, astronaut, rng):
    save_png("photos/astro.jpg", astronaut)
    save_png("photos/astro_small.png", resize_image(astronaut, 256))
    save_png("photos/grey.png", np.full((120, 120, 3), 128, np.uint8))
    (tmp_path / "photos/broken.jpg").write_bytes(b"not a jpeg")
    names = ["astro.jpg", "astro_small.png", "grey.png", "broken.jpg", "missing.png"]
    with open(tmp_path / "aus.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image", "identity", "emotion", *AU_COLUMNS])
        for name in names:
            writer.writerow([name, "eileen", "happy", *np.round(rng.uniform(0, 5, 16), 2)])
    out = tmp_path / "prepared"
    args = ["data", "prepare", str(tmp_path / "photos"), "--out", str(out), "--csv", str(tmp_path / "aus.csv"),
            "--size", "64", "--au-scale", "5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote 2 faces" in result.output and "3 skipped" in result.output
    with open(out / "skipped.csv") as fh:
        skipped = {row["file"].rsplit("/", 1)[-1]: row["reason"] for row in csv.DictReader(fh)}
    assert set(skipped) == {"grey.png", "broken.jpg", "missing.png"}
    assert "no face found" in skipped["grey.png"] and "not a readable image" in skipped["broken.jpg"]

    dataset = build_dataset("synthfacs", out, "all", 64, with_labels=True)
    assert len(dataset) == 2 and dataset.identities == ["0"]
    item = dataset[0]
    assert item["image"].shape == (3, 64, 64) and item["aus"].max() <= 1
    assert (item["labels"] == CLASS_INDEX["skin"]).float().mean() > 0.1
    check = CliRunner().invoke(app, ["data", "check", str(out)])
    assert check.exit_code == 0 and "(synthfacs): 2 usable images" in check.output


def test_prepare_without_alignment_keeps_the_crop_and_draws_labels(tmp_path, save_png, aligned):
    save_png("crops/face.png", aligned.crop)
    with open(tmp_path / "aus.csv", "w") as fh:
        fh.write("image," + ",".join(AU_COLUMNS) + "\nface.png," + ",".join(["0.5"] * 16) + "\n")
    out = tmp_path / "prepared"
    args = ["data", "prepare", str(tmp_path / "crops"), "--out", str(out), "--csv", str(tmp_path / "aus.csv"),
            "--size", str(SIZE), "--no-align", "--backend", "mediapipe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    item = build_dataset("synthfacs", out, "all", SIZE, with_labels=True)[0]
    np.testing.assert_array_equal(to_uint8(item["image"]), aligned.crop)
    expected = landmarks_to_parsing(aligned.landmarks, SIZE)
    assert (item["labels"].numpy() == expected).mean() > 0.9
    assert item["aus"].tolist() == [0.5] * 16


@pytest.mark.parametrize("backend", ["mediapipe", "dlib"])
def test_large_photos_are_searched_on_a_small_copy_and_landmarked_on_the_photo(astronaut, backend, monkeypatch):
    import cv2

    from lsgan.data import faces

    seen = []
    original = faces.search_copy
    monkeypatch.setattr(faces, "search_copy", lambda photo: seen.append(photo.shape) or original(photo))
    big = cv2.resize(astronaut, (3072, 3072), interpolation=cv2.INTER_CUBIC)  # 6x: 9.4 MP
    with FaceAligner(size=64, backend=backend) as aligner:
        small_face = aligner.detect(astronaut)[0]
        big_face = aligner.detect(big)[0]
    assert seen[-1] == big.shape
    assert max(original(big)[0].shape[:2]) == faces.SEARCH_MAX_SIDE
    np.testing.assert_allclose(np.asarray(big_face.box) / 6, small_face.box, atol=10)  # HOG boxes vary with scale
    centre_error = np.abs(big_face.landmarks.points / 6 - small_face.landmarks.points).mean()
    assert centre_error < 2.0  # the same face, landmarked at full size


def test_dlib_s_models_load_only_when_dlib_is_asked(astronaut):
    """A face mediapipe finds, large in its photo, never asks dlib: neither of its models is read. A tight crop that
    only dlib finds loads its detector, not its 100 MB predictor (1 s): mediapipe meshes the face in dlib's box,
    and the 68 points would go unused. Without the mesh (``backend="dlib"``) the predictor gives the landmarks."""
    tight = np.ascontiguousarray(astronaut[40:170, 160:240])
    with FaceAligner(SIZE) as fresh:
        dlib = fresh._backends[1]
        portrait = np.ascontiguousarray(astronaut[0:320, 90:410])  # the face a third of the photo, hair round it
        assert fresh.detect(portrait) and "_detector" not in vars(dlib) and "_predictor" not in vars(dlib)
        [face] = fresh.detect(tight)
        assert face.landmarks.scheme is MEDIAPIPE478 and "_detector" in vars(dlib) and "_predictor" not in vars(dlib)
    with FaceAligner(SIZE, backend="dlib") as dlib_only:
        assert dlib_only.detect(tight)[0].landmarks.scheme is DLIB68 and "_predictor" in vars(dlib_only._backends[0])


def test_a_face_only_dlib_finds_still_gets_the_mediapipe_mesh(aligner, astronaut):
    tight = np.ascontiguousarray(astronaut[40:170, 160:240])  # the face fills the photo: mediapipe's detector misses
    assert aligner._backends[0].detect(tight) == [] and aligner._backends[1].detect(tight)
    face = aligner.align(tight, name="tight")
    assert face.landmarks.points.shape == (478, 2) and face.landmarks.scheme.name == "mediapipe478"
    np.testing.assert_allclose(face.landmarks.anchors(), FaceTemplate().points(SIZE), atol=0.04 * SIZE)



def test_a_dropped_chin_keeps_a_crisp_edge_and_the_rest_of_the_face_its_feather(aligner, aligned, astronaut):
    """photo_moved_face_mask: where an edit moves the face beyond its hull (a dropped chin), the mask stays near 1
    up to the moved edge (a wide feather blended the chin into the collar as a glow); elsewhere it is the feathered
    moved hull, and 0 outside that hull."""
    points = aligned.landmarks.points
    chin = 152
    moved = points.copy()
    lower = points[:, 1] > points[13, 1]  # everything below the upper lip drops
    moved[lower, 1] += 0.06 * SIZE * (points[lower, 1] - points[13, 1]) / (points[chin, 1] - points[13, 1])
    shape = astronaut.shape
    wide = aligner.photo_face_mask(aligned, shape, moved)
    mask = aligner.photo_moved_face_mask(aligned, shape, moved)
    to_photo = cv2.invertAffineTransform(aligned.matrix)
    new_chin, old_chin = (np.array([moved[chin], points[chin]]) @ to_photo[:, :2].T + to_photo[:, 2])
    x, y = np.round(new_chin).astype(int)
    inside = y - 3  # photo pixels above the moved chin's edge
    assert mask[inside, x] > 0.9 > 0.5 > wide[inside, x]
    assert mask[y + 3, x] == 0 and (mask >= wide).all()
    forehead = np.round(points[10] @ to_photo[:, :2].T + to_photo[:, 2]).astype(int)  # far from the drop
    window = (slice(forehead[1], forehead[1] + 15), forehead[0])
    np.testing.assert_allclose(mask[window], wide[window])
    assert old_chin[1] < new_chin[1]


def _hull_mask(height: int, width: int, seed: int) -> np.ndarray:
    """A float32 [height, width] convex blob of ones (a random hull in the middle), zeros round it."""
    points = np.random.default_rng(seed).random((12, 2)) * [width * 0.6, height * 0.6] + [width * 0.2, height * 0.2]
    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points.astype(np.int32)), 1)
    return hull.astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(sigma=st.floats(2 * COARSE_BLUR_SIGMA, 9 * COARSE_BLUR_SIGMA), height=st.integers(40, 700),
       width=st.integers(40, 700), seed=st.integers(0, 2 ** 16))
def test_a_wide_feather_made_on_blocks_is_the_full_resolution_blur(sigma, height, width, seed):
    """blurred_mask makes a wide Gaussian on blocks of pixels (a large face's feather had cost 2 s of a 5 s edit):
    within 2e-3 of OpenCV's blur at full resolution (half a uint8 level where it blends; measured up to 0.0011,
    blocks of an odd number of pixels erring most), borders included, whatever the mask's size against its blocks."""
    mask = _hull_mask(height, width, seed)
    np.testing.assert_allclose(blurred_mask(mask, sigma), cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma), atol=2e-3)


@pytest.mark.parametrize("sigma", [32.0, 48.0, 64.0])
def test_a_feather_on_blocks_of_an_even_side_takes_the_blocks_variance_off(sigma):
    """On blocks of an even number of pixels the blur on blocks is within 1e-3 of OpenCV's (measured 0.0003-0.0006
    on these masks; 0.0012-0.0019 with the variance that the blocks and their bilinear read add left on)."""
    for seed in range(3):
        mask = _hull_mask(300 + 97 * seed, 420 - 61 * seed, seed)
        error = np.abs(blurred_mask(mask, sigma) - cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma)).max()
        assert error < 1e-3


def test_a_narrow_feather_is_opencv_s_own_blur():
    mask = _hull_mask(300, 400, 0)
    sigma = 2 * COARSE_BLUR_SIGMA - 0.01
    np.testing.assert_array_equal(blurred_mask(mask, sigma), cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma))


def test_a_large_face_s_feathered_hull_is_zero_outside_it_and_one_well_inside():
    """feathered_hull with a feather wide enough to be made on blocks keeps its promises: 0 outside the hull
    exactly, 1 (to float precision) well inside it, 0-1 between."""
    side = 2400
    points = np.array([[500.0, 400], [1900, 500], [2000, 1900], [600, 2100], [300, 1200]])
    radius = 4 * COARSE_BLUR_SIGMA * 4  # a Gaussian of sigma radius / 2: blocks of 4 pixels
    mask = feathered_hull(points, side, 0.0, radius=radius)
    hull = np.zeros((side, side), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    assert (mask[hull == 0] == 0).all() and mask.min() >= 0 and mask.max() <= 1 + 1e-6
    inner = cv2.distanceTransform(hull, cv2.DIST_L2, 5) > 4 * radius
    np.testing.assert_allclose(mask[inner], 1.0, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(angle=st.floats(-np.pi, np.pi), scale=st.floats(0.08, 4.0), shape=st.tuples(st.integers(20, 500),
       st.integers(20, 500)), centre=st.tuples(st.floats(-0.3, 1.3), st.floats(-0.3, 1.3)), seed=st.integers(0, 99))
def test_a_crop_goes_back_onto_its_footprint_as_onto_the_whole_photo(angle, scale, shape, centre, seed):
    """crop_to_photo warps only the crop's footprint (five faces' masks on a 48-megapixel photo took 4 s warped onto
    the whole photo each): the same values as the whole photo's warp, the blurred rim of an enlarged crop (half a
    crop pixel, up to 6 photo pixels here) and crops partly or wholly off the photo included; 0 elsewhere."""
    height, width = shape
    side = 32
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    middle = np.array([centre[0] * width, centre[1] * height])  # where the crop's middle lies on the photo
    matrix = np.column_stack([rotation, side / 2 - rotation @ middle])  # photo -> crop
    array = np.random.default_rng(seed).random((side, side, 3)).astype(np.float32)
    aligned = AlignedFace(np.zeros((side, side, 3), np.uint8), matrix, None, (0.0, 0.0, 1.0, 1.0))
    whole = cv2.warpAffine(array, cv2.invertAffineTransform(matrix), (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    np.testing.assert_allclose(crop_to_photo(array, aligned, (height, width, 3)), whole, atol=1e-6)


def test_an_edit_of_a_photo_lying_down_goes_back_where_its_face_is(astronaut):
    """The edit of a tight portrait turned a quarter moves the same pixels as the upright portrait's, turned."""
    from lsgan.editing import Editor

    portrait = np.ascontiguousarray(astronaut[55:185, 160:290])
    turned = np.ascontiguousarray(np.rot90(portrait, 1))
    with Editor.from_pretrained() as editor:
        upright_edit = editor.edit(portrait, emotion="surprised").image
        turned_edit = editor.edit(turned, emotion="surprised").image
    assert turned_edit.shape == turned.shape
    moved = np.abs(upright_edit.astype(int) - portrait.astype(int)).max(axis=-1) > 10
    turned_moved = np.rot90(np.abs(turned_edit.astype(int) - turned.astype(int)).max(axis=-1) > 10, -1)
    assert moved.sum() > 300 and (moved & turned_moved).sum() / (moved | turned_moved).sum() > 0.6


def test_a_large_photo_lying_down_is_searched_small_and_its_face_given_in_its_own_pixels(aligner, astronaut):
    """The turned search reads a copy at most ``TURNED_SEARCH_SIDE`` large; the face comes back in the photo's own
    pixels: the astronaut's portrait enlarged to 780 px, turned a quarter, has its nose tip where the upright
    one's is (within 2 % of the photo's side)."""
    portrait = cv2.resize(np.ascontiguousarray(astronaut[55:185, 160:290]), (780, 780), interpolation=cv2.INTER_CUBIC)
    assert max(portrait.shape[:2]) > TURNED_SEARCH_SIDE
    upright = aligner.align(portrait, name="portrait")
    turned = np.ascontiguousarray(np.rot90(portrait, 1))
    face = aligner.align(turned, name="turned")
    nose = cv2.invertAffineTransform(face.matrix) @ [*face.landmarks.points[1], 1.0]
    upright_nose = cv2.invertAffineTransform(upright.matrix) @ [*upright.landmarks.points[1], 1.0]
    np.testing.assert_allclose(unturn_matrix(1, portrait.shape) @ [*nose, 1.0], upright_nose, atol=0.02 * 780)


def test_a_face_found_in_a_smaller_copy_is_enlarged_pixel_centre_to_pixel_centre():
    small = DetectedFace((0.0, 0.0, 1.0, 1.0), Landmarks(np.array([[0.0, 0.0], [1.0, 1.0]]), DLIB68))
    large = small.enlarged(2.0)
    assert large.box == (0.5, 0.5, 2.5, 2.5)
    np.testing.assert_allclose(large.landmarks.points, [[0.5, 0.5], [2.5, 2.5]])


def test_a_mesh_is_seen_upright_only_where_the_photo_shows_its_face_so(aligner, astronaut):
    """dlib takes a face lying askew for an upright one now and then, and the mesh run in its box makes an upright
    face of it (Kim Kardashian's portrait turned 120 degrees: its edit painted a mouth by an eye). Such a mesh is not
    taken as found (``shows_face``): the astronaut's own mesh is seen upright on her photo, and not on the photo
    turned upside down about her face, where it claims an upright face."""
    mesher = aligner._backends[0]
    mesh = aligner.detect(astronaut)[0].landmarks
    centre = tuple(float(v) for v in mesh.points.mean(axis=0))
    upside_down = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D(centre, 180, 1.0), astronaut.shape[1::-1])
    assert mesher.shows_face(astronaut, mesh)
    assert not mesher.shows_face(upside_down, mesh)


def test_stderr_held_passes_on_all_but_the_noise(capfd):
    with native_stderr_without(("noise",)):
        os.write(2, b"a C++ library's warning\nsome noise\n")
        print("Python's own", file=sys.stderr)
    err = capfd.readouterr().err
    assert "a C++ library's warning\n" in err and "Python's own\n" in err and "noise" not in err


def test_mediapipe_s_graphs_start_without_their_models_log_lines(astronaut, capfd):
    detector = MediapipeDetector()
    try:
        assert detector.detect(astronaut)
    finally:
        detector.close()
    err = capfd.readouterr().err
    assert not [text for text in MEDIAPIPE_NOISE if text in err], err
