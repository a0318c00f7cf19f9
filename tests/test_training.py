"""End to end: ``lsgan train all --config configs/tiny.yaml`` through the CLI trains every stage on a SynthFACS
set from ``lsgan data synth``, the losses fall, and the run dir holds a loadable bundle and the final metrics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.config import load_config
from lsgan.errors import CheckpointError, LsganError
from lsgan.facs import NUM_AUS
from lsgan.nets.lsgan import load_bundle
from lsgan.training.checkpoint import CHECKPOINT_NAME
from lsgan.training.config import TrainConfig
from lsgan.training.pipeline import train
from training_support import REPO, TINY_CONFIG, loss_log, synth_dir, tiny_config  # noqa: F401 (fixture)

# The loss each stage minimises, as logged in RUN_DIR/<stage>/losses.jsonl.
MAIN_LOSS = {"smg": ("ce",), "aae": ("rec_l1",), "aux": ("au_mse", "id_ce"), "lsgan": ("g_total",)}


@pytest.fixture(scope="module")
def tiny_run(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("tiny-run")
    args = ["train", "all", "--config", str(TINY_CONFIG), "--data", str(synth_dir), "--out", str(run_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "model bundle" in result.output
    return run_dir


@pytest.mark.parametrize("stage", list(MAIN_LOSS))
def test_each_stage_loss_falls(tiny_run: Path, stage: str) -> None:
    records = loss_log(tiny_run / stage)
    totals = [sum(r[name] for name in MAIN_LOSS[stage]) for r in records]
    assert len(totals) == tiny_config(Path(".")).stage(stage).steps  # log_every 1: one record per step
    first, last = sum(totals[:3]) / 3, sum(totals[-3:]) / 3
    assert last < first, f"{stage}: {MAIN_LOSS[stage]} went from {first:.4g} to {last:.4g}"


def test_bundle_loads_and_edits(tiny_run: Path, synth_dir: Path) -> None:
    bundle = load_bundle(tiny_run / "bundle")
    assert bundle.config.image_size == 32
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    target = torch.rand(2, NUM_AUS)
    with torch.no_grad():
        out = bundle.generator(image, target)
        aus = bundle.au_regressor(out.image)
    assert out.image.shape == (2, 3, 32, 32) and torch.isfinite(out.image).all()
    assert torch.allclose(out.masks.sum(1), torch.ones(2, 32, 32), atol=1e-5)
    assert aus.shape == (2, NUM_AUS) and ((aus >= 0) & (aus <= 1)).all()


def test_final_metrics_cover_every_stage(tiny_run: Path) -> None:
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert set(metrics) == {"smg", "aae", "aux", "lsgan"}
    assert 0.0 <= metrics["smg"]["miou"] <= 1.0
    assert metrics["aux"]["au_mse"] >= 0.0
    lsgan = metrics["lsgan"]
    # SynthFACS: the edit is scored against the rendered true target, beside the unchanged-source baseline.
    for key in ("psnr", "psnr_identity_baseline", "self_rec_psnr"):
        assert math.isfinite(lsgan[key]) and lsgan[key] > 0, key
    for key in ("ssim", "ssim_identity_baseline", "self_rec_ssim"):
        assert -1.0 <= lsgan[key] <= 1.0, key
    for key in ("au_mse", "au_mse_identity_baseline", "au_mse_true_target"):
        assert 0.0 <= lsgan[key] < 1.0, key  # AUs in [0, 1]: a squared error is below 1


def test_checkpoint_is_safetensors_with_json_state(tiny_run: Path) -> None:
    path = tiny_run / "lsgan" / CHECKPOINT_NAME
    with safe_open(str(path), framework="pt") as handle:
        header = json.loads(handle.metadata()["lsgan_training"])
        keys = list(handle.keys())
    assert header["state"]["finished"] and header["state"]["step"] == 8
    assert header["state"]["config"]["model"]["image_size"] == 32
    assert any(k.startswith("model/generator/") for k in keys)
    assert any(k.startswith("optim/aud/") for k in keys)
    assert "rng/torch" in keys


def test_tensorboard_events_written(tiny_run: Path) -> None:
    assert list((tiny_run / "lsgan" / "tensorboard").glob("events.out.tfevents.*"))


def test_lsgan_stage_needs_earlier_stages(synth_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="run `lsgan train"):
        train("lsgan", tiny_config(synth_dir), tmp_path)


def test_paired_loss_trains_against_rendered_true_targets(tiny_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    import shutil

    from lsgan.data.synthfacs import read_meta, render_row
    from lsgan.data.images import to_tensor
    from lsgan.training.pipeline import stage_data
    from lsgan.training.stages.lsgan import LSGANStage

    config = tiny_config(synth_dir, "losses.paired=100", "stages.lsgan.steps=4", "stages.lsgan.eval_every=0")
    item = stage_data(LSGANStage, config).train[0]
    rows = {row["image"]: row for row in _annotations(synth_dir)}
    source_row = rows[Path(item["source"]["path"]).relative_to(synth_dir).as_posix()]
    expected = render_row(source_row, read_meta(synth_dir), size=32, aus=item["target"]["aus"].numpy())
    assert torch.equal(item["true_target"], to_tensor(expected.image))
    assert not torch.equal(item["true_target"], item["source"]["image"])

    for stage in ("smg", "aae", "aux"):
        shutil.copytree(tiny_run / stage, tmp_path / stage)
    train("lsgan", config, tmp_path)
    paired = [record["g_paired"] for record in loss_log(tmp_path / "lsgan")]
    assert len(paired) == 4 and all(value > 0 for value in paired)


def test_paired_loss_is_refused_without_synthfacs_true_targets(synth_dir: Path, tmp_path: Path) -> None:
    config = tiny_config(synth_dir, "losses.paired=100", "data.kind=folder")
    with pytest.raises(LsganError, match="only SynthFACS"):
        train("lsgan", config, tmp_path)


def _annotations(root: Path) -> list[dict[str, str]]:
    import csv

    with open(root / "annotations.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_colour_loss_and_photometric_options_train(tiny_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    import shutil

    warp = ["model.tg.output=warp", "model.tg.au_gated=true", "model.tg.condition=change", "model.tg.max_colour=0.1"]
    config = tiny_config(synth_dir, *warp, "losses.colour=10", "losses.paired=100", "stages.lsgan.steps=3",
                         "stages.lsgan.eval_every=0", "stages.lsgan_options.appearance=0.5",
                         "stages.aux_options.photometric=0.5", "stages.aux.steps=2", "stages.aux.eval_every=0")
    for stage in ("smg", "aae"):
        shutil.copytree(tiny_run / stage, tmp_path / stage)
    train("aux", config, tmp_path)
    aux_metrics = json.loads((tmp_path / "aux" / "metrics.json").read_text())["metrics"]
    assert aux_metrics["au_mse_photometric"] > 0  # G_exp scored under the colour changes it learns to ignore
    train("lsgan", config, tmp_path)
    colour = [record["g_colour"] for record in loss_log(tmp_path / "lsgan")]
    assert len(colour) == 3 and all(0 <= value <= 0.2 for value in colour)  # bounded by 2 * max_colour


def test_real_faces_train_the_generator_beside_synthfacs(tiny_run: Path, synth_dir: Path, tmp_path: Path,
                                                        astronaut) -> None:
    import shutil

    import numpy as np
    from PIL import Image

    from lsgan.data.real_faces import REAL_FACES, RealFaces

    real = tmp_path / "frames"
    (real / "clip").mkdir(parents=True)
    Image.fromarray(astronaut).save(real / "clip" / "a.png")
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(real / "clip" / "b.jpg")
    (real / "clip" / "empty.png").write_bytes(b"")  # unreadable: skipped and reported
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(real / "no_face.png")
    run = tmp_path / "run"
    for stage in ("smg", "aae", "aux"):
        shutil.copytree(tiny_run / stage, run / stage)
    config = tiny_config(synth_dir, f"data.real={real}", "losses.real=1", "stages.lsgan_options.real_batch=2",
                         "stages.lsgan.steps=3", "stages.lsgan.eval_every=0")
    train("lsgan", config, run)
    faces = RealFaces.read(run / REAL_FACES)
    assert faces.crops.shape == (2, 32, 32, 3) and faces.names == ["clip/a.png", "clip/b.jpg"]
    assert len(faces.skipped) == 2 and any("no_face.png" in line for line in faces.skipped)
    log = loss_log(run / "lsgan")
    assert len(log) == 3 and all(record["real_reconstruction"] > 0 and record["real_au"] >= 0 for record in log)
    # The cache follows the settings: another limit aligns again (a stale cache is never trained on).
    from lsgan.training.distributed import init_distributed
    from lsgan.training.pipeline import prepare_real_faces

    prepare_real_faces(tiny_config(synth_dir, f"data.real={real}", "losses.real=1", "data.real_limit=1"), run,
                       init_distributed("cpu"))
    assert RealFaces.read(run / REAL_FACES).names == ["clip/a.png"]
    # Several folders: in the order given, named from their common parent.
    more = tmp_path / "more"
    more.mkdir()
    Image.fromarray(astronaut).save(more / "c.png")
    prepare_real_faces(tiny_config(synth_dir, f"data.real=[{more}, {real}]", "losses.real=1"), run,
                       init_distributed("cpu"))
    assert RealFaces.read(run / REAL_FACES).names == ["more/c.png", "frames/clip/a.png", "frames/clip/b.jpg"]


def test_data_real_is_one_folder_or_a_list_of_them(tmp_path: Path) -> None:
    from lsgan.data.real_faces import faces_root, real_folders
    from lsgan.errors import DataError

    assert real_folders("~/frames") == (Path.home() / "frames",)
    folders = real_folders([tmp_path / "a" / "lfw", tmp_path / "b"])
    assert folders == (tmp_path / "a" / "lfw", tmp_path / "b") and faces_root(folders) == tmp_path.resolve()
    assert faces_root(real_folders(tmp_path / "b")) == tmp_path / "b"
    with pytest.raises(DataError, match="empty list"):
        real_folders([])


def test_expression_loss_trains_through_face_api(tiny_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    import shutil

    for stage in ("smg", "aae", "aux"):
        shutil.copytree(tiny_run / stage, tmp_path / stage)
    train("lsgan", tiny_config(synth_dir, "losses.expression=10", "stages.lsgan.steps=2",
                               "stages.lsgan.eval_every=0"), tmp_path)
    values = [record["g_expression"] for record in loss_log(tmp_path / "lsgan")]
    assert len(values) == 2 and all(value >= 0 for value in values) and any(value > 0 for value in values)


def test_real_loss_needs_a_real_faces_folder(synth_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(LsganError, match="give their folder as data.real"):
        train("lsgan", tiny_config(synth_dir, "losses.real=1"), tmp_path)


def test_colour_loss_is_refused_for_generators_that_do_not_warp(synth_dir: Path, tmp_path: Path) -> None:
    config = tiny_config(synth_dir, "losses.colour=10")  # tiny.yaml's TG draws images
    with pytest.raises(LsganError, match="needs model.tg.output=warp"):
        train("lsgan", config, tmp_path)


CONFIG_FILES = sorted(path.relative_to(REPO / "configs").as_posix() for path in (REPO / "configs").rglob("*.yaml"))


def _flat_config(name: str) -> dict[str, object]:
    from lsgan.config import to_dict
    from lsgan.training.pipeline import _flatten

    return _flatten(to_dict(load_config(TrainConfig, REPO / "configs" / name)))


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_shipped_configs_load(name: str) -> None:
    config = load_config(TrainConfig, REPO / "configs" / name)
    assert config.model.image_size in (32, 64, 128)
    assert all(config.stage(s).steps > 0 for s in ("smg", "aae", "aux", "lsgan"))


# Each ablation of the paper's Tables 4-7 is paper128.yaml with one change (a budget overlay goes on top later).
ABLATIONS = {
    "no_identity": {"losses.identity": 0.0},
    "no_reconstruction": {"losses.reconstruction": 0.0},
    "no_cycle": {"losses.cycle": 0.0},
    "se_attention": {"model.smg.attention": "se"},
    "no_smg": {"model.use_smg": False},
    "encoder_decoder": {"model.generator": "encoder_decoder"},
    "ce_au_loss": {"losses.au_loss": "ce"},
}


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_each_ablation_config_is_the_papers_with_its_one_change(name: str) -> None:
    from lsgan.training.pipeline import stages_to_run

    assert f"ablations/{name}.yaml" in CONFIG_FILES
    paper, ablation = _flat_config("paper128.yaml"), _flat_config(f"ablations/{name}.yaml")
    assert {key: ablation[key] for key in ablation if ablation[key] != paper.get(key)} == ABLATIONS[name]
    stages = stages_to_run(load_config(TrainConfig, REPO / "configs" / "ablations" / f"{name}.yaml"), "all")
    expected = {"no_smg": ["aae", "aux", "lsgan"], "encoder_decoder": ["smg", "aux", "lsgan"]}
    assert stages == expected.get(name, ["smg", "aae", "aux", "lsgan"])


def test_paper_configs_are_the_papers_design_and_name_their_variants() -> None:
    paper = _flat_config("paper128.yaml")
    assert (paper["model.tg.preset"], paper["model.tg.skip_levels"], paper["model.tg.output"]) == ("paper", 0, "image")
    smg_departures = ("context_stem", "global_context", "context_merge", "arm_norm")
    assert not any(paper[f"model.smg.{name}"] for name in smg_departures)
    assert paper["stages.lsgan_options.latent_prior"] is False and paper["losses.paired"] == 0.0
    skip = _flat_config("paper128-skip.yaml")
    assert {key for key in skip if skip[key] != paper[key]} == {"model.tg.preset", "model.tg.skip_levels"}
    assert skip["model.tg.skip_levels"] == 7
    cpu64 = _flat_config("cpu64.yaml")
    assert (cpu64["model.tg.preset"], cpu64["model.tg.output"], cpu64["model.tg.max_colour"]) == ("warp", "warp", 0.06)
    # C_id's last checkpoint must not be a late spike of a constant rate (docs/shipped_model.md, "Retrained on v4")
    assert cpu64["stages.aux.lr_decay_steps"] == cpu64["stages.aux.steps"] // 2
    disfa = _flat_config("disfa128.yaml")
    assert {key: disfa[key] for key in disfa if disfa[key] != paper[key]} == {
        "data.kind": "disfa", "data.root": "data/DISFA", "stages.lsgan.steps": 16 * 24 * 4845 // 8,
    }


def test_cross_entropy_au_loss_trains_reading_logits(tiny_run: Path, synth_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``losses.au_loss: ce`` (the ce_au_loss ablation's change): every AU loss of stage lsgan is the
    cross-entropy form, and G_exp's reading passed to it is its logits (negative ones too), not intensities."""
    import shutil

    from lsgan import losses

    calls: list[tuple[str, float]] = []
    original = losses.au_loss

    def spy(predicted, target, mask=None, kind="mse"):
        calls.append((kind, float(predicted.detach().min())))
        return original(predicted, target, mask, kind)

    monkeypatch.setattr(losses, "au_loss", spy)
    for stage in ("smg", "aae", "aux"):
        shutil.copytree(tiny_run / stage, tmp_path / stage)
    train("lsgan", tiny_config(synth_dir, "losses.au_loss=ce", "stages.lsgan.steps=2", "stages.lsgan.eval_every=0"),
          tmp_path)
    log = loss_log(tmp_path / "lsgan")
    assert len(log) == 2 and all(math.isfinite(r["g_au"]) and math.isfinite(r["d_cls"]) for r in log)
    assert len(calls) == 6 and {kind for kind, _ in calls} == {"ce"}  # per step: G_exp, D_cls on I~, D_cls on I
    assert any(lowest < 0 for _, lowest in calls[0::3])  # G_exp's logits: sigmoid intensities are never < 0


