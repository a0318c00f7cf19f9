"""Stage lsgan's check of its frozen helpers before its first step: a C_id that misnames the training faces (as the
one of a stage aux whose constant learning rate spiked at its end) or a G_exp that cannot read their AUs is named
in one warning line, once, before any step; the figures go to TensorBoard."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lsgan.training.loop import Budget
from lsgan.training.pipeline import train
from lsgan.training.stages import lsgan as lsgan_stage
from lsgan.training.stages.lsgan import au_variance_explained, helper_warnings
from training_support import synth_dir, tiny_config  # noqa: F401 (fixture)

FIT = {"c_id_accuracy": 1.0, "c_id_cross_entropy": 0.002, "g_exp_au_r2": 0.8}


def test_fit_helpers_give_no_warning() -> None:
    assert helper_warnings(FIT, 32) == []


def test_a_c_id_that_misnames_the_faces_is_named_with_its_figures() -> None:
    (warning,) = helper_warnings({**FIT, "c_id_accuracy": 0.0, "c_id_cross_entropy": 16.08}, 32)
    assert "C_id" in warning and "0% of 32" in warning and "16.08" in warning and "retrain stage aux" in warning


def test_a_g_exp_that_cannot_read_the_aus_is_named() -> None:
    (warning,) = helper_warnings({**FIT, "g_exp_au_r2": 0.1}, 32)
    assert "G_exp" in warning and "0.10" in warning


def test_au_variance_explained_counts_only_labelled_entries() -> None:
    labels = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.3]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    assert au_variance_explained(labels, labels, mask) == pytest.approx(1.0)
    mean = (labels * mask).sum() / mask.sum()
    assert au_variance_explained(torch.full_like(labels, mean.item()), labels, mask) == pytest.approx(0.0, abs=1e-6)
    wrong_where_unlabelled = labels.clone()
    wrong_where_unlabelled[2, 1] = 9.0
    assert au_variance_explained(wrong_where_unlabelled, labels, mask) == pytest.approx(1.0)
    assert au_variance_explained(labels, labels, torch.zeros_like(mask)) == 0.0


@pytest.fixture(scope="module")
def helpers_run(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A run dir with finished smg, aae and aux stages."""
    run_dir = tmp_path_factory.mktemp("preflight")
    config = tiny_config(synth_dir, "runtime.image_every=0")
    for stage in ("smg", "aae", "aux"):
        assert train(stage, config, run_dir).finished
    return run_dir


def _preflight_scalars(stage_dir: Path) -> dict[str, list[float]]:
    events = EventAccumulator(str(stage_dir / "tensorboard"))
    events.Reload()
    tags = [tag for tag in events.Tags()["scalars"] if "/preflight/" in tag]
    return {tag.rsplit("/", 1)[1]: [e.value for e in events.Scalars(tag)] for tag in tags}


def test_the_warning_comes_once_before_the_first_step_and_not_on_resume(
        helpers_run: Path, synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(helpers_run, run_dir)
    config = tiny_config(synth_dir, "stages.lsgan.steps=2", "runtime.image_every=0")
    monkeypatch.setattr(lsgan_stage, "MIN_C_ID_ACCURACY", 1.01)  # no C_id passes: the warning must show
    capsys.readouterr()
    assert not train("lsgan", config, run_dir, budget=Budget(max_steps=1)).finished
    first = capsys.readouterr().out
    assert first.count("lsgan: warning: C_id (stage aux) names the identity of") == 1
    assert first.index("warning: C_id") < first.index("stopped at step 1")
    assert train("lsgan", config, run_dir, resume=True).finished
    assert "warning" not in capsys.readouterr().out
    figures = _preflight_scalars(run_dir / "lsgan")
    assert set(figures) == {"c_id_accuracy", "c_id_cross_entropy", "g_exp_au_r2"}
    assert all(len(values) == 1 for values in figures.values())  # written once, at step 0
    assert 0.0 <= figures["c_id_accuracy"][0] <= 1.0 and figures["c_id_cross_entropy"][0] >= 0.0
    assert math.isfinite(figures["g_exp_au_r2"][0]) and figures["g_exp_au_r2"][0] <= 1.0


def test_fit_helpers_train_without_a_warning(helpers_run: Path, synth_dir: Path, tmp_path: Path,  # noqa: F811
                                             capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(helpers_run, run_dir)
    monkeypatch.setattr(lsgan_stage, "MIN_C_ID_ACCURACY", 0.0)  # the tiny aux stage trains too briefly to pass
    monkeypatch.setattr(lsgan_stage, "MIN_G_EXP_R2", -math.inf)
    capsys.readouterr()
    assert train("lsgan", tiny_config(synth_dir, "stages.lsgan.steps=1", "runtime.image_every=0"), run_dir).finished
    assert "warning" not in capsys.readouterr().out
