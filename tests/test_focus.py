"""The paint in the photo's focus (``editing.focus``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lsgan.data.faces import FaceAligner
from lsgan.data.mesh_basis import MeshBasis
from lsgan.editing.focus import PAINT_SOFTNESS, face_softness, softened
from lsgan.editing.mesh_motion import mesh_motion, photo_basis
from lsgan.editing.paint import detail_view, paint_scale
from lsgan.facs import edit_vector

SIZE = 64


@pytest.fixture(scope="module")
def astronaut_face(astronaut):
    """The astronaut's face: (its photo at the paint's resolution, its mesh in crop pixels, the paint scale, crop)."""
    with FaceAligner(SIZE) as aligner:
        face = aligner.align(astronaut)
    scale = paint_scale(face.matrix)
    return detail_view(astronaut, face.matrix, SIZE, scale), face.landmarks.points, scale, face.crop


def test_a_face_blurred_by_a_known_amount_measures_that_much_softer(astronaut_face):
    view, points, scale, _ = astronaut_face
    own = face_softness(view, points, scale)
    assert 0.5 < own < 1.5  # a portrait in focus: about a pixel
    for sigma in (2.0, 3.0, 4.0):
        blurred = cv2.GaussianBlur(view, (0, 0), sigma)
        assert face_softness(blurred, points, scale) == pytest.approx(np.hypot(own, sigma), rel=0.2)
    flat = np.full_like(view, 128)
    assert face_softness(flat, points, scale) == 0.0  # no edges: no measure


def test_a_paint_is_blurred_as_far_as_the_face_is_softer_than_it_with_its_own_colours():
    paint = np.zeros((4, 60, 60), np.float32)
    paint[:3] = -1.0  # unpainted: black, which must not darken the paint's blurred edge
    paint[:3, 20:40, 20:40] = np.array([0.5, -0.2, 0.1], np.float32)[:, None, None]
    paint[3, 20:40, 20:40] = 1.0
    assert softened(paint, PAINT_SOFTNESS) is paint and softened(paint, 0.0) is paint  # no softer than the paint
    soft = softened(paint, 3.0)
    assert soft[3, 30, 30] == pytest.approx(1.0, abs=1e-3) and 0.3 < soft[3, 30, 20] < 0.7
    assert soft[3, 30, 17] > 0.01  # the edge spreads
    painted = soft[3] > 1e-3
    np.testing.assert_allclose(soft[:3, painted].T, np.broadcast_to([0.5, -0.2, 0.1], (int(painted.sum()), 3)),
                               atol=1e-4)
    assert soft[3].sum() == pytest.approx(paint[3].sum(), rel=0.01)  # as much paint, spread


def test_a_mouth_opened_on_a_face_out_of_focus_is_painted_as_soft(astronaut_face):
    view, points, scale, crop = astronaut_face
    basis = photo_basis(MeshBasis.load())
    source, target = np.zeros(16, np.float32), edit_vector("surprised")

    def steepest_alpha(detail: np.ndarray) -> float:
        alpha = mesh_motion(crop, points, source, target, basis, scale, detail).paint[3]
        return float(np.abs(np.diff(alpha, axis=0)).max())

    sharp, soft = steepest_alpha(view), steepest_alpha(cv2.GaussianBlur(view, (0, 0), 3.0))
    assert sharp > 0.5 and soft < 0.6 * sharp