def test_judge_jitter_shifts_blurs_and_noises_what_g_exp_reads_and_is_off_by_default():
    from torch import nn

    from lsgan.losses import LossWeights
    from lsgan.training.config import LsganStageOptions
    from lsgan.training.stages.lsgan import GeneratorObjective

    fake = torch.rand(2, 3, 16, 16, requires_grad=True)
    plain = GeneratorObjective(nn.Identity(), {}, LossWeights(), LsganStageOptions(), 0.0)
    assert plain._jitter(fake) is fake
    jittery = GeneratorObjective(nn.Identity(), {}, LossWeights(), LsganStageOptions(judge_jitter=0.05), 0.0)
    torch.manual_seed(0)
    read = jittery._jitter(fake)
    assert read.shape == fake.shape
    assert 0.01 < (read - fake).std() < 0.5
    read.sum().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


@pytest.fixture
def lsgan_stage(synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Stage lsgan on the tiny set with its helpers left at random weights (no earlier stages needed), with the
    TG reading the AU change, so that every pass's source AUs matter."""
    from lsgan.training.distributed import DistContext
    from lsgan.training.pipeline import stage_data
    from lsgan.training.stages.lsgan import LSGANStage

    config = tiny_config(synth_dir, "model.tg.condition=change")
    monkeypatch.setattr(LSGANStage, "_load_earlier_stages", lambda self: None)
    torch.manual_seed(0)
    return LSGANStage(DistContext(0, 1, 0, torch.device("cpu")), config, stage_data(LSGANStage, config), tmp_path)


@pytest.fixture
def generator_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, torch.Tensor]]:
    """Every ``LSGANGenerator`` call from now on: its image, target and source AUs, and the image it made."""
    from lsgan.nets.lsgan import LSGANGenerator

    calls: list[dict[str, torch.Tensor]] = []
    original = LSGANGenerator.forward

    def spy(self, image, target_aus, source_aus=None):
        out = original(self, image, target_aus, source_aus)
        calls.append({"image": image.detach(), "target": target_aus.detach(), "source": source_aus.detach(),
                      "out": out.image.detach()})
        return out

    monkeypatch.setattr(LSGANGenerator, "forward", spy)
    return calls


