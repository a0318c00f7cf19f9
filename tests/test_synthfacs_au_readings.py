"""scripts/synthfacs_au_readings.py: the per-AU correlation of SynthFACS's rendered intensities with the mesh's
FACS readings (the readings' own directions are tested in test_photo_benchmark.py)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from lsgan.facs import AU_IDS
from lsgan.metrics.photo import AU_READING, READING_AUS, READINGS

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "synthfacs_au_readings.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("synthfacs_au_readings", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_correlate_applies_the_facs_sign_and_skips_renders_without_a_mesh(script):
    aus = np.random.default_rng(0).uniform(0, 1, (400, len(AU_IDS)))
    readings = np.zeros((400, len(READINGS)))
    for k, au in enumerate(AU_IDS):  # each reading: the sum of its AUs' intensities, each the way FACS says
        reading = AU_READING[au]
        readings[:, READINGS.index(reading)] += READING_AUS[reading][au] * aus[:, k]
    readings[:7] = np.nan  # no mesh
    result = script.correlate(aus, readings)
    assert result.renders == 400 and result.meshed == 393
    assert list(result.au_r) == list(AU_IDS)
    assert all(r > 0.5 for r in result.au_r.values())  # two AUs share a reading at most: r >= 1/sqrt(2)
    assert result.au_r[17] == pytest.approx(1.0) and result.under == []
    assert set(result.other_r[26]) == {"lip_gap", "nose_to_lower_lip"} and result.other_r[17] == {}
    assert result.other_r[26]["lip_gap"] == pytest.approx(0.0, abs=0.15)  # lip_gap holds AU25 only here
    flipped = script.correlate(aus, -readings)
    assert flipped.au_r[17] == pytest.approx(-1.0) and len(flipped.under) == len(AU_IDS)


def test_a_few_small_renders_give_a_finite_r_for_every_au_both_ways(script):
    results = script.au_readings(count=6, size=64, seed=0, independent=True, neutral_relative=True)
    assert list(results) == ["absolute", "minus neutral"]
    for result in results.values():
        assert list(result.au_r) == list(AU_IDS) and result.meshed == result.renders == 6
        assert all(math.isfinite(r) and -1 <= r <= 1 for r in result.au_r.values())
        assert math.isfinite(result.mean_r)
    assert results["absolute"].au_r != results["minus neutral"].au_r
    report = "\n".join(script.report(results))
    assert "AU6   cheek raiser          lower_lid_height -" in report and "mean r over the 16 AUs" in report


def test_scenes_follow_the_seed(script):
    first, again = script.sample_scenes(5, seed=3), script.sample_scenes(5, seed=3)
    assert all(np.array_equal(a.aus, b.aus) and a.pose == b.pose and a.identity == b.identity
               for a, b in zip(first, again))
    independent = script.sample_scenes(5, seed=3, independent=True)
    assert all((scene.aus > 0).all() and scene.unilateral is None for scene in independent)
