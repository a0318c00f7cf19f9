import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lsgan import facs


def test_sixteen_aus_in_paper_order():
    assert facs.AU_IDS == (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26)
    assert facs.AU_COLUMNS[0] == "AU01" and facs.AU_COLUMNS[-1] == "AU26"
    assert set(facs.AU_NAMES) == set(facs.AU_IDS)


def test_eye_and_mouth_subsets_partition_the_aus():
    assert sorted(facs.EYE_AUS + facs.MOUTH_AUS) == sorted(facs.AU_IDS)
    assert not set(facs.EYE_AUS) & set(facs.MOUTH_AUS)


def test_parse_au_string_accepts_both_spellings():
    settings = facs.parse_au_string("12=0.8, AU6=0.6,au25=0")
    assert settings == {12: facs.AUSetting(0.8), 6: facs.AUSetting(0.6), 25: facs.AUSetting(0.0)}


def test_signed_values_are_relative_changes_clipped_to_the_scale():
    settings = facs.parse_au_string("12=+0.3,4=-0.2,6=0.5")
    assert settings == {12: facs.AUSetting(0.3, True), 4: facs.AUSetting(-0.2, True), 6: facs.AUSetting(0.5)}
    own = np.array([0.1, 0.9], np.float32)
    assert settings[12].applied_to(own) == pytest.approx([0.4, 1.0])  # clipped at 1
    assert settings[4].applied_to(own) == pytest.approx([0.0, 0.7])  # clipped at 0
    assert settings[6].applied_to(own) == pytest.approx([0.5, 0.5])  # absolute ignores the face's own value


@pytest.mark.parametrize(
    "text, message",
    [("3=0.5", "unknown AU 3"), ("12=1.5", "must be a number in [0, 1]"), ("12=nan", "must be a number in [0, 1]"),
     ("12", "AU=VALUE"), ("x=1", "AU=VALUE"), ("12=+2", "change must be a number in [-1,"), ("12=+", "bad value"),
     ("12=", "bad value")],
)
def test_parse_au_string_rejects_bad_settings(text, message):
    with pytest.raises(facs.AUError, match=message.replace("[", r"\[").replace("]", r"\]")):
        facs.parse_au_string(text)


def test_au_vector_keeps_base_for_unset_aus():
    base = np.full(16, 0.2, dtype=np.float32)
    vec = facs.au_vector({12: 0.9}, base=base)
    assert vec[facs.au_index(12)] == pytest.approx(0.9)
    assert np.count_nonzero(vec == np.float32(0.2)) == 15


def test_emotion_vector_scales_prototype():
    full = facs.emotion_vector("happy")
    half = facs.emotion_vector("Happy", 0.5)
    np.testing.assert_allclose(half, full * 0.5)
    assert full[facs.au_index(12)] == 1.0
    assert not facs.emotion_vector("neutral").any()
    with pytest.raises(facs.AUError, match="unknown emotion"):
        facs.emotion_vector("bored")


def test_every_emotion_has_a_prototype():
    assert set(facs.EMOTIONS) == set(facs.EMOTION_PROTOTYPES) == set(facs.EDIT_PROTOTYPES)
    assert facs.UNILATERAL_EMOTIONS <= set(facs.EMOTIONS)


def test_edits_ask_for_open_mouthed_anger_and_fear_disgust_without_the_nose_wrinkler_stronger_sadness_more_teeth():
    changed = {e for e in facs.EMOTIONS if facs.EDIT_PROTOTYPES[e] != facs.EMOTION_PROTOTYPES[e]}
    assert changed == {"angry", "fearful", "disgusted", "sad", "happy", "contemptuous"}
    assert facs.edit_vector("contemptuous")[[facs.au_index(12), facs.au_index(14)]].tolist() == [1.0, 1.0]  # one side
    for emotion in ("angry", "fearful", "disgusted"):
        assert facs.edit_vector(emotion)[facs.au_index(25)] > 0  # lips apart
        facs.check_au_vector(facs.edit_vector(emotion), what=emotion)
    assert facs.edit_vector("disgusted")[facs.au_index(9)] == 0
    fear, surprise = facs.edit_vector("fearful"), facs.edit_vector("surprised")
    assert fear[facs.au_index(15)] > 0 and fear[facs.au_index(20)] == 1.0  # lower lip down (AU16's stand-in), stretched
    assert fear[facs.au_index(26)] >= surprise[facs.au_index(26)]  # the jaw dropped as far as surprise's: no slit
    np.testing.assert_allclose(facs.edit_vector("Angry", 0.5), facs.edit_vector("angry") * 0.5)
    happy, posed_happy = facs.edit_vector("happy"), facs.emotion_vector("happy")
    assert happy[facs.au_index(25)] > posed_happy[facs.au_index(25)]  # the lips further apart: more teeth
    np.testing.assert_array_equal(np.delete(happy, facs.au_index(25)), np.delete(posed_happy, facs.au_index(25)))
    assert set(facs.EDIT_PROTOTYPES["sad"]) == set(facs.EMOTION_PROTOTYPES["sad"])  # the same AUs, stronger
    with pytest.raises(facs.AUError, match="unknown emotion"):
        facs.edit_vector("bored")


def test_check_au_vector_errors():
    with pytest.raises(facs.AUError, match="16 values"):
        facs.check_au_vector([0.1] * 15)
    with pytest.raises(facs.AUError, match="NaN"):
        facs.check_au_vector([math.nan] + [0.0] * 15)
    with pytest.raises(facs.AUError, match="outside"):
        facs.check_au_vector([2.0] + [0.0] * 15)


@given(st.lists(st.floats(0, 5, allow_nan=False), min_size=16, max_size=16))
def test_disfa_scale_maps_into_unit_interval(values):
    vec = facs.check_au_vector(values, scale=facs.DISFA_SCALE)
    assert vec.dtype == np.float32
    assert np.all((vec >= 0) & (vec <= 1))
    np.testing.assert_allclose(vec, np.asarray(values) / 5, atol=1e-6)
