"""scripts/like_copies.py: the copies it asks for and how it counts their reads; the copy rule itself
(``editing.targets.share_of_change``, at the gain ``LIKE_GAIN``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.editing.targets import LIKE_GAIN, share_of_change
from lsgan.facs import NUM_AUS
from script_support import script_fixture

unit = st.floats(0.0, 1.0, allow_nan=False)


script = script_fixture("like_copies")


@settings(max_examples=50, deadline=None)
@given(st.lists(unit, min_size=NUM_AUS, max_size=NUM_AUS), st.lists(unit, min_size=NUM_AUS, max_size=NUM_AUS),
       st.floats(0.5, 3.0))
def test_a_copy_moves_each_au_gain_times_towards_the_other_face_within_0_1(source, like, gain):
    source, like = np.array([source], np.float32), np.array(like, np.float32)
    copy = share_of_change(source, like, gain)
    np.testing.assert_allclose(copy, np.clip(source + gain * (like - source), 0, 1), atol=1e-6)
    assert ((copy >= 0) & (copy <= 1)).all()
    assert (np.sign(copy - source) * np.sign(like - source) >= 0).all()  # never away from the other face
    np.testing.assert_allclose(share_of_change(source, source[0], gain), source, atol=1e-6)  # itself: unchanged
    assert share_of_change(source, like, LIKE_GAIN).dtype == np.float32 and LIKE_GAIN > 1


def test_gains_are_positive_numbers(script):
    assert script.parse_gains("1, 1.5,2") == [1.0, 1.5, 2.0]
    for bad in ("", "a", "0", "1,-1"):
        with pytest.raises(SystemExit, match="--gains"):
            script.parse_gains(bad)


def test_reads_are_counted_per_gain_classifier_and_emotion(script):
    read = script.CopyRead
    table = script.tally([read(1.0, "happy", "fer", True), read(1.0, "happy", "fer", False),
                          read(1.0, "sad", "fer", True), read(1.5, "sad", "faceapi", False)])
    assert table[1.0]["fer"] == {"happy": [1, 2], "sad": [1, 1], "all": [2, 3]}
    assert table[1.5]["faceapi"] == {"sad": [0, 1], "all": [0, 1]}
