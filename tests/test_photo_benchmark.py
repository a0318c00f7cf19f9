"""The real-photo measures (``lsgan.metrics.photo``) on known inputs, and ``lsgan eval photos`` end to end on a tiny
folder (the astronaut, an upscaled LFW face that only dlib finds, a blank image) with fake expression classifiers
and editors whose edits are known."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from edit_support import run_lsgan, tiny_bundle  # noqa: F401  (pytest fixture)
from PIL import Image

from lsgan.data.faces import FaceAligner
from lsgan.data.images import read_image, write_image
from lsgan.evaluation.photo_report import contact_sheet, csv_header, report_markdown, results_csv, write_report
from lsgan.evaluation.photos import (
    BOX_JITTERS,
    BenchmarkInputError,
    BenchmarkResult,
    ClassifierRead,
    EditRow,
    jittered_boxes,
    parse_classifier_names,
    parse_emotions,
    run_photo_benchmark,
    summarize,
)
from lsgan.facs import AU_IDS, EMOTIONS
from lsgan.metrics.photo import (
    MESH_POINTS,
    READINGS,
    SAME_PERSON_THRESHOLD,
    FaceDescriber,
    detail_kept,
    expected_sign,
    face_region,
    geometry_change,
    geometry_readings,
    identity_distance,
    outside_change,
)
from lsgan.nets.expression import EXPRESSIONS, ExpressionClassifier

ASTRONAUT_BOX = (175.0, 76.0, 265.0, 166.0)  # dlib's HOG box of Eileen Collins' face in skimage's astronaut


# ---------------------------------------------------------------- metrics on known inputs


@pytest.fixture(scope="module")
def describer() -> FaceDescriber:
    return FaceDescriber()


def test_identity_distance_is_zero_for_the_same_image_and_small_for_the_mirrored_person(astronaut, describer):
    assert describer.distance(astronaut, astronaut.copy(), ASTRONAUT_BOX) == 0.0
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    x0, y0, x1, y1 = ASTRONAUT_BOX
    width = astronaut.shape[1]
    same_person = identity_distance(describer.describe(astronaut, ASTRONAUT_BOX),
                                    describer.describe(mirrored, (width - x1, y0, width - x0, y1)))
    assert 0.0 < same_person < SAME_PERSON_THRESHOLD
    assert describer.describe(astronaut, ASTRONAUT_BOX).shape == (128,)
    assert identity_distance(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == 5.0


def test_detail_kept_is_one_for_a_copy_and_below_one_for_a_blurred_copy(astronaut):
    assert detail_kept(astronaut, astronaut.copy(), ASTRONAUT_BOX) == pytest.approx(1.0)
    blurred = cv2.GaussianBlur(astronaut, (0, 0), sigmaX=2.0)
    assert detail_kept(astronaut, blurred, ASTRONAUT_BOX) < 0.3
    noisy = np.clip(astronaut + np.random.default_rng(0).normal(0, 20, astronaut.shape), 0, 255).astype(np.uint8)
    assert detail_kept(astronaut, noisy, ASTRONAUT_BOX) > 1.0
    flat = np.full((50, 50, 3), 90, np.uint8)
    assert math.isnan(detail_kept(flat, flat, (0, 0, 50, 50)))


def test_outside_change_sees_one_pixel_changed_outside_the_face_and_ignores_changes_inside():
    source = np.full((40, 60, 3), 100, np.uint8)
    hull = np.array([[20.0, 10.0], [40.0, 10.0], [40.0, 30.0], [20.0, 30.0]])
    face = face_region([hull], source.shape, dilation=0.0)
    edit = source.copy()
    edit[15:25, 25:35] = 0  # inside the face
    assert outside_change(source, edit, face).max_abs == 0
    edit[2, 3, 1] = 137  # outside
    change = outside_change(source, edit, face)
    assert change.max_abs == 37
    assert change.changed_share == pytest.approx(1 / int((~face).sum()))
    with pytest.raises(ValueError, match="size"):
        outside_change(source, edit[:, :50], face)


def test_face_region_is_the_hull_dilated_by_a_share_of_its_size_and_covers_every_face():
    square = np.array([[100.0, 100.0], [200.0, 100.0], [200.0, 200.0], [100.0, 200.0]])
    other = square + [200.0, 0.0]
    region = face_region([square, other], (300, 420), dilation=0.05)  # 5 px around a 100 px face
    assert region[150, 150] and region[150, 350]
    assert region[150, 95] and region[150, 205]  # within 5 px of the hull
    assert not region[150, 93] and not region[100 - 7, 150] and not region[150, 250]
    assert face_region([square], (300, 420), dilation=0.0)[150, 99]  # at least 2 px, whatever the dilation


def _canonical_mesh() -> np.ndarray:
    """A 478-point mesh whose measured points sit on a schematic face: eye centres at (±1, 0), so the inter-ocular
    distance is 2, brows 0.6 above the eyes, lids 0.15 above and 0.1 below the corner lines, nose wings at y 1.1,
    nose tip 1.2, nose base 1.3, lips (outer, inner, inner, outer) at 1.75, 1.9, 1.95, 2.15 with the corners at
    2.0, chin 3.0."""
    from lsgan.metrics import photo

    points = np.zeros((MESH_POINTS, 2))
    points[list(photo.EYE_CORNERS_R)] = [(-1.5, 0.0), (-0.5, 0.0)]
    points[list(photo.EYE_CORNERS_L)] = [(1.5, 0.0), (0.5, 0.0)]
    points[list(photo.UPPER_LID_R)] = [(-1.2, -0.15), (-1.0, -0.15), (-0.8, -0.15)]
    points[list(photo.UPPER_LID_L)] = [(1.2, -0.15), (1.0, -0.15), (0.8, -0.15)]
    points[list(photo.LOWER_LID_R)] = [(-1.2, 0.1), (-1.0, 0.1), (-0.8, 0.1)]
    points[list(photo.LOWER_LID_L)] = [(1.2, 0.1), (1.0, 0.1), (0.8, 0.1)]
    points[list(photo.BROW_R)] = np.column_stack([np.tile(np.linspace(-1.6, -0.3, 5), 2), np.full(10, -0.6)])
    points[list(photo.BROW_L)] = np.column_stack([np.tile(np.linspace(1.6, 0.3, 5), 2), np.full(10, -0.6)])
    points[list(photo.INNER_BROW_R)] = (-0.3, -0.6)
    points[list(photo.INNER_BROW_L)] = (0.3, -0.6)
    points[list(photo.NOSE_WINGS)] = [(-0.4, 1.1), (-0.3, 1.2), (0.4, 1.1), (0.3, 1.2)]
    points[list(photo.MOUTH_CORNERS)] = [(-0.8, 2.0), (0.8, 2.0)]
    points[photo.UPPER_LIP_OUTER], points[photo.LOWER_LIP_OUTER] = (0.0, 1.75), (0.0, 2.15)
    points[photo.UPPER_LIP_INNER], points[photo.LOWER_LIP_INNER] = (0.0, 1.9), (0.0, 1.95)
    points[photo.NOSE_TIP], points[photo.NOSE_BASE], points[photo.CHIN] = (0.0, 1.2), (0.0, 1.3), (0.0, 3.0)
    return points


def test_geometry_readings_of_a_known_face_in_inter_ocular_distances():
    readings = geometry_readings(_canonical_mesh())
    assert readings == pytest.approx({
        "brow_height": 0.3, "inner_brow_height": 0.3, "outer_brow_height": 0.3, "brow_asymmetry": 0.0, "brow_gap": 0.3,
        "upper_lid_height": 0.075, "lower_lid_height": 0.05, "eye_aperture": 0.125, "nose_wing_height": 0.575,
        "nose_to_upper_lip": 0.2625, "corner_lift": -0.05, "corner_asymmetry": 0.0, "mouth_width": 0.8,
        "lip_thickness": 0.175,
        "lip_gap": 0.025, "nose_to_lower_lip": 0.425, "jaw_drop": 0.9})


def _facs_movements() -> dict[int, list[tuple[tuple[int, ...], tuple[float, float]]]]:
    """Each AU's appearance change as FACS describes it, as displacements of mesh points on the schematic face
    (face units, y down; R is image-left, so "outwards" is -x on the right side)."""
    from lsgan.metrics import photo as p

    def sides(right: tuple[int, ...], left: tuple[int, ...], dx: float, dy: float):
        return [(right, (-dx, dy)), (left, (dx, dy))]  # dx > 0: away from the midline

    return {
        1: [(p.MEDIAL_BROW_R + p.MEDIAL_BROW_L, (0.0, -0.1))],  # inner brows up
        2: [(p.LATERAL_BROW_R + p.LATERAL_BROW_L, (0.0, -0.1))],  # outer brows up
        4: [(p.BROW_R + p.BROW_L, (0.0, 0.1)), *sides(p.INNER_BROW_R, p.INNER_BROW_L, -0.05, 0.0)],  # down, together
        5: [(p.UPPER_LID_R + p.UPPER_LID_L, (0.0, -0.05))],  # upper lids up
        6: [(p.LOWER_LID_R + p.LOWER_LID_L, (0.0, -0.05))],  # lower lids pushed up
        7: [(p.LOWER_LID_R + p.LOWER_LID_L, (0.0, -0.04)), (p.UPPER_LID_R + p.UPPER_LID_L, (0.0, 0.02))],  # tightened
        9: [(p.NOSE_WINGS, (0.0, -0.08)), ((p.UPPER_LIP_OUTER, p.UPPER_LIP_INNER), (0.0, -0.05))],  # wings, lip up
        10: [((p.UPPER_LIP_OUTER, p.UPPER_LIP_INNER), (0.0, -0.08)), (p.NOSE_WINGS, (0.0, -0.02))],  # upper lip up
        12: sides((p.MOUTH_CORNERS[0],), (p.MOUTH_CORNERS[1],), 0.1, -0.15),  # corners up and out
        14: sides((p.MOUTH_CORNERS[0],), (p.MOUTH_CORNERS[1],), -0.06, -0.01),  # corners in
        15: sides((p.MOUTH_CORNERS[0],), (p.MOUTH_CORNERS[1],), 0.0, 0.1),  # corners down
        17: [((p.LOWER_LIP_INNER, p.LOWER_LIP_OUTER), (0.0, -0.08))],  # lower lip pushed up
        20: sides((p.MOUTH_CORNERS[0],), (p.MOUTH_CORNERS[1],), 0.1, 0.02),  # corners out, a little down
        23: [((p.UPPER_LIP_OUTER,), (0.0, 0.05)), ((p.LOWER_LIP_OUTER,), (0.0, -0.06))],  # red of the lips narrowed
        25: [((p.LOWER_LIP_INNER, p.LOWER_LIP_OUTER), (0.0, 0.1))],  # lips part
        26: [((p.LOWER_LIP_INNER, p.LOWER_LIP_OUTER, p.CHIN), (0.0, 0.3))],  # jaw drops
    }


@pytest.mark.parametrize("au", AU_IDS)
def test_every_au_moves_its_readings_the_way_facs_says(au):
    from lsgan.metrics.photo import AU_READING, READING_AUS

    source = _canonical_mesh()
    moved = source.copy()
    for indices, shift in _facs_movements()[au]:
        moved[list(indices)] += shift
    change = geometry_change(source, moved)
    assert au in READING_AUS[AU_READING[au]]  # every AU has a reading of its own
    for reading, aus in READING_AUS.items():
        if au in aus:
            assert np.sign(change[reading]) == aus[au], (reading, change[reading])


def test_geometry_readings_ignore_head_roll_scale_and_position():
    mesh = _canonical_mesh()
    angle = np.deg2rad(25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = 37.0 * mesh @ rotation.T + [300.0, 210.0]
    assert geometry_readings(moved) == pytest.approx(geometry_readings(mesh))


def test_geometry_change_follows_the_moved_parts():
    from lsgan.metrics import photo

    source = _canonical_mesh()
    smile = source.copy()
    smile[list(photo.MOUTH_CORNERS)] += [(-0.1, -0.2), (0.1, -0.2)]  # corners up and out
    change = geometry_change(source, smile)
    assert change["corner_lift"] == pytest.approx(0.1) and change["mouth_width"] == pytest.approx(0.1)
    assert all(change[name] == 0 for name in READINGS if name not in ("corner_lift", "mouth_width"))
    surprise = source.copy()
    surprise[list(photo.BROW_R) + list(photo.BROW_L)] += (0.0, -0.2)
    surprise[photo.CHIN] += (0.0, 0.4)
    change = geometry_change(source, surprise)
    assert change["brow_height"] == pytest.approx(0.1) and change["jaw_drop"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="478"):
        geometry_readings(source[:68])


def test_a_one_sided_lift_reads_as_the_corners_asymmetry_towards_its_side():
    from lsgan.metrics import photo

    source = _canonical_mesh()
    smirk = source.copy()
    smirk[photo.MOUTH_CORNERS[0]] += (-0.06, -0.2)  # the picture's left corner only, up and out
    change = geometry_change(source, smirk)
    assert change["corner_asymmetry"] == pytest.approx(0.1) and change["corner_lift"] == pytest.approx(0.05)
    smiled = source.copy()
    smiled[list(photo.MOUTH_CORNERS)] += [(-0.1, -0.2), (0.1, -0.2)]
    assert geometry_change(source, smiled)["corner_asymmetry"] == pytest.approx(0.0)
    assert expected_sign("contemptuous", "corner_asymmetry") == 1  # contempt acts on the picture's left
    assert expected_sign("happy", "corner_asymmetry") == 0 and expected_sign("contemptuous", "brow_height") == 0


def test_one_raised_brow_reads_as_the_brows_asymmetry_towards_its_side():
    from lsgan.metrics import photo

    source = _canonical_mesh()
    raised = source.copy()
    raised[list(photo.BROW_R)] += (0.0, -0.2)  # the picture's left brow only
    change = geometry_change(source, raised)
    assert change["brow_asymmetry"] == pytest.approx(0.1) and change["brow_height"] == pytest.approx(0.05)
    other = source.copy()
    other[list(photo.BROW_L)] += (0.0, -0.2)  # the picture's right brow
    assert geometry_change(source, other)["brow_asymmetry"] == pytest.approx(-0.1)
    both = source.copy()
    both[list(photo.BROW_R) + list(photo.BROW_L)] += (0.0, -0.2)
    assert geometry_change(source, both)["brow_asymmetry"] == pytest.approx(0.0)
    assert all(expected_sign(emotion, "brow_asymmetry") == 0 for emotion in EMOTIONS)


def test_expected_signs_follow_the_facs_prototypes():
    assert expected_sign("happy", "corner_lift") == 1 and expected_sign("happy", "mouth_width") == 1
    assert expected_sign("surprised", "brow_height") == 1 and expected_sign("surprised", "jaw_drop") == 1
    assert expected_sign("angry", "brow_height") == -1 and expected_sign("angry", "brow_gap") == -1
    assert expected_sign("sad", "corner_lift") == -1
    assert expected_sign("sad", "brow_height") == 0  # AU1 raises, AU4 lowers: no single expectation
    assert expected_sign("neutral", "jaw_drop") == 0


# ---------------------------------------------------------------- fakes: classifiers and editors with known output

MARK = (0, 255)  # green 0, blue 255 in a patch: the fake editor's signature; red carries the emotion


class MarkReader(ExpressionClassifier):
    """Reads the fake editor's mark at the box centre: that expression with certainty; unmarked faces read
    neutral (0.7) with 0.05 for each other class."""

    name = "marks"
    input_size = 1

    def preprocess(self, photo, box):
        x, y = round((box[0] + box[2]) / 2), round((box[1] + box[3]) / 2)
        return torch.tensor(photo[y, x].astype(np.float32)).view(3, 1, 1)

    def forward(self, faces):
        out = torch.full((len(faces), len(EXPRESSIONS)), 0.05)
        out[:, 0] = 0.7
        for i, (red, green, blue) in enumerate(faces[:, :, 0, 0].tolist()):
            if (green, blue) == MARK:
                out[i] = 0.0
                out[i, int(red) // 10] = 1.0
        return out


class AlwaysHappy(ExpressionClassifier):
    name = "fer"  # the held-out name: its reads label the contact sheet
    input_size = 1

    def preprocess(self, photo, box):
        return torch.zeros(3, 1, 1)

    def forward(self, faces):
        probs = torch.full((len(faces), len(EXPRESSIONS)), 0.1)
        probs[:, EXPRESSIONS.index("happy")] = 0.4
        return probs


class _Result:
    def __init__(self, image: np.ndarray) -> None:
        self.images = [image]


class MarkingEditor:
    """Paints a 5×5 mark at the centre of the largest face (inside it); ``stray`` also changes one corner pixel."""

    def __init__(self, stray: bool = False) -> None:
        self.aligner = FaceAligner()
        self.stray = stray
        self.calls: list[str] = []

    def edit(self, images, aus=None, *, emotion=None, intensity=None):
        self.calls.append(emotion)
        photo = np.array(images)
        x0, y0, x1, y1 = self.aligner.detect(photo)[0].box
        x, y = round((x0 + x1) / 2), round((y0 + y1) / 2)
        red = 10 * EXPRESSIONS.index(emotion) if emotion in EXPRESSIONS else 0
        photo[y - 2:y + 3, x - 2:x + 3] = (red, *MARK)
        if self.stray:
            photo[0, 0] = 255 - photo[0, 0]
        return _Result(photo)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> Path:
    """astronaut.png (mediapipe finds it), lfw.png (an LFW face 25->150 px: only dlib finds it), blank.png."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    write_image(folder / "astronaut.png", data.astronaut())
    lfw = np.load(Path(data.__file__).parent / "lfw_subset.npy")[0]
    grey = Image.fromarray(np.round(lfw * 255).astype(np.uint8)).resize((150, 150), Image.Resampling.BICUBIC)
    write_image(folder / "lfw.png", np.asarray(grey.convert("RGB")))
    write_image(folder / "blank.png", np.full((120, 120, 3), 128, np.uint8))
    return folder


