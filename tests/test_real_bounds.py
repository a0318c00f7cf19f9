"""G_exp's AU bounds on unlabelled real faces (training.real_bounds, losses.au_bound_loss, stage aux's real_bounds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, au_index
from lsgan.losses import au_bound_loss
from lsgan.nets.expression import EXPRESSIONS
from lsgan.training.pipeline import train
from lsgan.training.real_bounds import (
    REAL_EXPRESSIONS,
    SPEECH_AUS,
    RealExpressions,
    au_bounds,
    bounded_rows,
)
from training_support import loss_log, synth_dir, tiny_config  # noqa: F401 (fixture)


def reads(*rows: tuple[str, float]) -> np.ndarray:
    """Classifier probabilities [N, 7]: each row's emotion at its probability, the rest spread evenly."""
    probabilities = np.zeros((len(rows), len(EXPRESSIONS)), np.float32)
    for i, (emotion, p) in enumerate(rows):
        probabilities[i] = (1 - p) / (len(EXPRESSIONS) - 1)
        probabilities[i, EXPRESSIONS.index(emotion)] = p
    return probabilities


def test_confident_reads_bound_the_prototype_aus_and_leave_speech_free() -> None:
    lower, upper = au_bounds(reads(("neutral", 0.95), ("happy", 0.97), ("happy", 0.6), ("sad", 0.99)),
                             ("neutral", "happy"), 0.9)
    speech = [au_index(au) for au in SPEECH_AUS]
    silent = [k for k in range(len(AU_IDS)) if k not in speech]
    assert not lower[0].any() and not upper[0, silent].any() and (upper[0, speech] == 1).all()  # neutral: all off
    assert lower[1, au_index(12)] == pytest.approx(0.5) and lower[1, au_index(6)] == pytest.approx(0.4)  # EMFACS 6+12
    assert upper[1, au_index(12)] == 1 and upper[1, au_index(4)] == 0 and upper[1, au_index(25)] == 1
    assert not lower[2].any() and (upper[2] == 1).all()  # not confident enough: no bounds
    assert not lower[3].any() and (upper[3] == 1).all()  # an emotion not asked for: no bounds
    assert bounded_rows(lower, upper).tolist() == [0, 1]


def test_the_bound_loss_is_zero_inside_and_pulls_readings_back_in() -> None:
    lower, upper = torch.tensor([[0.5, 0.0]]), torch.tensor([[1.0, 0.0]])
    assert au_bound_loss(torch.tensor([[0.7, 0.0]]), lower, upper).item() == 0
    predicted = torch.tensor([[0.3, 0.4]], requires_grad=True)
    loss = au_bound_loss(predicted, lower, upper)
    loss.backward()
    assert loss.item() == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert predicted.grad[0, 0] < 0 < predicted.grad[0, 1]  # the first reading goes up, the second down


def test_stage_aux_trains_g_exp_on_bounded_real_faces(synth_dir: Path, tmp_path: Path, astronaut) -> None:
    frames, more = tmp_path / "frames", tmp_path / "more"  # data.real as two folders
    frames.mkdir()
    more.mkdir()
    Image.fromarray(astronaut).save(frames / "smile.png")  # face-api reads the astronaut as happy
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(more / "mirrored.png")
    real = f"[{frames}, {more}]"
    run = tmp_path / "run"
    config = tiny_config(synth_dir, f"data.real={real}", "stages.aux_options.real_bounds=1",
                         "stages.aux_options.real_batch=2", "stages.aux.steps=3", "stages.aux.eval_every=0")
    train("aux", config, run)
    expressions = RealExpressions.read(run / REAL_EXPRESSIONS)
    assert expressions.names == ["frames/smile.png", "more/mirrored.png"] and expressions.classifier == "faceapi"
    assert (expressions.probabilities.argmax(axis=1) == EXPRESSIONS.index("happy")).all()
    log = loss_log(run / "aux")
    assert len(log) == 3 and all(record["real_bound"] >= 0 for record in log)
    assert any(record["real_bound"] > 0 for record in log)  # a random G_exp does not read the smile yet
    with pytest.raises(LsganError, match="reads none of data.real's 2 faces as fearful"):
        train("aux", tiny_config(synth_dir, f"data.real={real}", "stages.aux_options.real_bounds=1",
                                 "stages.aux_options.bound_emotions=[fearful]", "stages.aux.steps=1"),
              tmp_path / "run2")


def test_real_bounds_need_a_real_faces_folder(synth_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(LsganError, match="real_bounds=1.0 trains on real faces: give their folder as data.real"):
        train("aux", tiny_config(synth_dir, "stages.aux_options.real_bounds=1"), tmp_path)
    with pytest.raises(Exception, match="bound_emotions: unknown 'joyful'"):
        tiny_config(synth_dir, "stages.aux_options.bound_emotions=[joyful]")


def test_the_g_exp_photo_readings_script_scores_agreement_and_within_person_r() -> None:
    import importlib.util
    import sys

    from lsgan.metrics.photo import AU_READING, READING_AUS, READINGS
    from training_support import REPO

    spec = importlib.util.spec_from_file_location("g_exp_photo_readings", REPO / "scripts" / "g_exp_photo_readings.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    try:
        spec.loader.exec_module(script)
        rng = np.random.default_rng(0)
        probabilities = rng.dirichlet(np.ones(len(EXPRESSIONS)), 10)
        readings = rng.uniform(0, 0.1, (10, len(AU_IDS)))
        readings[:, au_index(12)] = probabilities[:, EXPRESSIONS.index("happy")]  # AU12 follows p(happy) exactly
        agreement = script.portrait_agreement(readings, probabilities)
        assert agreement["r_happy_au12"] == pytest.approx(1.0)
        assert agreement["mean_sum"] == pytest.approx(readings.sum(axis=1).mean())
        frames = rng.uniform(0, 1, (20, len(AU_IDS)))
        mesh = [{name: 0.0 for name in READINGS} for _ in range(20)]
        reading = AU_READING[25]
        for frame, row in zip(mesh, frames):  # the mesh reading moves with AU25 the FACS way, nothing else moves
            frame[reading] = READING_AUS[reading][25] * row[au_index(25)]
        r = script.within_person(frames, mesh)
        assert r[au_index(25)] == pytest.approx(1.0) and np.isnan(r[au_index(1)]) == (AU_READING[1] != reading)
        assert np.isnan(script.pearson(np.ones(3), np.arange(3)))
    finally:
        del sys.modules[spec.name]
