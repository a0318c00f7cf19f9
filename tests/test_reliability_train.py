"""Bad inputs around training and model bundles (docs/reliability.md): a finished run is never mixed with a new one,
a changed config on --resume is named, a damaged latest checkpoint falls back to the previous one, config numbers
are checked on load, and bundles that do not fit or hold NaN are refused before they are used."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from edit_support import run_lsgan, tiny_bundle  # noqa: F401  (fixture)
from safetensors.torch import load_file, save_file
from torch import nn
from training_support import TINY_CONFIG, synth_dir, tiny_config  # noqa: F401  (fixture)

from lsgan.config import save_config
from lsgan.errors import LsganError
from lsgan.training.checkpoint import (
    CHECKPOINT_NAME, TrainState, load_latest_checkpoint, previous_path, save_checkpoint,
)
from lsgan.training.pipeline import check_run_dir, train


@pytest.fixture
def lsgan(capsys, monkeypatch):
    return lambda *args: run_lsgan(list(args), capsys, monkeypatch)


def one_error_line(run, message: str) -> bool:
    return run.code == 2 and run.err.startswith("error: ") and message in run.err and run.err.count("\n") == 1


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


# --- config numbers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "message"), [
    ("stages.smg.batch_size=0", "stages.smg.batch_size must be at least 1, got 0"),
    ("stages.lsgan.steps=-1", "stages.lsgan.steps must be at least 1, got -1"),
    ("stages.aux.lr=-0.001", "stages.aux.lr must be a finite number above 0, got -0.001"),
    ("stages.aae.lr=.inf", "stages.aae.lr must be a finite number above 0"),
    ("stages.smg.betas=[0.9,1.5]", "betas must both be in [0, 1)"),
    ("losses.au=-1", "losses.au must be at least 0"),
    ("runtime.log_every=0", "runtime.log_every must be at least 1"),
    ("data.synth.test_fraction=1.0", "data.synth.test_fraction must be in [0, 1)"),
])
def test_bad_config_numbers_are_one_error_line_naming_the_key(lsgan, tmp_path, setting, message):
    run = lsgan("train", "smg", "--config", TINY_CONFIG, "--set", setting, "--out", tmp_path / "run")
    assert one_error_line(run, message), run.err
    assert not (tmp_path / "run").exists()


# --- the run dir ---------------------------------------------------------------------------------------------------

def fake_finished_run(run_dir: Path) -> Path:
    for stage in ("smg", "aae", "aux", "lsgan"):
        (run_dir / stage).mkdir(parents=True)
        (run_dir / stage / CHECKPOINT_NAME).write_bytes(f"{stage} weights".encode())
    (run_dir / "bundle").mkdir()
    (run_dir / "bundle" / "generator.safetensors").write_bytes(b"generator")
    save_config(tiny_config(Path("data")), run_dir / "config.yaml")
    return run_dir


def test_training_into_a_finished_run_is_refused_and_the_run_is_untouched(lsgan, tmp_path):
    run_dir = fake_finished_run(tmp_path / "run")
    before = snapshot(run_dir)
    run = lsgan("train", "all", "--config", TINY_CONFIG, "--out", run_dir)
    assert one_error_line(run, f"{run_dir} already holds a run (smg, aae, aux, lsgan, bundle)"), run.err
    assert "--resume" in run.err and "--overwrite" in run.err
    run = lsgan("train", "smg", "--config", TINY_CONFIG, "--out", run_dir)
    assert one_error_line(run, "already holds a run (smg)")
    run = lsgan("train", "smg", "--config", TINY_CONFIG, "--out", run_dir, "--resume", "--overwrite")
    assert one_error_line(run, "give one of them")
    assert snapshot(run_dir) == before


def test_resume_with_a_changed_config_names_the_changes(lsgan, tmp_path):
    run_dir = fake_finished_run(tmp_path / "run")
    before = snapshot(run_dir)
    run = lsgan("train", "all", "--config", TINY_CONFIG, "--data", "data", "--out", run_dir, "--resume",
                "--set", "stages.smg.lr=0.01", "--set", "stages.lsgan.batch_size=2")
    assert one_error_line(run, "stages.lsgan.batch_size: 4 -> 2; stages.smg.lr: 0.003 -> 0.01"), run.err
    assert "--allow-config-change" in run.err
    assert snapshot(run_dir) == before
    config = tiny_config(Path("data"), "runtime.num_threads=2", "runtime.log_every=5")  # how, not what, is trained
    assert check_run_dir(run_dir, config, "all", resume=True, overwrite=False, allow_config_change=False) == []
    changed = tiny_config(Path("data"), "stages.smg.lr=0.01")
    assert check_run_dir(run_dir, changed, "all", resume=True, overwrite=False, allow_config_change=True) == []


def test_overwrite_replaces_a_finished_stage(synth_dir, tmp_path):
    config = tiny_config(synth_dir, "stages.smg.steps=2", "stages.smg.checkpoint_every=1", "runtime.image_every=0")
    run_dir = tmp_path / "run"
    assert train("smg", config, run_dir).finished
    before = snapshot(run_dir)
    with pytest.raises(LsganError, match="already holds a run"):
        train("smg", config, run_dir)
    assert snapshot(run_dir) == before
    (run_dir / "smg" / "stale.txt").write_text("from the old run")
    assert train("smg", config, run_dir, overwrite=True).finished
    assert not (run_dir / "smg" / "stale.txt").exists()


# --- previous checkpoint ----------------------------------------------------------------------------------------

def _toy(seed: int) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = nn.Linear(3, 2)
    return model, torch.optim.Adam(model.parameters(), lr=0.1)


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog):
    path = tmp_path / CHECKPOINT_NAME
    model, optimizer = _toy(0)
    save_checkpoint(path, TrainState(stage="toy", step=4), {"toy": model}, {"toy": optimizer})
    first_weights = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    save_checkpoint(path, TrainState(stage="toy", step=8), {"toy": model}, {"toy": optimizer})
    assert previous_path(path).is_file()

    restored, restored_optimizer = _toy(1)
    assert load_latest_checkpoint(path, {"toy": restored}, {"toy": restored_optimizer}).step == 8

    path.write_bytes(path.read_bytes()[:100])  # damaged: cut short
    with caplog.at_level(logging.WARNING, logger="lsgan"):
        state = load_latest_checkpoint(path, {"toy": restored}, {"toy": restored_optimizer})
    assert state.step == 4 and torch.equal(restored.weight, first_weights)
    assert "resuming from the previous checkpoint" in caplog.text and "step 4" in caplog.text

    path.unlink()  # stopped between the two renames of a save
    assert load_latest_checkpoint(path, {"toy": restored}, {"toy": restored_optimizer}).step == 4


# --- bundles --------------------------------------------------------------------------------------------------------

def copy_bundle(bundle: Path, to: Path) -> Path:
    shutil.copytree(bundle, to)
    return to


def test_bundle_with_nan_weights_is_refused(lsgan, tiny_bundle, tmp_path, save_png):
    import numpy as np

    bundle = copy_bundle(tiny_bundle, tmp_path / "nan_bundle")
    weights = load_file(bundle / "generator.safetensors")
    name = next(key for key, value in weights.items() if value.is_floating_point())
    weights[name] = weights[name].clone()
    weights[name].view(-1)[0] = float("nan")
    save_file(weights, bundle / "generator.safetensors")
    face = save_png("face.png", np.full((40, 40, 3), 128, np.uint8))
    run = lsgan("edit", face, "--aus", "12=1", "--no-align", "--model", bundle, "--out", tmp_path / "x.png")
    assert one_error_line(run, "1 weight tensor(s) hold NaN or infinite values"), run.err
    assert name in run.err and not (tmp_path / "x.png").exists()


def test_bundle_config_is_checked_against_the_file_shapes_before_allocating(lsgan, tiny_bundle, tmp_path, save_png,
                                                                             monkeypatch):
    import numpy as np

    from lsgan.nets import lsgan as lsgan_nets

    bundle = copy_bundle(tiny_bundle, tmp_path / "huge_bundle")
    config = yaml.safe_load((bundle / "config.yaml").read_text())
    config["tg"].update(width=65536, max_channels=65536)  # ~100 GB of weights if it were built
    (bundle / "config.yaml").write_text(yaml.safe_dump(config))
    built = []
    real_generator = lsgan_nets.LSGANGenerator

    def record(config):  # any generator built outside the meta device would allocate the real weights
        generator = real_generator(config)
        built.append(next(generator.parameters()).device.type)
        return generator

    monkeypatch.setattr(lsgan_nets, "LSGANGenerator", record)
    face = save_png("face.png", np.full((40, 40, 3), 128, np.uint8))
    run = lsgan("edit", face, "--aus", "12=1", "--no-align", "--model", bundle)
    assert one_error_line(run, "generator.safetensors does not fit the configured network"), run.err
    assert built == ["meta"]


def test_checkpoints_and_bundles_follow_the_umask(tmp_path):
    import os

    from lsgan.config import from_dict
    from lsgan.nets.auxiliary import AURegressor
    from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator, save_bundle

    old = os.umask(0o022)
    try:
        model, optimizer = _toy(0)
        for step in (1, 2):
            save_checkpoint(tmp_path / "run" / CHECKPOINT_NAME, TrainState(stage="toy", step=step), {"toy": model},
                            {"toy": optimizer})
        config = from_dict(LSGANConfig, yaml.safe_load(TINY_CONFIG.read_text())["model"])
        save_bundle(tmp_path / "bundle", config, LSGANGenerator(config), AURegressor(config.aux))
    finally:
        os.umask(old)
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {path.name for path in written} >= {CHECKPOINT_NAME, CHECKPOINT_NAME + ".previous", "config.yaml",
                                               "generator.safetensors", "au_regressor.safetensors"}
    assert {path.stat().st_mode & 0o777 for path in written} == {0o644}
