"""scripts/synthfacs_edit_reads.py: counting the faces each condition's images are read as."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from lsgan.nets.expression import EXPRESSIONS

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def script():
    sys.path.insert(0, str(SCRIPTS))  # the script imports its sibling synthfacs_emotions, as `python scripts/...` does
    spec = importlib.util.spec_from_file_location("synthfacs_edit_reads", SCRIPTS / "synthfacs_edit_reads.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(SCRIPTS))
        sys.modules.pop("synthfacs_emotions", None)


def one_hot(emotion: str, p: float) -> np.ndarray:
    """Probabilities with ``p`` on ``emotion`` and the rest shared by the other classes."""
    probs = np.full(len(EXPRESSIONS), (1 - p) / (len(EXPRESSIONS) - 1))
    probs[EXPRESSIONS.index(emotion)] = p
    return probs


def test_tally_counts_top_classes_and_averages_the_asked_probability(script):
    reads = script.tally({
        ("render", "faceapi", "angry"): [one_hot("angry", 0.9), one_hot("angry", 0.6), one_hot("sad", 0.8)],
        ("edit", "faceapi", "angry"): [one_hot("neutral", 0.7), one_hot("neutral", 0.9), one_hot("angry", 0.5)],
    })
    n, p = reads[("render", "faceapi", "angry")]
    assert n == 2 and p == pytest.approx((0.9 + 0.6 + 0.2 / 6) / 3)
    n, p = reads[("edit", "faceapi", "angry")]
    assert n == 1 and p == pytest.approx((0.3 / 6 + 0.1 / 6 + 0.5) / 3)
    assert set(script.CONDITIONS) == {"render", "edit", "edit+creases"}
