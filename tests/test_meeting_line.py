"""scripts/meeting_line.py: the line where closed lips meet, measured across the mouth."""

import cv2
import numpy as np
import pytest

from lsgan.data.mesh_basis import LIP_CONTOURS
from lsgan.metrics.photo import EYE_CORNERS_L, EYE_CORNERS_R, MESH_POINTS, MOUTH_CORNERS
from script_support import script_fixture

script = script_fixture("meeting_line")

SKIN, LIPS, LINE = (200, 150, 130), (170, 90, 95), (90, 40, 50)


def _closed_mouth() -> tuple[np.ndarray, np.ndarray]:
    """A flat face 100 px between the eye centres whose closed lips (24 px tall) meet in a line 3 px thick at y 200,
    from x 160 to 240, and a mesh with its eyes, mouth corners and inner lips in place (photo pixels)."""
    points = np.zeros((MESH_POINTS, 2))
    points[list(EYE_CORNERS_R)] = [(125, 100), (175, 100)]
    points[list(EYE_CORNERS_L)] = [(275, 100), (225, 100)]
    points[list(MOUTH_CORNERS)] = [(160, 200), (240, 200)]
    for contour in LIP_CONTOURS[1:3]:
        points[list(contour)] = np.column_stack([np.linspace(165, 235, len(contour)), np.full(len(contour), 200)])
    photo = np.full((400, 400, 3), SKIN, np.uint8)
    photo[188:213, 150:251] = LIPS
    photo[199:202, 158:243] = LINE
    return photo, points


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    return cv2.cvtColor(np.float32([[rgb]]) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]


def test_a_closed_mouth_s_line_is_measured_across_it(script):
    photo, points = _closed_mouth()
    measures = script.line_measures(script.line_samples(photo, points))
    luma = cv2.cvtColor(np.uint8([[LINE, LIPS]]), cv2.COLOR_RGB2GRAY)[0].astype(float)
    np.testing.assert_allclose(measures["depth"], luma[0] / luma[1], atol=0.01)  # the line over the lips round it
    np.testing.assert_allclose(measures["width"], 0.025, atol=0.001)  # 3 px of 100, less its half-lit edges
    assert measures["lightness"] == pytest.approx(_lab(LINE)[0] / _lab(LIPS)[0], abs=0.01)
    assert measures["redness"] == pytest.approx(_lab(LINE)[1] - _lab(LIPS)[1], abs=0.3)
    lighter = photo.copy()
    lighter[199:202, 158:243] = LIPS  # no line: as light as the lips, no width
    plain = script.line_measures(script.line_samples(lighter, points))
    np.testing.assert_allclose(plain["depth"], 1.0, atol=0.01)
    assert plain["lightness"] == pytest.approx(1.0, abs=0.01)


def test_the_summary_takes_medians_over_faces_middle_and_corners_apart(script):
    places = len(script.PLACES)
    faces = [{"depth": np.where(script.MIDDLE, depth, 0.3), "width": np.full(places, width), "lightness": 0.7,
              "redness": redness} for depth, width, redness in ((0.5, 0.06, 1.0), (0.6, 0.08, -1.0), (0.7, 0.07, 2.0))]
    summary = script.summary(faces)
    assert summary["faces"] == 3
    assert summary["depth, middle"] == pytest.approx(0.6) and summary["depth, corners"] == pytest.approx(0.3)
    assert summary["width, middle"] == pytest.approx(0.07)
    assert summary["redness against the lips, middle"] == pytest.approx(1.0)
    with pytest.raises(SystemExit, match="no closed mouth"):
        script.summary([])
