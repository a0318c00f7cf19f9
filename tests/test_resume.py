"""Exact resume and atomic checkpoints. Stage aae is used for the kill/stop variants because its steps draw
random numbers (prior samples for D_z), so an RNG or data-order slip on resume would show up in the weights;
stage lsgan (three optimizers, random pairs) is checked once too."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lsgan.errors import CheckpointError
from lsgan import atomic as atomic_module
from lsgan.training.checkpoint import (
    CHECKPOINT_NAME, TrainState, load_checkpoint, read_checkpoint, save_checkpoint,
)
from lsgan.training.loop import Budget
from lsgan.training.pipeline import train
from lsgan.training.stages.aae import AAEStage
from training_support import (  # noqa: F401 (fixture)
    checkpoint_tensors, loss_log, stopped_and_resumed, synth_dir, tiny_config,
)

# Batch 6 of 32 training images: 5 batches an epoch, so the resumed part crosses an epoch boundary; the lr falls
# over the last 4 steps, so a stop at step 3 resumes inside the decay.
RESUME_SETTINGS = (
    "stages.aae.steps=6", "stages.aae.batch_size=6", "stages.aae.checkpoint_every=2", "runtime.image_every=0",
    "stages.aae.lr_decay_steps=4",
)


class SimulatedCrash(RuntimeError):
    pass


@pytest.fixture(scope="module")
def uninterrupted(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    assert train("aae", tiny_config(synth_dir, *RESUME_SETTINGS), run_dir).finished
    return run_dir


def assert_same_tensors(expected: dict[str, torch.Tensor], actual: dict[str, torch.Tensor]) -> None:
    assert expected.keys() == actual.keys()
    different = [k for k in expected if not torch.equal(expected[k], actual[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


def test_budget_stop_then_resume_is_bit_exact(uninterrupted: Path, synth_dir: Path, tmp_path: Path) -> None:
    config = tiny_config(synth_dir, *RESUME_SETTINGS)
    stopped = train("aae", config, tmp_path, budget=Budget(max_steps=3))  # between checkpoints
    assert not stopped.finished and stopped.states["aae"].step == 3
    resumed = train("aae", config, tmp_path, resume=True)
    assert resumed.finished and resumed.states["aae"].step == 6
    assert_same_tensors(checkpoint_tensors(uninterrupted / "aae"), checkpoint_tensors(tmp_path / "aae"))
    assert loss_log(uninterrupted / "aae") == loss_log(tmp_path / "aae")


def test_the_lr_falls_over_the_last_lr_decay_steps(uninterrupted: Path, synth_dir: Path) -> None:
    settings = tiny_config(synth_dir, *RESUME_SETTINGS).stages.aae
    lrs = [settings.lr_at(step) for step in range(6)]
    assert lrs == pytest.approx([settings.lr] * 2 + [settings.lr * left / 4 for left in (4, 3, 2, 1)])
    _, optimizers = read_checkpoint(uninterrupted / "aae" / CHECKPOINT_NAME)
    saved = [group["lr"] for optimizer in optimizers.values() for group in optimizer["param_groups"]]
    assert saved and all(lr == pytest.approx(settings.lr / 4) for lr in saved)  # the last step's


def test_a_finished_stage_resumed_with_more_steps_trains_on(uninterrupted: Path, synth_dir: Path,
                                                            tmp_path: Path) -> None:
    shutil.copytree(uninterrupted / "aae", tmp_path / "aae")
    again = train("aae", tiny_config(synth_dir, *RESUME_SETTINGS), tmp_path, resume=True)
    assert again.finished and again.states["aae"].step == 6  # nothing more asked: nothing trained
    assert_same_tensors(checkpoint_tensors(uninterrupted / "aae"), checkpoint_tensors(tmp_path / "aae"))
    longer = train("aae", tiny_config(synth_dir, *RESUME_SETTINGS, "stages.aae.steps=8"), tmp_path, resume=True,
                   allow_config_change=True)
    assert longer.finished and longer.states["aae"].step == 8
    assert [record["step"] for record in loss_log(tmp_path / "aae")][-2:] == [7, 8]


def _hard_linked_stage(source: Path, target: Path) -> Path:
    """``source``'s files hard-linked into ``target`` (as ``lsgan reproduce`` reuses a base run's stages)."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            os.link(path, target / path.name)
    return target


