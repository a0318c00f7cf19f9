"""scripts/identity_tradeoff.py: the shares of an AU change it asks for, the per-face bound it simulates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.evaluation.photos import BenchmarkResult, ClassifierRead, EditRow
from lsgan.facs import NUM_AUS, au_index, edit_vector
from script_support import script_fixture

unit = st.floats(0.0, 1.0, allow_nan=False)


script = script_fixture("identity_tradeoff")


@settings(max_examples=50, deadline=None)
@given(st.lists(unit, min_size=NUM_AUS, max_size=NUM_AUS), st.lists(unit, min_size=NUM_AUS, max_size=NUM_AUS),
       st.floats(0.0, 1.0))
def test_a_share_of_the_change_lies_on_the_way_from_the_face_to_the_target(script, source, target, share):
    source, target = np.array([source], np.float32), np.array([target], np.float32)
    between = script.share_of_change(source, target, share)
    np.testing.assert_allclose(between, source + share * (target - source), atol=1e-6)
    np.testing.assert_array_equal(script.share_of_change(source, target, 0.0), source)
    np.testing.assert_allclose(script.share_of_change(source, target, 1.0), target, atol=1e-6)


def test_the_share_editor_asks_each_face_for_its_share_of_the_change(script):
    asked = []
    own = np.zeros((2, NUM_AUS), np.float32)
    own[1, au_index(12)] = 1.0  # the second face smiles

    class Recorder:
        def prepare(self, images, face=None):
            return [("prepared", images, face)]

        def estimate_faces(self, photos):
            assert photos == [("prepared", "photo", None)]
            return own

        def render(self, photos, target_aus, source_aus, **kwargs):
            asked.append((photos, np.asarray(target_aus), source_aus, kwargs))
            return "result"

    assert script.ShareEditor(Recorder(), 0.5).edit("photo", emotion="sad") == "result"
    photos, aus, source, kwargs = asked[0]
    sad = edit_vector("sad")
    np.testing.assert_allclose(aus[0], sad / 2, atol=1e-6)
    assert aus[1, au_index(12)] == pytest.approx(0.5) and aus[1, au_index(15)] == pytest.approx(sad[au_index(15)] / 2)
    assert photos == [("prepared", "photo", None)] and source is own  # found and read once, rendered from there
    assert kwargs == {}


def row(photo: str, identity: float, hit: bool, emotion: str = "sad") -> EditRow:
    return EditRow(photo, emotion, identity_distance=identity, identity_distance_faceres=identity / 2,
                   reads={"faceapi": ClassifierRead("neutral", 0.1, emotion if hit else "neutral", 0.5)})


def test_the_bound_takes_each_faces_largest_share_within_it_or_its_smallest(script):
    runs = {1.0: [row("a", 0.50, True), row("b", 0.30, True), row("c", 0.70, True)],
            0.6: [row("a", 0.40, False), row("b", 0.20, False), row("c", 0.60, False)],
            0.8: [row("a", 0.46, True), row("b", 0.25, True), row("c", 0.65, True)]}
    rows, shares = script.within_bound(runs, 0.45)
    assert shares == {"a/sad": 0.6, "b/sad": 1.0, "c/sad": 0.6}
    assert [r.identity_distance for r in rows] == [0.40, 0.30, 0.60]
    result = BenchmarkResult(rows, [], ("sad",), ("faceapi",), 1.0, "")
    figures = script.figures(result)
    assert figures["reads"]["faceapi"] == (1, 3)
    assert figures["identity"]["dlib"] == pytest.approx((np.mean([0.4, 0.3, 0.6]), 0.6))
    assert figures["identity"]["faceres"] == pytest.approx((np.mean([0.2, 0.15, 0.3]), 0.3))


def test_a_face_not_edited_at_some_share_is_judged_on_the_shares_it_has(script):
    failed = EditRow("a", "sad", status="failed", reason="no face")
    rows, shares = script.within_bound({1.0: [row("a", 0.5, True)], 0.5: [failed]}, 0.45)
    assert shares == {"a/sad": 1.0} and rows[0].identity_distance == 0.5


def test_shares_are_numbers_in_the_unit_interval_largest_first(script):
    assert script.parse_shares("0.6, 1,0.8,0.6") == [1.0, 0.8, 0.6]
    for bad in ("", "0", "1.5", "a,1", "-0.2"):
        with pytest.raises(SystemExit, match="--shares must be"):
            script.parse_shares(bad)
