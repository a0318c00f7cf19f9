"""scripts/same_person.py: one person's own expressions beside the edits that ask for them."""

import numpy as np
import pytest

from script_support import script_fixture

script = script_fixture("same_person")


def _faces(**readings: list[float]) -> list[dict]:
    names = list(readings)
    return [{"readings": dict(zip(names, values))} for values in zip(*readings.values())]


def test_an_edit_s_gap_is_its_median_from_the_person_s_own_in_their_spread(script):
    real = _faces(corner_lift=[-0.02, 0.0, 0.02, 0.0], mouth_width=[0.8, 0.8, 0.8, 0.8])
    edits = _faces(corner_lift=[-0.05, -0.04, -0.06], mouth_width=[0.7, 0.8, 0.9])
    gaps = script.gaps(real, edits)
    spread = np.std([-0.02, 0.0, 0.02, 0.0])
    assert gaps["corner_lift"] == pytest.approx((0.0, -0.05, -0.05 / spread))
    assert gaps["mouth_width"][:2] == pytest.approx((0.8, 0.8)) and gaps["mouth_width"][2] == pytest.approx(0.0)
    with pytest.raises(SystemExit, match="too few faces"):
        script.gaps(real, [])


def test_evenly_keeps_at_most_as_many_spread_over_all(script):
    frames = list(range(10))
    assert script.evenly(frames, 4) == [0, 3, 6, 9]
    assert script.evenly(frames, 20) == frames and script.evenly(frames, 0) == []