def test_resuming_a_hard_linked_stage_never_writes_through_to_the_original(uninterrupted: Path, synth_dir: Path,
                                                                           tmp_path: Path) -> None:
    config = tiny_config(synth_dir, *RESUME_SETTINGS)
    original = uninterrupted / "aae" / "losses.jsonl"
    before = original.stat()
    linked = _hard_linked_stage(uninterrupted / "aae", tmp_path / "reuse" / "aae") / "losses.jsonl"
    assert train("aae", config, tmp_path / "reuse", resume=True).states["aae"].step == 6
    after = original.stat()  # nothing to trim: the log is not written at all
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert linked.stat().st_ino == before.st_ino

    base = tmp_path / "base" / "aae"  # a log with a record past the checkpoint (a run killed after it)
    shutil.copytree(uninterrupted / "aae", base)
    with open(base / "losses.jsonl", "a") as handle:
        handle.write('{"step": 99, "loss": 1.0}\n')
    kept = (base / "losses.jsonl").read_text()
    linked = _hard_linked_stage(base, tmp_path / "trim" / "aae") / "losses.jsonl"
    assert train("aae", config, tmp_path / "trim", resume=True).states["aae"].step == 6
    assert [record["step"] for record in loss_log(linked.parent)][-1] == 6  # trimmed in its own, new file
    assert (base / "losses.jsonl").read_text() == kept and linked.stat().st_ino != (base / "losses.jsonl").stat().st_ino