def test_lsgan_step_edits_towards_the_target_and_cycles_back_to_the_source(lsgan_stage, generator_calls):
    """Eq. 10's passes: I~ = G(I, u_t | u_s) and I_r = G(I, u_s | u_s) in one call, then the cycle
    G(I~, u_s | u_t), which must go back to the source AUs from the target ones (not G(I~, u_t | u_s))."""
    from torch.utils.data import DataLoader

    batch = lsgan_stage.to_device(next(iter(DataLoader(lsgan_stage.data.train, batch_size=4))))
    image, source, target = batch["source"]["image"], batch["source"]["aus"], batch["target"]["aus"]
    assert not torch.equal(source, target)
    lsgan_stage.train_step(batch)
    edit, cycle = generator_calls  # exactly two generator passes per step
    assert torch.equal(edit["image"], torch.cat([image, image]))
    assert torch.equal(edit["target"], torch.cat([target, source]))
    assert torch.equal(edit["source"], torch.cat([source, source]))
    assert torch.equal(cycle["image"], edit["out"][:4])  # the cycle starts from the edit I~
    assert torch.equal(cycle["target"], source), "the cycle pass must aim at the source AUs"
    assert torch.equal(cycle["source"], target), "the cycle pass starts from the target AUs"


def test_lsgan_evaluation_edits_with_target_and_reconstructs_with_source_aus(lsgan_stage, generator_calls):
    from torch.utils.data import DataLoader

    batch = lsgan_stage.to_device(next(iter(DataLoader(lsgan_stage.data.test, batch_size=2))))
    source, target = batch["source"]["aus"], batch["target"]["aus"]
    with torch.no_grad():
        lsgan_stage.evaluate(iter([batch]))
    edit, reconstruction = generator_calls
    assert torch.equal(edit["target"], target) and torch.equal(edit["source"], source)
    assert torch.equal(reconstruction["target"], source) and torch.equal(reconstruction["source"], source)


