"""scripts/rest_geometry.py: the mouths of real faces at rest and smiling, behind the mesh motion's constants."""

import numpy as np
import pytest

from lsgan.nets.expression import EXPRESSIONS
from script_support import script_fixture

script = script_fixture("rest_geometry")


def _frame(emotion: str, p: float, lift: float, width: float) -> dict:
    probs = np.full(len(EXPRESSIONS), (1.0 - p) / (len(EXPRESSIONS) - 1))
    probs[EXPRESSIONS.index(emotion)] = p
    return {"probs": probs, "readings": {"corner_lift": lift, "mouth_width": width}}


def test_the_faces_at_rest_and_smiling_are_those_face_api_reads_surely(script):
    rest = [_frame("neutral", 0.95, lift, 0.8) for lift in np.linspace(-0.1, 0.02, 13)]
    unsure = [_frame("neutral", 0.85, -0.5, 3.0)]  # neutral, but not surely: left out
    smiles = [_frame("happy", 0.7, 0.05, 1.0), _frame("happy", 0.9, 0.03, 1.1)]
    others = [_frame("sad", 0.99, -0.3, 0.5)]
    summary = script.mouth_summary(rest + unsure + smiles + others)
    assert summary["at rest"] == 13 and summary["smiling"] == 2
    assert summary["mouth width at rest, mean"] == pytest.approx(0.8)
    assert summary["mouth width smiling, mean"] == pytest.approx(1.05)
    percentiles = summary["corner lift at rest, percentiles 5/25/50/75"]
    np.testing.assert_allclose(percentiles, [-0.094, -0.07, -0.04, -0.01], atol=1e-9)
    with pytest.raises(SystemExit, match="too few faces"):
        script.mouth_summary(rest + others)


def test_closed_smiles_are_measured_beside_the_faces_at_rest(script):
    rest = [_frame("neutral", 0.95, 0.0, width) for width in np.linspace(0.7, 0.9, 21)]
    smiles = [_frame("happy", 0.9, 0.05, width) for width in (0.95, 1.0, 1.05)]
    closed = [{"readings": {"mouth_width": width}, "read": read}
              for width, read in ((0.7, "neutral"), (0.75, "happy"), (0.8, "neutral"))]
    summary = script.closed_summary(rest, smiles, closed)
    assert summary["smiles closed"] == 3
    assert summary["closed read neutral"] == 2 and summary["closed read happy"] == 1
    np.testing.assert_allclose(summary["mouth width at rest, percentiles 5/25/50/75"], [0.71, 0.75, 0.8, 0.85])
    np.testing.assert_allclose(summary["mouth width of the smiles, percentiles 5/25/50/75"], [0.955, 0.975, 1.0, 1.025])
    np.testing.assert_allclose(summary["mouth width closed, percentiles 5/25/50/75"], [0.705, 0.725, 0.75, 0.775])
    with pytest.raises(SystemExit, match="no smile closed"):
        script.closed_summary(rest, smiles, [])