def test_crash_after_checkpoint_then_resume_is_bit_exact(
    uninterrupted: Path, synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny_config(synth_dir, *RESUME_SETTINGS)
    original_step = AAEStage.train_step
    calls = {"count": 0}

    def crash_at_step_six(self: AAEStage, batch: dict) -> dict:
        calls["count"] += 1
        if calls["count"] == 6:  # step 5 ran after the checkpoint at step 4: its work is lost
            raise SimulatedCrash
        return original_step(self, batch)

    monkeypatch.setattr(AAEStage, "train_step", crash_at_step_six)
    with pytest.raises(SimulatedCrash):
        train("aae", config, tmp_path)
    monkeypatch.setattr(AAEStage, "train_step", original_step)
    assert train("aae", config, tmp_path, resume=True).states["aae"].step == 6
    assert_same_tensors(checkpoint_tensors(uninterrupted / "aae"), checkpoint_tensors(tmp_path / "aae"))
    assert loss_log(uninterrupted / "aae") == loss_log(tmp_path / "aae")  # the lost steps' records are dropped


@pytest.fixture
def augmented_training(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Training items flipped at random (``FaceAUDataset(augment=True)``, which draws from torch's global RNG
    while a batch is loaded, before the step reseeds). Training does not turn augmentation on today; this is the
    day it does. Returns the (image, flipped?) record of every item loaded."""
    from lsgan.data.datasets import FaceAUDataset, build_dataset
    from lsgan.training import pipeline

    def augmented_split(config, split: str, with_labels: bool):
        data = config.data
        return build_dataset(data.kind, data.root, split, config.model.image_size, csv=data.csv,
                             with_labels=with_labels, augment=split == "train")

    loaded: list[tuple[str, bool]] = []
    original = FaceAUDataset.__getitem__

    def getitem(self: FaceAUDataset, index: int) -> dict:
        item = original(self, index)
        if self.augment:
            self.augment = False  # the plain item, drawing nothing
            plain = original(self, index)
            self.augment = True
            loaded.append((item["path"], not torch.equal(item["image"], plain["image"])))
        return item

    monkeypatch.setattr(pipeline, "_split", augmented_split)
    monkeypatch.setattr(FaceAUDataset, "__getitem__", getitem)
    return loaded


def test_resume_restores_the_random_stream_that_augmentation_draws_from(
    augmented_training: list[tuple[str, bool]], synth_dir: Path, tmp_path: Path
) -> None:
    """Stop after step 3, resume: the flips drawn for steps 4-6 and the weights must be the uninterrupted run's.
    Fails if resume does not restore the checkpoint's RNG state."""
    config = tiny_config(synth_dir, *RESUME_SETTINGS)
    assert train("aae", config, tmp_path / "uninterrupted").finished
    uninterrupted = list(augmented_training)
    augmented_training.clear()
    assert not train("aae", config, tmp_path / "resumed", budget=Budget(max_steps=3)).finished
    assert train("aae", config, tmp_path / "resumed", resume=True).finished
    flips = [flipped for _, flipped in uninterrupted]
    assert 0 < sum(flips) < len(flips)  # augmentation really drew, both ways
    assert augmented_training == uninterrupted
    assert_same_tensors(checkpoint_tensors(tmp_path / "uninterrupted" / "aae"),
                        checkpoint_tensors(tmp_path / "resumed" / "aae"))


@pytest.fixture(scope="module")
def pretrained_run(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run dir holding finished smg, aae and aux stages (what stage lsgan starts from)."""
    run_dir = tmp_path_factory.mktemp("pretrained")
    config = tiny_config(synth_dir, "runtime.image_every=0")
    for stage in ("smg", "aae", "aux"):
        assert train(stage, config, run_dir).finished
    return run_dir


def test_lsgan_stage_resume_is_bit_exact(pretrained_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    """The adversarial stage: three optimizers, frozen helpers, random pairs and prior samples."""
    config = tiny_config(
        synth_dir, "stages.lsgan.steps=5", "stages.lsgan.checkpoint_every=2", "runtime.image_every=0"
    )
    uninterrupted, interrupted = stopped_and_resumed(pretrained_run, config, tmp_path)
    assert_same_tensors(checkpoint_tensors(uninterrupted / "lsgan"), checkpoint_tensors(interrupted / "lsgan"))


def _toy() -> tuple[nn.Module, torch.optim.Optimizer]:
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_failed_write_keeps_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, optimizer = _toy()
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, TrainState(stage="toy", step=1), {"toy": model}, {"toy": optimizer})
    before = path.read_bytes()
    with torch.no_grad():
        model.weight.add_(1.0)

    def power_cut(fd: int) -> None:  # the new bytes are written but never made durable
        raise OSError("simulated power cut during fsync")

    monkeypatch.setattr(atomic_module.os, "fsync", power_cut)
    with pytest.raises(OSError, match="power cut"):
        save_checkpoint(path, TrainState(stage="toy", step=2), {"toy": model}, {"toy": optimizer})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]  # no temporary file left behind
    restored, restored_optimizer = _toy()
    state = load_checkpoint(path, {"toy": restored}, {"toy": restored_optimizer})
    assert state.step == 1


def test_checkpoint_round_trips_model_optimizer_and_rng(tmp_path: Path) -> None:
    model, optimizer = _toy()
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, TrainState(stage="toy", step=7, epoch=2, batch_in_epoch=3), {"toy": model}, {"toy": optimizer})
    expected_draws = (torch.rand(3), np.random.rand(3), random.random())
    other, other_optimizer = _toy()
    state = load_checkpoint(path, {"toy": other}, {"toy": other_optimizer})
    assert (state.step, state.epoch, state.batch_in_epoch) == (7, 2, 3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))
    for key, value in optimizer.state_dict()["state"][0].items():
        assert torch.equal(value, other_optimizer.state_dict()["state"][0][key])
    assert torch.equal(torch.rand(3), expected_draws[0])
    assert np.array_equal(np.random.rand(3), expected_draws[1])
    assert random.random() == expected_draws[2]


def test_checkpoint_for_another_network_is_refused(tmp_path: Path) -> None:
    model, optimizer = _toy()
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, TrainState(stage="toy"), {"toy": model}, {"toy": optimizer})
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path, {"toy": nn.Linear(5, 2)}, {})
    with pytest.raises(CheckpointError, match="no network 'other'"):
        load_checkpoint(path, {"other": nn.Linear(3, 2)}, {})