def test_latent_prior_off_leaves_eq4_to_stage_aae(tiny_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    """``stages.lsgan_options.latent_prior: false`` (the paper's Eq. 10 alone): stage lsgan neither adds the
    encoder side of Eq. 4 to the generator's loss nor trains D_z; on (as shipped) it does both."""
    import shutil

    shipped = loss_log(tiny_run / "lsgan")[0]
    assert "g_e_adv" in shipped and "dz" in shipped
    for stage in ("smg", "aae", "aux"):
        shutil.copytree(tiny_run / stage, tmp_path / stage)
    train("lsgan", tiny_config(synth_dir, "stages.lsgan_options.latent_prior=false", "stages.lsgan.steps=1",
                               "stages.lsgan.eval_every=0"), tmp_path)
    (record,) = loss_log(tmp_path / "lsgan")
    assert "g_e_adv" not in record and "dz" not in record and math.isfinite(record["g_total"])


def test_ship_model_can_replace_only_the_shipped_g_exp(tiny_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    """scripts/ship_model.py --g-exp-from: a shipped model's G_exp (and its record) from another run's stage aux,
    its generator untouched."""
    import importlib.util
    import sys

    import yaml

    from lsgan.training.stages.common import load_earlier_stage

    spec = importlib.util.spec_from_file_location("ship_model", REPO / "scripts" / "ship_model.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    try:
        spec.loader.exec_module(script)
        dest = tmp_path / "default"
        script.ship(tiny_run, dest, None, torch.float32)
        generator_bytes = (dest / "generator.safetensors").read_bytes()
        other = tmp_path / "aux-run"
        train("aux", tiny_config(synth_dir, "stages.aux.steps=2", "runtime.seed=5",
                                 "stages.aux_options.photometric=0.3"), other)
        log = tmp_path / "aux.log"
        log.write_text("train aux:  50%\rtrain aux: 100%\naux: step 2, done\n")  # a progress bar's redraws
        script.replace_g_exp(other, dest, log, torch.float32)
    finally:
        del sys.modules[spec.name]
    expected = load_bundle(tiny_run / "bundle").au_regressor
    load_earlier_stage(other, "aux", {"au_regressor": expected})
    shipped = load_bundle(dest)
    for name, tensor in shipped.au_regressor.state_dict().items():
        assert torch.equal(tensor, expected.state_dict()[name]), name
    assert (dest / "generator.safetensors").read_bytes() == generator_bytes
    record = yaml.safe_load((dest / "training" / "train_config.yaml").read_text())
    assert record["stages"]["aux_options"]["photometric"] == 0.3 and record["stages"]["aux"]["steps"] == 2
    assert record["model"] == yaml.safe_load((dest / "config.yaml").read_text())
    assert (dest / "training" / "aux_train_config.yaml").read_text() == (other / "config.yaml").read_text()
    assert json.loads((dest / "training" / "metrics.json").read_text())["aux"] == json.loads(
        (other / "metrics.json").read_text())["aux"]
    assert (dest / "training" / "aux_losses.jsonl").read_text() == (other / "aux" / "losses.jsonl").read_text()
    record_log = (dest / "training" / "train.log").read_text()
    assert record_log.endswith("train aux: 100%\naux: step 2, done\n") and "train aux:  50%" not in record_log