def _photos(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- the benchmark


def test_benchmark_counts_every_photo_and_keeps_the_classifier_books(photo_folder, tmp_path):
    editor = MarkingEditor()
    result = run_photo_benchmark(editor, _photos(photo_folder), ("happy", "surprised"), [MarkReader(), AlwaysHappy()],
                                 progress=False)
    rows = _rows(results_csv(result))
    assert [(r["photo"], r["emotion"], r["status"]) for r in rows] == [
        ("astronaut.png", "happy", "edited"), ("astronaut.png", "surprised", "edited"),
        ("blank.png", "happy", "failed"), ("blank.png", "surprised", "failed"),
        ("lfw.png", "happy", "edited"), ("lfw.png", "surprised", "edited")]
    assert {r["reason"] for r in rows if r["status"] == "failed"} == {"no face found"}
    assert list(rows[0]) == csv_header(("marks", "marks+boxes", "fer", "fer+boxes"))
    assert editor.calls == ["happy", "surprised"] * 2  # the blank photo never reaches the editor
    edited = [r for r in rows if r["status"] == "edited"]
    # the mark is inside the face and small: same person, nothing changed outside
    assert all(float(r["identity_distance"]) < 0.2 and r["outside_max_abs"] == "0" for r in edited)
    assert all(r["marks_source_top"] == "neutral" and r["marks_edit_top"] == r["emotion"] for r in edited)
    assert all(r["fer_edit_top"] == "happy" for r in edited)

    summary = summarize(result)
    assert summary["photos"] == 3 and summary["photos_edited"] == 2 and summary["edits_done"] == 4
    assert summary["photos_failed"] == [{"photo": "blank.png", "reason": "no face found"}]
    marks = summary["classifiers"]["marks"]
    assert marks["per_emotion"]["happy"] == {"edits": 2, "eligible": 2, "read_as_asked": 2, "share": 1.0,
                                             "p_before": pytest.approx(0.05), "p_after": 1.0}
    assert marks["overall"]["share"] == 1.0 and not marks["held_out"]
    # the box-averaged read: 3 of the 9 boxes (the unshifted ones) share the box's centre, where the mark is
    boxed = summary["classifiers"]["marks+boxes"]
    assert boxed["per_emotion"]["happy"]["p_after"] == pytest.approx((3 * 1.0 + 6 * 0.05) / 9)
    assert boxed["per_emotion"]["happy"]["read_as_asked"] == 0 and not boxed["held_out"]  # neutral: 6 × 0.7 / 9
    assert summary["classifiers"]["fer+boxes"]["held_out"]
    fer = summary["classifiers"]["fer"]
    assert fer["held_out"]
    assert fer["per_emotion"]["happy"]["eligible"] == 0 and fer["per_emotion"]["happy"]["share"] is None
    assert fer["per_emotion"]["surprised"] == {"edits": 2, "eligible": 2, "read_as_asked": 0, "share": 0.0,
                                               "p_before": pytest.approx(0.1), "p_after": pytest.approx(0.1)}
    assert summary["outside_change"]["max_abs"] == 0
    assert summary["geometry"]["happy"]["corner_lift"]["expected_sign"] == 1

    files = write_report(result, summary, tmp_path / "report")
    assert json.loads(files.summary.read_text())["photos"] == 3
    report = files.report.read_text()
    assert "| blank.png | all | no face found |" in report and "| marks | happy | 2/2 | 1.00 |" in report
    sheet = read_image(files.contact_sheet)
    assert sheet.shape[0] > 3 * 128 and sheet.shape[1] > 3 * 128  # 3 rows, source + 2 emotions
    assert files.results.read_text() == results_csv(result)


def test_every_face_of_a_photo_is_measured_and_named_by_the_editors_number(tmp_path):
    """Two faces side by side, the editor marking the left one only (its face 0): a row per face and emotion, each
    read in its own box, one edit per emotion, the photo's time counted once."""
    from skimage import data

    left = np.asarray(Image.fromarray(data.astronaut()).resize((256, 256), Image.Resampling.BILINEAR))
    right = np.full_like(left, 128)  # a smaller face on the right: the marking editor marks the largest, the left
    right[28:228, 28:228] = np.asarray(Image.fromarray(data.astronaut()).resize((200, 200), Image.Resampling.BILINEAR))
    write_image(tmp_path / "pair.png", np.concatenate([left, right], axis=1))
    editor = MarkingEditor()
    ticks = iter(range(100))
    result = run_photo_benchmark(editor, [tmp_path / "pair.png"], ("happy", "sad"), [MarkReader()], progress=False,
                                 clock=lambda: float(next(ticks)))
    rows = _rows(results_csv(result))
    assert [(r["photo"], r["emotion"]) for r in rows] == [
        ("pair.png#0", "happy"), ("pair.png#1", "happy"), ("pair.png#0", "sad"), ("pair.png#1", "sad")]
    assert editor.calls == ["happy", "sad"]  # the photo is edited once per emotion, every face at once
    assert [r["marks_edit_top"] for r in rows] == ["happy", "neutral", "sad", "neutral"]
    summary = summarize(result)
    assert summary["photos"] == 1 and summary["faces"] == 2 and summary["edits_done"] == 4
    assert summary["seconds"]["per_photo_mean"] == 2.0  # two edits of one second each, not one per face
    assert [row.photo for row in result.sheet] == ["pair.png#0", "pair.png#1"]
    assert "1 photo (2 faces" in report_markdown(summary)

    class EditsTheLargestOnly(MarkingEditor):
        """Reports the faces it edited, as ``Editor`` does (``EditResult.faces``): the largest only."""

        def edit(self, images, aus=None, *, emotion=None, intensity=None):
            result = super().edit(images, emotion=emotion)
            result.faces = [SimpleNamespace(box=self.aligner.detect(np.array(images))[0].box)]
            result.left = [SimpleNamespace(number=1, why="turned too far to edit (in profile)")]
            return result

    rows = _rows(results_csv(run_photo_benchmark(EditsTheLargestOnly(), [tmp_path / "pair.png"], ("happy",),
                                                 [MarkReader()], progress=False)))
    assert [(r["photo"], r["status"]) for r in rows] == [("pair.png#0", "edited"), ("pair.png#1", "failed")]
    assert rows[1]["reason"] == "the editor left this face as it is: turned too far to edit (in profile)"
    assert rows[1]["identity_distance"] == ""  # not counted as an edit

    class EditsTheRightOnly(MarkingEditor):
        """Reports only the right (smaller) face as edited: the photo's first face is the one left alone."""

        def edit(self, images, aus=None, *, emotion=None, intensity=None):
            result = super().edit(images, emotion=emotion)
            result.faces = [SimpleNamespace(box=max(self.aligner.detect(np.array(images)), key=lambda f: f.box[0]).box)]
            return result

    ticks = iter(range(100))
    result = run_photo_benchmark(EditsTheRightOnly(), [tmp_path / "pair.png"], ("happy",), [MarkReader()],
                                 progress=False, clock=lambda: float(next(ticks)))
    assert [row.status for row in result.rows] == ["failed", "edited"]
    summary = summarize(result)
    assert summary["seconds"]["per_photo_mean"] == 1.0 and summary["seconds"]["per_edit_median"] == 1.0


def test_an_editor_that_leaves_the_photo_alone_scores_no_change(photo_folder):
    class Untouched:
        def edit(self, images, aus=None, *, emotion=None, intensity=None):
            return _Result(np.array(images))

    result = run_photo_benchmark(Untouched(), [photo_folder / "astronaut.png"], ("sad",), progress=False)
    (row,) = result.rows
    assert row.identity_distance == 0.0 and row.detail_kept == pytest.approx(1.0) and row.outside_max_abs == 0
    assert set(row.geometry) == set(READINGS) and all(value == 0.0 for value in row.geometry.values())
    assert row.reads == {}


def test_a_change_outside_the_face_is_reported(photo_folder):
    result = run_photo_benchmark(MarkingEditor(stray=True), [photo_folder / "astronaut.png"], ("angry",),
                                 progress=False)
    summary = summarize(result)
    assert summary["outside_change"]["max_abs"] > 0 and summary["outside_change"]["edits_changing_outside"] == 1
    assert summary["outside_change"]["max_changed_share"] == pytest.approx(1 / (512 * 512), rel=0.2)


def test_contempt_has_no_classifier_label_and_is_left_out_of_the_reads():
    read = ClassifierRead("neutral", math.nan, "happy", math.nan)
    rows = [EditRow("a.png", "contemptuous", identity_distance=0.1, detail_kept=0.9, outside_max_abs=0,
                    outside_changed_share=0.0, seconds=0.5, reads={"fer": read})]
    summary = summarize(BenchmarkResult(rows, [], ("contemptuous",), ("fer",), 1.0, "m"))
    assert summary["classifiers"]["fer"]["per_emotion"] == {}
    assert summary["classifiers"]["fer"]["overall"]["eligible"] == 0
    assert _rows(results_csv(BenchmarkResult(rows, [], ("contemptuous",), ("fer",), 1.0, "m")))[0]["fer_edit_p"] == ""


def test_geometry_is_also_given_against_the_same_photos_neutral_edit():
    def row(photo, emotion, corner_lift):
        return EditRow(photo, emotion, identity_distance=0.1, detail_kept=0.5, outside_max_abs=0,
                       outside_changed_share=0.0, seconds=0.2, geometry=dict.fromkeys(READINGS, 0.0) | {
                           "corner_lift": corner_lift})

    rows = [row("a.png", "neutral", -0.02), row("a.png", "happy", -0.01),
            row("b.png", "neutral", -0.04), row("b.png", "happy", -0.05)]
    summary = summarize(BenchmarkResult(rows, [], ("neutral", "happy"), (), 1.0, "m"))
    lift = summary["geometry"]["happy"]["corner_lift"]
    assert lift["mean_change"] == pytest.approx(-0.03) and lift["agrees"] is False and lift["share_expected_way"] == 0
    assert lift["vs_neutral"]["mean_change"] == pytest.approx(0.0)
    assert lift["vs_neutral"]["share_expected_way"] == 0.5  # a: +0.01, b: -0.01
    assert summary["geometry"]["neutral"]["corner_lift"]["vs_neutral"] is None
    report = report_markdown(summary)
    assert "minus the same photo's edit to neutral" in report and "| reading | happy |" in report  # no neutral column
    assert "| corner_lift | -0.030 (·) | -0.030 (+) ✗ 0% |" in report  # a row per reading, a column per emotion
    assert "| AU12+, AU15− |" in report and "| one-sided AU1, AU2: + on the picture's left, − on its right |" in report


def test_contact_sheet_has_a_row_per_photo_and_a_grey_cell_for_a_failed_edit():
    from lsgan.evaluation.photos import SheetRow

    face = np.full((32, 32, 3), 50, np.uint8)
    sheet = contact_sheet([SheetRow("a.png", [face, face, None], ["a.png", "happy\nfer: happy", "sad\nboom"]),
                           SheetRow("b.png", [None, None, None], ["b.png", "", ""], "no face found")],
                          ("happy", "sad"))
    row_height = 32 + 2 * 12 + 4
    assert sheet.dtype == np.uint8 and sheet.shape == (12 + 4 + 2 * row_height, 3 * (32 + 4) + 4, 3)
    top = 12 + 4
    assert (sheet[top + 5, 4 + 5] == 50).all() and (sheet[top + 5, 4 + 36 + 5] == 50).all()  # source, happy
    assert (sheet[top + 5, 4 + 2 * 36 + 5] == 200).all()  # the failed edit: a grey cell
    assert (sheet[top + row_height + 5, 4 + 5] == 200).all()  # a photo that could not be read: grey too


def test_emotion_and_classifier_lists_are_checked():
    assert parse_emotions("happy, sad,happy") == ("happy", "sad")
    with pytest.raises(BenchmarkInputError, match="'joyful'"):
        parse_emotions("happy,joyful")
    assert parse_classifier_names("none") == () and parse_classifier_names("") == ()
    assert parse_classifier_names("fer,faceapi") == ("fer", "faceapi")
    with pytest.raises(BenchmarkInputError, match="'resnet'"):
        parse_classifier_names("fer,resnet")


def test_the_jittered_boxes_start_with_the_box_and_scale_and_shift_it():
    boxes = jittered_boxes((10.0, 20.0, 110.0, 140.0))
    assert len(boxes) == len(BOX_JITTERS) == 9 and boxes[0] == (10.0, 20.0, 110.0, 140.0)
    widths = sorted({round(x1 - x0, 6) for x0, _, x1, _ in boxes})
    centres_x = {(x0 + x1) / 2 for x0, _, x1, _ in boxes}
    centres_y = sorted({round((y0 + y1) / 2, 6) for _, y0, _, y1 in boxes})
    assert widths == [90.0, 100.0, 110.0] and centres_x == {60.0} and centres_y == [75.0, 80.0, 85.0]
    assert all(math.isclose((y1 - y0) / (x1 - x0), 1.2) for x0, y0, x1, y1 in boxes)


# ---------------------------------------------------------------- the command


def test_eval_photos_command_writes_the_four_outputs(photo_folder, tiny_bundle, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("lsgan.nets.expression.load_classifier",
                        lambda name, device="cpu": {"faceapi": MarkReader, "fer": AlwaysHappy}[name]())
    out = tmp_path / "eval"
    run = run_lsgan(["eval", "photos", photo_folder, "--emotions", "happy,surprised", "--model", tiny_bundle,
                     "--out", out, "--no-progress"], capsys, monkeypatch)
    assert run.code == 0, run.err
    assert sorted(p.name for p in out.iterdir()) == ["contact_sheet.png", "report.md", "results.csv", "summary.json"]
    rows = _rows((out / "results.csv").read_text())
    assert len(rows) == 6 and sum(r["status"] == "edited" for r in rows) == 4
    assert {"marks_edit_top", "fer_edit_top"} <= set(rows[0])
    assert "# Real-photo benchmark" in run.out and "| fer (held out) | happy |" in run.out


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}"], "no such folder"),
    (["{folder}", "--emotions", "happy,joyful"], "unknown emotion 'joyful'"),
    (["{folder}", "--classifiers", "fer,resnet"], "unknown expression classifier 'resnet'"),
    (["{folder}", "--classifiers", "faceapi"], "expression classifier 'faceapi' is not available"),
    (["{folder}", "--intensity", "1.5"], "intensity"),
])
def test_eval_photos_bad_input_is_one_error_line_and_writes_nothing(args, message, photo_folder, tmp_path, capsys,
                                                                   monkeypatch):
    def missing(name, device="cpu"):
        raise ModuleNotFoundError(f"No module named 'lsgan.nets.expression.{name}'")

    monkeypatch.setattr("lsgan.nets.expression.load_classifier", missing)
    out = tmp_path / "eval"
    filled = [a.format(missing=tmp_path / "nowhere", folder=photo_folder) for a in args]
    run = run_lsgan(["eval", "photos", *filled, "--out", out], capsys, monkeypatch)
    assert run.code == 2
    assert run.err.startswith("error: ") and run.err.count("\n") == 1 and message in run.err
    assert not out.exists()
